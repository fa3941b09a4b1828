/**
 * The 7-class expression net on face crops: one network call for many faces.
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
import { FEATURES_OUTPUT, GRAPH_VERSION, GRID_OUTPUT, LOGITS_OUTPUT, PROBABILITIES_OUTPUT, build } from './graph.js';

/** visage's names for face-api's classes, in the network's output order. */
export const EXPRESSION_LABELS = ['neutral', 'happy', 'sad', 'angry', 'fear', 'disgust', 'surprise'] as const;

export type ExpressionLabel = (typeof EXPRESSION_LABELS)[number];

/** A probability per expression; they sum to 1. */
export type Expressions = Record<ExpressionLabel, number>;

export interface ExpressionOptions {
  /** A face-api expression weights manifest. Default: the one shipped in `@vladmandic/face-api`. */
  manifestPath?: string;
  /** Most faces per network call. Default 8 (FACE_BATCH: larger batches run slower per face). */
  maxBatch?: number;
}

/** Everything the net computes for one crop (see graph.ts for the outputs). */
export interface ExpressionDetail {
  expressions: Expressions;
  /** Pre-softmax scores in EXPRESSION_LABELS order. */
  logits: Float32Array;
  /** The pooled 256 features. */
  features: Float32Array;
  /** The last map pooled over a 3x3 grid (2,304 values). */
  grid: Float32Array;
}

export interface ExpressionNet {
  /** Expression probabilities of one face crop. */
  predict(faceCrop: CropSource): Promise<Expressions>;
  /** {@link ExpressionNet.predict} for many crops in batched network calls. */
  predictBatch(faceCrops: readonly CropSource[]): Promise<Expressions[]>;
  /** Probabilities, logits and features of many crops. */
  describeBatch(faceCrops: readonly CropSource[]): Promise<ExpressionDetail[]>;
  /** The network alone: NHWC [n, 112, 112, 3] (0..255) → logits and probabilities, each [n, 7]. */
  forwardRaw(nhwcBatch: Tensor): Promise<{ logits: Tensor; probabilities: Tensor }>;
}

function toExpressions(probabilities: Float32Array): Expressions {
  return Object.fromEntries(EXPRESSION_LABELS.map((label, i) => [label, probabilities[i] as number])) as Expressions;
}

/**
 * Loads face-api's expression net (compiled to ONNX once per process).
 *
 * @example
 * const net = await createExpressionNet(new Engine({ threads: 2 }));
 * const { happy } = await net.predict(crop(image, box));
 */
export async function createExpressionNet(engine: Engine, options: ExpressionOptions = {}): Promise<ExpressionNet> {
  const manifestPath = options.manifestPath ?? faceApiManifest('face_expression_model');
  const maxBatch = positiveInteger(options.maxBatch ?? FACE_BATCH, 'maxBatch');
  const model = await loadCropModel(engine, `faceapi-expression:${manifestPath}`, manifestPath, build, GRAPH_VERSION);

  async function predictBatch(faceCrops: readonly CropSource[]): Promise<Expressions[]> {
    const outputs = await runCrops(model, faceCrops, maxBatch);
    return outputs.map((out) => toExpressions((out[PROBABILITIES_OUTPUT] as Tensor).data));
  }

  return {
    predictBatch,
    async describeBatch(faceCrops) {
      const outputs = await runCrops(model, faceCrops, maxBatch);
      return outputs.map((out) => ({
        expressions: toExpressions((out[PROBABILITIES_OUTPUT] as Tensor).data),
        logits: (out[LOGITS_OUTPUT] as Tensor).data,
        features: (out[FEATURES_OUTPUT] as Tensor).data,
        grid: (out[GRID_OUTPUT] as Tensor).data,
      }));
    },
    async predict(faceCrop) {
      return (await predictBatch([faceCrop]))[0] as Expressions;
    },
    async forwardRaw(nhwcBatch) {
      const out = await runCropBatch(model, nhwcBatch);
      return { logits: out[LOGITS_OUTPUT] as Tensor, probabilities: out[PROBABILITIES_OUTPUT] as Tensor };
    },
  };
}
