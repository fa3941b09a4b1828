export { createDescriptorNet } from './net.js';
export { descriptorCropBox, prepareDescriptorInput } from './preprocess.js';
export type { FaceCrop } from './preprocess.js';
export { buildDescriptorGraph, DESCRIPTOR_INPUT_SIZE, DESCRIPTOR_SIZE } from './graph.js';
export type { DescriptorNet, DescriptorOptions } from './types.js';
