/**
 * Box utilities shared by the detectors: IoU, greedy non-maximum suppression and the mapping of
 * boxes from a network's square input back to source-image pixels.
 */
import type { Box } from '../../image/types.js';
import type { SquarePadding } from './preprocess.js';

/** A detected face: its box in source-image pixels and a score in [0, 1]. */
export interface Detection {
  box: Box;
  score: number;
}

/** Intersection over union of two boxes; 0 when either is empty. */
export function iou(a: Box, b: Box): number {
  const areaA = a.width * a.height;
  const areaB = b.width * b.height;
  if (areaA <= 0 || areaB <= 0) return 0;
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = w * h;
  return inter / (areaA + areaB - inter);
}

export interface NmsOptions {
  /** A candidate is dropped when its IoU with a kept box is above this. */
  iouThreshold: number;
  /** Only candidates scoring above this are considered. */
  scoreThreshold: number;
  /** At most this many boxes are kept. */
  maxResults: number;
}

/**
 * Greedy non-maximum suppression as face-api does it: candidates above the score threshold in
 * descending score order (ties keep index order), each kept unless it overlaps a kept box by
 * more than the IoU threshold. Returns the kept indices, best first.
 */
export function nonMaxSuppression(boxes: readonly Box[], scores: ArrayLike<number>, options: NmsOptions): number[] {
  const { iouThreshold, scoreThreshold, maxResults } = options;
  const candidates: number[] = [];
  for (let i = 0; i < scores.length; i++) if ((scores[i] as number) > scoreThreshold) candidates.push(i);
  candidates.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  const kept: number[] = [];
  for (const i of candidates) {
    if (kept.length >= maxResults) break;
    const box = boxes[i] as Box;
    if (kept.every((k) => iou(box, boxes[k] as Box) <= iouThreshold)) kept.push(i);
  }
  return kept;
}

/**
 * Maps a box given relative to a padded square input (0..1 on both axes) back to source pixels:
 * the square's side is the source's longer side, and the image sits at the padding's offset.
 */
export function squareToSource(box: Box, padding: SquarePadding): Box {
  const { size, offsetX, offsetY } = padding;
  return {
    x: box.x * size - offsetX,
    y: box.y * size - offsetY,
    width: box.width * size,
    height: box.height * size,
  };
}

/**
 * face-api maps boxes back from its non-centred square input (SSD, Tiny) with the per-axis factor
 * inputSize / round(extent * inputSize / side) (its computeReshapedDimensions) rather than the
 * exact side / extent, which moves boxes on the shorter axis by up to half an input pixel (about
 * 0.4 px on a 1920x1280 photo). Crops downstream are floored, so that is enough to change the
 * landmarks and every result after them: this moves an exactly mapped box to face-api's place.
 */
export function toFaceApiPlacement(box: Box, source: { width: number; height: number }, inputSize: number): Box {
  const side = Math.max(source.width, source.height);
  const factor = (extent: number) => (inputSize * extent) / (Math.round((extent * inputSize) / side) * side);
  const fx = factor(source.width);
  const fy = factor(source.height);
  return { x: box.x * fx, y: box.y * fy, width: box.width * fx, height: box.height * fy };
}
