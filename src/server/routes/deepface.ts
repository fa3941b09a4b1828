/**
 * DeepFace-compatible routes (`POST /verify`, `/represent`, `/analyze`), so DeepFace API clients
 * can switch: the same field names, images as URL, base64, data URI or multipart upload, and
 * DeepFace's response shapes (boxes as `{x, y, w, h}`, emotion and gender in percent, `time` in
 * seconds). Each maps the request onto one library call and the result onto that shape.
 */
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VisageError } from '../../errors.js';
import { decodeImage } from '../../image/index.js';
import { renderAnalysis, renderVerification } from '../../render/index.js';
import { AGE_GENDER_MODELS, DEFAULT_EMOTION_MODEL, EMOTION_MODELS, type Action, type AgeGenderModel, type Box, type DetectMode, type DetectorName, type EmotionModel, type FaceAnalysis, type FaceInput, type Metric, type SpoofModel, type SpoofOptions } from '../../types.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../errors.js';
import { requestImageBytes, type RequestImage } from '../images.js';
import { modelNameSchema, recognizerParam } from '../recognizer.js';
import { wantsPng } from '../png.js';
import { emotionsSchema, errorResponses, formatQuerySchema, jsonOrPng } from '../schemas.js';

/** DeepFace's detector names (and visage's own) → visage detectors. */
const DETECTORS: Readonly<Record<string, DetectorName>> = {
  opencv: 'haar',
  ssd: 'ssd',
  mtcnn: 'mtcnn',
  skip: 'none',
  haar: 'haar',
  tiny: 'tiny',
  // DeepFace's mediapipe backend is MediaPipe's face detection with its default, short-range model.
  mediapipe: 'blazeface',
  blazeface: 'blazeface',
  'blazeface-full': 'blazeface-full',
  none: 'none',
};
const ACTIONS: readonly Action[] = ['emotion', 'age', 'gender', 'spoof'];
/** DeepFace's default actions (less race); 'spoof' is asked for by name. */
const DEFAULT_ACTIONS: readonly Action[] = ['emotion', 'age', 'gender'];
const SPOOF_MODELS: readonly SpoofModel[] = ['dtn', 'antispoof', 'liveness', 'ensemble'];

interface CommonBody {
  model_name?: string;
  detector_backend?: string;
  detection_mode?: DetectMode;
  enforce_detection: boolean;
  align: boolean;
  anti_spoofing: boolean;
  spoof_model?: SpoofModel;
  spoof_threshold?: number;
}
interface VerifyBody extends CommonBody {
  img1: RequestImage | number[];
  img2: RequestImage | number[];
  distance_metric?: Metric;
  threshold?: number;
}
interface RepresentBody extends CommonBody {
  img: RequestImage;
  max_faces?: number;
}
interface AnalyzeBody extends RepresentBody {
  actions?: string[];
  emotion_model?: EmotionModel;
  age_gender_model?: AgeGenderModel;
}

const commonFields = {
  model_name: modelNameSchema,
  detector_backend: { type: 'string', enum: Object.keys(DETECTORS), description: 'opencv = Haar cascade, mediapipe = BlazeFace short range, skip = whole image; default ssd' },
  detection_mode: { type: 'string', enum: ['fast', 'accurate'], description: "visage's own: 'accurate' also finds small faces, several times slower; default fast" },
  enforce_detection: { type: 'boolean', default: true, description: 'false: use the whole image where no face is found' },
  align: { type: 'boolean', default: true, description: 'Accepted for compatibility; faces are always aligned' },
  anti_spoofing: { type: 'boolean', default: false, description: 'Judge every face real or not first; 400 "Spoof detected …" where one is not' },
  spoof_model: { type: 'string', enum: SPOOF_MODELS, description: 'Anti-spoofing model (visage extension; default: see the README)' },
  spoof_threshold: { type: 'number', minimum: 0, maximum: 1, description: 'A face is real when its real score reaches this (visage extension; default 0.5)' },
} as const;

