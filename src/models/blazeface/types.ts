import type { Box, Point, RgbImage } from '../../image/types.js';
import type { BlazeFaceVariant } from './anchors.js';

export interface BlazeFaceDetectorOptions {
  /** 'short' (default: 128x128, faces within about 2 m, selfies and video calls) or 'full' (192x192, faces within about 5 m). */
  variant?: BlazeFaceVariant;
  /** The .tflite file (default: the one shipped in @mediapipe/face_detection). */
  file?: string;
  /** Most images run in one network call by detectBatch (default 8). */
  maxBatch?: number;
}

/** Per-call options; defaults are MediaPipe's. */
export interface BlazeFaceOptions {
  /** Keep faces scoring at least this, in (0, 1) (default 0.5, MediaPipe's min_detection_confidence). */
  minScore?: number;
  /** Keep at most this many faces, best first (default: no limit, as in MediaPipe). */
  maxResults?: number;
}

/** A face BlazeFace found, in source pixels. */
export interface BlazeFaceDetection {
  /** Clipped to the image. */
  box: Box;
  score: number;
  /** The subject's right eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion (not clipped). */
  keypoints: Point[];
}

/** Raw network output for n images. */
export interface BlazeFaceRawOutput {
  /** [n, anchors, 16]: box (x, y, w, h offsets in input pixels), then 6 keypoints (x, y). */
  regressors: Float32Array;
  /** [n, anchors, 1]: score logits. */
  scores: Float32Array;
  anchors: number;
}

/** MediaPipe's BlazeFace face detector. */
export interface BlazeFaceDetector {
  readonly variant: BlazeFaceVariant;
  /** Side of the square network input (128 or 192). */
  readonly inputSize: number;
  /** Faces in one image, best first. */
  detect(image: RgbImage, options?: BlazeFaceOptions): Promise<BlazeFaceDetection[]>;
  /** Faces in many images, run in batches; same results as one detect() per image. */
  detectBatch(images: readonly RgbImage[], options?: BlazeFaceOptions): Promise<BlazeFaceDetection[][]>;
  /** The network alone on prepared inputs: NHWC [n, s, s, 3] in [-1, 1], n inferred from the length. */
  forwardRaw(nhwc: Float32Array): Promise<BlazeFaceRawOutput>;
}
