/** What the stores share: checks on names, embedding encoding, and the in-memory catch-up. */
import { VisageError } from '../errors.js';
import type { Box } from '../image/types.js';
import type { GalleryModel } from './types.js';

const MAX_NAME = 200;

/** A gallery or identity name: 1-200 characters, no control characters. */
export function checkName(value: unknown, what: string): string {
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new VisageError('INVALID_ARGUMENT', `Expected 1 to ${MAX_NAME} printable characters for ${what} but received ${JSON.stringify(value)}`);
  }
  return value;
}

export function modelMismatch(gallery: string, has: GalleryModel, given: GalleryModel): VisageError {
  return new VisageError(
    'GALLERY_MODEL_MISMATCH',
    `Gallery ${JSON.stringify(gallery)} holds ${has.model} embeddings (${has.dimension}-d); ${given.model} (${given.dimension}-d) cannot be added to or searched in it`,
  );
}

export function sameModel(a: GalleryModel, b: GalleryModel): boolean {
  return a.model === b.model && a.dimension === b.dimension;
}

export const modelOf = (model: string | null, dimension: number | null): GalleryModel | null =>
  model === null || dimension === null ? null : { model: String(model), dimension: Number(dimension) };

/** Float32 little-endian bytes of a vector. */
export function embeddingBytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** A vector from bytes written by `embeddingBytes` (copied: the bytes may be unaligned). */
export function bytesEmbedding(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export const parseJson = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

export const boxJson = (box: Box | null): string | null => (box === null ? null : JSON.stringify(box));
