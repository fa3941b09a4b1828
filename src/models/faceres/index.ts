/**
 * human's FaceRes net (`@vladmandic/human/models/faceres.json`, MIT; HSE-asavchenko's
 * MobileNet trained for recognition, age and gender): a 224x224 RGB face (0..255), giving a
 * 1024-d descriptor, a softmax over ages 0..99 and a sigmoid gender score (above 0.5: male).
 * Pre-processing and the reading of the age as human does them.
 */
import type { Engine, Tensor } from '../../engine/index.js';
import { humanCropInput, humanModel, loadHumanNet, positiveInteger, runHuman, runHumanBatch } from '../common/human.js';
import { FACE_BATCH } from '../common/packaged.js';
import type { FloatImage } from '../common/preprocess.js';

export const FACERES_SIZE = 224;
export const FACERES_DESCRIPTOR_LENGTH = 1024;

const GENDER = 'gender_pred/Sigmoid';
const DESCRIPTOR = 'global_pooling/Mean';
const AGE = 'age_pred/Softmax';

export interface FaceRes {
  /** Estimated age in years: the likeliest year, moved toward its likelier neighbour (human's reading). */
  age: number;
  /** Gender probabilities; they sum to 1. */
  gender: { woman: number; man: number };
  /** The 1024-d descriptor (the global average pool). */
  descriptor: Float32Array;
}

export interface FaceResNet {
  predictBatch(faceCrops: readonly FloatImage[]): Promise<FaceRes[]>;
  /** The network alone: NHWC [n, 224, 224, 3] (0..255) → gender [n, 1], descriptor [n, 1024], age probabilities [n, 100]. */
  forwardRaw(nhwcBatch: Tensor): Promise<{ gender: Tensor; descriptor: Tensor; age: Tensor }>;
}

export interface FaceResOptions {
  /** A model.json of the same architecture. Default: the one shipped in `@vladmandic/human`. */
  modelPath?: string;
  /** Most faces per network call. Default 8 (FACE_BATCH). */
  maxBatch?: number;
}

/** A face crop (0..255 RGB) as the net's input: human's 0..1 face resized to 224, times 255. */
export function faceResInput(crop: FloatImage): Tensor {
  const t = humanCropInput(crop, FACERES_SIZE);
  return { data: t.data.map((v) => v * 255), dims: t.dims };
}

/** human's age from the 100 age probabilities. */
export function faceResAge(probabilities: Float32Array): number {
  let best = 0;
  for (let i = 1; i < probabilities.length; i++) if ((probabilities[i] as number) > (probabilities[best] as number)) best = i;
  const before = probabilities[best - 1] ?? 0;
  const after = probabilities[best + 1] ?? 0;
  return before > after ? best - 10 * before : best + 10 * after;
}

/**
 * Loads human's FaceRes net (compiled to ONNX once per process).
 *
 * @example
 * const net = await createFaceResNet(new Engine({ threads: 2 }));
 * const [{ age, gender }] = await net.predictBatch([faceCrop]);
 */
export async function createFaceResNet(engine: Engine, options: FaceResOptions = {}): Promise<FaceResNet> {
  const maxBatch = positiveInteger(options.maxBatch ?? FACE_BATCH, 'maxBatch');
  const net = await loadHumanNet(engine, options.modelPath ?? humanModel('faceres'), [GENDER, DESCRIPTOR, AGE]);
  return {
    async predictBatch(faceCrops) {
      const outputs = await runHuman(net, faceCrops.map(faceResInput), maxBatch);
      return outputs.map((o) => {
        const man = (o[GENDER] as Tensor).data[0] as number;
        return { age: faceResAge((o[AGE] as Tensor).data), gender: { woman: 1 - man, man }, descriptor: (o[DESCRIPTOR] as Tensor).data };
      });
    },
    async forwardRaw(nhwcBatch) {
      const out = await runHumanBatch(net, nhwcBatch, FACERES_SIZE, 3);
      return { gender: out[GENDER] as Tensor, descriptor: out[DESCRIPTOR] as Tensor, age: out[AGE] as Tensor };
    },
  };
}
