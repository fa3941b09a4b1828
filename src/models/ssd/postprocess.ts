import type { Box } from '../../image/types.js';
import { nonMaxSuppression, squareToSource, type Detection } from '../common/boxes.js';
import type { SquarePadding } from '../common/preprocess.js';

/** face-api's fixed IoU threshold for SSD MobileNetV1. */
export const SSD_IOU_THRESHOLD = 0.5;

/**
 * Turns one image's decoded boxes [5118 x (ymin, xmin, ymax, xmax)] and scores into detections:
 * NMS on the raw boxes, then each kept box clipped to the square input and mapped to source pixels.
 */
export function toSsdDetections(
  boxes: Float32Array,
  scores: Float32Array,
  padding: SquarePadding,
  minScore: number,
  maxResults: number,
): Detection[] {
  const indices: number[] = [];
  for (let i = 0; i < scores.length; i++) if ((scores[i] as number) > minScore) indices.push(i);
  const candidates: Box[] = indices.map((i) => {
    const ymin = boxes[i * 4] as number;
    const xmin = boxes[i * 4 + 1] as number;
    return { x: xmin, y: ymin, width: (boxes[i * 4 + 3] as number) - xmin, height: (boxes[i * 4 + 2] as number) - ymin };
  });
  const candidateScores = indices.map((i) => scores[i] as number);
  const kept = nonMaxSuppression(candidates, candidateScores, {
    iouThreshold: SSD_IOU_THRESHOLD,
    scoreThreshold: minScore,
    maxResults,
  });
  return kept.map((k) => {
    const b = candidates[k] as Box;
    // face-api clips to the square input (not to the image), as relative coordinates 0..1.
    const left = Math.max(0, b.x);
    const top = Math.max(0, b.y);
    const right = Math.min(1, b.x + b.width);
    const bottom = Math.min(1, b.y + b.height);
    return {
      box: squareToSource({ x: left, y: top, width: right - left, height: bottom - top }, padding),
      score: candidateScores[k] as number,
    };
  });
}
