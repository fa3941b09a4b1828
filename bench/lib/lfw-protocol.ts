/**
 * The LFW verification protocol over distances: pairs.txt parsing, per-fold threshold selection
 * (chosen on the other folds, applied to the held one), ROC AUC, TAR at a given FAR, and the
 * logistic confidence scale. Pure functions over numbers, so they can be tested on synthetic
 * scores. Throughout, a pair is declared "same person" when its distance is <= the threshold.
 */

/** One image of a pair: `images/<name>/<name>_<nnnn>.jpg`. */
export interface LfwImage {
  name: string;
  index: number;
}

export interface LfwPair {
  a: LfwImage;
  b: LfwImage;
  same: boolean;
}

/** A scored pair: its distance and whether it is truly the same person. */
export interface Scored {
  distance: number;
  same: boolean;
}

/**
 * Parses LFW's pairs.txt: a header `<folds> <n>`, then per fold `n` same-person lines
 * `Name i j` followed by `n` different-person lines `Name1 i Name2 j`.
 */
export function parsePairs(text: string): LfwPair[][] {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  const header = (lines[0] ?? '').split(/\s+/).map(Number);
  const [folds, perKind] = header;
  if (header.length !== 2 || !Number.isInteger(folds) || !Number.isInteger(perKind) || !folds || !perKind) {
    throw new Error(`Expected a header "<folds> <pairs per kind>" in pairs.txt but received "${lines[0] ?? ''}"`);
  }
  if (lines.length - 1 !== folds * perKind * 2) {
    throw new Error(`Expected ${folds * perKind * 2} pair lines for header "${lines[0]}" but received ${lines.length - 1}`);
  }
  const result: LfwPair[][] = [];
  for (let f = 0; f < folds; f++) {
    const fold: LfwPair[] = [];
    for (let k = 0; k < 2 * perKind; k++) {
      const line = lines[1 + f * 2 * perKind + k] as string;
      const parts = line.split(/\s+/);
      const same = k < perKind;
      const pair =
        same && parts.length === 3
          ? { a: { name: parts[0] as string, index: Number(parts[1]) }, b: { name: parts[0] as string, index: Number(parts[2]) }, same }
          : !same && parts.length === 4
            ? { a: { name: parts[0] as string, index: Number(parts[1]) }, b: { name: parts[2] as string, index: Number(parts[3]) }, same }
            : null;
      if (!pair || !Number.isInteger(pair.a.index) || !Number.isInteger(pair.b.index)) {
        throw new Error(`Expected a ${same ? 'same' : 'different'}-person line in fold ${f + 1} but received "${line}"`);
      }
      fold.push(pair);
    }
    result.push(fold);
  }
  return result;
}

/** The relative path of an LFW image: `Name/Name_0001.jpg`. */
export function imageFile(image: LfwImage): string {
  return `${image.name}/${image.name}_${String(image.index).padStart(4, '0')}.jpg`;
}

/** Fraction of pairs classified correctly at `threshold`. */
export function accuracyAt(scores: readonly Scored[], threshold: number): number {
  if (scores.length === 0) return Number.NaN;
  let correct = 0;
  for (const s of scores) if (s.distance <= threshold === s.same) correct++;
  return correct / scores.length;
}

/**
 * The threshold maximising accuracy on `scores`. Candidates are the midpoints between
 * consecutive distinct distances (and one step beyond either end); where several give the same
 * best accuracy, the median candidate among them is taken, so the choice is deterministic and
 * does not hug one end of the tied range.
 */
export function bestThreshold(scores: readonly Scored[]): { threshold: number; accuracy: number } {
  if (scores.length === 0) throw new Error('Expected at least one scored pair to choose a threshold');
  const sorted = [...scores].sort((p, q) => p.distance - q.distance);
  const negatives = sorted.filter((s) => !s.same).length;
  const first = (sorted[0] as Scored).distance;
  const last = (sorted[sorted.length - 1] as Scored).distance;
  const margin = Math.max(1e-6, (last - first) * 1e-3);
  // Below every distance, everything is "different": the negatives are right.
  let correct = negatives;
  let bestCorrect = correct;
  let best: number[] = [first - margin];
  for (let i = 0; i < sorted.length; ) {
    const d = (sorted[i] as Scored).distance;
    // Every pair at this distance crosses to "same" together.
    for (; i < sorted.length && (sorted[i] as Scored).distance === d; i++) correct += (sorted[i] as Scored).same ? 1 : -1;
    const next = i < sorted.length ? (sorted[i] as Scored).distance : last + 2 * margin;
    const candidate = (d + next) / 2;
    if (correct > bestCorrect) {
      bestCorrect = correct;
      best = [candidate];
    } else if (correct === bestCorrect) {
      best.push(candidate);
    }
  }
  return { threshold: best[(best.length - 1) >> 1] as number, accuracy: bestCorrect / scores.length };
}

