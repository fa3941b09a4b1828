/**
 * The int8 rewrite (engine/quantize.ts) on a small network: batch norm folded, ranges calibrated
 * through the exposed graph, ONNX Runtime fusing the result into QLinearConv, and outputs within
 * a few quantisation steps of the float network's.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { GraphBuilder, batchNorm, conv2d, relu6 } from '../../src/engine/index.js';
import type { WeightTensor } from '../../src/engine/index.js';
import { calibrationTensors, exposeTensors, quantizeGraph, uint8Params, type ActivationRanges } from '../../src/engine/quantize.js';

/** A deterministic pseudo-random sequence in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 30) - 1);
}
const tensorOf = (name: string, shape: number[], seed: number, scale = 1): WeightTensor => ({ name, shape, data: values(shape.reduce((a, b) => a * b), seed).map((v) => v * scale) }) as WeightTensor;

/** conv 3x3 (8 → 16) → batch norm → ReLU6 → conv 1x1 (16 → 8) with bias → ReLU6 → conv 1x1 head (kept float). */
function network(): Uint8Array {
  const g = new GraphBuilder('quantize_test');
  const x = g.input('x', ['batch', 8, 16, 16]);
  let y = conv2d(g, x, tensorOf('c1/weights', [3, 3, 8, 16], 1, 0.3));
  y = relu6(g, batchNorm(g, y, { mean: tensorOf('bn/mean', [16], 2, 0.1), variance: { name: 'bn/var', shape: [16], data: values(16, 3).map((v) => 1.5 + v) } as WeightTensor, epsilon: 1e-3 }));
  y = relu6(g, conv2d(g, y, tensorOf('c2/weights', [1, 1, 16, 8], 4, 0.4), tensorOf('c2/bias', [8], 5, 0.5)));
  g.output(conv2d(g, y, tensorOf('head/weights', [1, 1, 8, 4], 6, 0.5)), 'out', ['batch', 4, 16, 16]);
  return g.toBytes();
}

const inputs = [1, 2, 3].map((seed) => values(8 * 16 * 16, 100 + seed).map((v) => v * 3));
const feed = (data: Float32Array) => ({ x: new ort.Tensor('float32', data, [1, 8, 16, 16]) });
const options = { keepFloat: (w: string) => w.startsWith('head/') };

async function calibrate(graph: Uint8Array): Promise<ActivationRanges> {
  const names = calibrationTensors(graph, options);
  const session = await ort.InferenceSession.create(exposeTensors(graph, names));
  const ranges: ActivationRanges = {};
  for (const input of inputs) {
    const out = await session.run(feed(input));
    for (const name of names) {
      const d = (out[name] as ort.Tensor).data as Float32Array;
      const r = ranges[name] ?? { min: Infinity, max: -Infinity };
      ranges[name] = { min: Math.min(r.min, ...d), max: Math.max(r.max, ...d) };
    }
  }
  return ranges;
}

describe('quantizeGraph', () => {
  test('uint8 parameters hold 0 exactly', () => {
    assert.deepEqual(uint8Params({ min: 0, max: 6 }), { scale: 6 / 255, zeroPoint: 0 });
    assert.equal(uint8Params({ min: -1, max: 3 }).zeroPoint, 64);
    assert.equal(uint8Params({ min: 0.5, max: 2 }).zeroPoint, 0); // widened down to 0
    assert.throws(() => uint8Params({ min: 0, max: 0 }), /Cannot quantise/);
  });

  test('calibration covers the int8 convolutions, not the ones kept float', () => {
    const names = calibrationTensors(network(), options);
    // x, the first ReLU6 (batch norm folded away), the second ReLU6; the head reads the last as float.
    assert.equal(names.length, 3);
    assert.ok(names.includes('x'));
    assert.equal(calibrationTensors(network()).length, 4, 'with the head quantised, its output too');
  });

  test('ONNX Runtime runs it as QLinearConv, within a few steps of float', async () => {
    const graph = network();
    const ranges = await calibrate(graph);
    const int8 = quantizeGraph(graph, ranges, options);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'visage-quantize-'));
    try {
      const optimised = path.join(dir, 'int8.onnx');
      const [a, b] = [
        await ort.InferenceSession.create(graph, { graphOptimizationLevel: 'all' }),
        await ort.InferenceSession.create(int8, { graphOptimizationLevel: 'all', optimizedModelFilePath: optimised, logSeverityLevel: 3 }),
      ];
      const ops = onnxProto.onnx.ModelProto.decode(await readFile(optimised)).graph?.node?.map((n) => n.opType) ?? [];
      assert.equal(ops.filter((op) => op === 'QLinearConv').length, 2, ops.join(' '));
      assert.ok(ops.filter((op) => op === 'Conv').length <= 1, 'only the head kept float is a float Conv');
      for (const input of inputs) {
        const [fa, fb] = [(await a.run(feed(input))).out, (await b.run(feed(input))).out].map((t) => (t as ort.Tensor).data as Float32Array) as [Float32Array, Float32Array];
        let diff = 0;
        let span = 0;
        for (let i = 0; i < fa.length; i++) {
          diff = Math.max(diff, Math.abs((fa[i] as number) - (fb[i] as number)));
          span = Math.max(span, Math.abs(fa[i] as number));
        }
        assert.ok(diff < 0.05 * span && diff > 0, `max difference ${diff} of outputs up to ${span}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a tensor without a range is an error, not a silent float', () => {
    assert.throws(() => quantizeGraph(network(), {}, options), /No calibrated range/);
  });
});
