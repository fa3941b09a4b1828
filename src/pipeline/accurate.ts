/**
 * The 'accurate' detection mode. Beside the fast pass (the chosen detector on the whole image),
 * more passes look for the faces it misses: SSD (and BlazeFace full range) on overlapping tiles of
 * the image, each enlarged to the network's input (SSD sees a 1024-pixel photo at half size, too
 * small for a 30-pixel face), on the whole image at a low score floor, and MTCNN. The passes'
 * boxes are fused (see Fusion): grouped, and each group scored by a small logistic model of which
 * detectors found it and how sure each was. The plans, the model's weights and every parameter
 * were chosen on the WIDER FACE dev images (bench/wider.ts --tune --cv); the README gives the
 * procedure's two-fold cross-validated figures.
 */
import type { Box, Point, RgbImage } from '../image/types.js';
import { iou } from '../models/common/boxes.js';
import type { DetectorName } from '../types.js';

/** A face from one pass, in source-image pixels. */
export interface Candidate {
  box: Box;
  score: number;
  landmarks?: Point[];
  keypoints?: Point[];
}

/**
 * One extra pass: SSD or BlazeFace full range over tiles seen at `scale` input pixels per source
 * pixel (`'whole'`: the whole image once, at the network's input), or MTCNN's pyramid from
 * `minFaceSize`.
 */
export type Pass = { detector: 'ssd' | 'blazeface-full'; scale: number | 'whole' } | { detector: 'mtcnn'; minFaceSize: number };

/** One source's weights in the fusion's logistic model: for having a box in the group, and per unit of its best score above the floor. */
export interface SourceWeight {
  present: number;
  score: number;
}

/**
 * How the fast pass's and the extra passes' boxes become faces. Boxes from every source are
 * grouped (best score first; a box joins the group whose first box it overlaps most, above
 * `mergeIou`); a group is a face where a logistic model of which sources found it, how sure each
 * was, and its size gives at least `minProbability`; its box is the score-weighted mean of the
 * group's boxes and its score that probability. Agreement between detectors is what lets a
 * low-scored box count, and a lone one not.
 */
export interface Fusion {
  mergeIou: number;
  fast: SourceWeight;
  /** One per pass of the plan, in its order. */
  passes: SourceWeight[];
  /** Weights of h and h² for h = log2(box height / 32). */
  height: [number, number];
  bias: number;
  minProbability: number;
}

export interface AccuratePlan {
  passes: Pass[];
  fusion: Fusion;
}

/** The detectors a pass runs: SSD and BlazeFace on a batch of images with a score floor; MTCNN on one image. */
export interface PassRunners {
  ssd: (images: readonly RgbImage[], minScore: number) => Promise<Candidate[][]>;
  'blazeface-full': (images: readonly RgbImage[], minScore: number) => Promise<Candidate[][]>;
  mtcnn: (image: RgbImage, minFaceSize: number) => Promise<Candidate[]>;
}

/** The tiling detectors' input sides. */
const INPUT_SIZE = { ssd: 512, 'blazeface-full': 192 } as const;
/** Faces kept from a tile are at most this share of its side (larger ones are the coarser passes'). */
const MAX_FACE_SHARE = 0.4;
/**
 * At most this many tiles per pass (a 12-megapixel photo would need 130 of SSD's at scale 1).
 * BlazeFace full range runs a tile in about a twentieth of SSD's time, so it may take more:
 * 216 at scale 2 on a 1024x683 photo.
 */
const MAX_TILES = { ssd: 48, 'blazeface-full': 256 } as const;
/** The lowest score any pass keeps (the fusion weighs the scores above it). */
export const PASS_SCORE_FLOOR = 0.3;

/**
 * The plan behind SSD's fast pass, chosen and fitted on all 178 WIDER FACE dev images by the
 * procedure whose two-fold cross-validation the README reports (bench/wider.ts --tune --cv
 * --cache, 2026-12-05: of every subset of the candidate passes and group overlaps 0.3 and 0.4,
 * the best recall at precision >= 0.82 on the fitted images, each with the fusion's weights and
 * threshold fitted there; weights rounded to 4 places). Tiny, MTCNN and BlazeFace get the same
 * plan (not tuned on their own). SSD's tiles at scale 2 are most of the time (README).
 */
const PLAN: AccuratePlan = {
  passes: [
    { detector: 'ssd', scale: 'whole' },
    { detector: 'ssd', scale: 1 },
    { detector: 'ssd', scale: 2 },
    { detector: 'blazeface-full', scale: 'whole' },
    { detector: 'blazeface-full', scale: 1 },
    { detector: 'blazeface-full', scale: 2 },
  ],
  fusion: {
    mergeIou: 0.3,
    fast: { present: 0.3943, score: 0.5119 },
    passes: [
      { present: 2.2354, score: 0.7505 }, // detector: 'ssd', scale: 'whole'
      { present: 1.9717, score: 1.3617 }, // detector: 'ssd', scale: 1
      { present: 2.0685, score: 0.7729 }, // detector: 'ssd', scale: 2
      { present: 2.0845, score: 1.8648 }, // detector: 'blazeface-full', scale: 'whole'
      { present: 1.4653, score: 2.1935 }, // detector: 'blazeface-full', scale: 1
      { present: 0.4232, score: 1.4295 }, // detector: 'blazeface-full', scale: 2
    ],
    height: [0.644, 0.0186],
    bias: -5.3326,
    minProbability: 0.09,
  },
};

