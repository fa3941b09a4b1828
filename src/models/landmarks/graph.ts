/**
 * face-api's FaceLandmark68Net / FaceLandmark68TinyNet as an ONNX graph: the dense-block backbone
 * and one fully connected layer giving 136 values, (x, y) interleaved, relative to the 112x112
 * square input.
 */
import { GraphBuilder, type WeightMap, dense, weight } from '../../engine/index.js';
import { type FeatureExtractorVariant, faceFeatureExtractor, normalisedCropInput } from '../common/feature-extractor.js';

/** The builder's version, part of the disk-cache key: bump it whenever the graph it emits changes. */
export const GRAPH_VERSION = 2;

/** Name of the graph output: [batch, 136]. */
export const LANDMARKS_OUTPUT = 'landmarks';

/** Builds the landmark net ('full': 256 features, 'tiny': 128) from its face-api weights. */
export function build(weights: WeightMap, variant: FeatureExtractorVariant): Uint8Array {
  const g = new GraphBuilder(`face_landmark_68_${variant}`);
  const features = faceFeatureExtractor(g, normalisedCropInput(g), weights, variant);
  const out = dense(g, features, weight(weights, 'fc/weights'), weight(weights, 'fc/bias'));
  g.output(out, LANDMARKS_OUTPUT, ['batch', 136]);
  return g.toBytes();
}
