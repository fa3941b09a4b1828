/** Picture responses: `?format=png` or `Accept: image/png` on the verify and analyze routes. */
import type { FastifyRequest } from 'fastify';
import type { RgbImage } from '../image/index.js';
import type { AnalyzeResult, VerifyResult } from '../types.js';
import { HttpError } from './errors.js';

/** True when the client asked for the picture rather than JSON. */
export function wantsPng(request: FastifyRequest): boolean {
  const { format } = (request.query ?? {}) as { format?: string };
  if (format !== undefined) return format === 'png';
  const accept = request.headers.accept ?? '';
  return /\bimage\/png\b/i.test(accept) && !/\bapplication\/json\b/i.test(accept);
}

const notYet = () => new HttpError(501, 'PNG output is not available in this build');

/** The verification picture (both images side by side with the verdict). */
export async function verificationPng(_result: VerifyResult, _a: RgbImage, _b: RgbImage): Promise<Buffer> {
  throw notYet();
}

/** The analysis picture (each face boxed, its emotion scores beside it). */
export async function analysisPng(_result: AnalyzeResult, _image: RgbImage): Promise<Buffer> {
  throw notYet();
}
