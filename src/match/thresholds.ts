/**
 * Decision thresholds per embedding and metric, calibrated on LFW (lfw-dev, 3,000 pairs, folds
 * 1-5 of View 2) through visage's pipeline (SSD with its further looks, 68 landmarks, each
 * recogniser's crop, embeddings averaged with the mirror image's), and the logistic scale that turns a
 * distance into a confidence. The threshold maximises accuracy over
 * all pairs; the scale is the maximum-likelihood logistic slope with 0.5 fixed at the threshold.
 * Produced by the command above each block.
 */
import type { BuiltinModel, Metric } from '../types.js';

export interface Calibration {
  /** Distances at or below it mean "same person". */
  threshold: number;
  /** Logistic scale: confidence = 1 / (1 + exp((distance - threshold) / scale)). */
  scale: number;
}

export const CALIBRATION: Readonly<Record<BuiltinModel, Readonly<Record<Metric, Calibration>>>> = {
  // node --import tsx bench/lfw.ts ../shared/datasets/lfw-dev --recognizer dlib,mobilefacenet --fuse
  // --calibrate --threads 1 (2026-12-05: SSD at 256 on LFW's portraits, each recogniser alone
  // averaged with the mirror image, as the library runs them). Accuracy at these thresholds over
  // all pairs: euclidean 99.07%, euclidean_l2 and cosine 99.13%; 5-fold protocol: euclidean
  // 99.00 ± 0.46%, euclidean_l2 and cosine 98.90 ± 0.20% (TAR 97.07% at FAR 1e-3).
  'dlib-resnet128': {
    euclidean: { threshold: 0.6024, scale: 0.0228 },
    euclidean_l2: { threshold: 0.4271, scale: 0.015 },
    cosine: { threshold: 0.0912, scale: 0.006486 },
  },
  // Same run. All pairs: euclidean 98.90%, euclidean_l2 and cosine 99.17%; 5-fold protocol:
  // euclidean 98.83 ± 0.28%, euclidean_l2 and cosine 99.03 ± 0.44% (TAR 98.20% at FAR 1e-3).
  'mobilefacenet-192': {
    euclidean: { threshold: 71.46, scale: 3.084 },
    euclidean_l2: { threshold: 1.114, scale: 0.04026 },
    cosine: { threshold: 0.6204, scale: 0.04664 },
  },
  // The fusion's first calibration (2026-12-02, parts as then): 99.43% over all pairs at the cosine threshold;
  // 5-fold protocol, weights refitted without the held-out fold: 99.37 ± 0.49%, TAR 98.93% at FAR 1e-3.
  // A fusion embedding has the constant squared norm S = the sum of the weights (17.90), so its
  // euclidean distances are sqrt(2 S d) and its L2-normalised ones sqrt(2 d) of its cosine distance
  // d: the same decisions; their scales are the cosine scale carried through that map at the threshold.
  // Refitted for the fusion's measured mirror setting (dlib's part averaged, MobileFaceNet's not)
  // and SSD at 256 on LFW's portraits: node --import tsx bench/lfw.ts --calibrate (2026-12-04),
  // 99.50% over all pairs at each threshold; 5-fold protocol 99.43 ± 0.34%, TAR 99.07% at FAR 1e-3.
  'fusion-dlib-mobilefacenet': {
    euclidean: { threshold: 2.456, scale: 0.08659 },
    euclidean_l2: { threshold: 0.5805, scale: 0.02046 },
    cosine: { threshold: 0.1685, scale: 0.0122 },
  },
};

/**
 * Weights of the fusion's parts: each part's cosine similarity counts 1/σ, σ its standard
 * deviation over lfw-dev pairs (z-scoring; the means shift every score alike and drop out).
 * From the run above (printed as FUSION_WEIGHTS).
 */
export const FUSION_WEIGHTS: Readonly<Record<'dlib-resnet128' | 'mobilefacenet-192', number>> = {
  'dlib-resnet128': 15.34,
  'mobilefacenet-192': 2.562,
};

/** Maps a distance to [0, 1]: 0.5 at the threshold, towards 1 as faces get closer. */
export function confidence(distance: number, calibration: Calibration): number {
  return 1 / (1 + Math.exp((distance - calibration.threshold) / calibration.scale));
}
