export { createSsdDetector, SSD_DEFAULTS, SSD_SMALL_INPUT_SIZE } from './detector.js';
export { buildSsdGraph, SSD_ANCHORS, SSD_INPUT_SIZE, ssdAnchorCount, ssdAnchors } from './graph.js';
export { SSD_IOU_THRESHOLD } from './postprocess.js';
export { PRECISIONS } from './types.js';
export type { Precision, SsdDetector, SsdDetectorOptions, SsdOptions, SsdRawOutput } from './types.js';
export type { Detection } from '../common/boxes.js';
