/**
 * visage: face detection, recognition and analysis for Node.js on ONNX Runtime.
 *
 * @example
 * import { createVisage } from 'visage';
 * const visage = await createVisage();
 * const { verified, distance } = await visage.verify('a.jpg', 'b.jpg');
 * await visage.close();
 */
export { createVisage } from './pipeline/visage.js';
export * from './types.js';
export { VisageError, ERROR_CODES, isVisageError, type ErrorCode } from './errors.js';
export { loadImage, loadImageBytes, decodeImage, type LoadOptions, type RgbImage } from './image/index.js';
export { distance, CALIBRATION, confidence } from './match/index.js';
export { renderDetections, renderVerification, renderAnalysis, renderSearch, type RenderedMatch } from './render/index.js';
export { openStore, SqliteStore, PostgresStore, ANN_DEFAULTS, DEFAULT_GALLERY, type PostgresOptions } from './gallery/index.js';
export type * from './gallery/types.js';
export type { AnnOptions } from './gallery/index.js';
export { openVideo, type OpenedVideo } from './video/source.js';
export { findFfmpeg, Mp4Encoder, type FfmpegTools } from './video/ffmpeg.js';
export { annotateFrame } from './video/annotate.js';
