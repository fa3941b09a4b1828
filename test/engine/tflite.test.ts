/**
 * The TFLite reader and converter, op by op: small models built here run on LiteRT (the
 * reference runtime) and, converted, on ONNX Runtime; outputs agree within 1e-4. And the
 * refusals: wrong magic, truncated files, operators visage cannot convert.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { Engine, readTflite, tfliteToOnnx } from '../../src/engine/index.js';
import * as fb from '../../src/engine/tflite/schema.generated.js';
import { isVisageError } from '../../src/errors.js';
import { mobileFaceNetFile } from '../../src/models/mobilefacenet/index.js';
import { maxAbsDiff } from '../models/helpers.js';
import { runLiteRt } from '../reference/litert.js';
import { buildTflite, float16Bits, values, type TestOp, type TestTensor } from './tflite-builder.js';

const engine = new Engine({ threads: 1 });
after(() => engine.dispose());
let counter = 0;

/** Runs a built model on both runtimes and returns the largest difference of its first output. */
async function compare(tensors: TestTensor[], ops: TestOp[], inputs: number[], outputs: number[]): Promise<number> {
  const bytes = buildTflite(tensors, ops, inputs, outputs);
  const feeds = inputs.map((i, k) => {
    const shape = (tensors[i] as TestTensor).shape;
    return { data: values(shape.reduce((a, b) => a * b, 1), k + 7), dims: shape };
  });
  const [expected] = await runLiteRt(bytes, feeds);
  const converted = tfliteToOnnx(readTflite(bytes, 'test.tflite'));
  const model = await engine.load(`tflite-test-${counter++}`, () => converted.bytes);
  const out = await model.run(Object.fromEntries(converted.inputs.map((x, k) => [x.name, feeds[k] as { data: Float32Array; dims: number[] }])));
  const actual = out[converted.outputs[0]?.name as string];
  assert.ok(expected && actual);
  assert.deepEqual(actual.dims, expected.dims);
  return maxAbsDiff(actual.data, expected.data);
}

const A = fb.ActivationFunctionType;
const conv2d = (padding: fb.Padding, stride: number, act: fb.ActivationFunctionType) => (b: Parameters<NonNullable<TestOp['options']>>[0]) => ({
  type: fb.BuiltinOptions.Conv2DOptions,
  offset: fb.Conv2DOptions.createConv2DOptions(b, padding, stride, stride, act, 1, 1),
});

