/** Distances between embeddings. Smaller is more alike for every metric. */
import { VisageError } from '../errors.js';
import type { Metric } from '../types.js';

export const METRICS: readonly Metric[] = ['euclidean', 'euclidean_l2', 'cosine'];

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) ** 2;
  return Math.sqrt(s);
}

function checkPair(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length || a.length === 0) {
    throw new VisageError('INVALID_ARGUMENT', `Expected two embeddings of the same non-zero length but received ${a.length} and ${b.length}`);
  }
}

/** Euclidean distance; with `l2`, between the L2-normalised vectors (range [0, 2]). */
export function euclidean(a: ArrayLike<number>, b: ArrayLike<number>, l2 = false): number {
  checkPair(a, b);
  const na = l2 ? norm(a) || 1 : 1;
  const nb = l2 ? norm(b) || 1 : 1;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += ((a[i] as number) / na - (b[i] as number) / nb) ** 2;
  return Math.sqrt(s);
}

/** Cosine distance: 1 - cos(a, b), range [0, 2]. */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkPair(a, b);
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += (a[i] as number) * (b[i] as number);
  const denominator = norm(a) * norm(b);
  return denominator === 0 ? 1 : 1 - dot / denominator;
}

export function distance(a: ArrayLike<number>, b: ArrayLike<number>, metric: Metric): number {
  switch (metric) {
    case 'euclidean':
      return euclidean(a, b);
    case 'euclidean_l2':
      return euclidean(a, b, true);
    case 'cosine':
      return cosineDistance(a, b);
    default:
      throw new VisageError('INVALID_ARGUMENT', `Expected one of ${METRICS.join(', ')} for metric but received ${String(metric)}`);
  }
}
