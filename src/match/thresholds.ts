/**
 * Decision thresholds per embedding and metric, calibrated on LFW (lfw-dev, 3,000 pairs, folds
 * 1-5 of View 2) through the default pipeline (SSD with its second looks, 68 landmarks, dlib face
 * chip, dlib's descriptor averaged with the mirror image), and the logistic scale that turns a
 * distance into a confidence. The threshold maximises accuracy over
 * all pairs; the scale is the maximum-likelihood logistic slope with 0.5 fixed at the threshold.
 * Produced on 2026-11-28 by the command above the block.
 */
import type { BuiltinModel, Metric } from '../types.js';

export interface Calibration {
  /** Distances at or below it mean "same person". */
  threshold: number;
  /** Logistic scale: confidence = 1 / (1 + exp((distance - threshold) / scale)). */
  scale: number;
}

export const CALIBRATION: Readonly<Record<BuiltinModel, Readonly<Record<Metric, Calibration>>>> = {
  // node --import tsx bench/lfw.ts --detector ssd --calibrate
  // (accuracy at these thresholds over all pairs: euclidean 98.83%, euclidean_l2 and cosine 98.97%;
  // 5-fold protocol figures: euclidean 98.70 ± 0.45%, euclidean_l2 and cosine 98.83 ± 0.28%).
  'dlib-resnet128': {
    euclidean: { threshold: 0.605, scale: 0.0268 },
    euclidean_l2: { threshold: 0.4282, scale: 0.01823 },
    cosine: { threshold: 0.0917, scale: 0.007947 },
  },
  // node --import tsx bench/lfw.ts --recognizer dlib,mobilefacenet --fuse --calibrate (2026-12-02)
  // (accuracy at these thresholds over all pairs: euclidean 98.53%, euclidean_l2 and cosine 98.80%;
  // 5-fold protocol figures: euclidean 98.40 ± 0.23%, euclidean_l2 and cosine 98.70 ± 0.46%).
  'mobilefacenet-192': {
    euclidean: { threshold: 72.41, scale: 3.576 },
    euclidean_l2: { threshold: 1.101, scale: 0.05026 },
    cosine: { threshold: 0.6056, scale: 0.0571 },
  },
  // Same run, the fused parts (accuracy 99.23% over all pairs at the cosine threshold; 5-fold
  // protocol, weights refitted without the held-out fold: 99.17 ± 0.41%, TAR 98.53% at FAR 1e-3).
  // A fusion embedding has the constant squared norm S = the sum of the weights (17.90), so its
  // euclidean distances are sqrt(2 S d) and its L2-normalised ones sqrt(2 d) of its cosine distance
  // d: the same decisions; their scales are the cosine scale carried through that map at the threshold.
  'fusion-dlib-mobilefacenet': {
    euclidean: { threshold: 2.463, scale: 0.1058 },
    euclidean_l2: { threshold: 0.5821, scale: 0.025 },
    cosine: { threshold: 0.1694, scale: 0.01455 },
  },
};

/**
 * Weights of the fusion's parts: each part's cosine similarity counts 1/σ, σ its standard
 * deviation over lfw-dev pairs (z-scoring; the means shift every score alike and drop out).
 * From the run above (printed as FUSION_WEIGHTS).
 */
export const FUSION_WEIGHTS: Readonly<Record<'dlib-resnet128' | 'mobilefacenet-192', number>> = {
  'dlib-resnet128': 15.34,
  'mobilefacenet-192': 2.561,
};

/** Maps a distance to [0, 1]: 0.5 at the threshold, towards 1 as faces get closer. */
export function confidence(distance: number, calibration: Calibration): number {
  return 1 / (1 + Math.exp((distance - calibration.threshold) / calibration.scale));
}
