/**
 * The TF.js graph converter, op by op: small graph models written here run on TensorFlow.js
 * (tfjs-converter on the wasm backend, the reference runtime) and, converted, on ONNX Runtime;
 * outputs agree within 1e-4. And the refusals: unknown ops, missing weights, wrong byte counts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Engine, readTfjsGraphModel, tfjsToOnnx } from '../../src/engine/index.js';
import type { TfjsGraphNode } from '../../src/engine/index.js';
import { isVisageError } from '../../src/errors.js';
import { maxAbsDiff } from '../models/helpers.js';
import { loadTfjsGraphModel, runTfjsGraphModel } from '../reference/tfjs-graph.js';
import { values } from './tflite-builder.js';

const engine = new Engine({ threads: 1 });
let dir = '';
let counter = 0;
before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'visage-tfjs-'))));
after(async () => {
  await engine.dispose();
  await rm(dir, { recursive: true, force: true });
});

interface Const {
  name: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

type Attr = Record<string, unknown>;
const s = (v: string): Attr => ({ s: Buffer.from(v).toString('base64') });
const ints = (v: number[]): Attr => ({ list: { i: v.map(String) } });
const strs = (v: string[]): Attr => ({ list: { s: v.map((x) => Buffer.from(x).toString('base64')) } });
const f = (v: number): Attr => ({ f: v });
const b = (v: boolean): Attr => ({ b: v });
const i = (v: number): Attr => ({ i: String(v) });

const node = (name: string, op: string, input: string[], attr: Record<string, Attr> = {}): TfjsGraphNode => ({ name, op, input, attr: { T: { type: 'DT_FLOAT' }, ...attr } });
const conv = (name: string, x: string, w: string, stride: number, padding: string, extra: Record<string, Attr> = {}, op = 'Conv2D', more: string[] = []) =>
  node(name, op, [x, w, ...more], { strides: ints([1, stride, stride, 1]), padding: s(padding), dilations: ints([1, 1, 1, 1]), data_format: s('NHWC'), ...extra });
const fused = (ops: string[], args: number) => ({ fused_ops: strs(ops), num_args: i(args), epsilon: f(0) });
const pool = (name: string, op: string, x: string, k: number, stride: number, padding: string) =>
  node(name, op, [x], { ksize: ints([1, k, k, 1]), strides: ints([1, stride, stride, 1]), padding: s(padding), data_format: s('NHWC') });
const c = (name: string, shape: number[], seed: number): Const => ({ name, shape, data: values(shape.reduce((a, x) => a * x, 1), seed) });
const int32 = (name: string, data: number[]): Const => ({ name, shape: [data.length], data: Int32Array.from(data) });
const scalar = (name: string, v: number): Const => ({ name, shape: [], data: Float32Array.of(v) });

/** Writes model.json and one shard; returns the model.json path. */
async function writeModel(inputShape: number[], nodes: TfjsGraphNode[], consts: Const[], options: { dropWeight?: string; shardBytes?: (b: Buffer) => Buffer } = {}): Promise<string> {
  const name = `m${counter++}`;
  const placeholder: TfjsGraphNode = { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: inputShape.map((d) => ({ size: String(d) })) } } } };
  const constNodes: TfjsGraphNode[] = consts.map((k) => ({ name: k.name, op: 'Const', attr: { dtype: { type: k.data instanceof Int32Array ? 'DT_INT32' : 'DT_FLOAT' }, value: { tensor: { dtype: k.data instanceof Int32Array ? 'DT_INT32' : 'DT_FLOAT', tensorShape: { dim: k.shape.map((d) => ({ size: String(d) })) } } } } }));
  const stored = consts.filter((k) => k.name !== options.dropWeight);
  const shard = Buffer.concat(stored.map((k) => Buffer.from(k.data.buffer, k.data.byteOffset, k.data.byteLength)));
  await writeFile(path.join(dir, `${name}.bin`), options.shardBytes ? options.shardBytes(shard) : shard);
  const json = {
    format: 'graph-model',
    generatedBy: 'visage test',
    convertedBy: null,
    modelTopology: { node: [placeholder, ...constNodes, ...nodes], versions: { producer: 1 } },
    weightsManifest: [{ paths: [`${name}.bin`], weights: stored.map((k) => ({ name: k.name, shape: k.shape, dtype: k.data instanceof Int32Array ? 'int32' : 'float32' })) }],
  };
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(json));
  return file;
}

/** Largest difference between TF.js and the converted graph on ONNX Runtime, over every output. */
async function compare(inputShape: number[], nodes: TfjsGraphNode[], consts: Const[]): Promise<number> {
  const file = await writeModel(inputShape, nodes, consts);
  const converted = tfjsToOnnx(await readTfjsGraphModel(file));
  const shape = inputShape.map((d) => (d < 0 ? 2 : d));
  const data = values(shape.reduce((a, x) => a * x, 1), 11);
  const model = await engine.load(`tfjs-test-${counter++}`, () => converted.bytes);
  const got = await model.run({ x: { data, dims: shape } });
  const want = await runTfjsGraphModel(await loadTfjsGraphModel(file), data, shape, converted.outputs.map((o) => o.name));
  let worst = 0;
  converted.outputs.forEach((o, k) => {
    const actual = got[o.name];
    const expected = want[k];
    assert.ok(actual && expected, `output ${o.name}`);
    assert.deepEqual(actual.dims, expected.shape, `shape of ${o.name}`);
    assert.deepEqual(o.shape.map((d) => (typeof d === 'number' ? d : 2)), expected.shape, `declared shape of ${o.name}`);
    worst = Math.max(worst, maxAbsDiff(actual.data, expected.data));
  });
  return worst;
}

