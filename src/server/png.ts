/** Picture responses: `?format=png` or `Accept: image/png` on the verify and analyze routes. */
import type { FastifyRequest } from 'fastify';

/** True when the client asked for the picture rather than JSON (`?format=` wins over Accept). */
export function wantsPng(request: FastifyRequest): boolean {
  const { format } = (request.query ?? {}) as { format?: string };
  if (format !== undefined) return format === 'png';
  const accept = request.headers.accept ?? '';
  return /\bimage\/png\b/i.test(accept) && !/\bapplication\/json\b/i.test(accept);
}