export interface FoldResult {
  /** Threshold chosen on the other folds. */
  threshold: number;
  /** Accuracy of that threshold on this fold. */
  accuracy: number;
}

/** The standard protocol: for each fold, the threshold chosen on the others, applied to it. */
export function crossValidate(folds: readonly (readonly Scored[])[]): FoldResult[] {
  if (folds.length < 2) throw new Error(`Expected at least 2 folds but received ${folds.length}`);
  return folds.map((held, f) => {
    const training = folds.flatMap((fold, g) => (g === f ? [] : fold));
    const { threshold } = bestThreshold(training);
    return { threshold, accuracy: accuracyAt(held, threshold) };
  });
}

/** Mean and population standard deviation (as LFW results are usually reported, numpy's std). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

/**
 * Area under the ROC curve: the probability that a random same-person pair is closer than a
 * random different-person pair, ties counting one half (Mann–Whitney).
 */
export function rocAuc(scores: readonly Scored[]): number {
  const sorted = [...scores].sort((p, q) => p.distance - q.distance);
  const positives = sorted.filter((s) => s.same).length;
  const negatives = sorted.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  // For each negative, count positives strictly closer plus half of those at the same distance.
  let wins = 0;
  let positivesBefore = 0;
  for (let i = 0; i < sorted.length; ) {
    const d = (sorted[i] as Scored).distance;
    let pos = 0;
    let neg = 0;
    for (; i < sorted.length && (sorted[i] as Scored).distance === d; i++) {
      if ((sorted[i] as Scored).same) pos++;
      else neg++;
    }
    wins += neg * (positivesBefore + pos / 2);
    positivesBefore += pos;
  }
  return wins / (positives * negatives);
}

/**
 * True accept rate at a false accept rate: the threshold admits at most floor(far × negatives)
 * different-person pairs (it sits just below the next negative's distance), and the result is the
 * fraction of same-person pairs it accepts.
 */
export function tarAtFar(scores: readonly Scored[], far: number): { tar: number; threshold: number; falseAccepts: number } {
  const positives = scores.filter((s) => s.same).map((s) => s.distance);
  const negatives = scores.filter((s) => !s.same).map((s) => s.distance).sort((p, q) => p - q);
  if (positives.length === 0 || negatives.length === 0) throw new Error('Expected both same- and different-person pairs for TAR@FAR');
  const allowed = Math.floor(far * negatives.length + 1e-9);
  // Accept strictly below the first negative that would exceed the allowance (ties rejected).
  const limit = allowed < negatives.length ? (negatives[allowed] as number) : Number.POSITIVE_INFINITY;
  const accepted = positives.filter((d) => d < limit).length;
  const threshold = limit === Number.POSITIVE_INFINITY ? Math.max(...positives) : limit;
  const falseAccepts = negatives.filter((d) => d < limit).length;
  return { tar: accepted / positives.length, threshold, falseAccepts };
}

/**
 * The logistic scale `s` of confidence = 1 / (1 + exp((distance − threshold) / s)), fitted by
 * maximum likelihood on the pairs with the intercept fixed so that confidence is 0.5 at the
 * threshold. The log-likelihood is concave in 1/s, so its derivative is decreasing and the root
 * is found by bisection (in log space; capped where the pairs are perfectly separated).
 */
export function fitLogisticScale(scores: readonly Scored[], threshold: number): number {
  // d/dw of the log-likelihood, w = 1/s, x = threshold − distance, p = sigmoid(w x).
  const slope = (w: number): number => {
    let g = 0;
    for (const s of scores) {
      const x = threshold - s.distance;
      const p = 1 / (1 + Math.exp(-w * x));
      g += ((s.same ? 1 : 0) - p) * x;
    }
    return g;
  };
  let lo = Math.log(1e-6);
  let hi = Math.log(1e6);
  if (slope(Math.exp(hi)) > 0) return 1 / Math.exp(hi);
  if (slope(Math.exp(lo)) < 0) return 1 / Math.exp(lo);
  for (let k = 0; k < 200 && hi - lo > 1e-12; k++) {
    const mid = (lo + hi) / 2;
    if (slope(Math.exp(mid)) > 0) lo = mid;
    else hi = mid;
  }
  return 1 / Math.exp((lo + hi) / 2);
}