describe('TF.js graph ops against TensorFlow.js', () => {
  const image = [-1, 8, 8, 3];
  const cases: Record<string, () => Promise<number>> = {
    '_FusedConv2D SAME stride 2 on an even size, BiasAdd + Relu6': () =>
      compare(image, [conv('y', 'x', 'w', 2, 'SAME', fused(['BiasAdd', 'Relu6'], 1), '_FusedConv2D', ['bias'])], [c('w', [3, 3, 3, 4], 2), c('bias', [4], 3)]),
    '_FusedConv2D VALID, BiasAdd + Prelu; BiasAdd + LeakyRelu; BiasAdd + Relu': () =>
      compare(image, [
        conv('a', 'x', 'w', 1, 'VALID', fused(['BiasAdd', 'Prelu'], 2), '_FusedConv2D', ['bias', 'alpha']),
        conv('b', 'a', 'w2', 1, 'SAME', { ...fused(['BiasAdd', 'LeakyRelu'], 1), leakyrelu_alpha: f(0.1) }, '_FusedConv2D', ['bias2']),
        conv('y', 'b', 'w3', 2, 'SAME', fused(['BiasAdd', 'Relu'], 1), '_FusedConv2D', ['bias3']),
      ], [c('w', [3, 3, 3, 4], 2), c('bias', [4], 3), c('alpha', [4], 4), c('w2', [1, 1, 4, 5], 5), c('bias2', [5], 6), c('w3', [2, 2, 5, 2], 7), c('bias3', [2], 8)]),
    'DepthwiseConv2dNative SAME stride 2; FusedDepthwiseConv2dNative multiplier 2, BiasAdd + Relu': () =>
      compare(image, [
        conv('a', 'x', 'dw', 2, 'SAME', {}, 'DepthwiseConv2dNative'),
        conv('y', 'a', 'dw2', 1, 'VALID', fused(['BiasAdd', 'Relu'], 1), 'FusedDepthwiseConv2dNative', ['bias']),
      ], [c('dw', [3, 3, 3, 1], 2), c('dw2', [3, 3, 3, 2], 3), c('bias', [6], 4)]),
    'Conv2D, then Add/Mul of per-channel constants, Sub, RealDiv, Maximum/Minimum with scalars (batch norm and clip as Keras exports them)': () =>
      compare(image, [
        conv('a', 'x', 'w', 1, 'SAME'),
        node('m', 'Mul', ['a', 'scale']),
        node('ad', 'Add', ['m', 'shift']),
        node('r', 'Relu', ['ad']),
        node('mn', 'Minimum', ['r', 'six']),
        node('mx', 'Maximum', ['mn', 'zero']),
        node('sb', 'Sub', ['mx', 'a']),
        node('y', 'RealDiv', ['sb', 'two']),
      ], [c('w', [3, 3, 3, 4], 2), c('scale', [4], 3), c('shift', [4], 4), scalar('six', 0.5), scalar('zero', 0), scalar('two', 2)]),
    'MaxPool SAME 3x3 stride 2, AvgPool VALID 2x2, AvgPool SAME stride 2 (padding left out of the mean)': () =>
      compare([-1, 9, 8, 3], [pool('a', 'MaxPool', 'x', 3, 2, 'SAME'), pool('b', 'AvgPool', 'a', 2, 1, 'VALID'), pool('y', 'AvgPool', 'b', 3, 2, 'SAME')], []),
    'Pad, PadV2, ConcatV2 on channels': () =>
      compare(image, [
        conv('a', 'x', 'w', 1, 'SAME'),
        node('p', 'Pad', ['a', 'pads'], { Tpaddings: { type: 'DT_INT32' } }),
        node('p2', 'PadV2', ['a', 'pads', 'value'], { Tpaddings: { type: 'DT_INT32' } }),
        node('y', 'ConcatV2', ['p', 'p2', 'axis'], { N: i(2), Tidx: { type: 'DT_INT32' } }),
      ], [c('w', [1, 1, 3, 2], 2), { ...int32('pads', [0, 0, 1, 2, 0, 1, 0, 0]), shape: [4, 2] }, scalar('value', 0.25), int32('axis', [3])]),
    'ResizeBilinear to a size whose float scale floors short (TF.js default, half-pixel centres)': () =>
      compare([-1, 11, 9, 3], [
        node('y', 'ResizeBilinear', ['x', 'size'], { align_corners: b(false), half_pixel_centers: b(false) }),
        node('y2', 'ResizeBilinear', ['x', 'size'], { align_corners: b(false), half_pixel_centers: b(true) }),
      ], [int32('size', [13, 7])]),
    'Reshape (flatten in NHWC order), MatMul, _FusedMatMul BiasAdd + Relu, Softmax, Sigmoid': () =>
      compare(image, [
        conv('a', 'x', 'w', 2, 'SAME'),
        node('flat', 'Reshape', ['a', 'shape'], { Tshape: { type: 'DT_INT32' } }),
        node('h', '_FusedMatMul', ['flat', 'fc', 'fcb'], { transpose_a: b(false), transpose_b: b(false), ...fused(['BiasAdd', 'Relu'], 1) }),
        node('logits', 'MatMul', ['h', 'fc2'], { transpose_a: b(false), transpose_b: b(false) }),
        node('y', 'Softmax', ['logits']),
        node('y2', 'Sigmoid', ['logits']),
      ], [c('w', [3, 3, 3, 4], 2), int32('shape', [-1, 64]), c('fc', [64, 10], 3), c('fcb', [10], 4), c('fc2', [10, 5], 5)]),
    'Mean over H and W (kept and dropped), Squeeze, Relu6, Elu, Tanh, LeakyRelu, Prelu, Rsqrt, Square, Identity': () =>
      compare(image, [
        node('k', 'Mean', ['x', 'axes'], { keep_dims: b(true), Tidx: { type: 'DT_INT32' } }),
        node('sq', 'Squeeze', ['k'], { squeeze_dims: ints([1, 2]) }),
        node('r6', 'Relu6', ['sq']),
        node('m', 'Mean', ['x', 'axes'], { keep_dims: b(false), Tidx: { type: 'DT_INT32' } }),
        node('e', 'Elu', ['m']),
        node('t', 'Tanh', ['e']),
        node('l', 'LeakyRelu', ['x'], { alpha: f(0.3) }),
        node('pr', 'Prelu', ['l', 'alpha']),
        node('sq2', 'Square', ['pr']),
        node('one', 'AddV2', ['sq2', 'onec']),
        node('rs', 'Rsqrt', ['one']),
        node('id', 'Identity', ['rs']),
      ], [int32('axes', [1, 2]), c('alpha', [3], 3), scalar('onec', 1)]),
  };
  for (const [name, run] of Object.entries(cases)) {
    it(name, async () => {
      const diff = await run();
      assert.ok(diff < 1e-4, `max difference ${diff}`);
    });
  }
});

