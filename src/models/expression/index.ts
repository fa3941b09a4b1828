export { EXPRESSION_LABELS, createExpressionNet } from './net.js';
export type { ExpressionDetail, ExpressionLabel, ExpressionNet, ExpressionOptions, Expressions } from './net.js';
export { FINE_TUNED_MANIFEST, meanExpressions, mirrorAveragedExpressions } from './fine-tuned.js';
