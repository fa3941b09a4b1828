/**
 * face-api's FaceExpressionNet as an ONNX graph: the full dense-block backbone (its own weights),
 * a fully connected layer to 7 logits, softmax.
 */
import { GraphBuilder, type WeightMap, dense, softmax, weight } from '../../engine/index.js';
import { faceFeatureExtractor, normalisedCropInput } from '../common/feature-extractor.js';

/** The builder's version, part of the disk-cache key: bump it whenever the graph it emits changes. */
export const GRAPH_VERSION = 1;

/** Graph outputs: [batch, 7] logits and their softmax, in face-api's label order. */
export const LOGITS_OUTPUT = 'logits';
export const PROBABILITIES_OUTPUT = 'probabilities';

/** Builds the expression net from its face-api weights. */
export function build(weights: WeightMap): Uint8Array {
  const g = new GraphBuilder('face_expression');
  const features = faceFeatureExtractor(g, normalisedCropInput(g), weights, 'full');
  const logits = dense(g, features, weight(weights, 'fc/weights'), weight(weights, 'fc/bias'));
  g.output(logits, LOGITS_OUTPUT, ['batch', 7]);
  g.output(softmax(g, logits), PROBABILITIES_OUTPUT, ['batch', 7]);
  return g.toBytes();
}