/** The library's spoof options from a body. */
function spoofOptions(body: CommonBody): SpoofOptions {
  return { antiSpoofing: body.anti_spoofing, spoofModel: body.spoof_model, spoofThreshold: body.spoof_threshold };
}
const maxFacesField = { max_faces: { type: 'integer', minimum: 1, description: 'Keep the largest N faces' } } as const;

const textImage = { type: 'string', minLength: 1, description: 'http(s) URL, base64 or data: URI' } as const;
const embedding = { type: 'array', items: { type: 'number' }, minItems: 1, description: 'An embedding computed earlier' } as const;
// Multipart file parts arrive as Buffers, which JSON schema sees as objects.
const fileImage = { type: 'object', description: 'A file upload' } as const;

/** One body schema per accepted media type, from the same fields. */
function bodySchema(images: readonly string[], fields: object, acceptEmbeddings = false): object {
  const schema = (image: object) => ({
    type: 'object',
    required: [...images],
    properties: { ...Object.fromEntries(images.map((name) => [name, image])), ...commonFields, ...fields },
  });
  const jsonImage = acceptEmbeddings ? { anyOf: [textImage, embedding] } : textImage;
  return {
    content: {
      'application/json': { schema: schema(jsonImage) },
      'multipart/form-data': { schema: schema({ anyOf: [textImage, fileImage] }) },
    },
  };
}

// Fastify skips body validation for media types its schema does not list: refuse them first.
async function requireJsonOrMultipart(request: FastifyRequest): Promise<void> {
  if (request.isMultipart() || request.headers['content-type']?.toLowerCase().startsWith('application/json')) return;
  throw new HttpError(415, 'Send application/json or multipart/form-data');
}

const areaSchema = {
  type: ['object', 'null'],
  properties: { x: { type: 'integer' }, y: { type: 'integer' }, w: { type: 'integer' }, h: { type: 'integer' } },
} as const;

function area(box: Box): { x: number; y: number; w: number; h: number } {
  return { x: Math.round(box.x), y: Math.round(box.y), w: Math.round(box.width), h: Math.round(box.height) };
}

function percent<K extends string>(probabilities: Record<K, number>): Record<K, number> {
  return Object.fromEntries(Object.entries<number>(probabilities).map(([k, p]) => [k, p * 100])) as Record<K, number>;
}

/** The `max` largest faces, largest first (DeepFace's max_faces). */
function largest<T extends { box: Box }>(faces: readonly T[], max: number | undefined): T[] {
  const sorted = [...faces].sort((p, q) => q.box.width * q.box.height - p.box.width * p.box.height);
  return max === undefined ? sorted : sorted.slice(0, max);
}

