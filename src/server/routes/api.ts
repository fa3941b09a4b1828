/**
 * The documented `/api/*` routes: emotion analysis of a URL, downloads into the image store,
 * and verification of two stored images.
 */
import type { FastifyInstance } from 'fastify';
import { VisageError } from '../../errors.js';
import { decodeImage, loadImageBytes, sniffImageFormat } from '../../image/index.js';
import { renderAnalysis, renderVerification } from '../../render/index.js';
import { EMOTIONS, type Emotion, type FaceAnalysis } from '../../types.js';
import type { ServerContext } from '../context.js';
import { MESSAGES } from '../errors.js';
import { requestImageBytes } from '../images.js';
import { modelNameSchema, recognizerParam } from '../recognizer.js';
import { wantsPng } from '../png.js';
import { errorResponses, errorSchema, formatQuerySchema, jsonOrPng } from '../schemas.js';

interface EmotionBody {
  image_url: string;
  face_detection: boolean;
  face_embedding: boolean;
  emotion_labels?: Emotion[];
}

/** The face a single-face answer speaks for: the most confident one. */
function mostConfident<T extends { score: number }>(faces: readonly T[]): T | undefined {
  return faces.reduce<T | undefined>((best, face) => (best === undefined || face.score > best.score ? face : best), undefined);
}

/** Keeps only `labels`, rescaled to sum to 1. */
function selectEmotions(emotion: Record<Emotion, number>, labels: readonly Emotion[]): Partial<Record<Emotion, number>> {
  const total = labels.reduce((sum, label) => sum + emotion[label], 0);
  return Object.fromEntries(labels.map((label) => [label, total > 0 ? emotion[label] / total : 1 / labels.length]));
}

const EXTENSIONS = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif', tiff: 'tif', avif: 'avif' } as const;

