/**
 * What face-api's face-crop classifiers share: the 112x112 centred square input with face-api's
 * mean-RGB normalisation, the dense-block backbones (FaceFeatureExtractor: four 4-conv blocks,
 * used by the 68-point landmarks and the expression net; TinyFaceFeatureExtractor: three 3-conv
 * blocks, used by the tiny landmarks), and the batched forward pass of a crop classifier.
 */
export { FACE_BATCH, faceApiManifest, positiveInteger } from './packaged.js';
import {
  type Engine,
  type GraphBuilder,
  type Model,
  type Tensor,
  type WeightMap,
  conv2d,
  faceApiWeightFiles,
  nhwcToNchw,
  readFaceApiWeights,
  relu,
  separableConv2d,
  splitBatch,
  weight,
} from '../../engine/index.js';
import { VisageError } from '../../errors.js';
import { type CropSource, cropSquareBatch } from './preprocess.js';

/** Side of the square input every face-api crop classifier takes. */
export const CROP_INPUT_SIZE = 112;

/** face-api's mean RGB (FaceFeatureExtractor, TinyXception), subtracted before dividing by 255. */
const MEAN_RGB = [122.782, 117.001, 104.298];

/** Name of the graph input: NHWC float [batch, 112, 112, 3], values 0..255. */
export const CROP_INPUT = 'input';

/** Declares the NHWC input and returns it normalised as face-api does ((x - mean) / 255), NCHW. */
export function normalisedCropInput(g: GraphBuilder): string {
  const input = g.input(CROP_INPUT, ['batch', CROP_INPUT_SIZE, CROP_INPUT_SIZE, 3]);
  // Transposed first, the same values: ONNX Runtime subtracts a [3, 1, 1] constant from NCHW
  // planes several times faster than a [3] one along NHWC's last axis (0.5 ms a batch of 8).
  const centred = g.node('Sub', [nhwcToNchw(g, input), g.constant('mean_rgb', Float32Array.from(MEAN_RGB), [3, 1, 1])]);
  return g.node('Div', [centred, g.scalar('scale_255', 255)]);
}

/** face-api's depthwiseSeparableConv: TF separableConv2d ('same', stride on the depthwise) + bias. */
export function separableConv(g: GraphBuilder, x: string, weights: WeightMap, prefix: string, stride = 1): string {
  return separableConv2d(
    g,
    x,
    weight(weights, `${prefix}/depthwise_filter`),
    weight(weights, `${prefix}/pointwise_filter`),
    weight(weights, `${prefix}/bias`),
    { stride, padding: 'same' },
  );
}

/**
 * face-api's denseBlock3 / denseBlock4: a stride-2 first conv (a plain conv in the first block),
 * then separable convs each fed the ReLU of the sum of all earlier outputs.
 */
function denseBlock(g: GraphBuilder, x: string, weights: WeightMap, prefix: string, convs: number, first: boolean): string {
  const conv0 = first
    ? conv2d(g, x, weight(weights, `${prefix}/conv0/filters`), weight(weights, `${prefix}/conv0/bias`), {
        stride: 2,
        padding: 'same',
      })
    : separableConv(g, x, weights, `${prefix}/conv0`, 2);
  const outs = [relu(g, conv0)];
  let sum = outs[0] as string;
  for (let i = 1; i < convs; i++) {
    const input = i === 1 ? sum : relu(g, sum);
    outs.push(separableConv(g, input, weights, `${prefix}/conv${i}`));
    // TF adds right to left (out1 + (out2 + (out3 + out4))); keep its order for bit-closeness.
    sum = outs.reduceRight((acc, v) => g.node('Add', [v, acc]));
  }
  return relu(g, sum);
}

/** The two dense-block backbones: 'full' (FaceFeatureExtractor) and 'tiny' (TinyFaceFeatureExtractor). */
export type FeatureExtractorVariant = 'full' | 'tiny';

