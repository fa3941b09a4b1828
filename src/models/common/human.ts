/**
 * What human's face-crop networks share: TF.js graph models from `@vladmandic/human/models/`,
 * converted to ONNX by the engine's TF.js reader, fed face crops resized as human resizes its face
 * tensor (TF's resizeBilinear without corner alignment or half-pixel centres, no padding to a square).
 */
import {
  type Engine,
  type Model,
  type Tensor,
  readTfjsGraphModel,
  runBatched,
  tfjsToOnnx,
} from '../../engine/index.js';
import { VisageError } from '../../errors.js';
import { humanModel, positiveInteger } from './packaged.js';
import { type FloatImage, resizeBilinear } from './preprocess.js';

export { humanModel, positiveInteger };

/** A converted human network and the TF node names of its outputs, in graph order. */
export interface HumanNet {
  model: Model;
  input: string;
  outputs: readonly string[];
}

/** Loads a human model (compiled to ONNX once per process), exposing the TF nodes `outputs`. */
export async function loadHumanNet(engine: Engine, modelJson: string, outputs: string[]): Promise<HumanNet> {
  const model = await engine.load(`human:${modelJson}:${outputs.join(',')}`, async () =>
    tfjsToOnnx(await readTfjsGraphModel(modelJson), { outputs }).bytes);
  return { model, input: model.inputNames[0] as string, outputs };
}

/**
 * A face crop (0..255 RGB) as human's face tensor resized to the network's side, values 0..1,
 * one [1, size, size, 3] tensor.
 */
export function humanCropInput(crop: FloatImage, size: number, what = 'faceCrop'): Tensor {
  if (crop.channels !== 3 || crop.width < 1 || crop.height < 1) {
    throw new VisageError('INVALID_ARGUMENT', `Expected a non-empty 3-channel face crop for ${what} but received ${crop.width}x${crop.height}x${crop.channels}`);
  }
  // human's face tensor is 0..1; resizing is linear, so scaling before or after agrees to rounding.
  const scaled = { ...crop, data: crop.data.map((v) => v / 255) };
  const resized = resizeBilinear(scaled, size, size);
  return { data: resized.data, dims: [1, size, size, 3] };
}

/** Checks an NHWC batch handed to a forwardRaw. */
function checkBatch(batch: Tensor, size: number, channels: number): void {
  const [n, h, w, c] = batch.dims;
  if (batch.dims.length !== 4 || h !== size || w !== size || c !== channels || !n || batch.data.length !== n * size * size * channels) {
    throw new VisageError('INVALID_ARGUMENT', `Expected an NHWC batch [n, ${size}, ${size}, ${channels}] for nhwcBatch but received [${batch.dims.join(', ')}]`);
  }
}

/** Runs prepared [1, ...] inputs through a human net, `maxBatch` at a time; outputs by node name. */
export async function runHuman(net: HumanNet, inputs: readonly Tensor[], maxBatch: number): Promise<Record<string, Tensor>[]> {
  const results = await runBatched(net.model, inputs.map((t) => ({ [net.input]: t })), maxBatch);
  return results.map((r) => byNode(net, r));
}

/** Runs one NHWC batch (checked against the network's side and channels); outputs by node name. */
export async function runHumanBatch(net: HumanNet, batch: Tensor, size: number, channels: number): Promise<Record<string, Tensor>> {
  checkBatch(batch, size, channels);
  return byNode(net, await net.model.run({ [net.input]: batch }));
}

function byNode(net: HumanNet, result: Record<string, Tensor>): Record<string, Tensor> {
  const names = net.model.outputNames;
  return Object.fromEntries(net.outputs.map((node, k) => [node, result[names[k] as string] as Tensor]));
}

/** A network judging whether a face is real (not a print or a screen). */
export interface RealnessNet {
  /** Side of the network's square input. */
  readonly inputSize: number;
  /** A score in 0..1 per RGB face crop (0..255), higher is more likely real. */
  realScores(faceCrops: readonly FloatImage[]): Promise<number[]>;
  /** The network alone: NHWC [n, size, size, 3] (0..1) → its raw output ([n, 1] or [n, 2]). */
  forwardRaw(nhwcBatch: Tensor): Promise<Tensor>;
}

/**
 * A realness net over a human model with one output; `score` reads the real score out of one
 * face's output values.
 */
export async function createRealnessNet(
  engine: Engine,
  modelJson: string,
  size: number,
  score: (values: Float32Array) => number,
  maxBatch: number,
): Promise<RealnessNet> {
  positiveInteger(maxBatch, 'maxBatch');
  const net = await loadHumanNet(engine, modelJson, ['Identity']);
  return {
    inputSize: size,
    async realScores(faceCrops) {
      const outputs = await runHuman(net, faceCrops.map((c) => humanCropInput(c, size)), maxBatch);
      return outputs.map((o) => score((o.Identity as Tensor).data));
    },
    async forwardRaw(nhwcBatch) {
      return (await runHumanBatch(net, nhwcBatch, size, 3)).Identity as Tensor;
    },
  };
}
