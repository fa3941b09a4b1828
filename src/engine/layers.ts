/**
 * Layers with TensorFlow semantics expressed as ONNX nodes. Activations are NCHW inside the graph;
 * weights arrive in TF.js layouts and are re-laid here, in one place, so no network gets it wrong.
 */
import type { GraphBuilder } from './graph.js';
import type { WeightTensor } from './weights.js';

/** TF padding: 'same' pads 0 before and the extra 1 after (ONNX SAME_UPPER), 'valid' none. */
export type Padding = 'same' | 'valid';

export interface ConvOptions {
  stride?: number;
  padding?: Padding;
  dilation?: number;
}

function floats(t: WeightTensor): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new Error(`Weight ${t.name} is not float32`);
  return t.data;
}

function dims4(t: WeightTensor): [number, number, number, number] {
  const [h, w, i, o] = t.shape;
  if (t.shape.length !== 4 || h === undefined || w === undefined || i === undefined || o === undefined) {
    throw new Error(`Weight ${t.name}: expected a 4-d filter, got [${t.shape.join(', ')}]`);
  }
  return [h, w, i, o];
}

/** [h, w, in, out] (TF) → [out, in, h, w] (ONNX). */
export function filterToOnnx(t: WeightTensor): { data: Float32Array; dims: number[] } {
  const [h, w, cin, cout] = dims4(t);
  const src = floats(t);
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) {
          out[((o * cin + i) * h + y) * w + x] = src[((y * w + x) * cin + i) * cout + o] as number;
        }
  return { data: out, dims: [cout, cin, h, w] };
}

function convAttrs(kernel: [number, number], opts: ConvOptions, group = 1) {
  const stride = opts.stride ?? 1;
  const dilation = opts.dilation ?? 1;
  return {
    kernel_shape: kernel,
    strides: [stride, stride],
    dilations: [dilation, dilation],
    group,
    ...((opts.padding ?? 'same') === 'same' ? { auto_pad: 'SAME_UPPER' } : { pads: [0, 0, 0, 0] }),
  };
}

/** The Conv node's optional bias input: none, or one [out] constant. */
function convBias(g: GraphBuilder, filter: WeightTensor, bias: WeightTensor | Float32Array | undefined): string[] {
  if (!bias) return [];
  const b = bias instanceof Float32Array ? bias : floats(bias);
  return [g.constant(bias instanceof Float32Array ? `${filter.name}_bias` : bias.name, b, [b.length])];
}

/** Convolution with a TF [h, w, in, out] filter and an optional bias. */
export function conv2d(
  g: GraphBuilder,
  x: string,
  filter: WeightTensor,
  bias?: WeightTensor | Float32Array,
  opts: ConvOptions = {},
): string {
  const { data, dims } = filterToOnnx(filter);
  const inputs = [x, g.constant(filter.name, data, dims), ...convBias(g, filter, bias)];
  return g.node('Conv', inputs, convAttrs([dims[2] as number, dims[3] as number], opts));
}

/** Depthwise convolution with a TF [h, w, C, 1] filter: ONNX [C, 1, h, w] with group = C. */
export function depthwiseConv2d(
  g: GraphBuilder,
  x: string,
  filter: WeightTensor,
  bias?: WeightTensor | Float32Array,
  opts: ConvOptions = {},
): string {
  const [h, w, c, m] = dims4(filter);
  if (m !== 1) throw new Error(`Weight ${filter.name}: depth multiplier ${m} is not supported`);
  const src = floats(filter);
  const data = new Float32Array(src.length);
  for (let y = 0; y < h; y++)
    for (let xx = 0; xx < w; xx++)
      for (let ch = 0; ch < c; ch++) data[(ch * h + y) * w + xx] = src[(y * w + xx) * c + ch] as number;
  const inputs = [x, g.constant(filter.name, data, [c, 1, h, w]), ...convBias(g, filter, bias)];
  return g.node('Conv', inputs, convAttrs([h, w], opts, c));
}

/** TF separable convolution: depthwise (no bias) then 1x1 pointwise with bias. */
export function separableConv2d(
  g: GraphBuilder,
  x: string,
  depthwise: WeightTensor,
  pointwise: WeightTensor,
  bias?: WeightTensor,
  opts: ConvOptions = {},
): string {
  const dw = depthwiseConv2d(g, x, depthwise, undefined, opts);
  return conv2d(g, dw, pointwise, bias, { stride: 1, padding: 'same' });
}