/**
 * The plan per fast detector (see the file comment). Detectors with no
 * plan (haar, none) are the same in both modes.
 */
export const ACCURATE_PLANS: Partial<Record<DetectorName, AccuratePlan>> = {
  ssd: PLAN,
  tiny: PLAN,
  mtcnn: PLAN,
  blazeface: PLAN,
  'blazeface-full': PLAN,
};

/** Square tiles of side `side` covering a width x height image, neighbours overlapping by at least `overlap` pixels. */
export function tileGrid(width: number, height: number, side: number, overlap: number): Box[] {
  const starts = (extent: number): number[] => {
    if (extent <= side) return [0];
    const n = Math.ceil((extent - overlap) / (side - overlap));
    const step = (extent - side) / (n - 1);
    return Array.from({ length: n }, (_, i) => Math.round(i * step));
  };
  const w = Math.min(side, width);
  const h = Math.min(side, height);
  return starts(height).flatMap((y) => starts(width).map((x) => ({ x, y, width: w, height: h })));
}

/** The pixels of an integer rectangle inside the image. */
export function cropImage(image: RgbImage, rect: Box): RgbImage {
  const { x, y, width, height } = rect;
  const data = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * 3;
    data.set(image.data.subarray(from, from + width * 3), row * width * 3);
  }
  return { data, width, height };
}

