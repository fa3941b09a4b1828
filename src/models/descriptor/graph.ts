/**
 * face-api's faceRecognitionNet (a dlib-style ResNet-34 producing a 128-d descriptor) as an ONNX
 * graph. Input: NHWC float 0..255, [batch, 150, 150, 3]; output: [batch, 128].
 */
import {
  GraphBuilder,
  avgPool,
  channelAffine,
  conv2d,
  dense,
  globalAvgPool,
  maxPool,
  nhwcToNchw,
  relu,
  weight,
  type WeightMap,
  type WeightTensor,
} from '../../engine/index.js';

/** The builder's version, part of the disk-cache key: bump it whenever the graph it emits changes. */
export const DESCRIPTOR_GRAPH_VERSION = 2;

/** Side of the square input the network was trained on. */
export const DESCRIPTOR_INPUT_SIZE = 150;
export const DESCRIPTOR_SIZE = 128;
export const DESCRIPTOR_INPUT_NAME = 'input';
export const DESCRIPTOR_OUTPUT_NAME = 'descriptor';

/** Per-channel RGB means subtracted from the input (dlib's input_rgb_image_sized, kept by face-api). */
const MEAN_RGB = [122.782, 117.001, 104.298];

/**
 * What the centred pixels are divided by: dlib trained with 256; face-api divides by 255. Each
 * set of weights runs with its own source's value, so each matches its reference.
 */
export type PixelDivisor = 255 | 256;

/** The residual blocks in order, and whether each halves the resolution. */
const RESIDUAL_BLOCKS: readonly (readonly [string, boolean])[] = [
  ['conv32_1', false], ['conv32_2', false], ['conv32_3', false],
  ['conv64_down', true], ['conv64_1', false], ['conv64_2', false], ['conv64_3', false],
  ['conv128_down', true], ['conv128_1', false], ['conv128_2', false],
  ['conv256_down', true], ['conv256_1', false], ['conv256_2', false],
  ['conv256_down_out', true],
];

/** Every convolution's weight prefix, input side first (each has conv/filters, conv/bias, scale/weights, scale/biases). */
export const DESCRIPTOR_CONV_LAYERS: readonly string[] = [
  'conv32_down',
  ...RESIDUAL_BLOCKS.flatMap(([prefix]) => [`${prefix}/conv1`, `${prefix}/conv2`]),
];

/** An activation and its static NCHW shape (needed to pad the down-sampling blocks). */
interface Activation {
  name: string;
  channels: number;
  size: number;
}

function floatData(t: WeightTensor): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new Error(`Weight ${t.name} is not float32`);
  return t.data;
}

/** A filter and bias as plain data, for folding an input transform into them. */
interface ConvWeights {
  filters: WeightTensor;
  bias: WeightTensor | Float32Array;
}

/**
 * Folds the input normalisation (x - mean[c]) / divisor into the first convolution: the filter
 * divided by the divisor, the bias less each filter's response to the mean. Exact up to rounding
 * because that convolution is 'valid' (no padded cells); it spares the two passes over the input
 * that were 6% of the forward (ONNX Runtime's profiler, batch of 8).
 */
function foldNormalisation(w: WeightMap, prefix: string, divisor: number): ConvWeights {
  const filters = weight(w, `${prefix}/conv/filters`);
  const bias = floatData(weight(w, `${prefix}/conv/bias`));
  const src = floatData(filters);
  const [h = 0, width = 0, cin = 0, cout = 0] = filters.shape; // TF layout [h, w, in, out]
  if (h * width * cin * cout !== src.length || cin !== MEAN_RGB.length) throw new Error(`${prefix}/conv/filters: unexpected shape [${filters.shape.join(', ')}]`);
  const scaled = new Float32Array(src.length);
  const shift = new Float64Array(cout);
  for (let i = 0; i < src.length; i++) {
    const c = Math.floor(i / cout) % cin;
    const o = i % cout;
    scaled[i] = (src[i] as number) / divisor;
    shift[o] = (shift[o] as number) + ((src[i] as number) * (MEAN_RGB[c] as number)) / divisor;
  }
  return { filters: { ...filters, data: scaled }, bias: bias.map((b, o) => b - (shift[o] as number)) };
}

