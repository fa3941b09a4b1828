/**
 * `GET /api/live` (WebSocket): live JPEG frames in, one result per analysed frame out.
 *
 * The newest frame wins: one frame waits at most; a frame that arrives while another is being
 * analysed replaces the waiting one (the replaced frame is dropped and counted). Frames go
 * through `visage.video()`, so faces keep track ids across the stream. Bounds: frame size
 * (bytes and pixels), frames per second accepted, connections per client address and in all.
 * Auth: browsers cannot set headers on a WebSocket, so with a token configured the first
 * message must be `{"token": "…"}` (or the upgrade carries `Authorization: Bearer …`).
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { isVisageError } from '../../errors.js';
import { decodeImage, sniffImageFormat } from '../../image/index.js';
import type { Action, DetectorName, VideoFrame, VideoOptions } from '../../types.js';
import type { ServerContext } from '../context.js';

export interface LiveOptions {
  /** Largest frame message, in bytes (default 2 MB). */
  maxFrameBytes?: number;
  /** Largest frame, in pixels (default 2 MP: 1920x1080). */
  maxFramePixels?: number;
  /** Frames accepted per second per connection; faster frames are dropped (default 30). */
  maxFps?: number;
  /** Live connections from one client address (default 2). */
  maxPerClient?: number;
  /** Live connections in all (default 8). */
  maxConnections?: number;
  /** Time for the token message, in ms (default 5 s). */
  authTimeoutMs?: number;
}

export const LIVE_DEFAULTS: Readonly<Required<LiveOptions>> = {
  maxFrameBytes: 2 * 1024 * 1024,
  maxFramePixels: 2_000_000,
  maxFps: 30,
  maxPerClient: 2,
  maxConnections: 8,
  authTimeoutMs: 5_000,
};

const DETECTORS: readonly DetectorName[] = ['ssd', 'tiny', 'blazeface', 'blazeface-full', 'mtcnn', 'haar'];
const ACTIONS: readonly Action[] = ['emotion', 'age', 'gender'];

/** Close codes: 1008 policy (limits), 4401 unauthorised. */
const POLICY = 1008;
const UNAUTHORISED = 4401;

/** A one-slot mailbox: `put` replaces what waits (returning true when it dropped a frame); `take` waits for the next. */
class NewestFrame {
  private waiting: Buffer | undefined;
  private wake: (() => void) | undefined;
  closed = false;

  put(frame: Buffer): boolean {
    const dropped = this.waiting !== undefined;
    this.waiting = frame;
    this.wake?.();
    return dropped;
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async take(): Promise<Buffer | undefined> {
    while (this.waiting === undefined && !this.closed) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
    const frame = this.waiting;
    this.waiting = undefined;
    return this.closed ? undefined : frame;
  }
}

function liveOptions(query: Record<string, string | undefined>): VideoOptions {
  const detector = (query.detector ?? 'tiny') as DetectorName;
  if (!DETECTORS.includes(detector)) throw new Error(`detector must be one of ${DETECTORS.join(', ')}`);
  const actions = (query.actions ?? 'emotion').split(',').filter(Boolean) as Action[];
  if (!actions.every((a) => ACTIONS.includes(a))) throw new Error(`actions must be among ${ACTIONS.join(', ')}`);
  const every = Number(query.every ?? 1);
  if (!Number.isInteger(every) || every < 1 || every > 30) throw new Error('every must be an integer from 1 to 30');
  return { detector, actions, every, analyzeEvery: 3 };
}

export function liveRoutes(app: FastifyInstance, ctx: ServerContext, options: LiveOptions & { tokenMatches?: (token: string) => boolean; headerAuthorised?: (header: string | undefined) => boolean } = {}): void {
  const limits = { ...LIVE_DEFAULTS, ...options };
  const perClient = new Map<string, number>();
  let connections = 0;

  app.get<{ Querystring: Record<string, string | undefined> }>('/api/live', { websocket: true, config: { public: true }, schema: { hide: true } }, (socket: WebSocket, request) => {
    const send = (message: object) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    };
    const client = request.ip;
    const count = perClient.get(client) ?? 0;
    if (count >= limits.maxPerClient || connections >= limits.maxConnections) {
      send({ error: `Too many live connections (${limits.maxPerClient} per client, ${limits.maxConnections} in all)` });
      socket.close(POLICY, 'too many connections');
      return;
    }
    let videoOptions: VideoOptions;
    try {
      videoOptions = liveOptions(request.query);
    } catch (err) {
      send({ error: (err as Error).message });
      socket.close(POLICY, 'bad options');
      return;
    }
    perClient.set(client, count + 1);
    connections++;
    const mailbox = new NewestFrame();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      connections--;
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
      mailbox.close();
    };
    socket.on('close', release);
    socket.on('error', release);

    let authorised = options.tokenMatches === undefined || (options.headerAuthorised?.(request.headers.authorization) ?? false);
    const authTimer = authorised
      ? undefined
      : setTimeout(() => {
          send({ error: 'Send {"token": "…"} first' });
          socket.close(UNAUTHORISED, 'unauthorised');
        }, limits.authTimeoutMs);

    let received = 0;
    let dropped = 0;
    let windowStart = Date.now();
    let inWindow = 0;
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!authorised) {
        let token: unknown;
        try {
          token = (JSON.parse(data.toString('utf8')) as { token?: unknown }).token;
        } catch {
          token = undefined;
        }
        clearTimeout(authTimer);
        if (typeof token !== 'string' || !options.tokenMatches?.(token)) {
          send({ error: 'Missing or wrong bearer token' });
          socket.close(UNAUTHORISED, 'unauthorised');
          return;
        }
        authorised = true;
        send({ ready: true });
        return;
      }
      if (!isBinary) return send({ error: 'Send frames as binary JPEG (or PNG/WebP) messages' });
      received++;
      const now = Date.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        inWindow = 0;
      }
      if (++inWindow > limits.maxFps || data.length > limits.maxFrameBytes || sniffImageFormat(data) === undefined) {
        dropped++;
        return;
      }
      if (mailbox.put(data)) dropped++;
    });
    if (authorised) send({ ready: true });

    async function* frames(): AsyncGenerator<VideoFrame> {
      const started = performance.now();
      for (let bytes = await mailbox.take(); bytes; bytes = await mailbox.take()) {
        try {
          const image = await decodeImage(bytes, { maxPixels: limits.maxFramePixels });
          yield { ...image, timeMs: performance.now() - started };
        } catch (err) {
          dropped++;
          send({ error: isVisageError(err) ? `${err.message} [${err.code}]` : 'Cannot decode the frame' });
        }
      }
    }

    void (async () => {
      try {
        for await (const result of ctx.visage.video(frames(), videoOptions)) {
          send({ ...result, received, dropped });
        }
      } catch (err) {
        request.log.error({ err }, 'live analysis failed');
        send({ error: 'Analysis failed' });
        socket.close(1011, 'analysis failed');
      } finally {
        clearTimeout(authTimer);
        release();
      }
    })();
  });
}
