/**
 * visage's own expression head: a small network (softmax regression or one hidden layer) over what
 * face-api's expression net computes for a face crop and its mirror image (see
 * src/models/expression/graph.ts for the features) and the 68 landmarks' shape, its probabilities
 * blended with face-api's own by the weight the head carries. Trained by
 * bench/train-expression-head.ts on the training part of FER2013's training set; the shipped
 * weights (weights.ts) name the command that made them.
 */
import type { Box, Point } from '../../image/types.js';
import { VisageError } from '../../errors.js';
import { type FloatImage, mirror } from '../common/preprocess.js';
import { EXPRESSION_LABELS, type ExpressionDetail, type ExpressionNet } from '../expression/index.js';

/** The input blocks a head may read, in the order they are concatenated. */
export const HEAD_BLOCKS = ['grid', 'features', 'logits', 'geometry'] as const;
export type HeadBlock = (typeof HEAD_BLOCKS)[number];

/** What the head reads of one crop: face-api's outputs and the landmarks' geometry. */
export interface HeadParts {
  grid: Float32Array;
  features: Float32Array;
  logits: Float32Array;
  geometry: Float32Array;
}

/** A dense layer: `weights` row-major [outputs][inputs]. */
export interface HeadLayer {
  inputs: number;
  outputs: number;
  weights: Float32Array;
  bias: Float32Array;
}

export interface ExpressionHead {
  /** Class names of the outputs, in order. */
  labels: readonly string[];
  blocks: readonly HeadBlock[];
  /** Standardisation of the concatenated input: (x - mean) / scale. */
  mean: Float32Array;
  scale: Float32Array;
  /** Dense layers with a ReLU between them. */
  layers: HeadLayer[];
  /** Share of face-api's own probabilities in the result (0: the head alone). */
  faceApiWeight: number;
}

/** The serialised form (weights.ts): float arrays as base64 of little-endian float32. */
export interface EncodedHead {
  command: string;
  labels: string[];
  blocks: HeadBlock[];
  faceApiWeight: number;
  mean: string;
  scale: string;
  layers: { inputs: number; outputs: number; weights: string; bias: string }[];
}

const LANDMARKS = 68;
export const GEOMETRY_LENGTH = LANDMARKS * 2;

/** Point i of a face seen in a mirror is point MIRROR_POINT[i] of the original (iBUG 68 numbering). */
const MIRROR_POINT: readonly number[] = (() => {
  const pairs: [number, number][] = [];
  for (let i = 0; i <= 16; i++) pairs.push([i, 16 - i]); // jaw
  for (let i = 0; i < 5; i++) pairs.push([17 + i, 26 - i], [26 - i, 17 + i]); // brows
  for (let i = 27; i <= 30; i++) pairs.push([i, i]); // nose bridge
  for (let i = 0; i < 5; i++) pairs.push([31 + i, 35 - i]); // nostrils
  const eyes: [number, number][] = [[36, 45], [37, 44], [38, 43], [39, 42], [40, 47], [41, 46]];
  for (const [a, b] of eyes) pairs.push([a, b], [b, a]);
  for (let i = 0; i <= 6; i++) pairs.push([48 + i, 54 - i]); // outer lip, top
  for (let i = 0; i < 5; i++) pairs.push([55 + i, 59 - i]); // outer lip, bottom
  for (let i = 0; i <= 4; i++) pairs.push([60 + i, 64 - i]); // inner lip, top
  for (let i = 0; i < 3; i++) pairs.push([65 + i, 67 - i]); // inner lip, bottom
  const map = new Array<number>(LANDMARKS).fill(-1);
  for (const [a, b] of pairs) map[a] = b;
  return map;
})();

/**
 * The 68 points in the crop's box, each coordinate in [0, 1] (x, y interleaved); `mirrored` gives
 * the points of the crop's mirror image, renumbered as the landmark net would number them.
 */
export function landmarkGeometry(landmarks: readonly Point[], box: Box, mirrored = false): Float32Array {
  if (landmarks.length !== LANDMARKS) throw new VisageError('INVALID_ARGUMENT', `Expected 68 landmarks for landmarks but received ${landmarks.length}`);
  const out = new Float32Array(GEOMETRY_LENGTH);
  for (let i = 0; i < LANDMARKS; i++) {
    const p = landmarks[mirrored ? (MIRROR_POINT[i] as number) : i] as Point;
    const x = (p.x - box.x) / box.width;
    out[i * 2] = mirrored ? 1 - x : x;
    out[i * 2 + 1] = (p.y - box.y) / box.height;
  }
  return out;
}

/** The head's input: the blocks it reads, concatenated in its order. */
export function headInput(parts: HeadParts, blocks: readonly HeadBlock[]): Float32Array {
  const length = blocks.reduce((n, b) => n + parts[b].length, 0);
  const out = new Float32Array(length);
  let at = 0;
  for (const b of blocks) {
    out.set(parts[b], at);
    at += parts[b].length;
  }
  return out;
}

/** The head's pre-softmax scores for one input (already concatenated, not yet standardised). */
export function headLogits(head: ExpressionHead, input: Float32Array): Float32Array {
  if (input.length !== head.mean.length) {
    throw new VisageError('INVALID_ARGUMENT', `Expected ${head.mean.length} inputs for the expression head but received ${input.length}`);
  }
  let x = input.map((v, i) => (v - (head.mean[i] as number)) / (head.scale[i] as number));
  head.layers.forEach((layer, k) => {
    const y = new Float32Array(layer.outputs);
    for (let o = 0; o < layer.outputs; o++) {
      let s = layer.bias[o] as number;
      const row = o * layer.inputs;
      for (let i = 0; i < layer.inputs; i++) s += (layer.weights[row + i] as number) * (x[i] as number);
      y[o] = k < head.layers.length - 1 ? Math.max(0, s) : s;
    }
    x = y;
  });
  return x;
}

