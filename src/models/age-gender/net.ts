/**
 * The age/gender net on face crops: one network call for many faces.
 */
import type { Engine, Tensor } from '../../engine/index.js';
import {
  FACE_BATCH,
  faceApiManifest,
  loadCropModel,
  positiveInteger,
  runCropBatch,
  runCrops,
} from '../common/feature-extractor.js';
import type { CropSource } from '../common/preprocess.js';
import { AGE_OUTPUT, GENDER_LOGITS_OUTPUT, GENDER_OUTPUT, GRAPH_VERSION, build } from './graph.js';

export interface AgeGender {
  /** Estimated age in years (a regression, not rounded). */
  age: number;
  /** Gender probabilities; they sum to 1. */
  gender: { woman: number; man: number };
}

export interface AgeGenderOptions {
  /** A face-api age/gender weights manifest. Default: the one shipped in `@vladmandic/face-api`. */
  manifestPath?: string;
  /** Most faces per network call. Default 8 (FACE_BATCH: larger batches run slower per face). */
  maxBatch?: number;
}

export interface AgeGenderNet {
  /** Age and gender of one face crop. */
  predict(faceCrop: CropSource): Promise<AgeGender>;
  /** {@link AgeGenderNet.predict} for many crops in batched network calls. */
  predictBatch(faceCrops: readonly CropSource[]): Promise<AgeGender[]>;
  /**
   * The network alone: NHWC [n, 112, 112, 3] (0..255) → age [n], gender logits and
   * probabilities [n, 2] in face-api's order (male, female).
   */
  forwardRaw(nhwcBatch: Tensor): Promise<{ age: Tensor; genderLogits: Tensor; gender: Tensor }>;
}

/**
 * Loads face-api's age/gender net (compiled to ONNX once per process).
 *
 * @example
 * const net = await createAgeGenderNet(new Engine({ threads: 2 }));
 * const { age, gender } = await net.predict(crop(image, box));
 */
export async function createAgeGenderNet(engine: Engine, options: AgeGenderOptions = {}): Promise<AgeGenderNet> {
  const manifestPath = options.manifestPath ?? faceApiManifest('age_gender_model');
  const maxBatch = positiveInteger(options.maxBatch ?? FACE_BATCH, 'maxBatch');
  const model = await loadCropModel(engine, `faceapi-age-gender:${manifestPath}`, manifestPath, build, GRAPH_VERSION);

  async function predictBatch(faceCrops: readonly CropSource[]): Promise<AgeGender[]> {
    const outputs = await runCrops(model, faceCrops, maxBatch);
    return outputs.map((out) => {
      // face-api's gender order is (male, female).
      const gender = (out[GENDER_OUTPUT] as Tensor).data;
      return {
        age: (out[AGE_OUTPUT] as Tensor).data[0] as number,
        gender: { woman: gender[1] as number, man: gender[0] as number },
      };
    });
  }

  return {
    predictBatch,
    async predict(faceCrop) {
      return (await predictBatch([faceCrop]))[0] as AgeGender;
    },
    async forwardRaw(nhwcBatch) {
      const out = await runCropBatch(model, nhwcBatch);
      return {
        age: out[AGE_OUTPUT] as Tensor,
        genderLogits: out[GENDER_LOGITS_OUTPUT] as Tensor,
        gender: out[GENDER_OUTPUT] as Tensor,
      };
    },
  };
}
