/**
 * The engine's layers against plain TypeScript computations of the same layers, with weights
 * written to disk in each reader's format (a face-api manifest with uint8-quantised tensors, a
 * TF.js graph model.json) and read back the way the networks read them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  Engine,
  GraphBuilder,
  avgPool,
  batchNorm,
  conv2d,
  dense,
  depthwiseConv2d,
  globalAvgPool,
  maxPool,
  nchwToNhwc,
  nhwcToNchw,
  readFaceApiWeights,
  readTfjsGraphModel,
  relu6,
  runBatched,
  softmax,
  weight,
  type WeightMap,
} from '../../src/engine/index.js';
import * as ref from './reference-ops.js';

const TOLERANCE = 1e-4;

/** Deterministic pseudo-random values in [-1, 1). */
function values(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

/** Quantises like face-api's exporter: q = round((v - min) / scale), uint8. */
function quantise(v: Float32Array): { q: Uint8Array; scale: number; min: number } {
  const min = Math.min(...v);
  const scale = (Math.max(...v) - min) / 255;
  return { q: Uint8Array.from(v, (x) => Math.round((x - min) / scale)), scale, min };
}

const SPECS: { name: string; shape: number[]; quantised: boolean }[] = [
  { name: 'conv/filters', shape: [3, 3, 3, 4], quantised: true },
  { name: 'conv/bias', shape: [4], quantised: false },
  { name: 'bn/mean', shape: [4], quantised: true },
  { name: 'bn/variance', shape: [4], quantised: true },
  { name: 'bn/gamma', shape: [4], quantised: false },
  { name: 'bn/beta', shape: [4], quantised: true },
  { name: 'dw/filters', shape: [3, 3, 4, 1], quantised: true },
  { name: 'fc/weights', shape: [4, 5], quantised: true },
  { name: 'fc/bias', shape: [5], quantised: false },
];

let dir: string;
let faceApi: WeightMap;
let expectedDequantised: Map<string, Float32Array>;
const engine = new Engine({ threads: 1 });

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'visage-engine-'));
  expectedDequantised = new Map();
  const entries: object[] = [];
  const chunks: Buffer[] = [];
  SPECS.forEach((spec, i) => {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    let v = values(count, i + 1);
    if (spec.name === 'bn/variance') v = v.map((x) => x + 1.5); // variances are positive
    if (spec.quantised) {
      const { q, scale, min } = quantise(v);
      entries.push({ name: spec.name, shape: spec.shape, dtype: 'float32', quantization: { dtype: 'uint8', scale, min } });
      chunks.push(Buffer.from(q));
      expectedDequantised.set(spec.name, Float32Array.from(q, (x) => x * scale + min));
    } else {
      entries.push({ name: spec.name, shape: spec.shape, dtype: 'float32' });
      chunks.push(Buffer.from(v.buffer));
      expectedDequantised.set(spec.name, v);
    }
  });
  // Two shards, split mid-tensor, as large face-api models are.
  const all = Buffer.concat(chunks);
  const cut = Math.floor(all.length / 2) + 1;
  await writeFile(path.join(dir, 'm-shard1'), all.subarray(0, cut));
  await writeFile(path.join(dir, 'm-shard2'), all.subarray(cut));
  await writeFile(path.join(dir, 'm-weights_manifest.json'), JSON.stringify([{ paths: ['m-shard1', 'm-shard2'], weights: entries }]));
  faceApi = await readFaceApiWeights(path.join(dir, 'm-weights_manifest.json'));
});

