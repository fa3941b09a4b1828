/**
 * WIDER FACE ground truth and the matching rule bench/wider.ts scores detections with.
 *
 * Ground truth (`wider_face_val_bbx_gt.txt`): per image its file name, its face count, then one
 * line per face `x y w h blur expression illumination invalid occlusion pose` (an image with no
 * face has one all-zero line).
 *
 * Matching, per image: detections in descending score order, each taking the not yet matched face
 * it overlaps most (IoU >= 0.5). A detection matched to a counted face is a true positive; one
 * matched to an ignored face (marked invalid, as WIDER's own evaluation ignores them, or shorter
 * than `minHeight`) is neither true nor false; one matched to nothing is a false positive.
 * Recall is over counted faces, precision over true and false positives.
 */
import { iou } from '../../src/models/common/boxes.js';
import type { Box } from '../../src/image/types.js';

export interface WiderFace {
  box: Box;
  invalid: boolean;
}

export interface WiderImage {
  /** Path relative to the images folder, e.g. `13--Interview/13_Interview_….jpg`. */
  file: string;
  faces: WiderFace[];
}

/** Parses the official ground-truth file. */
export function parseWiderGroundTruth(text: string): WiderImage[] {
  const lines = text.split(/\r?\n/);
  const images: WiderImage[] = [];
  let i = 0;
  while (i < lines.length && (lines[i] ?? '').trim() !== '') {
    const file = (lines[i] as string).trim();
    const count = Number(lines[i + 1]);
    if (!Number.isInteger(count) || count < 0) throw new Error(`Bad face count for ${file} at line ${i + 2}`);
    const faces: WiderFace[] = [];
    for (let k = 0; k < count; k++) {
      const v = (lines[i + 2 + k] ?? '').trim().split(/\s+/).map(Number);
      if (v.length < 8 || v.some((n) => !Number.isFinite(n))) throw new Error(`Bad face line for ${file} at line ${i + 3 + k}`);
      faces.push({ box: { x: v[0] as number, y: v[1] as number, width: v[2] as number, height: v[3] as number }, invalid: v[7] === 1 });
    }
    images.push({ file, faces });
    i += 2 + Math.max(count, 1);
  }
  return images;
}

export interface ScoredBox {
  box: Box;
  score: number;
}

export interface ImageMatch {
  /** Per face of the image: whether a detection matched it (ignored faces included). */
  found: boolean[];
  /** Per face: counted (valid and tall enough) or ignored. */
  counted: boolean[];
  truePositives: number;
  falsePositives: number;
  ignored: number;
}

export const MATCH_IOU = 0.5;

/** Greedy matching of one image's detections to its faces (see the file comment). */
export function matchImage(faces: readonly WiderFace[], detections: readonly ScoredBox[], minHeight = 0): ImageMatch {
  const counted = faces.map((f) => !f.invalid && f.box.height >= minHeight);
  const found = faces.map(() => false);
  let truePositives = 0;
  let falsePositives = 0;
  let ignored = 0;
  for (const d of [...detections].sort((a, b) => b.score - a.score)) {
    let best = -1;
    let bestIou = MATCH_IOU;
    faces.forEach((f, k) => {
      if (found[k]) return;
      const o = iou(d.box, f.box);
      if (o >= bestIou) {
        bestIou = o;
        best = k;
      }
    });
    if (best < 0) falsePositives++;
    else {
      found[best] = true;
      if (counted[best]) truePositives++;
      else ignored++;
    }
  }
  return { found, counted, truePositives, falsePositives, ignored };
}

/** One fold of a cross-validation: the images a choice is made on and the images it is scored on. */
export interface Fold {
  name: string;
  fit: boolean[];
  held: boolean[];
}

/** Two folds over `count` images: fitted on the even-indexed, held-out odd; and the reverse. */
export function twoFolds(count: number): Fold[] {
  const even = Array.from({ length: count }, (_, k) => k % 2 === 0);
  const odd = even.map((x) => !x);
  return [
    { name: 'fit even, held-out odd', fit: even, held: odd },
    { name: 'fit odd, held-out even', fit: odd, held: even },
  ];
}

/**
 * Each image's detections from the fold that held it out (per fold, detections on every image).
 * Every image must be held out by exactly one fold.
 */
export function poolHeldOut<T>(folds: readonly { held: readonly boolean[]; detections: readonly T[][] }[]): T[][] {
  const count = folds[0]?.held.length ?? 0;
  return Array.from({ length: count }, (_, k) => {
    const holding = folds.filter((f) => f.held[k]);
    if (holding.length !== 1) throw new Error(`Image ${k} is held out by ${holding.length} folds, not 1`);
    return [...((holding[0] as (typeof folds)[number]).detections[k] ?? [])];
  });
}
