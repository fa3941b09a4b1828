/**
 * Gallery routes: enrol, list, delete and recognise, modelled on CompreFace's recognition API
 * (`/api/v1/recognition/…`: subjects, faces, recognize with `limit` and `prediction_count`), and
 * `POST /find` in the shape of DeepFace's `find` (per query face, the gallery faces within the
 * threshold). The gallery is the `gallery` query parameter (default 'default'). Each route is one
 * library call through the limiter, like the other routes.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DEFAULT_GALLERY, openStore } from '../../gallery/index.js';
import type { Gallery, GalleryStore, SearchResult } from '../../gallery/types.js';
import type { Box, DetectOptions } from '../../types.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../errors.js';
import { requestImageBytes, type RequestImage } from '../images.js';
import { errorResponses } from '../schemas.js';

const PREFIX = '/api/v1/recognition';
/** Galleries held open at once (a client naming many galleries cannot open files without bound). */
const MAX_OPEN_GALLERIES = 64;
const MAX_PAGE = 100;

/**
 * Opens the store on first use (a server that never serves a gallery route opens no database),
 * and each gallery once, keeping up to a bound of them open for the server's life.
 */
export class GalleryPool {
  private readonly open = new Map<string, Promise<Gallery>>();
  private store: Promise<{ store: GalleryStore; owned: boolean }> | null = null;

  constructor(
    private readonly spec: GalleryStore | string | undefined,
    private readonly visage: ServerContext['visage'],
  ) {}

  get(name: string): Promise<Gallery> {
    let gallery = this.open.get(name);
    if (!gallery) {
      if (this.open.size >= MAX_OPEN_GALLERIES) throw new HttpError(503, `Too many galleries open (limit ${MAX_OPEN_GALLERIES})`);
      this.store ??= openStore(this.spec);
      const opening = this.store.then(({ store }) => this.visage.gallery(name, { store }));
      opening.catch(() => this.open.delete(name));
      this.open.set(name, opening);
      gallery = opening;
    }
    return gallery;
  }

  async close(): Promise<void> {
    const galleries = await Promise.allSettled(this.open.values());
    for (const g of galleries) if (g.status === 'fulfilled') await g.value.close();
    this.open.clear();
    const opened = await this.store?.catch(() => null);
    if (opened?.owned) await opened.store.close();
    this.store = null;
  }
}

const galleryQuery = { gallery: { type: 'string', minLength: 1, maxLength: 200, default: DEFAULT_GALLERY, description: 'Gallery name' } } as const;
const detProb = { det_prob_threshold: { type: 'number', minimum: 0, maximum: 1, description: 'Minimum detection score' } } as const;
const fileField = { anyOf: [{ type: 'string', minLength: 1, description: 'http(s) URL, base64 or data: URI' }, { type: 'object', description: 'A file upload' }] } as const;
const imageBody = {
  content: {
    'application/json': { schema: { type: 'object', required: ['file'], properties: { file: fileField.anyOf[0] } } },
    'multipart/form-data': { schema: { type: 'object', required: ['file'], properties: { file: fileField } } },
  },
} as const;

const compreBox = { type: 'object', properties: { probability: { type: 'number' }, x_min: { type: 'integer' }, y_min: { type: 'integer' }, x_max: { type: 'integer' }, y_max: { type: 'integer' } } } as const;
const faceEntry = { type: 'object', properties: { image_id: { type: 'string' }, subject: { type: 'string' } } } as const;

function corners(box: Box | null): { x_min: number; y_min: number; x_max: number; y_max: number } | null {
  if (!box) return null;
  return { x_min: Math.round(box.x), y_min: Math.round(box.y), x_max: Math.round(box.x + box.width), y_max: Math.round(box.y + box.height) };
}

async function requireJsonOrMultipart(request: FastifyRequest): Promise<void> {
  if (request.isMultipart() || request.headers['content-type']?.toLowerCase().startsWith('application/json')) return;
  throw new HttpError(415, 'Send application/json or multipart/form-data');
}

interface GalleryQuery {
  gallery: string;
}

