/**
 * Exact nearest-neighbour search over one contiguous Float32Array of unit vectors. On unit
 * vectors the largest dot product is the smallest cosine (and euclidean_l2) distance, so a scan
 * is one multiply-add per component; the inner loop is unrolled with four accumulators, and the
 * best k are kept in a small sorted array (k is small; a heap would only pay from k ≈ 50).
 */

/** Returns `v` scaled to unit length (a copy), or throws for a zero vector. */
export function normalise(v: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += (v[i] as number) * (v[i] as number);
  if (!(sum > 0) || !Number.isFinite(sum)) throw new RangeError('Cannot normalise a zero or non-finite vector');
  const scale = 1 / Math.sqrt(sum);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) * scale;
  return out;
}

/** One hit: the row's slot and its dot product with the query (1 = identical direction). */
export interface Hit {
  slot: number;
  similarity: number;
}

/** The dot product of `query` with row `row` of `data` (rows of `dim` floats). */
export function dotRow(data: Float32Array, row: number, query: Float32Array, dim: number): number {
  const o = row * dim;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dim; i += 4) {
    s0 += (data[o + i] as number) * (query[i] as number);
    s1 += (data[o + i + 1] as number) * (query[i + 1] as number);
    s2 += (data[o + i + 2] as number) * (query[i + 2] as number);
    s3 += (data[o + i + 3] as number) * (query[i + 3] as number);
  }
  for (; i < dim; i++) s0 += (data[o + i] as number) * (query[i] as number);
  return s0 + s1 + s2 + s3;
}

/**
 * The `k` rows among the first `rows` of `data` with the largest dot product with `query`,
 * best first.
 */
export function exactSearch(data: Float32Array, rows: number, dim: number, query: Float32Array, k: number): Hit[] {
  if (k <= 0 || rows === 0) return [];
  const slots = new Int32Array(k);
  const sims = new Float64Array(k).fill(Number.NEGATIVE_INFINITY);
  let count = 0;
  let worst = Number.NEGATIVE_INFINITY; // the k-th best so far, once k are held
  for (let r = 0; r < rows; r++) {
    const s = dotRow(data, r, query, dim);
    if (count === k && s <= worst) continue;
    // Insert into the sorted (descending) arrays.
    let j = count < k ? count++ : k - 1;
    while (j > 0 && (sims[j - 1] as number) < s) {
      sims[j] = sims[j - 1] as number;
      slots[j] = slots[j - 1] as number;
      j--;
    }
    sims[j] = s;
    slots[j] = r;
    if (count === k) worst = sims[k - 1] as number;
  }
  const hits: Hit[] = [];
  for (let i = 0; i < count; i++) hits.push({ slot: slots[i] as number, similarity: sims[i] as number });
  return hits;
}

/** The `k` largest of `scores` (one per row), best first. */
export function topK(scores: Float32Array, k: number): Hit[] {
  const rows = scores.length;
  if (k <= 0 || rows === 0) return [];
  const slots = new Int32Array(k);
  const sims = new Float64Array(k).fill(Number.NEGATIVE_INFINITY);
  let count = 0;
  let worst = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < rows; r++) {
    const s = scores[r] as number;
    if (count === k && s <= worst) continue;
    let j = count < k ? count++ : k - 1;
    while (j > 0 && (sims[j - 1] as number) < s) {
      sims[j] = sims[j - 1] as number;
      slots[j] = slots[j - 1] as number;
      j--;
    }
    sims[j] = s;
    slots[j] = r;
    if (count === k) worst = sims[k - 1] as number;
  }
  const hits: Hit[] = [];
  for (let i = 0; i < count; i++) hits.push({ slot: slots[i] as number, similarity: sims[i] as number });
  return hits;
}

/** The given slots ranked exactly by dot product with `query`, best first, at most `k`. */
export function rankSlots(data: Float32Array, slots: Iterable<number>, dim: number, query: Float32Array, k: number): Hit[] {
  const hits: Hit[] = [];
  for (const slot of slots) hits.push({ slot, similarity: dotRow(data, slot, query, dim) });
  hits.sort((a, b) => b.similarity - a.similarity);
  return hits.slice(0, k);
}
