export type { Box, Point, RgbImage } from './types.js';
export {
  ALPHA_BACKGROUND,
  allowDecodeThreads,
  DEFAULT_MAX_PIXELS,
  decodeImage,
  loadImage,
  loadImageBytes,
  sniffImageFormat,
  type DecodeOptions,
  type ImageFormat,
  type ImageInput,
  type LoadOptions,
} from './load.js';
export { DEFAULT_DOWNLOAD_OPTIONS, downloadBytes, isPublicAddress, type DownloadOptions } from './download.js';
