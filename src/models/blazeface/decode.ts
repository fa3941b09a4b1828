/**
 * From BlazeFace's raw outputs to faces, as MediaPipe's TensorsToDetectionsCalculator and
 * NonMaxSuppressionCalculator do it in the face_detection graph: scores are the sigmoid of the
 * logit clipped to [-100, 100]; boxes and the 6 keypoints are offsets in input pixels from the
 * anchor centre (reverse_output_order: x, y, w, h); boxes of negative size are dropped; then
 * weighted NMS (IoU above 0.3 joins a cluster, whose box and keypoints are the score-weighted
 * mean of its members, with the top member's score).
 */
import type { Box, Point } from '../../image/types.js';
import { iou } from '../common/boxes.js';
import type { Anchor } from './anchors.js';

/** MediaPipe's score_clipping_thresh. */
export const BLAZEFACE_SCORE_CLIP = 100;
/** MediaPipe's min_suppression_threshold (overlap type IoU, algorithm WEIGHTED). */
export const BLAZEFACE_NMS_IOU = 0.3;
/** Values per anchor: box (4) and 6 keypoints (x, y). */
export const BLAZEFACE_COORDS = 16;
export const BLAZEFACE_KEYPOINTS = 6;

/** A face relative to the square network input (0..1 on both axes). */
export interface RelativeFace {
  box: Box;
  score: number;
  /** Right eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion (the subject's). */
  keypoints: Point[];
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * One image's candidates: anchors scoring at least `minScore`, decoded. `regressors` is
 * [anchors x 16], `scores` the [anchors] logits, both in the network's anchor order.
 */
export function decodeBlazeFace(regressors: ArrayLike<number>, scores: ArrayLike<number>, anchors: readonly Anchor[], inputSize: number, minScore: number): RelativeFace[] {
  const faces: RelativeFace[] = [];
  for (let i = 0; i < anchors.length; i++) {
    const logit = Math.min(BLAZEFACE_SCORE_CLIP, Math.max(-BLAZEFACE_SCORE_CLIP, scores[i] as number));
    const score = sigmoid(logit);
    if (!(score >= minScore)) continue;
    const a = anchors[i] as Anchor;
    const o = i * BLAZEFACE_COORDS;
    const cx = (regressors[o] as number) / inputSize + a.x;
    const cy = (regressors[o + 1] as number) / inputSize + a.y;
    const width = (regressors[o + 2] as number) / inputSize;
    const height = (regressors[o + 3] as number) / inputSize;
    if (!(width >= 0 && height >= 0)) continue;
    const keypoints: Point[] = [];
    for (let k = 0; k < BLAZEFACE_KEYPOINTS; k++) {
      keypoints.push({ x: (regressors[o + 4 + 2 * k] as number) / inputSize + a.x, y: (regressors[o + 5 + 2 * k] as number) / inputSize + a.y });
    }
    faces.push({ box: { x: cx - width / 2, y: cy - height / 2, width, height }, score, keypoints });
  }
  return faces;
}

/**
 * MediaPipe's WEIGHTED non-maximum suppression: the best remaining face and every remaining face
 * overlapping it by more than `iouThreshold` (itself included) become one face, their boxes and
 * keypoints averaged with the scores as weights, the best score kept. Best first.
 */
export function weightedNms(faces: readonly RelativeFace[], iouThreshold = BLAZEFACE_NMS_IOU, maxResults = Number.POSITIVE_INFINITY): RelativeFace[] {
  // Stable: equal scores keep anchor order, as std::sort over MediaPipe's few candidates does in practice.
  let remaining = faces.map((f, i) => ({ f, i })).sort((a, b) => b.f.score - a.f.score || a.i - b.i).map((x) => x.f);
  const out: RelativeFace[] = [];
  while (remaining.length > 0 && out.length < maxResults) {
    const top = remaining[0] as RelativeFace;
    const cluster: RelativeFace[] = [];
    const rest: RelativeFace[] = [];
    for (const f of remaining) (iou(f.box, top.box) > iouThreshold ? cluster : rest).push(f);
    // A degenerate top box overlaps nothing, not even itself: it stands alone.
    if (cluster.length === 0) cluster.push(top);
    const total = cluster.reduce((s, f) => s + f.score, 0);
    const mean = (get: (f: RelativeFace) => number) => cluster.reduce((s, f) => s + get(f) * f.score, 0) / total;
    const x0 = mean((f) => f.box.x);
    const y0 = mean((f) => f.box.y);
    const x1 = mean((f) => f.box.x + f.box.width);
    const y1 = mean((f) => f.box.y + f.box.height);
    out.push({
      box: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
      score: top.score,
      keypoints: top.keypoints.map((_, k) => ({ x: mean((f) => (f.keypoints[k] as Point).x), y: mean((f) => (f.keypoints[k] as Point).y) })),
    });
    remaining = rest.filter((f) => f !== top);
  }
  return out;
}