export function galleryRoutes(app: FastifyInstance, ctx: ServerContext, pool: GalleryPool): void {
  const { limiter } = ctx;
  const detect = (q: { det_prob_threshold?: number }): DetectOptions => (q.det_prob_threshold === undefined ? {} : { minScore: q.det_prob_threshold });
  const tags = ['recognition'];

  app.post<{ Querystring: GalleryQuery & { subject: string; det_prob_threshold?: number }; Body: { file: RequestImage } }>(`${PREFIX}/faces`, {
    preValidation: requireJsonOrMultipart,
    schema: {
      tags,
      summary: 'Enrol the largest face of an image under a subject',
      querystring: { type: 'object', required: ['subject'], properties: { ...galleryQuery, subject: { type: 'string', minLength: 1, maxLength: 200 }, ...detProb } },
      body: imageBody,
      response: { 201: faceEntry, ...errorResponses },
    },
    handler: async (request, reply) => {
      const bytes = await requestImageBytes(request.body.file, ctx.download);
      const gallery = await pool.get(request.query.gallery);
      const [id] = await limiter.run(() => gallery.add(request.query.subject, bytes, detect(request.query)));
      return reply.code(201).send({ image_id: id, subject: request.query.subject });
    },
  });

  app.get<{ Querystring: GalleryQuery & { subject?: string; page: number; size: number } }>(`${PREFIX}/faces`, {
    schema: {
      tags,
      summary: 'The enrolled faces, of one subject or of all, a page at a time',
      querystring: {
        type: 'object',
        properties: { ...galleryQuery, subject: { type: 'string', minLength: 1, maxLength: 200 }, page: { type: 'integer', minimum: 0, default: 0 }, size: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 20 } },
      },
      response: {
        200: {
          type: 'object',
          properties: { faces: { type: 'array', items: faceEntry }, page_number: { type: 'integer' }, page_size: { type: 'integer' }, total_pages: { type: 'integer' }, total_elements: { type: 'integer' } },
        },
        ...errorResponses,
      },
    },
    handler: async (request) => {
      const { subject, page, size } = request.query;
      const gallery = await pool.get(request.query.gallery);
      const identities = subject === undefined ? await gallery.identities() : [{ identity: subject, faces: -1 }];
      const faces = [];
      for (const { identity } of identities) faces.push(...(await gallery.faces(identity)));
      return {
        faces: faces.slice(page * size, (page + 1) * size).map((f) => ({ image_id: f.faceId, subject: f.identity })),
        page_number: page,
        page_size: size,
        total_pages: Math.ceil(faces.length / size),
        total_elements: faces.length,
      };
    },
  });

  app.delete<{ Querystring: GalleryQuery; Params: { image_id: string } }>(`${PREFIX}/faces/:image_id`, {
    schema: {
      tags,
      summary: 'Delete one enrolled face',
      querystring: { type: 'object', properties: galleryQuery },
      params: { type: 'object', properties: { image_id: { type: 'string', minLength: 1, maxLength: 200 } } },
      response: { 200: { type: 'object', properties: { image_id: { type: 'string' }, deleted: { type: 'integer' } } }, ...errorResponses },
    },
    handler: async (request) => {
      const gallery = await pool.get(request.query.gallery);
      const deleted = await gallery.remove(request.params.image_id);
      if (deleted === 0) throw new HttpError(404, 'No face with that image_id');
      return { image_id: request.params.image_id, deleted };
    },
  });

  app.delete<{ Querystring: GalleryQuery & { subject: string } }>(`${PREFIX}/faces`, {
    schema: {
      tags,
      summary: 'Delete every face of a subject',
      querystring: { type: 'object', required: ['subject'], properties: { ...galleryQuery, subject: { type: 'string', minLength: 1, maxLength: 200 } } },
      response: { 200: { type: 'object', properties: { deleted: { type: 'integer' } } }, ...errorResponses },
    },
    handler: async (request) => {
      const gallery = await pool.get(request.query.gallery);
      return { deleted: await gallery.remove(request.query.subject) };
    },
  });

  app.get<{ Querystring: GalleryQuery }>(`${PREFIX}/subjects`, {
    schema: {
      tags,
      summary: 'The subjects of a gallery',
      querystring: { type: 'object', properties: galleryQuery },
      response: { 200: { type: 'object', properties: { subjects: { type: 'array', items: { type: 'string' } } } }, ...errorResponses },
    },
    handler: async (request) => {
      const gallery = await pool.get(request.query.gallery);
      return { subjects: (await gallery.identities()).map((i) => i.identity) };
    },
  });

  app.post<{ Querystring: GalleryQuery & { limit: number; prediction_count: number; det_prob_threshold?: number }; Body: { file: RequestImage } }>(`${PREFIX}/recognize`, {
    preValidation: requireJsonOrMultipart,
    schema: {
      tags,
      summary: 'Who each face of an image is: per face its box and the nearest subjects',
      querystring: {
        type: 'object',
        properties: {
          ...galleryQuery,
          limit: { type: 'integer', minimum: 0, default: 0, description: 'At most this many faces, largest first (0: all)' },
          prediction_count: { type: 'integer', minimum: 1, maximum: 100, default: 1, description: 'Matches per face' },
          ...detProb,
        },
      },
      body: imageBody,
      response: {
        200: {
          type: 'object',
          properties: {
            result: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  box: compreBox,
                  identity: { type: ['string', 'null'] },
                  subjects: {
                    type: 'array',
                    items: { type: 'object', properties: { subject: { type: 'string' }, image_id: { type: 'string' }, similarity: { type: 'number' }, distance: { type: 'number' }, verified: { type: 'boolean' } } },
                  },
                },
              },
            },
          },
        },
        ...errorResponses,
      },
    },
    handler: async (request) => {
      const { limit, prediction_count: k } = request.query;
      const bytes = await requestImageBytes(request.body.file, ctx.download);
      const gallery = await pool.get(request.query.gallery);
      const result = await limiter.run(() => gallery.search(bytes, { ...detect(request.query), k }));
      const faces = [...result.faces].sort((a, b) => area(b.box) - area(a.box));
      return {
        result: (limit > 0 ? faces.slice(0, limit) : faces).map((face) => ({
          box: { probability: 1, ...corners(face.box) },
          identity: face.identity,
          // CompreFace's similarity is in [0, 1]; here it is the calibrated confidence (0.5 at the threshold).
          subjects: face.matches.map((m) => ({ subject: m.identity, image_id: m.faceId, similarity: m.confidence, distance: m.distance, verified: m.verified })),
        })),
      };
    },
  });

  app.post<{ Querystring: GalleryQuery; Body: { img: RequestImage | number[]; gallery?: string; distance_metric?: 'cosine' | 'euclidean_l2'; threshold?: number; enforce_detection: boolean; k: number } }>('/find', {
    preValidation: requireJsonOrMultipart,
    schema: {
      tags: ['deepface'],
      summary: "DeepFace's find: per query face, the gallery's faces within the threshold, nearest first",
      body: {
        type: 'object',
        required: ['img'],
        properties: {
          img: { anyOf: [...fileField.anyOf, { type: 'array', items: { type: 'number' }, minItems: 1 }] },
          gallery: galleryQuery.gallery,
          distance_metric: { type: 'string', enum: ['cosine', 'euclidean_l2'] },
          threshold: { type: 'number', exclusiveMinimum: 0 },
          enforce_detection: { type: 'boolean', default: true },
          k: { type: 'integer', minimum: 1, maximum: 100, default: 10, description: 'At most this many faces per query face' },
          model_name: { type: 'string' },
          detector_backend: { type: 'string' },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            results: {
              type: 'array',
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    identity: { type: 'string' },
                    face_id: { type: 'string' },
                    distance: { type: 'number' },
                    threshold: { type: 'number' },
                    confidence: { type: 'number' },
                    source_x: { type: 'integer' },
                    source_y: { type: 'integer' },
                    source_w: { type: 'integer' },
                    source_h: { type: 'integer' },
                  },
                },
              },
            },
            model: { type: 'string' },
            distance_metric: { type: 'string' },
          },
        },
        ...errorResponses,
      },
    },
    handler: async (request) => {
      const body = request.body;
      const input = Array.isArray(body.img) ? body.img : await requestImageBytes(body.img, ctx.download);
      const gallery = await pool.get(body.gallery ?? DEFAULT_GALLERY);
      const result: SearchResult = await limiter.run(() => gallery.search(input, { k: body.k, metric: body.distance_metric, threshold: body.threshold, allowNoFace: !body.enforce_detection }));
      return {
        results: result.faces.map((face) =>
          face.matches
            .filter((m) => m.verified)
            .map((m) => ({
              identity: m.identity,
              face_id: m.faceId,
              distance: m.distance,
              threshold: result.threshold,
              confidence: m.confidence,
              ...(face.box ? { source_x: Math.round(face.box.x), source_y: Math.round(face.box.y), source_w: Math.round(face.box.width), source_h: Math.round(face.box.height) } : {}),
            })),
        ),
        model: result.model,
        distance_metric: result.metric,
      };
    },
  });
}

const area = (box: Box | null) => (box ? box.width * box.height : 0);
