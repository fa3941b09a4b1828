import type { RgbImage } from '../../image/types.js';
import type { Detection } from '../common/boxes.js';

export interface TinyDetectorOptions {
  /** face-api's `tiny_face_detector_model-weights_manifest.json` (default: the one shipped in @vladmandic/face-api). */
  weightsPath?: string;
  /** Most images run in one network call by detectBatch (default 8). */
  maxBatch?: number;
}

/** Per-call options; defaults are face-api's TinyFaceDetectorOptions. */
export interface TinyOptions {
  /** Side of the square network input, a positive multiple of 32 (default 416). */
  inputSize?: number;
  /** Keep faces scoring above this, in (0, 1) (default 0.5, face-api's scoreThreshold). */
  minScore?: number;
  /** Keep at most this many faces, best first (default: no limit, as in face-api). */
  maxResults?: number;
}

/** Raw network output for n images. */
export interface TinyRawOutput {
  /** NHWC [n, s/32, s/32, 25], row-major: per cell, 5 anchors x (tx, ty, tw, th, objectness logit). */
  grid: Float32Array;
  dims: number[];
}

/** face-api's Tiny face detector. */
export interface TinyDetector {
  /** Faces in one image, best first, boxes in source pixels. */
  detect(image: RgbImage, options?: TinyOptions): Promise<Detection[]>;
  /** Faces in many images, run in batches; same results as one detect() per image. */
  detectBatch(images: readonly RgbImage[], options?: TinyOptions): Promise<Detection[][]>;
  /**
   * The network alone on prepared inputs: NHWC [n, s, s, 3], values 0..255 (padded and resized),
   * s = `inputSize` (default 416), n inferred from the length.
   */
  forwardRaw(nhwc: Float32Array, inputSize?: number): Promise<TinyRawOutput>;
}
