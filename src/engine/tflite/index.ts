export { readTflite, optionsOf } from './read.js';
export type { TfliteModel, TfliteOperator, TfliteTensor, TfliteType } from './read.js';
export { tfliteToOnnx, SUPPORTED_TFLITE_OPS } from './convert.js';
export type { ConvertedModel, TfliteToOnnxOptions } from './convert.js';
export { replaceTfliteConstants } from './patch.js';
export type { ReplacementTensor } from './patch.js';