/** DeepFace accepts actions as a list or as text such as "[emotion, age]". */
function parseActions(raw: readonly string[] | undefined): Action[] {
  if (raw === undefined) return [...DEFAULT_ACTIONS];
  const names = raw.flatMap((item) => item.replace(/[[\]()"'\s]/g, '').split(',')).filter((name) => name.length > 0);
  if (names.length === 0) throw new VisageError('INVALID_ARGUMENT', 'Expected at least one action');
  for (const name of names) {
    if (!(ACTIONS as readonly string[]).includes(name)) {
      throw new VisageError('INVALID_ARGUMENT', `Expected actions among ${ACTIONS.join(', ')} but received ${JSON.stringify(name)}${name === 'race' ? ' (race is not supported)' : ''}`);
    }
  }
  return [...new Set(names)] as Action[];
}

function dominant<K extends string>(probabilities: Record<K, number>): K {
  const entries = Object.entries<number>(probabilities) as [K, number][];
  return entries.reduce((best, entry) => (entry[1] > best[1] ? entry : best))[0];
}

function deepfaceAnalysis(face: FaceAnalysis): Record<string, unknown> {
  return {
    region: area(face.box),
    face_confidence: face.score,
    ...(face.emotion ? { emotion: percent(face.emotion), dominant_emotion: face.dominantEmotion ?? dominant(face.emotion) } : {}),
    ...(face.age !== undefined ? { age: face.age } : {}),
    ...(face.gender
      ? {
          gender: { Woman: face.gender.woman * 100, Man: face.gender.man * 100 },
          dominant_gender: (face.dominantGender ?? dominant(face.gender)) === 'woman' ? 'Woman' : 'Man',
        }
      : {}),
    // DeepFace's extract_faces names: is_real, antispoof_score (here the `real` score, 0..1).
    ...(face.spoof ? { is_real: face.spoof.isReal, antispoof_score: face.spoof.real, antispoof_model: face.spoof.model } : {}),
    ...(face.models ? { models: { ...(face.models.emotion ? { emotion: face.models.emotion } : {}), ...(face.models.ageGender ? { age_gender: face.models.ageGender } : {}) } } : {}),
  };
}

export function deepfaceRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { visage, limiter } = ctx;
  const detectorOf = (body: CommonBody) => (body.detector_backend === undefined ? undefined : DETECTORS[body.detector_backend]);
  const faceInput = (value: RequestImage | number[]): Promise<FaceInput> =>
    Array.isArray(value) ? Promise.resolve(value) : requestImageBytes(value, ctx.download);
  const decode = async (bytes: FaceInput) => {
    if (!Buffer.isBuffer(bytes)) throw new VisageError('INVALID_ARGUMENT', 'A picture needs images, not embeddings');
    return decodeImage(bytes, { maxPixels: ctx.maxPixels });
  };

  app.post<{ Body: VerifyBody }>('/verify', {
    preValidation: requireJsonOrMultipart,
    schema: {
      tags: ['deepface'],
      summary: 'Verify whether two images (or embeddings) show the same person',
      querystring: formatQuerySchema,
      body: bodySchema(['img1', 'img2'], {
        distance_metric: { type: 'string', enum: ['cosine', 'euclidean', 'euclidean_l2'] },
        threshold: { type: 'number', exclusiveMinimum: 0, description: 'Default: calibrated for the model and metric' },
      }, true),
      response: {
        200: jsonOrPng(
          {
            type: 'object',
            properties: {
              verified: { type: 'boolean' },
              distance: { type: 'number' },
              threshold: { type: 'number' },
              confidence: { type: 'number' },
              model: { type: 'string' },
              detector_backend: { type: 'string' },
              similarity_metric: { type: 'string' },
              facial_areas: { type: 'object', properties: { img1: areaSchema, img2: areaSchema } },
              time: { type: 'number' },
            },
          },
          'DeepFace verify result (confidence in [0, 1], 0.5 at the threshold; time in seconds)',
        ),
        ...errorResponses,
      },
    },
    handler: async (request, reply) => {
      const started = performance.now();
      const body = request.body;
      const [a, b] = await Promise.all([faceInput(body.img1), faceInput(body.img2)]);
      const options = {
        detector: detectorOf(body),
        mode: body.detection_mode,
        recognizer: recognizerParam(body.model_name),
        metric: body.distance_metric,
        threshold: body.threshold,
        allowNoFace: !body.enforce_detection,
        ...spoofOptions(body),
      };
      if (wantsPng(request)) {
        const png = await limiter.run(async () => {
          const [result, imageA, imageB] = await Promise.all([visage.verify(a, b, options), decode(a), decode(b)]);
          return renderVerification(result, imageA, imageB);
        });
        return reply.type('image/png').send(png);
      }
      const result = await limiter.run(() => visage.verify(a, b, options));
      return {
        verified: result.verified,
        distance: result.distance,
        threshold: result.threshold,
        confidence: result.confidence,
        model: result.model,
        detector_backend: body.detector_backend ?? result.detector,
        similarity_metric: result.metric,
        facial_areas: { img1: result.faces.a && area(result.faces.a), img2: result.faces.b && area(result.faces.b) },
        time: Math.round(performance.now() - started) / 1000,
      };
    },
  });

  app.post<{ Body: RepresentBody }>('/represent', {
    preValidation: requireJsonOrMultipart,
    schema: {
      tags: ['deepface'],
      summary: 'Embeddings of the faces in an image',
      body: bodySchema(['img'], maxFacesField),
      response: {
        200: {
          description: 'One entry per face',
          type: 'object',
          properties: {
            results: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  embedding: { type: 'array', items: { type: 'number' } },
                  facial_area: areaSchema,
                  face_confidence: { type: 'number' },
                },
              },
            },
          },
        },
        ...errorResponses,
      },
    },
    handler: async (request) => {
      const body = request.body;
      const bytes = await requestImageBytes(body.img, ctx.download);
      const result = await limiter.run(() => visage.represent(bytes, { detector: detectorOf(body), mode: body.detection_mode, recognizer: recognizerParam(body.model_name), allowNoFace: !body.enforce_detection, ...spoofOptions(body) }));
      return {
        results: largest(result.faces, body.max_faces).map((face) => ({
          embedding: face.embedding,
          facial_area: area(face.box),
          face_confidence: face.score,
        })),
      };
    },
  });

  const analysisSchema = {
    type: 'object',
    properties: {
      region: areaSchema,
      face_confidence: { type: 'number' },
      emotion: emotionsSchema,
      dominant_emotion: { type: 'string' },
      age: { type: 'number' },
      gender: { type: 'object', properties: { Woman: { type: 'number' }, Man: { type: 'number' } } },
      dominant_gender: { type: 'string' },
      is_real: { type: 'boolean' },
      antispoof_score: { type: 'number' },
      antispoof_model: { type: 'string' },
      models: {
        type: 'object',
        description: 'The classifiers that produced emotion and age/gender',
        properties: { emotion: { type: 'string' }, age_gender: { type: 'string' } },
      },
    },
  } as const;
  app.post<{ Body: AnalyzeBody }>('/analyze', {
    preValidation: requireJsonOrMultipart,
    schema: {
      tags: ['deepface'],
      summary: 'Emotion, age and gender of the faces in an image (percentages, as DeepFace)',
      querystring: formatQuerySchema,
      body: bodySchema(['img'], {
        ...maxFacesField,
        actions: { type: 'array', items: { type: 'string' }, description: 'Any of emotion, age, gender, spoof (default emotion, age, gender)' },
        emotion_model: { type: 'string', enum: [...EMOTION_MODELS], description: `Emotion classifier: face-api, human, visage, visage-net, visage-mobilefacenet or visage-ensemble (default: the service's, ${DEFAULT_EMOTION_MODEL})` },
        age_gender_model: { type: 'string', enum: [...AGE_GENDER_MODELS], description: "Age/gender estimator: face-api or faceres (default: the service's, face-api)" },
      }),
      response: {
        200: jsonOrPng({ type: 'object', properties: { results: { type: 'array', items: analysisSchema } } }, 'One entry per face'),
        ...errorResponses,
      },
    },
    handler: async (request, reply) => {
      const body = request.body;
      const actions = parseActions(body.actions);
      const bytes = await requestImageBytes(body.img, ctx.download);
      const options = {
        detector: detectorOf(body),
        mode: body.detection_mode,
        allowNoFace: !body.enforce_detection,
        actions,
        ...spoofOptions(body),
        ...(body.emotion_model ? { emotionModel: body.emotion_model } : {}),
        ...(body.age_gender_model ? { ageGenderModel: body.age_gender_model } : {}),
      };
      if (wantsPng(request)) {
        const png = await limiter.run(async () => {
          const [result, image] = await Promise.all([visage.analyze(bytes, options), decode(bytes)]);
          return renderAnalysis(result, image);
        });
        return reply.type('image/png').send(png);
      }
      const result = await limiter.run(() => visage.analyze(bytes, options));
      return { results: largest(result.faces, body.max_faces).map(deepfaceAnalysis) };
    },
  });
}
