/**
 * The 'accurate' detection mode. Beside the fast pass (the chosen detector on the whole image),
 * more passes look for the faces it misses: SSD (and BlazeFace full range) on overlapping tiles of
 * the image, each enlarged to the network's input (SSD sees a 1024-pixel photo at half size, too
 * small for a 30-pixel face), and MTCNN. All passes are merged by non-maximum
 * suppression. The plans and every parameter were chosen on the even-indexed half of the WIDER
 * FACE dev images (bench/wider.ts --tune); the README gives the numbers on all of them.
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
 * pixel, or MTCNN's pyramid from `minFaceSize`.
 */
export type Pass = { detector: 'ssd' | 'blazeface-full'; scale: number } | { detector: 'mtcnn'; minFaceSize: number };

export interface AccuratePlan {
  /** The extra passes, each with the score its faces need. */
  passes: { pass: Pass; minScore: number }[];
  /** Boxes overlapping more than this are one face (the better-scored is kept). */
  mergeIou: number;
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
/** At most this many tiles per pass (a 12-megapixel photo would need 130 at scale 1). */
const MAX_TILES = 48;
/** The lowest score a tile pass keeps (plans choose their own, at or above it). */
export const PASS_SCORE_FLOOR = 0.3;

/**
 * The passes that win on the tuning half behind SSD's fast pass (bench/wider.ts --tune, 2026-12-02:
 * best recall at precision >= 0.80, the faster on a tie); Tiny, MTCNN and BlazeFace get the same
 * passes (not tuned on their own). SSD's tiles at scale 2 are most of the time (about 1.8 s of
 * 2.7 on a 1024-pixel photo).
 */
const PLAN: AccuratePlan = {
  passes: [
    { pass: { detector: 'mtcnn', minFaceSize: 20 }, minScore: 0.9 },
    { pass: { detector: 'ssd', scale: 1 }, minScore: 0.5 },
    { pass: { detector: 'ssd', scale: 2 }, minScore: 0.7 },
    { pass: { detector: 'blazeface-full', scale: 1 }, minScore: 0.5 },
  ],
  mergeIou: 0.3,
};

/**
 * The plan per fast detector (chosen on the tuning half; see the file comment). Detectors with no
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

/** Greedy NMS by score: a box overlapping a kept one by more than `overlap` is the same face. */
export function mergeCandidates(candidates: readonly Candidate[], overlap: number): Candidate[] {
  const kept: Candidate[] = [];
  for (const c of [...candidates].sort((a, b) => b.score - a.score)) {
    if (kept.every((k) => iou(k.box, c.box) <= overlap)) kept.push(c);
  }
  return kept;
}

/**
 * A detector's faces in overlapping tiles seen at `scale`, in image pixels; nothing where the
 * whole image already fits the detector's input at that scale. A tile's face is kept only where it is small for
 * the tile and does not touch an edge of the tile inside the image: a face cut there is whole in
 * the neighbouring tile, since tiles overlap by more than the largest face kept.
 */
export async function tilePass(image: RgbImage, scale: number, inputSize: number, detect: PassRunners['ssd']): Promise<Candidate[]> {
  let side = Math.round(inputSize / scale);
  if (side >= Math.max(image.width, image.height)) return [];
  const grid = () => tileGrid(image.width, image.height, side, Math.ceil(MAX_FACE_SHARE * side) + 2);
  let tiles = grid();
  // Bounded work on very large images: larger tiles (coarser) rather than more than MAX_TILES.
  while (tiles.length > MAX_TILES) {
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

/** The faces of one pass, in image pixels. */
export function runPass(image: RgbImage, pass: Pass, runners: PassRunners): Promise<Candidate[]> {
  if (pass.detector === 'mtcnn') return runners.mtcnn(image, pass.minFaceSize);
  return tilePass(image, pass.scale, INPUT_SIZE[pass.detector], runners[pass.detector]);
}

/** The fast pass's faces merged with each extra pass's faces scoring at least its minScore. */
export function combinePasses(fast: readonly Candidate[], passes: readonly Candidate[][], plan: AccuratePlan): Candidate[] {
  const extra = plan.passes.flatMap(({ minScore }, i) => (passes[i] ?? []).filter((c) => c.score >= minScore));
  return mergeCandidates([...fast, ...extra], plan.mergeIou);
}

/** Accurate mode: the plan's passes run, then merged with the fast pass's faces. */
export async function detectAccurate(image: RgbImage, fast: readonly Candidate[], plan: AccuratePlan, runners: PassRunners): Promise<Candidate[]> {
  const passes: Candidate[][] = [];
  for (const { pass } of plan.passes) passes.push(await runPass(image, pass, runners));
  return combinePasses(fast, passes, plan);
}