/** A box clipped to the image (exact, not rounded); null where nothing of it is inside. */
export function clipToImage(box: Box, width: number, height: number): Box | null {
  const x0 = Math.max(0, box.x);
  const y0 = Math.max(0, box.y);
  const x1 = Math.min(width, box.x + box.width);
  const y1 = Math.min(height, box.y + box.height);
  if (!(x1 > x0 && y1 > y0)) return null;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * A detector's faces in overlapping tiles seen at `scale`, in image pixels; nothing where the
 * whole image already fits the detector's input at that scale. A tile's face is kept only where it is small for
 * the tile and does not touch an edge of the tile inside the image: a face cut there is whole in
 * the neighbouring tile, since tiles overlap by more than the largest face kept.
 */
export async function tilePass(image: RgbImage, scale: number, inputSize: number, maxTiles: number, detect: PassRunners['ssd']): Promise<Candidate[]> {
  let side = Math.round(inputSize / scale);
  if (side >= Math.max(image.width, image.height)) return [];
  const grid = () => tileGrid(image.width, image.height, side, Math.ceil(MAX_FACE_SHARE * side) + 2);
  let tiles = grid();
  // Bounded work on very large images: larger tiles (coarser) rather than more than MAX_TILES.
  while (tiles.length > maxTiles) {
    side = Math.round(side * 1.25);
    tiles = grid();
  }
  const maxFace = MAX_FACE_SHARE * side;
  const perTile = await detect(tiles.map((t) => cropImage(image, t)), PASS_SCORE_FLOOR);
  return tiles.flatMap((t, i) =>
    (perTile[i] ?? []).flatMap((c) => {
      const b = c.box;
      if (Math.max(b.width, b.height) > maxFace) return [];
      const cut =
        (t.x > 0 && b.x <= 1) ||
        (t.y > 0 && b.y <= 1) ||
        (t.x + t.width < image.width && b.x + b.width >= t.width - 1) ||
        (t.y + t.height < image.height && b.y + b.height >= t.height - 1);
      return cut ? [] : [{ box: { x: b.x + t.x, y: b.y + t.y, width: b.width, height: b.height }, score: c.score }];
    }),
  );
}

/** The faces of one pass, in image pixels, scoring at least PASS_SCORE_FLOOR. */
export async function runPass(image: RgbImage, pass: Pass, runners: PassRunners): Promise<Candidate[]> {
  if (pass.detector === 'mtcnn') return (await runners.mtcnn(image, pass.minFaceSize)).filter((c) => c.score >= PASS_SCORE_FLOOR);
  if (pass.scale === 'whole') return (await runners[pass.detector]([image], PASS_SCORE_FLOOR))[0] ?? [];
  return tilePass(image, pass.scale, INPUT_SIZE[pass.detector], MAX_TILES[pass.detector], runners[pass.detector]);
}

/** A group of boxes taken for one face: the source and score of each, the first (best-scored) leading. */
export interface FusionGroup {
  lead: Candidate;
  members: { candidate: Candidate; source: number }[];
  /** The score-weighted mean of the members' boxes. */
  box: Box;
}

/** Groups the boxes of the sources (the fast pass first, then each pass) as the fusion does (see Fusion). */
export function groupSources(sources: readonly (readonly Candidate[])[], mergeIou: number): FusionGroup[] {
  const all = sources.flatMap((found, source) => found.map((candidate) => ({ candidate, source })));
  all.sort((a, b) => b.candidate.score - a.candidate.score);
  const groups: FusionGroup[] = [];
  for (const m of all) {
    let best: FusionGroup | undefined;
    let bestIou = mergeIou;
    for (const g of groups) {
      const o = iou(g.lead.box, m.candidate.box);
      if (o > bestIou) {
        bestIou = o;
        best = g;
      }
    }
    if (best) best.members.push(m);
    else groups.push({ lead: m.candidate, members: [m], box: m.candidate.box });
  }
  for (const g of groups) {
    const total = g.members.reduce((sum, m) => sum + m.candidate.score, 0);
    const mean = (edge: (b: Box) => number) => g.members.reduce((sum, m) => sum + edge(m.candidate.box) * m.candidate.score, 0) / total;
    const x0 = mean((b) => b.x);
    const y0 = mean((b) => b.y);
    g.box = { x: x0, y: y0, width: mean((b) => b.x + b.width) - x0, height: mean((b) => b.y + b.height) - y0 };
  }
  return groups;
}

/**
 * The fusion's inputs for a group, in the order of its weights: per source (fast, then each pass)
 * present (0/1) and its best score above the floor; then h and h² (h = log2(height / 32)); then 1.
 */
export function groupFeatures(group: FusionGroup, sourceCount: number): number[] {
  const x = new Array<number>(2 * sourceCount + 3).fill(0);
  for (const { candidate, source } of group.members) {
    x[2 * source] = 1;
    x[2 * source + 1] = Math.max(x[2 * source + 1] as number, Math.min(1, Math.max(candidate.score, PASS_SCORE_FLOOR)) - PASS_SCORE_FLOOR);
  }
  const h = Math.log2(Math.max(4, group.box.height) / 32);
  x[2 * sourceCount] = h;
  x[2 * sourceCount + 1] = h * h;
  x[2 * sourceCount + 2] = 1;
  return x;
}

/** The fusion's weights as one vector, in groupFeatures' order. */
export function fusionWeights(fusion: Fusion): number[] {
  return [...[fusion.fast, ...fusion.passes].flatMap((w) => [w.present, w.score]), ...fusion.height, fusion.bias];
}

/** The logistic model's probability that a group is a face. */
export function groupProbability(features: readonly number[], weights: readonly number[]): number {
  const z = features.reduce((sum, v, i) => sum + v * (weights[i] ?? 0), 0);
  return 1 / (1 + Math.exp(-z));
}

/**
 * A fast-pass face that no accurate face overlaps by more than this IoU is kept as it is: accurate
 * mode adds faces to the fast mode's, it does not take away one the fusion found no better box for
 * (a face found by the fast pass's own second looks, which no pass repeats, in a tight portrait).
 */
const FAST_KEPT_IOU = 0.1;

/** The fast pass's faces and each pass's, fused (see Fusion). */
export function combinePasses(fast: readonly Candidate[], passes: readonly (readonly Candidate[])[], fusion: Fusion): Candidate[] {
  const weights = fusionWeights(fusion);
  const sourceCount = 1 + fusion.passes.length;
  const scored = groupSources([fast, ...passes], fusion.mergeIou).map((group) => ({ group, score: groupProbability(groupFeatures(group, sourceCount), weights) }));
  return selectFaces(scored, fusion.minProbability);
}

/** The faces of scored groups: those at or above `minProbability`, and the fast pass's faces none of them covers. */
export function selectFaces(scored: readonly { group: FusionGroup; score: number }[], minProbability: number): Candidate[] {
  // The lead's landmarks or keypoints (a fast MTCNN's or BlazeFace's) stay with the face.
  const faces: Candidate[] = scored.filter((x) => x.score >= minProbability).map(({ group, score }) => ({ ...group.lead, box: group.box, score }));
  const kept = [...faces];
  for (const { group, score } of scored) {
    if (score >= minProbability) continue;
    for (const m of group.members) {
      if (m.source === 0 && kept.every((k) => iou(k.box, m.candidate.box) <= FAST_KEPT_IOU)) faces.push({ ...m.candidate, score });
    }
  }
  return faces;
}

/** Accurate mode: the plan's passes run, then fused with the fast pass's faces. */
export async function detectAccurate(image: RgbImage, fast: readonly Candidate[], plan: AccuratePlan, runners: PassRunners): Promise<Candidate[]> {
  const passes: Candidate[][] = [];
  for (const pass of plan.passes) passes.push(await runPass(image, pass, runners));
  return combinePasses(fast, passes, plan.fusion);
}
