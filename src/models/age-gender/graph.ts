/**
 * face-api's AgeGenderNet as an ONNX graph: TinyXception with two main blocks, a 7x7 average
 * pool to 512 features, then two fully connected heads: age (years, a regression) and gender
 * (2 logits, [male, female], and their softmax).
 */
import { GraphBuilder, type WeightMap, conv2d, dense, maxPool, relu, softmax, weight } from '../../engine/index.js';
import { normalisedCropInput, poolToFeatures, separableConv } from '../common/feature-extractor.js';

/** The builder's version, part of the disk-cache key: bump it whenever the graph it emits changes. */
export const GRAPH_VERSION = 2;

/** Graph outputs: age [batch], gender logits and probabilities [batch, 2] as (male, female). */
export const AGE_OUTPUT = 'age';
export const GENDER_LOGITS_OUTPUT = 'gender_logits';
export const GENDER_OUTPUT = 'gender';

/** face-api's AgeGenderNet uses TinyXception(2). */
const MAIN_BLOCKS = 2;

function conv(g: GraphBuilder, x: string, weights: WeightMap, prefix: string, stride: number): string {
  return conv2d(g, x, weight(weights, `${prefix}/filters`), weight(weights, `${prefix}/bias`), { stride, padding: 'same' });
}

/** Two separable convs and a stride-2 max pool, plus a strided 1x1 conv of the block's input. */
function reductionBlock(g: GraphBuilder, x: string, weights: WeightMap, prefix: string, activateInput: boolean): string {
  let out = separableConv(g, activateInput ? relu(g, x) : x, weights, `${prefix}/separable_conv0`);
  out = separableConv(g, relu(g, out), weights, `${prefix}/separable_conv1`);
  out = maxPool(g, out, 3, 2, 'same');
  return g.node('Add', [out, conv(g, x, weights, `${prefix}/expansion_conv`, 2)]);
}

/** Three ReLU + separable convs with an identity shortcut. */
function mainBlock(g: GraphBuilder, x: string, weights: WeightMap, prefix: string): string {
  let out = x;
  for (let i = 0; i < 3; i++) out = separableConv(g, relu(g, out), weights, `${prefix}/separable_conv${i}`);
  return g.node('Add', [out, x]);
}

/** Builds the age/gender net from its face-api weights. */
export function build(weights: WeightMap): Uint8Array {
  const g = new GraphBuilder('age_gender');
  let out = relu(g, conv(g, normalisedCropInput(g), weights, 'entry_flow/conv_in', 2));
  out = reductionBlock(g, out, weights, 'entry_flow/reduction_block_0', false);
  out = reductionBlock(g, out, weights, 'entry_flow/reduction_block_1', true);
  for (let i = 0; i < MAIN_BLOCKS; i++) out = mainBlock(g, out, weights, `middle_flow/main_block_${i}`);
  out = reductionBlock(g, out, weights, 'exit_flow/reduction_block', true);
  out = relu(g, separableConv(g, out, weights, 'exit_flow/separable_conv'));
  const features = poolToFeatures(g, out, 7); // 112 → 7 after four stride-2 steps
  const age = dense(g, features, weight(weights, 'fc/age/weights'), weight(weights, 'fc/age/bias'));
  const genderLogits = dense(g, features, weight(weights, 'fc/gender/weights'), weight(weights, 'fc/gender/bias'));
  g.output(g.node('Reshape', [age, g.ints('age_shape', [-1])]), AGE_OUTPUT, ['batch']);
  g.output(genderLogits, GENDER_LOGITS_OUTPUT, ['batch', 2]);
  g.output(softmax(g, genderLogits), GENDER_OUTPUT, ['batch', 2]);
  return g.toBytes();
}