describe('TFLite ops against LiteRT', () => {
  const image = { shape: [1, 8, 8, 3] };
  const cases: Record<string, () => Promise<number>> = {
    'CONV_2D SAME stride 2 on an even size, RELU6, bias': () =>
      compare([image, { shape: [4, 3, 3, 3], data: values(108, 2) }, { shape: [4], data: values(4, 3) }, { shape: [1, 4, 4, 4] }],
        [{ op: 'CONV_2D', inputs: [0, 1, 2], outputs: [3], options: conv2d(fb.Padding.SAME, 2, A.RELU6) }], [0], [3]),
    'DEPTHWISE_CONV_2D multiplier 2, RELU': () =>
      compare([image, { shape: [1, 3, 3, 6], data: values(54, 5) }, { shape: [6], data: values(6, 6) }, { shape: [1, 8, 8, 6] }],
        [{ op: 'DEPTHWISE_CONV_2D', inputs: [0, 1, 2], outputs: [3], options: (b) => ({ type: fb.BuiltinOptions.DepthwiseConv2DOptions, offset: fb.DepthwiseConv2DOptions.createDepthwiseConv2DOptions(b, fb.Padding.SAME, 1, 1, 2, A.RELU, 1, 1) }) }], [0], [3]),
    'ADD of a per-channel constant, MUL, SUB, ABS (PReLU expanded as MobileFaceNet has it)': () =>
      compare([image, { shape: [3], data: values(3, 8) }, { shape: [1, 8, 8, 3] }, { shape: [1, 8, 8, 3] }, { shape: [1, 8, 8, 3] }, { shape: [1, 1, 3], data: values(3, 9) }, { shape: [1, 8, 8, 3] }, { shape: [1, 8, 8, 3] }, { shape: [1, 8, 8, 3] }],
        [
          { op: 'ADD', inputs: [0, 1], outputs: [2] },
          { op: 'RELU', inputs: [2], outputs: [3] },
          { op: 'ABS', inputs: [2], outputs: [4] },
          { op: 'SUB', inputs: [2, 4], outputs: [6] },
          { op: 'MUL', inputs: [6, 5], outputs: [7] },
          { op: 'ADD', inputs: [3, 7], outputs: [8] },
        ], [0], [8]),
    'PRELU, LEAKY_RELU, LOGISTIC': () =>
      compare([image, { shape: [1, 1, 3], data: values(3, 10) }, { shape: [1, 8, 8, 3] }, { shape: [1, 8, 8, 3] }, { shape: [1, 8, 8, 3] }],
        [
          { op: 'PRELU', inputs: [0, 1], outputs: [2] },
          { op: 'LEAKY_RELU', inputs: [2], outputs: [3], options: (b) => ({ type: fb.BuiltinOptions.LeakyReluOptions, offset: fb.LeakyReluOptions.createLeakyReluOptions(b, 0.1) }) },
          { op: 'LOGISTIC', inputs: [3], outputs: [4] },
        ], [0], [4]),
    'MAX_POOL_2D SAME stride 2, AVERAGE_POOL_2D VALID': () =>
      compare([image, { shape: [1, 4, 4, 3] }, { shape: [1, 3, 3, 3] }],
        [
          { op: 'MAX_POOL_2D', inputs: [0], outputs: [1], options: (b) => ({ type: fb.BuiltinOptions.Pool2DOptions, offset: fb.Pool2DOptions.createPool2DOptions(b, fb.Padding.SAME, 2, 2, 2, 2, A.NONE) }) },
          { op: 'AVERAGE_POOL_2D', inputs: [1], outputs: [2], options: (b) => ({ type: fb.BuiltinOptions.Pool2DOptions, offset: fb.Pool2DOptions.createPool2DOptions(b, fb.Padding.VALID, 1, 1, 2, 2, A.NONE) }) },
        ], [0], [2]),
    'PAD, CONCATENATION on channels, RESIZE_BILINEAR': () =>
      compare([image, { shape: [4, 2], type: 'int32', data: Int32Array.of(0, 0, 1, 1, 2, 0, 0, 0) }, { shape: [1, 10, 10, 3] }, { shape: [1, 10, 10, 6] }, { shape: [2], type: 'int32', data: Int32Array.of(20, 20) }, { shape: [1, 20, 20, 6] }],
        [
          { op: 'PAD', inputs: [0, 1], outputs: [2] },
          { op: 'CONCATENATION', inputs: [2, 2], outputs: [3], options: (b) => ({ type: fb.BuiltinOptions.ConcatenationOptions, offset: fb.ConcatenationOptions.createConcatenationOptions(b, 3, A.NONE) }) },
          { op: 'RESIZE_BILINEAR', inputs: [3, 4], outputs: [5], options: (b) => ({ type: fb.BuiltinOptions.ResizeBilinearOptions, offset: fb.ResizeBilinearOptions.createResizeBilinearOptions(b, false) }) },
        ], [0], [5]),
    'RESIZE_BILINEAR to a size whose float scale floors short (11 → 13)': () =>
      compare([{ shape: [1, 11, 11, 3] }, { shape: [2], type: 'int32', data: Int32Array.of(13, 13) }, { shape: [1, 13, 13, 3] }],
        [{ op: 'RESIZE_BILINEAR', inputs: [0, 1], outputs: [2], options: (b) => ({ type: fb.BuiltinOptions.ResizeBilinearOptions, offset: fb.ResizeBilinearOptions.createResizeBilinearOptions(b, false) }) }], [0], [2]),
    'MEAN over space, FULLY_CONNECTED, SOFTMAX': () =>
      compare([image, { shape: [2], type: 'int32', data: Int32Array.of(1, 2) }, { shape: [1, 3] }, { shape: [5, 3], data: values(15, 11) }, { shape: [5], data: values(5, 12) }, { shape: [1, 5] }, { shape: [1, 5] }],
        [
          { op: 'MEAN', inputs: [0, 1], outputs: [2], options: (b) => ({ type: fb.BuiltinOptions.ReducerOptions, offset: fb.ReducerOptions.createReducerOptions(b, false) }) },
          { op: 'FULLY_CONNECTED', inputs: [2, 3, 4], outputs: [5] },
          { op: 'SOFTMAX', inputs: [5], outputs: [6], options: (b) => ({ type: fb.BuiltinOptions.SoftmaxOptions, offset: fb.SoftmaxOptions.createSoftmaxOptions(b, 1) }) },
        ], [0], [6]),
    // BlazeFace's forms: float16 weights through DEQUANTIZE, a residual whose shortcut is max-pooled
    // and zero-padded on the channel axis, and RESIZE_BILINEAR with half-pixel centres.
    'DEQUANTIZE float16 → CONV_2D, MAX_POOL_2D + PAD on channels + ADD, RESIZE_BILINEAR half-pixel': () =>
      compare([
        image,
        { shape: [5, 3, 3, 3], type: 'float16', data: float16Bits(values(135, 13)) },
        { shape: [5, 3, 3, 3] },
        { shape: [5], data: values(5, 14) },
        { shape: [1, 4, 4, 5] },
        { shape: [1, 4, 4, 3] },
        { shape: [4, 2], type: 'int32', data: Int32Array.of(0, 0, 0, 0, 0, 0, 0, 2) },
        { shape: [1, 4, 4, 5] },
        { shape: [1, 4, 4, 5] },
        { shape: [2], type: 'int32', data: Int32Array.of(8, 8) },
        { shape: [1, 8, 8, 5] },
      ], [
        { op: 'DEQUANTIZE', inputs: [1], outputs: [2] },
        { op: 'CONV_2D', inputs: [0, 2, 3], outputs: [4], options: conv2d(fb.Padding.SAME, 2, A.NONE) },
        { op: 'MAX_POOL_2D', inputs: [0], outputs: [5], options: (b) => ({ type: fb.BuiltinOptions.Pool2DOptions, offset: fb.Pool2DOptions.createPool2DOptions(b, fb.Padding.SAME, 2, 2, 2, 2, A.NONE) }) },
        { op: 'PAD', inputs: [5, 6], outputs: [7] },
        { op: 'ADD', inputs: [4, 7], outputs: [8], options: (b) => ({ type: fb.BuiltinOptions.AddOptions, offset: fb.AddOptions.createAddOptions(b, A.RELU) }) },
        {
          op: 'RESIZE_BILINEAR',
          inputs: [8, 9],
          outputs: [10],
          // half_pixel_centers is slot 3, newer than the generated bindings: written by hand.
          options: (b) => {
            b.startObject(4);
            b.addFieldInt8(3, 1, 0);
            return { type: fb.BuiltinOptions.ResizeBilinearOptions, offset: b.endObject() };
          },
        },
      ], [0], [10]),
    'RESHAPE of an NHWC activation (the order of the flattened values)': () =>
      compare([image, { shape: [1, 192] }, { shape: [2], type: 'int32', data: Int32Array.of(1, 192) }],
        [{ op: 'RESHAPE', inputs: [0, 2], outputs: [1] }], [0], [1]),
    'STRIDED_SLICE of an NCHW activation: strides, a negative stride, begin and end masks': () =>
      compare([image, { shape: [1, 8, 8, 3] }, { shape: [4], type: 'int32', data: Int32Array.of(0, 1, 5, -1) }, { shape: [4], type: 'int32', data: Int32Array.of(1, 7, 0, 0) }, { shape: [4], type: 'int32', data: Int32Array.of(1, 2, 3, -1) }, { shape: [1, 3, 3, 3] }],
        [
          { op: 'MAX_POOL_2D', inputs: [0], outputs: [1], options: (b) => ({ type: fb.BuiltinOptions.Pool2DOptions, offset: fb.Pool2DOptions.createPool2DOptions(b, fb.Padding.VALID, 1, 1, 1, 1, A.NONE) }) },
          // axis 2 begins masked (0) and ends at 8 via end 0 + mask; axis 3 runs backwards from the last channel.
          { op: 'STRIDED_SLICE', inputs: [1, 2, 3, 4], outputs: [5], options: (b) => ({ type: fb.BuiltinOptions.StridedSliceOptions, offset: fb.StridedSliceOptions.createStridedSliceOptions(b, 0b0100, 0b1100, 0, 0, 0) }) },
        ], [0], [5]),
    'STRIDED_SLICE with a shrunk axis, and the DTN\'s whole-tensor slice': () =>
      compare([{ shape: [2, 6] }, { shape: [2, 6] }, { shape: [2], type: 'int32', data: Int32Array.of(0, 0) }, { shape: [2], type: 'int32', data: Int32Array.of(0, 0) }, { shape: [2], type: 'int32', data: Int32Array.of(1, 1) }, { shape: [2], type: 'int32', data: Int32Array.of(-1, 1) }, { shape: [2], type: 'int32', data: Int32Array.of(0, 6) }, { shape: [2], type: 'int32', data: Int32Array.of(1, 2) }, { shape: [3] }],
        [
          { op: 'STRIDED_SLICE', inputs: [0, 2, 3, 4], outputs: [1], options: (b) => ({ type: fb.BuiltinOptions.StridedSliceOptions, offset: fb.StridedSliceOptions.createStridedSliceOptions(b, 3, 3, 0, 0, 0) }) },
          { op: 'STRIDED_SLICE', inputs: [1, 5, 6, 7], outputs: [8], options: (b) => ({ type: fb.BuiltinOptions.StridedSliceOptions, offset: fb.StridedSliceOptions.createStridedSliceOptions(b, 0, 0, 0, 0, 1) }) },
        ], [0], [8]),
    'GREATER_EQUAL, GREATER, LESS, LESS_EQUAL against a constant with equal entries, CAST to float32, CONCATENATION': () => {
      const x = values(4, 7);
      const threshold = Float32Array.of(x[0] as number, (x[1] as number) + 0.1, (x[2] as number) - 0.1, x[3] as number);
      const concat = (b: Parameters<NonNullable<TestOp['options']>>[0]) => ({ type: fb.BuiltinOptions.ConcatenationOptions, offset: fb.ConcatenationOptions.createConcatenationOptions(b, 1, A.NONE) });
      const ops: TestOp[] = (['GREATER_EQUAL', 'GREATER', 'LESS', 'LESS_EQUAL'] as const).flatMap((op, k) => [
        { op, inputs: [0, 1], outputs: [2 + k] },
        { op: 'CAST' as const, inputs: [2 + k], outputs: [6 + k] },
      ]);
      return compare([{ shape: [1, 4] }, { shape: [4], data: threshold }, ...Array.from({ length: 4 }, () => ({ shape: [1, 4], type: 'bool' as const })), ...Array.from({ length: 4 }, () => ({ shape: [1, 4] })), { shape: [1, 16] }],
        [...ops, { op: 'CONCATENATION', inputs: [6, 7, 8, 9], outputs: [10], options: concat }], [0], [10]);
    },
  };
  for (const [name, run] of Object.entries(cases)) {
    it(name, async () => {
      const diff = await run();
      assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
    });
  }
});

