export { METRICS, cosineDistance, distance, euclidean } from './distance.js';
export { CALIBRATION, confidence, type Calibration } from './thresholds.js';
