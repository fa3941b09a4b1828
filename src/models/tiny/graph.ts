/**
 * face-api's Tiny face detector as an ONNX graph: a 3x3 convolution, five separable convolutions
 * (depthwise + pointwise with bias, no batch norm), leaky ReLU and max pools, and a 1x1 output
 * convolution giving a YOLO grid (decoded in TypeScript, see postprocess.ts).
 */
import { GraphBuilder } from '../../engine/graph.js';
import { conv2d, leakyRelu, maxPool, nchwToNhwc, nhwcToNchw, separableConv2d } from '../../engine/layers.js';
import { weight, type WeightMap } from '../../engine/weights.js';

/** The builder's version, part of the disk-cache key: bump it whenever the graph it emits changes. */
export const TINY_GRAPH_VERSION = 1;

/** Graph input and output names. */
export const TINY_IO = {
  /** NHWC float32 [N, s, s, 3], values 0..255, s a multiple of 32. */
  input: 'input',
  /** NHWC [N, s/32, s/32, 25]: per cell, 5 anchors x (tx, ty, tw, th, objectness logit). */
  grid: 'grid',
} as const;

/** face-api's mean RGB, subtracted before scaling by 1/255. */
export const TINY_MEAN_RGB = [117.001, 114.697, 97.404] as const;
/** face-api's leaky ReLU slope (float32 0.1). */
const LEAKY_ALPHA = 0.10000000149011612;

/**
 * Builds the Tiny face detector graph from face-api's `tiny_face_detector_model` weights.
 * The input size is dynamic: one graph serves every input size.
 */
export function buildTinyGraph(w: WeightMap): Uint8Array {
  const g = new GraphBuilder('tiny_face_detector');
  const input = g.input(TINY_IO.input, ['batch', 'height', 'width', 3]);
  const mean = g.constant('mean_rgb', Float32Array.from(TINY_MEAN_RGB), [3]);
  const normalised = g.node('Div', [g.node('Sub', [input, mean]), g.scalar('scale', 255)]);

  // The first layer is a plain 3x3 convolution without padding (face-api's isFirstLayerConv2d).
  let x = conv2d(g, nhwcToNchw(g, normalised), weight(w, 'conv0/filters'), weight(w, 'conv0/bias'), { padding: 'valid' });
  x = leakyRelu(g, x, LEAKY_ALPHA);
  for (let i = 1; i <= 5; i++) {
    x = maxPool(g, x, 2, 2);
    // face-api pads 1 on every side then runs 'valid': 'same' for a 3x3 stride-1 kernel.
    x = separableConv2d(g, x, weight(w, `conv${i}/depthwise_filter`), weight(w, `conv${i}/pointwise_filter`), weight(w, `conv${i}/bias`));
    x = leakyRelu(g, x, LEAKY_ALPHA);
  }
  x = maxPool(g, x, 2, 1);
  x = conv2d(g, x, weight(w, 'conv8/filters'), weight(w, 'conv8/bias'), { padding: 'valid' });
  g.output(nchwToNhwc(g, x), TINY_IO.grid, ['batch', 'cells_y', 'cells_x', 25]);
  return g.toBytes();
}
