/**
 * The web page (`/`, plain HTML/CSS/JS from src/web, no build step, nothing from a CDN) and the
 * one route it needs beyond the DeepFace ones: `POST /api/detect`, visage's own detection result
 * with landmarks. The page's files hold no data, so they are served without the token; every
 * route they call needs it.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { DetectMode, DetectorName } from '../../types.js';
import type { ServerContext } from '../context.js';
import { requestImageBytes } from '../images.js';
import { boxSchema, errorResponses } from '../schemas.js';

// src/server/routes and dist/server/routes both sit three levels below the package root.
const WEB_DIR = new URL('../../../src/web/', import.meta.url);
const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'live.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};
const DETECTORS: readonly DetectorName[] = ['ssd', 'tiny', 'blazeface', 'blazeface-full', 'mtcnn', 'haar'];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without the bearer token (the page's own static files). */
    public?: boolean;
  }
}

export function webRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const serve = (name: string) => async (_request: unknown, reply: import('fastify').FastifyReply) => {
    const body = await readFile(new URL(name, WEB_DIR));
    return reply
      .type(FILES[name] ?? 'application/octet-stream')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; object-src 'none'; base-uri 'none'")
      .header('x-content-type-options', 'nosniff')
      .send(body);
  };
  const hide = { hide: true } as const;
  app.get('/', { config: { public: true }, schema: hide }, serve('index.html'));
  for (const name of Object.keys(FILES)) app.get(`/web/${name}`, { config: { public: true }, schema: hide }, serve(name));

  app.post<{ Body: { img: string; detector?: DetectorName; mode?: DetectMode } }>('/api/detect', {
    schema: {
      tags: ['visage'],
      summary: 'Faces with boxes, scores and landmarks (visage\'s own detect result)',
      body: {
        type: 'object',
        required: ['img'],
        properties: {
          img: { type: 'string', minLength: 1, description: 'http(s) URL, base64 or data: URI' },
          detector: { type: 'string', enum: [...DETECTORS], description: 'default ssd' },
          mode: { type: 'string', enum: ['fast', 'accurate'], description: "default fast; 'accurate' also finds small faces, several times slower" },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            width: { type: 'integer' },
            height: { type: 'integer' },
            detector: { type: 'string' },
            faces: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  box: boxSchema,
                  score: { type: 'number' },
                  landmarks: { type: 'array', items: { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' } } } },
                  keypoints: { type: 'array', description: 'BlazeFace\'s 6 points (blazeface detectors only)', items: { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' } } } },
                },
              },
            },
          },
        },
        ...errorResponses,
      },
    },
    handler: async (request) => {
      const bytes = await requestImageBytes(request.body.img, ctx.download);
      return ctx.limiter.run(() => ctx.visage.detect(bytes, { detector: request.body.detector, mode: request.body.mode }));
    },
  });
}
