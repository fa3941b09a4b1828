export { createMtcnnDetector } from './detector.js';
export { buildONet, buildPNet, buildRNet } from './graph.js';
export { MTCNN_DEFAULTS } from './options.js';
export type { MtcnnOptions } from './options.js';
export type { MtcnnDetection, MtcnnDetector, MtcnnDetectorOptions, MtcnnRawOutput } from './types.js';
