/**
 * What the converters from NHWC formats (TFLite, TF.js graphs) share: inside the ONNX graph 4-d
 * activations are kept NCHW, so every value carries its layout, and axes, filters and constants
 * are translated between the two orders.
 */
import type { Dim, GraphBuilder } from './graph.js';

export type Layout = 'nchw' | 'plain';

/** A value in the ONNX graph: its name, its source (NHWC) shape, and how ONNX holds it. */
export interface Value {
  name: string;
  shape: number[];
  layout: Layout;
}

/** A converted model: ONNX bytes, and its inputs and outputs in the source format's layout. */
export interface ConvertedModel {
  bytes: Uint8Array;
  inputs: { name: string; shape: Dim[] }[];
  outputs: { name: string; shape: Dim[] }[];
}

/** NHWC axis → its position in NCHW. */
export const NCHW_AXIS = [0, 2, 3, 1] as const;
export const TO_NCHW = [0, 3, 1, 2];
export const TO_NHWC = [0, 2, 3, 1];

export const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export const normaliseAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** Reorders a row-major array from one axis order to another (perm[i] = source axis of output axis i). */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): { data: Float32Array; shape: number[] } {
  const outShape = perm.map((p) => shape[p] as number);
  const strides = shape.map((_, i) => size(shape.slice(i + 1)));
  const out = new Float32Array(data.length);
  const index = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < perm.length; k++) src += (index[k] as number) * (strides[perm[k] as number] as number);
    out[o] = data[src] as number;
    for (let k = perm.length - 1; k >= 0; k--) {
      index[k] = (index[k] as number) + 1;
      if ((index[k] as number) < (outShape[k] as number)) break;
      index[k] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/**
 * A bilinear Resize of an NCHW value to newH x newW given as sizes, not scales: a float scale
 * such as 13 / 11 can floor to one row short. Batch and channels are read from the input.
 */
export function resizeBilinearTo(g: GraphBuilder, input: string, newH: number, newW: number, mode: 'align_corners' | 'half_pixel' | 'asymmetric'): string {
  const batchAndChannels = g.node('Slice', [g.node('Shape', [input]), g.ints('start', [0]), g.ints('end', [2])]);
  const sizes = g.node('Concat', [batchAndChannels, g.ints('size', [newH, newW])], { axis: 0 });
  return g.node('Resize', [input, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: mode });
}