export function apiRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { visage, limiter, store } = ctx;

  app.post<{ Body: EmotionBody }>('/api/analyze/emotion', {
    config: { errorStyle: 'emotion' },
    schema: {
      tags: ['api'],
      summary: 'Emotion probabilities of the main face in an image given by URL',
      querystring: formatQuerySchema,
      body: {
        type: 'object',
        required: ['image_url'],
        properties: {
          image_url: { type: 'string', minLength: 1, description: 'http(s) URL or data: URI of the image' },
          face_detection: { type: 'boolean', default: true, description: 'false: the whole image is the face' },
          face_embedding: { type: 'boolean', default: false, description: 'also return the face embedding' },
          emotion_labels: {
            type: 'array',
            items: { type: 'string', enum: [...EMOTIONS] },
            minItems: 1,
            uniqueItems: true,
            description: 'only these labels, renormalised to sum to 1',
          },
        },
      },
      response: {
        200: jsonOrPng(
          {
            type: 'object',
            properties: {
              emotions: { type: 'object', additionalProperties: { type: 'number' } },
              face_detected: { type: 'boolean' },
              face_embedding: { type: 'array', items: { type: 'number' } },
            },
          },
          'Emotion probabilities (sum to 1)',
        ),
        ...errorResponses,
      },
    },
    handler: async (request, reply) => {
      const body = request.body;
      if (!/^(https?:\/\/|data:)/i.test(body.image_url.trim())) throw new VisageError('INVALID_IMAGE', MESSAGES.invalidImageUrl);
      const bytes = await requestImageBytes(body.image_url, ctx.download);
      const detector = body.face_detection ? undefined : ('none' as const);
      const options = { detector, allowNoFace: true };
      const analyzeOptions = { ...options, actions: ['emotion' as const] };
      if (wantsPng(request)) {
        const png = await limiter.run(async () => {
          const [analysis, image] = await Promise.all([visage.analyze(bytes, analyzeOptions), decodeImage(bytes, { maxPixels: ctx.maxPixels })]);
          return renderAnalysis(analysis, image);
        });
        return reply.type('image/png').send(png);
      }
      const [analysis, representation] = await limiter.run(() =>
        Promise.all([
          visage.analyze(bytes, analyzeOptions),
          body.face_embedding ? visage.represent(bytes, options) : undefined,
        ]),
      );
      const face: FaceAnalysis | undefined = mostConfident(analysis.faces);
      if (!face?.emotion) throw new Error('analyze returned no emotion for the face');
      const embedding = representation ? mostConfident(representation.faces)?.embedding : undefined;
      return {
        emotions: body.emotion_labels ? selectEmotions(face.emotion, body.emotion_labels) : face.emotion,
        face_detected: body.face_detection && !analysis.wholeImage,
        ...(embedding ? { face_embedding: embedding } : {}),
      };
    },
  });

  const downloadResult = {
    type: 'object',
    properties: { success: { type: 'boolean' }, message: { type: 'string' }, image_path: { type: 'string' } },
  } as const;
  app.get<{ Querystring: { url: string } }>('/api/download_image', {
    config: { errorStyle: 'download' },
    schema: {
      tags: ['api'],
      summary: "Download an image into the service's store",
      querystring: {
        type: 'object',
        required: ['url'],
        properties: { url: { type: 'string', minLength: 1, description: 'http(s) URL of the image' } },
      },
      response: {
        200: { description: 'Stored; use image_path with /api/verify_similarity', ...downloadResult },
        '4xx': { description: 'Not downloaded', ...downloadResult },
        500: { description: 'Unexpected failure', ...downloadResult },
      },
    },
    handler: async (request) => {
      const { url } = request.query;
      if (!/^https?:\/\//i.test(url)) throw new VisageError('DOWNLOAD_FAILED', 'Not an http(s) URL');
      const bytes = await loadImageBytes(url, ctx.download);
      // Stored only once it decodes in full: a file in the store is a usable image.
      await limiter.run(() => decodeImage(bytes, { maxPixels: ctx.maxPixels }));
      const format = sniffImageFormat(bytes);
      if (!format) throw new VisageError('INVALID_IMAGE', 'Not an image');
      const name = await store.save(bytes, EXTENSIONS[format]);
      return { success: true, message: 'Image downloaded successfully', image_path: name };
    },
  });

  app.get<{ Querystring: { image1_path: string; image2_path: string; model_name?: string; format?: string } }>('/api/verify_similarity', {
    schema: {
      tags: ['api'],
      summary: 'Verify whether two stored images show the same person',
      querystring: {
        type: 'object',
        required: ['image1_path', 'image2_path'],
        properties: {
          image1_path: { type: 'string', minLength: 1, description: 'image_path from /api/download_image' },
          image2_path: { type: 'string', minLength: 1, description: 'image_path from /api/download_image' },
          model_name: modelNameSchema,
          ...formatQuerySchema.properties,
        },
      },
      response: {
        200: jsonOrPng(
          {
            type: 'object',
            properties: {
              verified: { type: 'boolean' },
              message: { type: 'string' },
              distance: { type: 'number' },
              threshold: { type: 'number' },
            },
          },
          'The verdict',
        ),
        404: { description: 'No such image in the store', ...errorSchema },
        ...errorResponses,
      },
    },
    handler: async (request, reply) => {
      const { image1_path, image2_path } = request.query;
      const options = { recognizer: recognizerParam(request.query.model_name) };
      // Both names are checked before either file is read.
      await Promise.all([store.resolve(image1_path), store.resolve(image2_path)]);
      const [a, b] = await Promise.all([store.read(image1_path, ctx.maxFileBytes), store.read(image2_path, ctx.maxFileBytes)]);
      if (wantsPng(request)) {
        const png = await limiter.run(async () => {
          const decode = (bytes: Buffer) => decodeImage(bytes, { maxPixels: ctx.maxPixels });
          const [result, imageA, imageB] = await Promise.all([visage.verify(a, b, options), decode(a), decode(b)]);
          return renderVerification(result, imageA, imageB);
        });
        return reply.type('image/png').send(png);
      }
      const result = await limiter.run(() => visage.verify(a, b, options));
      return {
        verified: result.verified,
        message: result.verified ? 'Images are of the same person' : 'Images are of different persons',
        distance: result.distance,
        threshold: result.threshold,
      };
    },
  });
}
