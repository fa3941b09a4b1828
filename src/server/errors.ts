/**
 * The service's one error handler: every failure becomes a status and a JSON body here.
 *
 * VisageError codes take their status from `src/errors.ts`. Client-facing text never carries
 * internals: 5xx bodies are generic (the error goes to the log), and network failures get their
 * code's description rather than their message (which can name internal hosts and addresses).
 * Routes under `/api/` answer with the fixed bodies their documentation promises, chosen by the
 * route's `config.errorStyle`.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, isVisageError, type ErrorCode } from '../errors.js';

/** A failure that belongs to the HTTP layer itself (auth, overload, timeouts, paths). */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  constructor(statusCode: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.headers = headers;
  }
}

export const MESSAGES = {
  invalidImageUrl: 'Invalid image_url provided',
  unexpected: 'An unexpected error occurred',
  downloadFailed: 'Failed to download image. Check the URL and try again.',
} as const;

/**
 * How a route's errors are worded:
 * - `default`: `{ error }` with the mapped status;
 * - `emotion`: `POST /api/analyze/emotion` — anything wrong with the image is
 *   `400 { error: "Invalid image_url provided" }`;
 * - `download`: `GET /api/download_image` — `{ success: false, message }`.
 */
export type ErrorStyle = 'default' | 'emotion' | 'download';

declare module 'fastify' {
  interface FastifyContextConfig {
    errorStyle?: ErrorStyle;
  }
}

// Their messages describe the network (host names, resolved addresses), not the client's input.
const NETWORK_CODES: ReadonlySet<ErrorCode> = new Set(['DOWNLOAD_FAILED', 'BLOCKED_ADDRESS']);
// Everything that means "this input did not give us an image".
const IMAGE_CODES: ReadonlySet<ErrorCode> = new Set(['INVALID_IMAGE', 'IMAGE_TOO_LARGE', 'DOWNLOAD_FAILED', 'BLOCKED_ADDRESS', 'FILE_NOT_FOUND']);

interface Mapped {
  status: number;
  message: string;
  headers?: Readonly<Record<string, string>>;
  /** The input at fault is the image (emotion route wording). */
  image?: boolean;
  /** Facts a client can act on (SPOOF_DETECTED: which image and face, its real score). */
  details?: Readonly<Record<string, unknown>>;
}

// Codes whose details go to the client: they describe the client's own input.
const DETAILED_CODES: ReadonlySet<ErrorCode> = new Set(['SPOOF_DETECTED']);

function mapError(err: unknown): Mapped {
  if (err instanceof HttpError) return { status: err.statusCode, message: err.message, headers: err.headers };
  if (isVisageError(err)) {
    const status = ERROR_CODES[err.code].status;
    const message = NETWORK_CODES.has(err.code) ? ERROR_CODES[err.code].description : err.message;
    return { status, message, image: IMAGE_CODES.has(err.code), ...(DETAILED_CODES.has(err.code) && err.details ? { details: err.details } : {}) };
  }
  const fastifyError = err as Partial<FastifyError>;
  if (fastifyError.validation) {
    const field = fastifyError.validation[0]?.instancePath ?? '';
    const missing = fastifyError.validation[0]?.params?.missingProperty;
    return { status: 400, message: fastifyError.message ?? 'Invalid request', image: /image_url/.test(`${field} ${String(missing)}`) };
  }
  // Fastify's own client errors (bad JSON, unsupported media type, body too large, ...).
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return { status, message: fastifyError.message ?? 'Bad request' };
  return { status: 500, message: MESSAGES.unexpected };
}

function body(style: ErrorStyle, mapped: Mapped): { status: number; payload: object } {
  const { status } = mapped;
  const generic = status >= 500 && status !== 503;
  switch (style) {
    case 'download':
      return {
        status: generic ? 500 : status,
        payload: { success: false, message: generic ? MESSAGES.unexpected : status === 401 || status === 503 ? mapped.message : MESSAGES.downloadFailed },
      };
    case 'emotion':
      if (mapped.image) return { status: 400, payload: { error: MESSAGES.invalidImageUrl } };
      return { status, payload: { error: generic ? MESSAGES.unexpected : mapped.message } };
    default:
      return { status, payload: { error: generic ? MESSAGES.unexpected : mapped.message, ...(mapped.details ? { details: mapped.details } : {}) } };
  }
}

/** Installs the error and not-found handlers on `app`. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = mapError(err);
    if (mapped.status >= 500 && mapped.status !== 503) request.log.error({ err }, 'request failed');
    else request.log.info({ status: mapped.status, reason: err instanceof Error ? err.message : String(err) }, 'request refused');
    const { status, payload } = body(request.routeOptions.config.errorStyle ?? 'default', mapped);
    void reply.code(status).headers(mapped.headers ?? {}).type('application/json; charset=utf-8').send(payload);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: `No route ${request.method} ${request.url.split('?')[0] ?? ''}` });
  });
}
