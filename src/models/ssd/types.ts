import type { RgbImage } from '../../image/types.js';
import type { Detection } from '../common/boxes.js';

export interface SsdDetectorOptions {
  /** face-api's `ssd_mobilenetv1_model-weights_manifest.json` (default: the one shipped in @vladmandic/face-api). */
  weightsPath?: string;
  /** Most images run in one network call by detectBatch (default 8). */
  maxBatch?: number;
  /**
   * 'fp32' (default): the network as face-api runs it. 'int8': convolutions in 8 bits
   * (engine/quantize.ts), about twice as fast on CPUs with VNNI, scores shifted by a few hundredths.
   */
  precision?: Precision;
}

/** Arithmetic a network runs in. */
export const PRECISIONS = ['fp32', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Per-call options; defaults are face-api's SsdMobilenetv1Options. */
export interface SsdOptions {
  /** Keep faces scoring above this, in (0, 1) (default 0.5, face-api's minConfidence). */
  minScore?: number;
  /** Keep at most this many faces, best first (default 100). */
  maxResults?: number;
  /**
   * Side of the network's square input: 512 (default, face-api's), a multiple of 32 from 128 to
   * 512, or 'fit': 256 for an image no larger than that (a thumbnail or a face crop such as
   * LFW's 250x250), which 512 would only enlarge, at a quarter of the cost; 512 otherwise.
   */
  inputSize?: number | 'fit';
}

/** Raw network outputs for n images, row-major. */
export interface SsdRawOutput {
  /** [n, A, 4] (A = 5118 at 512) box encodings (ty, tx, th, tw). */
  boxEncodings: Float32Array;
  /** [n, A, 3] class logits (before the sigmoid). */
  classLogits: Float32Array;
  /** [n, A, 4] decoded boxes (ymin, xmin, ymax, xmax), relative to the square input. */
  boxes: Float32Array;
  /** [n, A] face scores. */
  scores: Float32Array;
}

/** face-api's SSD MobileNetV1 face detector. */
export interface SsdDetector {
  /** Faces in one image, best first, boxes in source pixels. */
  detect(image: RgbImage, options?: SsdOptions): Promise<Detection[]>;
  /** Faces in many images, run in batches; same results as one detect() per image. */
  detectBatch(images: readonly RgbImage[], options?: SsdOptions): Promise<Detection[][]>;
  /**
   * The network alone on prepared inputs: NHWC [n, size, size, 3] (size 512 by default), values
   * 0..255 (padded and resized), n inferred from the length.
   */
  forwardRaw(nhwc: Float32Array, size?: number): Promise<SsdRawOutput>;
}
