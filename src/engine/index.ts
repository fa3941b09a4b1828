export { GraphBuilder, OPSET } from './graph.js';
export type { Dim, ElementType, AttributeValue, ConstantData } from './graph.js';
export * from './layers.js';
export { readFaceApiWeights, readTfjsGraphModel, weight } from './weights.js';
export type { WeightTensor, WeightMap, TfjsGraphModel, TfjsGraphNode } from './weights.js';
export { readDlibNet } from './dlib.js';
export type { DlibLayer, DlibLayerKind } from './dlib.js';
export { Engine, compileOnce, runBatched } from './session.js';
export type { Tensor, Model, EngineOptions } from './session.js';