/** Per-channel y = x * scale + shift, constants shaped [C, 1, 1] so they broadcast over NCHW. */
export function channelAffine(g: GraphBuilder, x: string, scale: Float32Array | null, shift: Float32Array | null, hint = 'affine'): string {
  let y = x;
  if (scale) y = g.node('Mul', [y, g.constant(`${hint}_scale`, scale, [scale.length, 1, 1])]);
  if (shift) y = g.node('Add', [y, g.constant(`${hint}_shift`, shift, [shift.length, 1, 1])]);
  return y;
}

export interface BatchNormWeights {
  mean: WeightTensor;
  variance: WeightTensor;
  scale?: WeightTensor;
  offset?: WeightTensor;
  epsilon: number;
}

/** Batch norm folded into one per-channel affine: scale' = gamma / sqrt(var + eps). */
export function batchNorm(g: GraphBuilder, x: string, bn: BatchNormWeights): string {
  const mean = floats(bn.mean);
  const variance = floats(bn.variance);
  const gamma = bn.scale ? floats(bn.scale) : null;
  const beta = bn.offset ? floats(bn.offset) : null;
  const scale = new Float32Array(mean.length);
  const shift = new Float32Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    const s = (gamma ? (gamma[c] as number) : 1) / Math.sqrt((variance[c] as number) + bn.epsilon);
    scale[c] = s;
    shift[c] = (beta ? (beta[c] as number) : 0) - (mean[c] as number) * s;
  }
  return channelAffine(g, x, scale, shift, bn.mean.name);
}

/** Dense layer with TF [in, out] weights on a [N, in] input. */
export function dense(g: GraphBuilder, x: string, weights: WeightTensor, bias?: WeightTensor): string {
  const [cin, cout] = weights.shape;
  if (weights.shape.length !== 2 || cin === undefined || cout === undefined) {
    throw new Error(`Weight ${weights.name}: expected [in, out], got [${weights.shape.join(', ')}]`);
  }
  const inputs = [x, g.constant(weights.name, floats(weights), [cin, cout])];
  if (bias) inputs.push(g.constant(bias.name, floats(bias), [cout]));
  return g.node('Gemm', inputs);
}

export const relu = (g: GraphBuilder, x: string): string => g.node('Relu', [x]);

/** ReLU6 as Clip with min and max as inputs (opset >= 11). */
export function relu6(g: GraphBuilder, x: string): string {
  return g.node('Clip', [x, g.scalar('zero', 0), g.scalar('six', 6)]);
}

export function leakyRelu(g: GraphBuilder, x: string, alpha: number): string {
  return g.node('LeakyRelu', [x], { alpha: { float: alpha } });
}

export function maxPool(g: GraphBuilder, x: string, size: number, stride: number, padding: Padding = 'same'): string {
  return g.node('MaxPool', [x], {
    kernel_shape: [size, size],
    strides: [stride, stride],
    ...(padding === 'same' ? { auto_pad: 'SAME_UPPER' } : { pads: [0, 0, 0, 0] }),
  });
}

/** Average pooling; TF excludes padded cells from the mean, as count_include_pad = 0 does. */
export function avgPool(g: GraphBuilder, x: string, size: number, stride: number, padding: Padding = 'valid'): string {
  return g.node('AveragePool', [x], {
    kernel_shape: [size, size],
    strides: [stride, stride],
    count_include_pad: 0,
    ...(padding === 'same' ? { auto_pad: 'SAME_UPPER' } : { pads: [0, 0, 0, 0] }),
  });
}

/** Mean over H and W: [N, C, H, W] → [N, C]. */
export function globalAvgPool(g: GraphBuilder, x: string): string {
  return g.node('Flatten', [g.node('GlobalAveragePool', [x])], { axis: 1 });
}

export function softmax(g: GraphBuilder, x: string, axis = -1): string {
  return g.node('Softmax', [x], { axis });
}

export function sigmoid(g: GraphBuilder, x: string): string {
  return g.node('Sigmoid', [x]);
}

/** NHWC → NCHW (graph inputs arrive as images laid out NHWC). */
export function nhwcToNchw(g: GraphBuilder, x: string): string {
  return g.node('Transpose', [x], { perm: [0, 3, 1, 2] });
}

/** NCHW → NHWC (heads whose outputs are read in TF order). */
export function nchwToNhwc(g: GraphBuilder, x: string): string {
  return g.node('Transpose', [x], { perm: [0, 2, 3, 1] });
}
