/**
 * The scale benches' data: real face embeddings repeated with noise. Face `i` is the same in every
 * run and every process (its noise is seeded by `i`), so several processes can each add their share
 * of one gallery while another computes the exact answers over the whole of it.
 */
import { normalise } from '../../src/gallery/exact.js';
import type { NewFace } from '../../src/gallery/types.js';
import { mulberry32 } from './random.js';

export interface BaseFace {
  identity: string;
  /** Unit length. */
  unit: Float32Array;
}

/** Noise per component: copies of one embedding stay nearer each other than other people's. */
const SIGMA = 0.02;

/** The scaled galleries' recogniser: 128-d, as in the issue's figures. */
export const SCALE_MODEL = { model: 'dlib-resnet128', dimension: 128 } as const;

/**
 * The real embeddings (lfw-dev file → embedding, null where no face was found) as dlib-resnet128
 * unit vectors. Fusion embeddings begin with dlib's unit embedding (scaled by its weight): that
 * part is taken, so the default recogniser's cache serves.
 */
export function baseFaces(all: Map<string, number[] | null>, model: string): BaseFace[] {
  if (model !== 'dlib-resnet128' && model !== 'fusion-dlib-mobilefacenet') throw new Error(`the scale benches need dlib or fusion embeddings, not ${model}`);
  return [...all]
    .filter((e): e is [string, number[]] => e[1] !== null)
    .map(([file, e]) => ({ identity: file.split('/')[0] as string, unit: normalise(e.slice(0, SCALE_MODEL.dimension)) }));
}

/** A standard normal sample (Box-Muller). */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
}

const noisy = (unit: Float32Array, random: () => number) => normalise(Array.from(unit, (v) => v + SIGMA * gaussian(random)));

/** A face id that names its index, so every process knows face `i`'s id. */
export const scaleFaceId = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

/** Face `i` of the scaled gallery: a noisy copy of base face `i mod n`, under `<identity>#<copy>`. */
export function scaleFace(base: readonly BaseFace[], i: number): NewFace {
  const b = base[i % base.length] as BaseFace;
  return {
    faceId: scaleFaceId(i),
    identity: `${b.identity}#${Math.floor(i / base.length)}`,
    embedding: noisy(b.unit, mulberry32(Math.imul(i + 1, 0x9e3779b1))),
    box: null,
    metadata: null,
    sourceKey: null,
    thumbnail: null,
  };
}

/** Faces `from` to `to` (excluded). */
export function scaleFaces(base: readonly BaseFace[], from: number, to: number): NewFace[] {
  return Array.from({ length: to - from }, (_, j) => scaleFace(base, from + j));
}

/** `n` queries: noisy copies of random base faces (a stream of its own, the same every run). */
export function scaleQueries(base: readonly BaseFace[], n: number): Float32Array[] {
  const random = mulberry32(42);
  return Array.from({ length: n }, () => noisy((base[Math.floor(random() * base.length)] as BaseFace).unit, random));
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