/**
 * FaceFeatureExtractor (4 blocks of 4 convs, 112 → 7, avg pool 7 → 256 features) or
 * TinyFaceFeatureExtractor (3 blocks of 3 convs, 112 → 14, avg pool 14 → 128 features).
 * Takes the normalised NCHW input, returns [N, C] features.
 */
export function faceFeatureExtractor(g: GraphBuilder, x: string, weights: WeightMap, variant: FeatureExtractorVariant): string {
  return poolToFeatures(g, faceFeatureMap(g, x, weights, variant), variant === 'full' ? 7 : 14);
}

/** The backbone's last feature map before its pool: NCHW [N, 256, 7, 7] ('full') or [N, 128, 14, 14] ('tiny'). */
export function faceFeatureMap(g: GraphBuilder, x: string, weights: WeightMap, variant: FeatureExtractorVariant): string {
  const blocks = variant === 'full' ? 4 : 3;
  let out = x;
  for (let b = 0; b < blocks; b++) out = denseBlock(g, out, weights, `dense${b}`, blocks, b === 0);
  return out;
}

/**
 * face-api's final tf.avgPool(size, stride 2, 'valid') over a size x size map, flattened to
 * [N, C]: the pool leaves 1x1, so flattening keeps TF's channel order.
 */
export function poolToFeatures(g: GraphBuilder, x: string, size: number): string {
  const pooled = g.node('AveragePool', [x], { kernel_shape: [size, size], strides: [2, 2], pads: [0, 0, 0, 0] });
  return g.node('Flatten', [pooled], { axis: 1 });
}

/** face-api's toBatchTensor(112, centred) for one crop, as a [1, 112, 112, 3] tensor. */
export function cropInput(crop: CropSource): Tensor {
  return { data: cropSquareBatch([crop], CROP_INPUT_SIZE), dims: [1, CROP_INPUT_SIZE, CROP_INPUT_SIZE, 3] };
}

/** Checks an NHWC batch handed to a forwardRaw and runs it in one call. */
export async function runCropBatch(model: Model, batch: Tensor): Promise<Record<string, Tensor>> {
  const [n, h, w, c] = batch.dims;
  if (batch.dims.length !== 4 || h !== CROP_INPUT_SIZE || w !== CROP_INPUT_SIZE || c !== 3 || !n) {
    throw new VisageError(
      'INVALID_ARGUMENT',
      `Expected an NHWC batch [n, ${CROP_INPUT_SIZE}, ${CROP_INPUT_SIZE}, 3] for nhwcBatch but received [${batch.dims.join(', ')}]`,
    );
  }
  return model.run({ [CROP_INPUT]: batch });
}

/**
 * Pre-processes face crops and runs them through a crop classifier, `maxBatch` at a time: each
 * batch's 112 squares are written straight into its input, and outputs come back split per crop.
 */
export async function runCrops(model: Model, crops: readonly CropSource[], maxBatch: number): Promise<Record<string, Tensor>[]> {
  const results: Record<string, Tensor>[] = [];
  for (let start = 0; start < crops.length; start += maxBatch) {
    const chunk = crops.slice(start, start + maxBatch);
    const out = await model.run({ [CROP_INPUT]: { data: cropSquareBatch(chunk, CROP_INPUT_SIZE), dims: [chunk.length, CROP_INPUT_SIZE, CROP_INPUT_SIZE, 3] } });
    results.push(...splitBatch(out, chunk.length));
  }
  return results;
}

/**
 * Loads a crop classifier: reads its face-api weights and compiles its graph, or reads the graph
 * from the disk cache (keyed by the weight files and `version`, the builder's version).
 */
export async function loadCropModel(
  engine: Engine,
  key: string,
  manifestPath: string,
  build: (weights: WeightMap) => Uint8Array,
  version: number,
): Promise<Model> {
  const sources = await faceApiWeightFiles(manifestPath);
  return engine.load(key, async () => build(await readFaceApiWeights(manifestPath)), { sources, version });
}
