/**
 * Decision thresholds per recogniser and metric, calibrated on LFW (lfw-dev, 3,000 pairs) with
 * the standard protocol, and the logistic scale that turns a distance into a confidence.
 * Produced by: npm run bench:lfw -- --calibrate   (see bench/lfw.ts; PLACEHOLDER until run)
 */
import type { Metric, RecognizerName } from '../types.js';

export interface Calibration {
  /** Distances at or below it mean "same person". */
  threshold: number;
  /** Logistic scale: confidence = 1 / (1 + exp((distance - threshold) / scale)). */
  scale: number;
}

export const CALIBRATION: Readonly<Record<RecognizerName, Readonly<Record<Metric, Calibration>>>> = {
  'faceapi-resnet128': {
    euclidean: { threshold: 0.6, scale: 0.05 },
    euclidean_l2: { threshold: 0.6, scale: 0.05 },
    cosine: { threshold: 0.18, scale: 0.03 },
  },
};

/** Maps a distance to [0, 1]: 0.5 at the threshold, towards 1 as faces get closer. */
export function confidence(distance: number, calibration: Calibration): number {
  return 1 / (1 + Math.exp((distance - calibration.threshold) / calibration.scale));
}
