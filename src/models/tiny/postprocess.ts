import type { Box } from '../../image/types.js';
import { nonMaxSuppression, squareToSource, type Detection } from '../common/boxes.js';
import type { SquarePadding } from '../common/preprocess.js';

/** face-api's Tiny face detector IoU threshold. */
export const TINY_IOU_THRESHOLD = 0.4;

/** face-api's five face anchors (width, height) in grid cells. */
export const TINY_ANCHORS: readonly (readonly [number, number])[] = [
  [1.603231, 2.094468],
  [6.041143, 7.080126],
  [2.882459, 3.518061],
  [4.266906, 5.178857],
  [9.041765, 10.66308],
];

const ENCODING = 5;
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/**
 * Decodes one image's YOLO grid [cells, cells, 5 anchors x (tx, ty, tw, th, logit)] as face-api's
 * extractBoxes does (centre = (cell + sigmoid(t)) / cells, size = exp(t) * anchor / cells), keeps
 * scores above `minScore`, runs NMS and maps boxes to source pixels. Boxes are not clipped.
 */
export function toTinyDetections(
  grid: Float32Array,
  cells: number,
  padding: SquarePadding,
  minScore: number,
  maxResults: number,
): Detection[] {
  const boxes: Box[] = [];
  const scores: number[] = [];
  for (let row = 0; row < cells; row++) {
    for (let col = 0; col < cells; col++) {
      TINY_ANCHORS.forEach(([anchorW, anchorH], anchor) => {
        const o = ((row * cells + col) * TINY_ANCHORS.length + anchor) * ENCODING;
        const score = sigmoid(grid[o + 4] as number);
        if (!(score > minScore)) return;
        const width = (Math.exp(grid[o + 2] as number) * anchorW) / cells;
        const height = (Math.exp(grid[o + 3] as number) * anchorH) / cells;
        const cx = (col + sigmoid(grid[o] as number)) / cells;
        const cy = (row + sigmoid(grid[o + 1] as number)) / cells;
        boxes.push({ x: cx - width / 2, y: cy - height / 2, width, height });
        scores.push(score);
      });
    }
  }
  const kept = nonMaxSuppression(boxes, scores, { iouThreshold: TINY_IOU_THRESHOLD, scoreThreshold: minScore, maxResults });
  return kept.map((k) => ({ box: squareToSource(boxes[k] as Box, padding), score: scores[k] as number }));
}
