export { createTinyDetector, TINY_DEFAULTS } from './detector.js';
export { buildTinyGraph, TINY_MEAN_RGB } from './graph.js';
export { TINY_ANCHORS, TINY_IOU_THRESHOLD } from './postprocess.js';
export type { TinyDetector, TinyDetectorOptions, TinyOptions, TinyRawOutput } from './types.js';
export type { Detection } from '../common/boxes.js';
