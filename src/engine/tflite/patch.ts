/**
 * A TFLite file with some of its float32 constants replaced (fine-tuned weights over a published
 * file): the bytes are overwritten in place, so the result is the same file for every reader
 * (visage's converter and the LiteRT oracle alike). A replacement must name a float32 constant of
 * the file and have its shape: anything else is an INVALID_MODEL error, never a partial patch.
 */
import { VisageError } from '../../errors.js';
import { readTflite } from './read.js';

export interface ReplacementTensor {
  shape: readonly number[];
  data: Float32Array;
}

/**
 * Returns a copy of `bytes` with each named constant's values replaced.
 *
 * @example
 * const tuned = replaceTfliteConstants(await readFile(file), 'net.tflite', new Map([['conv/weights', { shape, data }]]));
 */
export function replaceTfliteConstants(bytes: Uint8Array, name: string, replacements: ReadonlyMap<string, ReplacementTensor>): Uint8Array {
  const model = readTflite(bytes, name);
  const byName = new Map(model.tensors.filter((t) => t.data !== null).map((t) => [t.name, t]));
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const [tensorName, r] of replacements) {
    const t = byName.get(tensorName);
    if (!t || t.offset === null || t.data === null) throw new VisageError('INVALID_MODEL', `${name}: no constant named ${tensorName} to replace`);
    if (t.type !== 'float32') throw new VisageError('INVALID_MODEL', `${name}: constant ${tensorName} is ${t.type}, not float32`);
    if (t.shape.length !== r.shape.length || t.shape.some((d, k) => d !== r.shape[k]) || r.data.length * 4 !== t.data.byteLength) {
      throw new VisageError('INVALID_MODEL', `${name}: constant ${tensorName} is [${t.shape.join(', ')}], its replacement [${r.shape.join(', ')}] (${r.data.length} values)`);
    }
    for (let i = 0; i < r.data.length; i++) view.setFloat32(t.offset + i * 4, r.data[i] as number, true);
  }
  return out;
}
