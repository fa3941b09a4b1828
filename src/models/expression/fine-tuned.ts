/**
 * visage's fine-tuned expression net: face-api's FaceExpressionNet graph (graph.ts) with weights
 * visage trained end to end on the training part of FER2013's training set
 * (bench/train-expression-net.py; the README gives the command). They ship in face-api's weight
 * format in the package's models/visage-expression, read by the same reader and builder as
 * face-api's own. The crop and its mirror image are both classified and their probabilities
 * averaged: on the held-out tune part of the training set that read 64.3% against 62.1% for the
 * crop alone, and blending in face-api's own net lost there (63.0% at a quarter).
 */
import { visageManifest } from '../common/packaged.js';
import { type FloatImage, mirror } from '../common/preprocess.js';
import { EXPRESSION_LABELS, type ExpressionNet, type Expressions } from './net.js';

export const FINE_TUNED_MANIFEST = visageManifest('visage-expression/face_expression_model');

/** Expressions of many crops: the mean of each crop's and its mirror image's probabilities. */
export async function mirrorAveragedExpressions(net: Pick<ExpressionNet, 'predictBatch'>, crops: readonly FloatImage[]): Promise<Expressions[]> {
  const both = await net.predictBatch([...crops, ...crops.map(mirror)]);
  return crops.map((_, i) => meanExpressions(both[i] as Expressions, both[crops.length + i] as Expressions));
}

/** The mean of two sets of probabilities. */
export function meanExpressions(a: Expressions, b: Expressions): Expressions {
  return Object.fromEntries(EXPRESSION_LABELS.map((l) => [l, (a[l] + b[l]) / 2])) as Expressions;
}