describe('TF.js graph refusals', () => {
  const image = [-1, 8, 8, 3];
  it('an unknown op names the op, the node and the model', async () => {
    const file = await writeModel(image, [node('y', 'Cumsum', ['x', 'axis'])], [int32('axis', [1])]);
    const model = await readTfjsGraphModel(file);
    assert.throws(() => tfjsToOnnx(model), (err: unknown) => isVisageError(err, 'INVALID_MODEL') && /Cumsum/.test(err.message) && err.message.includes(path.basename(file)));
  });
  it('a constant missing from the weights manifest', async () => {
    const file = await writeModel(image, [conv('y', 'x', 'w', 1, 'SAME')], [c('w', [3, 3, 3, 4], 2)], { dropWeight: 'w' });
    const model = await readTfjsGraphModel(file);
    assert.throws(() => tfjsToOnnx(model), (err: unknown) => isVisageError(err, 'INVALID_MODEL') && /constant w has no values/.test(err.message));
  });
  it('a truncated weight file', async () => {
    const file = await writeModel(image, [conv('y', 'x', 'w', 1, 'SAME')], [c('w', [3, 3, 3, 4], 2)], { shardBytes: (x) => x.subarray(0, x.length - 4) });
    await assert.rejects(readTfjsGraphModel(file), (err: unknown) => isVisageError(err, 'INVALID_MODEL') && /truncated/.test(err.message));
  });
  it('a weight file longer than its manifest', async () => {
    const file = await writeModel(image, [conv('y', 'x', 'w', 1, 'SAME')], [c('w', [3, 3, 3, 4], 2)], { shardBytes: (x) => Buffer.concat([x, Buffer.alloc(8)]) });
    await assert.rejects(readTfjsGraphModel(file), (err: unknown) => isVisageError(err, 'INVALID_MODEL') && /mismatched/.test(err.message));
  });
  it('a missing model file', async () => {
    await assert.rejects(readTfjsGraphModel(path.join(dir, 'none.json')), (err: unknown) => isVisageError(err, 'FILE_NOT_FOUND'));
  });
  it('an unsupported fused activation', async () => {
    const file = await writeModel(image, [conv('y', 'x', 'w', 1, 'SAME', fused(['BiasAdd', 'Selu'], 1), '_FusedConv2D', ['bias'])], [c('w', [3, 3, 3, 4], 2), c('bias', [4], 3)]);
    const model = await readTfjsGraphModel(file);
    assert.throws(() => tfjsToOnnx(model), (err: unknown) => isVisageError(err, 'INVALID_MODEL') && /Selu/.test(err.message) && /node y/.test(err.message));
  });
});