after(async () => {
  await engine.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** Builds a graph over an NHWC input, runs it on ONNX Runtime, returns the output. */
async function runGraph(key: string, input: ref.Nhwc, body: (g: GraphBuilder, x: string) => string, nchwOut = true): Promise<Float32Array> {
  const g = new GraphBuilder(key);
  const x = g.input('x', ['batch', input.h, input.w, input.c]);
  const y = body(g, nhwcToNchw(g, x));
  g.output(nchwOut ? nchwToNhwc(g, y) : y, 'y');
  const model = await engine.load(key, () => g.toBytes());
  const out = await model.run({ x: { data: input.data, dims: [input.n, input.h, input.w, input.c] } });
  return (out.y as { data: Float32Array }).data;
}

const f32 = (name: string) => weight(faceApi, name).data as Float32Array;
// Odd and even sizes, batch of 2: 'same' padding with stride 2 differs between them.
const input9x10: ref.Nhwc = { data: values(2 * 9 * 10 * 3, 99).map((v) => v * 3), n: 2, h: 9, w: 10, c: 3 };

describe('face-api weights reader', () => {
  test('dequantises uint8 tensors as q * scale + min, across shards', () => {
    for (const spec of SPECS) {
      const w = weight(faceApi, spec.name);
      assert.deepEqual(w.shape, spec.shape);
      assert.ok(maxAbsDiff(w.data as Float32Array, expectedDequantised.get(spec.name) as Float32Array) < 1e-7, spec.name);
    }
  });

  test('a missing weight is named in the error', () => {
    assert.throws(() => weight(faceApi, 'nope/filters'), /Missing weight "nope\/filters"/);
  });

  test('a manifest that does not match its shard sizes is refused', async () => {
    await writeFile(path.join(dir, 'short-shard1'), Buffer.alloc(10));
    await writeFile(path.join(dir, 'short-weights_manifest.json'), JSON.stringify([{ paths: ['short-shard1'], weights: [{ name: 'a', shape: [4], dtype: 'float32' }] }]));
    await assert.rejects(readFaceApiWeights(path.join(dir, 'short-weights_manifest.json')), /needs bytes 0..16 but the shards hold only 10/);
  });
});

describe('TF.js graph model reader', () => {
  test('reads nodes and weights from model.json', async () => {
    const w = values(6, 7);
    await writeFile(path.join(dir, 'g.bin'), Buffer.from(w.buffer));
    await writeFile(
      path.join(dir, 'model.json'),
      JSON.stringify({
        modelTopology: { node: [{ name: 'input', op: 'Placeholder' }, { name: 'k', op: 'Const' }, { name: 'y', op: 'MatMul', input: ['input', 'k'] }] },
        weightsManifest: [{ paths: ['g.bin'], weights: [{ name: 'k', shape: [2, 3], dtype: 'float32' }] }],
      }),
    );
    const model = await readTfjsGraphModel(path.join(dir, 'model.json'));
    assert.deepEqual(model.nodes.map((n) => n.op), ['Placeholder', 'Const', 'MatMul']);
    const k = weight(model.weights, 'k');
    assert.deepEqual(k.shape, [2, 3]);
    // The weights drive a dense layer in ONNX Runtime like any other.
    const rows = values(4, 3);
    const g = new GraphBuilder('tfjs-dense');
    g.output(dense(g, g.input('x', ['batch', 2]), k), 'y');
    const out = await (await engine.load('tfjs-dense', () => g.toBytes())).run({ x: { data: rows, dims: [2, 2] } });
    assert.ok(maxAbsDiff((out.y as { data: Float32Array }).data, ref.dense(rows, 2, w, 3, new Float32Array(3))) < TOLERANCE);
  });
});

describe('layers on ONNX Runtime match plain TypeScript', () => {
  for (const stride of [1, 2]) {
    test(`convolution 3x3, stride ${stride}, same padding, with bias`, async () => {
      const got = await runGraph(`conv-s${stride}`, input9x10, (g, x) =>
        conv2d(g, x, weight(faceApi, 'conv/filters'), weight(faceApi, 'conv/bias'), { stride, padding: 'same' }));
      const want = ref.conv2d(input9x10, f32('conv/filters'), 3, 4, f32('conv/bias'), stride, 'same');
      assert.ok(maxAbsDiff(got, want.data) < TOLERANCE);
    });
  }

  test('convolution with valid padding', async () => {
    const got = await runGraph('conv-valid', input9x10, (g, x) =>
      conv2d(g, x, weight(faceApi, 'conv/filters'), undefined, { stride: 2, padding: 'valid' }));
    assert.ok(maxAbsDiff(got, ref.conv2d(input9x10, f32('conv/filters'), 3, 4, null, 2, 'valid').data) < TOLERANCE);
  });

  let features: ref.Nhwc;
  before(() => {
    features = ref.conv2d(input9x10, f32('conv/filters'), 3, 4, null, 1, 'same');
  });

  test('depthwise convolution, stride 2, same padding', async () => {
    const got = await runGraph('dw', features, (g, x) => depthwiseConv2d(g, x, weight(faceApi, 'dw/filters'), undefined, { stride: 2 }));
    assert.ok(maxAbsDiff(got, ref.depthwise(features, f32('dw/filters'), 3, 2, 'same').data) < TOLERANCE);
  });

  test('batch norm folded into a per-channel affine, then ReLU6', async () => {
    const bn = { mean: weight(faceApi, 'bn/mean'), variance: weight(faceApi, 'bn/variance'), scale: weight(faceApi, 'bn/gamma'), offset: weight(faceApi, 'bn/beta'), epsilon: 1e-3 };
    const got = await runGraph('bn', features, (g, x) => relu6(g, batchNorm(g, x, bn)));
    const want = ref.relu6(ref.batchNorm(features, f32('bn/mean'), f32('bn/variance'), f32('bn/gamma'), f32('bn/beta'), 1e-3));
    assert.ok(maxAbsDiff(got, want.data) < TOLERANCE);
  });

  for (const [kind, k, stride, padding] of [['max', 2, 2, 'same'], ['max', 3, 2, 'valid'], ['avg', 3, 1, 'same'], ['avg', 2, 2, 'valid']] as const) {
    test(`${kind} pooling ${k}x${k}, stride ${stride}, ${padding} padding`, async () => {
      const got = await runGraph(`pool-${kind}-${k}-${stride}-${padding}`, features, (g, x) =>
        kind === 'max' ? maxPool(g, x, k, stride, padding) : avgPool(g, x, k, stride, padding));
      assert.ok(maxAbsDiff(got, ref.pool(features, kind, k, stride, padding).data) < TOLERANCE);
    });
  }

  test('global average pool, dense layer and softmax', async () => {
    const got = await runGraph('head', features, (g, x) =>
      softmax(g, dense(g, globalAvgPool(g, x), weight(faceApi, 'fc/weights'), weight(faceApi, 'fc/bias'))), false);
    const want = ref.softmaxRows(ref.dense(ref.globalMean(features), features.n, f32('fc/weights'), 5, f32('fc/bias')), features.n);
    assert.ok(maxAbsDiff(got, want) < TOLERANCE);
    for (let b = 0; b < features.n; b++) {
      const row = got.subarray(b * 5, b * 5 + 5);
      assert.ok(Math.abs(row.reduce((a, v) => a + v, 0) - 1) < 1e-5);
    }
  });

  test('batched runs equal single runs', async () => {
    const g = new GraphBuilder('batched');
    const x = g.input('x', ['batch', 9, 10, 3]);
    g.output(conv2d(g, nhwcToNchw(g, x), weight(faceApi, 'conv/filters'), weight(faceApi, 'conv/bias'), { stride: 2 }), 'y');
    const model = await engine.load('batched', () => g.toBytes());
    const size = 9 * 10 * 3;
    const items = [0, 1].map((i) => ({ x: { data: input9x10.data.slice(i * size, (i + 1) * size), dims: [1, 9, 10, 3] } }));
    const batched = await runBatched(model, items);
    for (const [i, item] of items.entries()) {
      const single = await model.run(item);
      assert.deepEqual((batched[i]?.y as { data: Float32Array }).data, (single.y as { data: Float32Array }).data);
    }
  });
});
