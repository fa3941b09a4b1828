export { createBlazeFaceDetector, blazeFaceFile, resolveBlazeFaceOptions, toBlazeFaceDetections, BLAZEFACE_DEFAULTS } from './detector.js';
export { BLAZEFACE_CONFIGS, blazeFaceAnchors } from './anchors.js';
export type { Anchor, BlazeFaceConfig, BlazeFaceVariant } from './anchors.js';
export { BLAZEFACE_NMS_IOU, BLAZEFACE_SCORE_CLIP, decodeBlazeFace, weightedNms } from './decode.js';
export type { RelativeFace } from './decode.js';
export { blazeFaceInput, letterboxOf } from './preprocess.js';
export type { Letterbox } from './preprocess.js';
export type { BlazeFaceDetection, BlazeFaceDetector, BlazeFaceDetectorOptions, BlazeFaceOptions, BlazeFaceRawOutput } from './types.js';
