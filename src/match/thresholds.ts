/**
 * Decision thresholds per embedding and metric, calibrated on LFW (lfw-dev, 3,000 pairs, folds
 * 1-5 of View 2) through the default pipeline (SSD with its second looks, 68 landmarks, dlib face
 * chip, dlib's descriptor averaged with the mirror image), and the logistic scale that turns a
 * distance into a confidence. The threshold maximises accuracy over
 * all pairs; the scale is the maximum-likelihood logistic slope with 0.5 fixed at the threshold.
 * Produced on 2026-11-28 by the command above the block.
 */
import type { Metric, RecognizerName } from '../types.js';

export interface Calibration {
  /** Distances at or below it mean "same person". */
  threshold: number;
  /** Logistic scale: confidence = 1 / (1 + exp((distance - threshold) / scale)). */
  scale: number;
}

export const CALIBRATION: Readonly<Record<RecognizerName, Readonly<Record<Metric, Calibration>>>> = {
  // node --import tsx bench/lfw.ts --detector ssd --calibrate
  // (accuracy at these thresholds over all pairs: euclidean 98.83%, euclidean_l2 and cosine 98.97%;
  // 5-fold protocol figures: euclidean 98.70 ± 0.45%, euclidean_l2 and cosine 98.83 ± 0.28%).
  'dlib-resnet128': {
    euclidean: { threshold: 0.605, scale: 0.0268 },
    euclidean_l2: { threshold: 0.4282, scale: 0.01823 },
    cosine: { threshold: 0.0917, scale: 0.007947 },
  },
};

/** Maps a distance to [0, 1]: 0.5 at the threshold, towards 1 as faces get closer. */
export function confidence(distance: number, calibration: Calibration): number {
  return 1 / (1 + Math.exp((distance - calibration.threshold) / calibration.scale));
}
