export { EXPRESSION_LABELS, createExpressionNet } from './net.js';
export type { ExpressionLabel, ExpressionNet, ExpressionOptions, Expressions } from './net.js';