export function softmaxOf(logits: Float32Array): Float32Array {
  const max = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/**
 * Probabilities of a face (in `head.labels` order): the mean of the head's softmax on the crop and
 * on its mirror image, blended with face-api's own probabilities (also mirror-averaged) by
 * `head.faceApiWeight`.
 */
export function headProbabilities(head: ExpressionHead, crop: HeadParts, mirrored: HeadParts): Float32Array {
  const a = softmaxOf(headLogits(head, headInput(crop, head.blocks)));
  const b = softmaxOf(headLogits(head, headInput(mirrored, head.blocks)));
  const fa = softmaxOf(crop.logits);
  const fb = softmaxOf(mirrored.logits);
  const w = head.faceApiWeight;
  return a.map((v, i) => {
    const k = (EXPRESSION_LABELS as readonly string[]).indexOf(head.labels[i] as string);
    return ((1 - w) * (v + (b[i] as number))) / 2 + (w * ((fa[k] as number) + (fb[k] as number))) / 2;
  });
}

function floatsFromBase64(text: string, what: string, length: number): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== length * 4) throw new VisageError('INVALID_MODEL', `Expression head: ${what} holds ${bytes.length / 4} values, expected ${length}`);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

export function floatsToBase64(values: Float32Array): string {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString('base64');
}

/** Reads a serialised head, checking every shape. */
export function decodeHead(encoded: EncodedHead): ExpressionHead {
  if (!encoded.blocks.every((b) => (HEAD_BLOCKS as readonly string[]).includes(b))) {
    throw new VisageError('INVALID_MODEL', `Expression head: unknown input block in ${encoded.blocks.join(', ')}`);
  }
  const inputs = encoded.layers[0]?.inputs ?? 0;
  const layers = encoded.layers.map((l, k) => {
    const previous = k === 0 ? inputs : (encoded.layers[k - 1]?.outputs as number);
    if (l.inputs !== previous) throw new VisageError('INVALID_MODEL', `Expression head: layer ${k} takes ${l.inputs} inputs, the layer before gives ${previous}`);
    return { inputs: l.inputs, outputs: l.outputs, weights: floatsFromBase64(l.weights, `layer ${k} weights`, l.inputs * l.outputs), bias: floatsFromBase64(l.bias, `layer ${k} bias`, l.outputs) };
  });
  if (!(encoded.faceApiWeight >= 0 && encoded.faceApiWeight <= 1)) throw new VisageError('INVALID_MODEL', `Expression head: faceApiWeight ${encoded.faceApiWeight} is not in [0, 1]`);
  if (!encoded.labels.every((l) => (EXPRESSION_LABELS as readonly string[]).includes(l))) throw new VisageError('INVALID_MODEL', `Expression head: labels ${encoded.labels.join(', ')} are not face-api's`);
  const last = layers[layers.length - 1];
  if (!last || last.outputs !== encoded.labels.length) throw new VisageError('INVALID_MODEL', `Expression head: ${last?.outputs ?? 0} outputs for ${encoded.labels.length} labels`);
  return {
    labels: encoded.labels,
    blocks: encoded.blocks,
    faceApiWeight: encoded.faceApiWeight,
    mean: floatsFromBase64(encoded.mean, 'mean', inputs),
    scale: floatsFromBase64(encoded.scale, 'scale', inputs),
    layers,
  };
}

export function encodeHead(head: ExpressionHead, command: string): EncodedHead {
  return {
    command,
    labels: [...head.labels],
    blocks: [...head.blocks],
    faceApiWeight: head.faceApiWeight,
    mean: floatsToBase64(head.mean),
    scale: floatsToBase64(head.scale),
    layers: head.layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, weights: floatsToBase64(l.weights), bias: floatsToBase64(l.bias) })),
  };
}

/** One face for the head: its classifiers' crop, and (for heads that read geometry) its 68 landmarks and the crop's box. */
export interface HeadFace {
  crop: FloatImage;
  landmarks: readonly Point[];
  box: Box;
}

/**
 * The head's probabilities (in `head.labels` order) for many faces: face-api's expression net runs
 * on each crop and its mirror image in one batch.
 *
 * @example
 * const [p] = await classifyWithHead(await createExpressionNet(engine), decodeHead(SHIPPED_HEAD), [{ crop, landmarks, box }]);
 */
export async function classifyWithHead(net: ExpressionNet, head: ExpressionHead, faces: readonly HeadFace[]): Promise<Float32Array[]> {
  const crops = faces.map((f) => f.crop);
  const details = await net.describeBatch([...crops, ...crops.map(mirror)]);
  const geometry = head.blocks.includes('geometry');
  const parts = (k: number, f: HeadFace, mirrored: boolean): HeadParts => {
    const d = details[k] as ExpressionDetail;
    return { grid: d.grid, features: d.features, logits: d.logits, geometry: geometry ? landmarkGeometry(f.landmarks, f.box, mirrored) : new Float32Array(0) };
  };
  return faces.map((f, i) => headProbabilities(head, parts(i, f, false), parts(faces.length + i, f, true)));
}