/** conv + bias, then the scale layer (x * weights + biases), then an optional ReLU. */
function convLayer(g: GraphBuilder, w: WeightMap, x: Activation, prefix: string, stride: 1 | 2, withRelu: boolean, folded?: ConvWeights): Activation {
  const filters = folded?.filters ?? weight(w, `${prefix}/conv/filters`);
  const [k = 0, , , channels = 0] = filters.shape;
  // Stride-2 convolutions here are 'valid' (convDown); stride-1 ones 'same'.
  const padding = stride === 2 ? 'valid' : 'same';
  let y = conv2d(g, x.name, filters, folded?.bias ?? weight(w, `${prefix}/conv/bias`), { stride, padding });
  y = channelAffine(
    g,
    y,
    floatData(weight(w, `${prefix}/scale/weights`)),
    floatData(weight(w, `${prefix}/scale/biases`)),
    `${prefix}/scale`,
  );
  if (withRelu) y = relu(g, y);
  const size = stride === 2 ? Math.floor((x.size - k) / 2) + 1 : x.size;
  return { name: y, channels, size };
}

function residual(g: GraphBuilder, w: WeightMap, x: Activation, prefix: string): Activation {
  const a = convLayer(g, w, x, `${prefix}/conv1`, 1, true);
  const b = convLayer(g, w, a, `${prefix}/conv2`, 1, false);
  return { ...b, name: relu(g, g.node('Add', [b.name, x.name])) };
}

/**
 * Down-sampling block. The 3x3 'valid' stride-2 branch can come out one smaller than the 2x2
 * average-pool shortcut; face-api appends a zero row and column to the branch, and zero channels
 * to the shortcut when the width doubles. Those zeros reach the final global mean, so they are
 * reproduced exactly here.
 */
function residualDown(g: GraphBuilder, w: WeightMap, x: Activation, prefix: string): Activation {
  const a = convLayer(g, w, x, `${prefix}/conv1`, 2, true);
  const b = convLayer(g, w, a, `${prefix}/conv2`, 1, false);
  const pooledSize = Math.floor(x.size / 2);
  let branch = b.name;
  const grow = pooledSize - b.size;
  if (grow !== 0) {
    // pads: [N, C, H, W] begins, then ends.
    branch = g.node('Pad', [branch, g.ints(`${prefix}/pad_hw`, [0, 0, 0, 0, 0, 0, grow, grow])]);
  }
  let shortcut = avgPool(g, x.name, 2, 2, 'valid');
  const extraChannels = b.channels - x.channels;
  if (extraChannels !== 0) {
    shortcut = g.node('Pad', [shortcut, g.ints(`${prefix}/pad_c`, [0, 0, 0, 0, 0, extraChannels, 0, 0])]);
  }
  return { name: relu(g, g.node('Add', [shortcut, branch])), channels: b.channels, size: pooledSize };
}

/** Builds the descriptor network from its weights under face-api's names (face-api's own, or dlib's mapped onto them). */
export function buildDescriptorGraph(w: WeightMap, pixelDivisor: PixelDivisor = 255): Uint8Array {
  const g = new GraphBuilder('face_recognition_net');
  const input = g.input(DESCRIPTOR_INPUT_NAME, ['batch', DESCRIPTOR_INPUT_SIZE, DESCRIPTOR_INPUT_SIZE, 3]);
  let x: Activation = { name: nhwcToNchw(g, input), channels: 3, size: DESCRIPTOR_INPUT_SIZE };
  x = convLayer(g, w, x, 'conv32_down', 2, true, foldNormalisation(w, 'conv32_down', pixelDivisor));
  x = {
    ...x,
    name: maxPool(g, x.name, 3, 2, 'valid'),
    size: Math.floor((x.size - 3) / 2) + 1,
  };

  for (const [prefix, down] of RESIDUAL_BLOCKS) x = down ? residualDown(g, w, x, prefix) : residual(g, w, x, prefix);

  const descriptor = dense(g, globalAvgPool(g, x.name), weight(w, 'fc'));
  g.output(descriptor, DESCRIPTOR_OUTPUT_NAME, ['batch', DESCRIPTOR_SIZE]);
  return g.toBytes();
}
