/**
 * The HTTP service over a visage instance: schema-validated routes, OpenAPI at `/docs`, optional
 * bearer-token auth, one error handler, and bounds on everything a client can make it do.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { DEFAULT_DOWNLOAD_OPTIONS, DEFAULT_MAX_PIXELS, type DownloadOptions } from '../image/index.js';
import { VisageError } from '../errors.js';
import type { Visage } from '../types.js';
import type { ServerContext } from './context.js';
import { HttpError, installErrorHandling } from './errors.js';
import { Limiter } from './limiter.js';
import { apiRoutes } from './routes/api.js';
import { deepfaceRoutes } from './routes/deepface.js';
import { GalleryPool, galleryRoutes } from './routes/gallery.js';
import type { GalleryStore } from '../gallery/types.js';
import { LIVE_DEFAULTS, liveRoutes, type LiveOptions } from './routes/live.js';
import { webRoutes } from './routes/web.js';
import { ImageStore } from './store.js';

export interface ServerOptions {
  /** The library instance the routes call (owned by the caller, who closes it). */
  visage: Visage;
  /** Directory of the image store (`/api/download_image`, `/api/verify_similarity`); created if missing. */
  store: string;
  /** Let image URLs reach loopback and private addresses (default false). */
  allowPrivateUrls?: boolean;
  /** When set, every route but `/health` needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest request body, multipart part, download and stored file, in bytes (default 10 MB). */
  bodyLimit?: number;
  /** Largest image, in pixels, the server decodes itself (default the image layer's 40 MP). */
  maxPixels?: number;
  /** Total time for one image download, redirects included, in ms (default 10 s). */
  downloadTimeoutMs?: number;
  /** Library calls running at once (default 2; each already uses every core). */
  maxConcurrent?: number;
  /** Library calls waiting for a slot before new ones get 503 (default 32). */
  maxQueue?: number;
  /** Time for receiving a request, and separately for its analysis (wait + run), in ms (default 30 s). */
  requestTimeoutMs?: number;
  /** Where the gallery routes keep faces: a store, SQLite file or postgres:// URL (default: VISAGE_DATABASE_URL, else the default SQLite file). */
  galleryStore?: GalleryStore | string;
  /** Bounds of the live WebSocket route (frame size and rate, connections). */
  live?: LiveOptions;
  /** Fastify logger setting (default off). */
  logger?: FastifyServerOptions['logger'];
}

export const SERVER_DEFAULTS = {
  bodyLimit: 10 * 1024 * 1024,
  maxConcurrent: 2,
  maxQueue: 32,
  requestTimeoutMs: 30_000,
} as const;

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares in constant time (over digests, so the token's length does not leak either). */
function tokenMatches(header: string | undefined, token: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), token);
}

/**
 * Builds the service (not yet listening). Call `listen({ host, port })` on the result, and
 * `close()` when done; closing the server does not close `options.visage`.
 *
 * @example
 * const app = await buildServer({ visage: await createVisage(), store: './images' });
 * await app.listen({ host: '127.0.0.1', port: 5005 });
 */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? SERVER_DEFAULTS.bodyLimit;
  const requestTimeoutMs = options.requestTimeoutMs ?? SERVER_DEFAULTS.requestTimeoutMs;
  const download: DownloadOptions = {
    timeoutMs: options.downloadTimeoutMs ?? DEFAULT_DOWNLOAD_OPTIONS.timeoutMs,
    maxBytes: bodyLimit,
    maxRedirects: DEFAULT_DOWNLOAD_OPTIONS.maxRedirects,
    allowPrivateAddresses: options.allowPrivateUrls ?? false,
  };
  const ctx: ServerContext = {
    visage: options.visage,
    store: await ImageStore.open(options.store),
    limiter: new Limiter({
      maxConcurrent: options.maxConcurrent ?? SERVER_DEFAULTS.maxConcurrent,
      maxQueue: options.maxQueue ?? SERVER_DEFAULTS.maxQueue,
      timeoutMs: requestTimeoutMs,
    }),
    download,
    maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS,
    maxFileBytes: bodyLimit,
  };

  const app = Fastify({ bodyLimit, requestTimeout: requestTimeoutMs, logger: options.logger ?? false });
  installErrorHandling(app);
  // Only JSON and multipart bodies are accepted; text/plain would slip past body schemas.
  app.removeContentTypeParser('text/plain');
  // Fastify applies bodyLimit to the bodies it buffers, not to multipart streams: a declared
  // length is checked here for every request, and each multipart part has its own limits below.
  app.addHook('onRequest', async (request) => {
    if (Number(request.headers['content-length'] ?? 0) > bodyLimit) throw new HttpError(413, `Request body is too large (limit ${bodyLimit} bytes)`);
  });
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: bodyLimit, fieldSize: bodyLimit, files: 2, fields: 12, parts: 14 },
  });

  if (options.token !== undefined) {
    if (options.token.length === 0) throw new VisageError('INVALID_ARGUMENT', 'Expected a non-empty string for token but received ""');
    const token = digest(options.token);
    app.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.url === '/health' || request.routeOptions.config.public) return;
      if (!tokenMatches(request.headers.authorization, token)) {
        void reply.header('www-authenticate', 'Bearer');
        throw new HttpError(401, 'Missing or wrong bearer token');
      }
    });
  }

  await app.register(swagger, {
    openapi: {
      info: { title: 'visage', description: 'Face verification and analysis over HTTP', version: '0.1.0' },
      ...(options.token !== undefined
        ? { components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }, security: [{ bearer: [] }] }
        : {}),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/health', {
    schema: {
      summary: 'Liveness and load (never needs the token)',
      response: {
        200: {
          type: 'object',
          properties: { status: { type: 'string' }, running: { type: 'integer' }, queued: { type: 'integer' } },
        },
      },
    },
    handler: async () => ({ status: 'ok', ...ctx.limiter.load }),
  });
  apiRoutes(app, ctx);
  deepfaceRoutes(app, ctx);
  const galleries = new GalleryPool(options.galleryStore, options.visage);
  app.addHook('onClose', () => galleries.close());
  galleryRoutes(app, ctx, galleries);
  webRoutes(app, ctx);
  // Live frames: the token is checked by the route itself (a browser cannot send the header).
  await app.register(websocket, { options: { maxPayload: (options.live?.maxFrameBytes ?? LIVE_DEFAULTS.maxFrameBytes) + 1024 } });
  const token = options.token === undefined ? undefined : digest(options.token);
  await app.register(async (scope) =>
    liveRoutes(scope, ctx, {
      ...options.live,
      ...(token ? { tokenMatches: (given: string) => timingSafeEqual(digest(given), token), headerAuthorised: (header: string | undefined) => tokenMatches(header, token) } : {}),
    }),
  );
  return app;
}