describe('TFLite refusals', () => {
  const refused = (f: () => unknown, pattern: RegExp) =>
    assert.throws(f, (err: unknown) => isVisageError(err, 'INVALID_MODEL') && pattern.test((err as Error).message));

  it('refuses a file without the TFL3 identifier', () => {
    refused(() => readTflite(new TextEncoder().encode('\x89PNG\r\n\x1a\n not a model at all'), 'x.png'), /TFL3/);
    refused(() => readTflite(new Uint8Array(3), 'tiny'), /too short/);
  });

  it('refuses a truncated file', async () => {
    const bytes = new Uint8Array(await readFile(mobileFaceNetFile()));
    refused(() => tfliteToOnnx(readTflite(bytes.subarray(0, 4096), 'MobileFaceNet.tflite')), /Cannot read TFLite model MobileFaceNet\.tflite/);
  });

  it('refuses a STRIDED_SLICE with an ellipsis mask, naming the operator', () => {
    const ints = (...v: number[]) => ({ shape: [2], type: 'int32' as const, data: Int32Array.from(v) });
    const bytes = buildTflite([{ shape: [2, 6] }, { shape: [2, 6] }, ints(0, 0), ints(1, 6), ints(1, 1)],
      [{ op: 'STRIDED_SLICE', inputs: [0, 2, 3, 4], outputs: [1], options: (b) => ({ type: fb.BuiltinOptions.StridedSliceOptions, offset: fb.StridedSliceOptions.createStridedSliceOptions(b, 0, 0, 1, 0, 0) }) }], [0], [1]);
    refused(() => tfliteToOnnx(readTflite(bytes, 'slice.tflite')), /slice\.tflite.*STRIDED_SLICE.*ellipsis/);
  });

  it('names an operator it cannot convert, and the model', () => {
    const bytes = buildTflite([{ shape: [1, 4] }, { shape: [1, 4] }], [{ op: 'FLOOR', inputs: [0], outputs: [1] }], [0], [1]);
    refused(() => tfliteToOnnx(readTflite(bytes, 'floor.tflite')), /floor\.tflite.*FLOOR/);
  });
});
