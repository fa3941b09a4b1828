/**
 * Test fixtures for the service: a local HTTP server of good and bad images, the service itself
 * listening on loopback, and a Visage test double for error paths that never reach the models.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { VisageError } from '../../src/errors.js';
import { loadImage } from '../../src/image/index.js';
import { buildServer, type ServerOptions } from '../../src/server/index.js';
import type { Visage } from '../../src/types.js';

export const SAMPLES = 'node_modules/@vladmandic/face-api/demo';
export const sample = (n: number): Buffer => readFileSync(path.join(SAMPLES, `sample${n}.jpg`));

function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** A valid PNG whose header claims 100000 x 100000 pixels (CRCs correct, tiny payload). */
export function pixelBombPng(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(100_000, 0);
  ihdr.writeUInt32BE(100_000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1024))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export interface Fixtures {
  origin: string;
  url(pathname: string): string;
  close(): Promise<void>;
}

/** Serves sample photos and every kind of bad answer on 127.0.0.1. */
export async function startFixtures(): Promise<Fixtures> {
  const sockets = new Set<Socket>();
  const jpeg = (body: Buffer) => (_req: http.IncomingMessage, res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(body);
  const routes: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void> = {
    '/text.jpg': (_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end('this is plain text, not an image\n'),
    '/truncated.jpg': jpeg(sample(1).subarray(0, 4000)),
    '/bomb.png': (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(pixelBombPng()),
    '/hang': () => {}, // accepts the request, never answers
    '/loop': (_req, res) => res.writeHead(302, { location: '/loop' }).end(),
  };
  for (let n = 1; n <= 6; n++) routes[`/sample${n}.jpg`] = jpeg(sample(n));

  const server = http.createServer((req, res) => {
    const handler = routes[(req.url ?? '/').split('?')[0] ?? '/'];
    if (handler) handler(req, res);
    else res.writeHead(404).end('not found');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (pathname) => `${origin}${pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A Visage double for error paths: it decodes its input with the real image layer (so bad
 * images fail exactly as in the library) and otherwise fails loudly, so a test that reaches a
 * model by mistake sees a 500. `calls` counts every call that got as far as the double.
 */
export function decodingOnlyVisage(): Visage & { calls: number } {
  const reach = async (input: unknown): Promise<never> => {
    double.calls++;
    if (Buffer.isBuffer(input)) await loadImage(input);
    throw new VisageError('MODEL_ERROR', 'test double: no models here');
  };
  const double = {
    calls: 0,
    detect: reach,
    represent: reach,
    analyze: reach,
    verify: async (a: unknown, b: unknown) => {
      await reach(a);
      return reach(b);
    },
    gallery: async () => reach(undefined),
    video: (): AsyncIterableIterator<never> => {
      double.calls++;
      const fail = () => Promise.reject(new VisageError('MODEL_ERROR', 'test double: no models here'));
      return { next: fail, [Symbol.asyncIterator]() { return this; } };
    },
    representEach: (): AsyncIterableIterator<never> => {
      double.calls++;
      const fail = () => Promise.reject(new VisageError('MODEL_ERROR', 'test double: no models here'));
      return { next: fail, [Symbol.asyncIterator]() { return this; } };
    },
    representMany: async (inputs: unknown) => reach(inputs),
    close: async () => undefined,
  };
  return double;
}

export interface Service {
  app: FastifyInstance;
  origin: string;
  store: string;
  /** fetch against the service; JSON bodies are serialised for you. */
  request(pathname: string, init?: { method?: string; json?: unknown; body?: BodyInit; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

/** Builds the service on a fresh temporary store and listens on 127.0.0.1:0. */
export async function startService(options: Omit<ServerOptions, 'store'> & { store?: string }): Promise<Service> {
  const store = options.store ?? (await mkdtemp(path.join(tmpdir(), 'visage-store-')));
  const app = await buildServer({ ...options, store });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    app,
    origin,
    store,
    request: (pathname, init = {}) => {
      const headers: Record<string, string> = { ...init.headers };
      let body = init.body;
      if (init.json !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = JSON.stringify(init.json);
      }
      return fetch(`${origin}${pathname}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
    },
    close: async () => {
      await app.close();
      if (options.store === undefined) await rm(store, { recursive: true, force: true });
    },
  };
}
