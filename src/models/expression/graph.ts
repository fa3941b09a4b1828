/**
 * face-api's FaceExpressionNet as an ONNX graph: the full dense-block backbone (its own weights),
 * a fully connected layer to 7 logits, softmax. Two more outputs feed visage's own head
 * (src/models/expression-head): the pooled 256 features, and the last 7x7 map pooled over a 3x3
 * grid of overlapping 3x3 windows, which keeps where on the face each feature fired.
 */
import { GraphBuilder, type WeightMap, dense, softmax, weight } from '../../engine/index.js';
import { faceFeatureMap, normalisedCropInput, poolToFeatures } from '../common/feature-extractor.js';

/** The builder's version, part of the disk-cache key: bump it whenever the graph it emits changes. */
export const GRAPH_VERSION = 3;

/** Graph outputs: [batch, 7] logits and their softmax, in face-api's label order. */
export const LOGITS_OUTPUT = 'logits';
export const PROBABILITIES_OUTPUT = 'probabilities';
/** [batch, 256]: the pooled features the net's own dense layer reads. */
export const FEATURES_OUTPUT = 'features';
/** [batch, 3 * 3 * 256]: the 7x7x256 map averaged over 3x3 windows at stride 2, row by row, channels last. */
export const GRID_OUTPUT = 'grid';
export const FEATURE_LENGTH = 256;
export const GRID_LENGTH = 3 * 3 * 256;

/** Builds the expression net from its face-api weights. */
export function build(weights: WeightMap): Uint8Array {
  const g = new GraphBuilder('face_expression');
  const map = faceFeatureMap(g, normalisedCropInput(g), weights, 'full');
  const features = poolToFeatures(g, map, 7);
  const logits = dense(g, features, weight(weights, 'fc/weights'), weight(weights, 'fc/bias'));
  const windows = g.node('AveragePool', [map], { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0] });
  const grid = g.node('Flatten', [g.node('Transpose', [windows], { perm: [0, 2, 3, 1] })], { axis: 1 });
  g.output(logits, LOGITS_OUTPUT, ['batch', 7]);
  g.output(softmax(g, logits), PROBABILITIES_OUTPUT, ['batch', 7]);
  g.output(features, FEATURES_OUTPUT, ['batch', FEATURE_LENGTH]);
  g.output(grid, GRID_OUTPUT, ['batch', GRID_LENGTH]);
  return g.toBytes();
}
