export { tfjsToOnnx, SUPPORTED_TFJS_OPS } from './convert.js';
export type { ConvertedTfjsModel, TfjsToOnnxOptions } from './convert.js';
