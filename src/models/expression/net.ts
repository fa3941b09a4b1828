/**
 * The 7-class expression net on face crops: one network call for many faces.
 */
import type { Engine, Tensor } from '../../engine/index.js';
import {
  faceApiManifest,
  loadCropModel,
  positiveInteger,
  runCropBatch,
  runCrops,
} from '../common/feature-extractor.js';
import type { FloatImage } from '../common/preprocess.js';
import { GRAPH_VERSION, LOGITS_OUTPUT, PROBABILITIES_OUTPUT, build } from './graph.js';

/** visage's names for face-api's classes, in the network's output order. */
export const EXPRESSION_LABELS = ['neutral', 'happy', 'sad', 'angry', 'fear', 'disgust', 'surprise'] as const;

export type ExpressionLabel = (typeof EXPRESSION_LABELS)[number];

/** A probability per expression; they sum to 1. */
export type Expressions = Record<ExpressionLabel, number>;

export interface ExpressionOptions {
  /** A face-api expression weights manifest. Default: the one shipped in `@vladmandic/face-api`. */
  manifestPath?: string;
  /** Most faces per network call. Default 32. */
  maxBatch?: number;
}

export interface ExpressionNet {
  /** Expression probabilities of one face crop. */
  predict(faceCrop: FloatImage): Promise<Expressions>;
  /** {@link ExpressionNet.predict} for many crops in batched network calls. */
  predictBatch(faceCrops: readonly FloatImage[]): Promise<Expressions[]>;
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
  const maxBatch = positiveInteger(options.maxBatch ?? 32, 'maxBatch');
  const model = await loadCropModel(engine, `faceapi-expression:${manifestPath}`, manifestPath, build, GRAPH_VERSION);

  async function predictBatch(faceCrops: readonly FloatImage[]): Promise<Expressions[]> {
    const outputs = await runCrops(model, faceCrops, maxBatch);
    return outputs.map((out) => toExpressions((out[PROBABILITIES_OUTPUT] as Tensor).data));
  }

  return {
    predictBatch,
    async predict(faceCrop) {
      return (await predictBatch([faceCrop]))[0] as Expressions;
    },
    async forwardRaw(nhwcBatch) {
      const out = await runCropBatch(model, nhwcBatch);
      return { logits: out[LOGITS_OUTPUT] as Tensor, probabilities: out[PROBABILITIES_OUTPUT] as Tensor };
    },
  };
}
