/**
 * The converter's PReLU fusion: relu(x) + m * (x - |x|), as Keras writes PReLU out, becomes one
 * PReLU with slope 2m, written as x + (1 - 2m) * relu(-x) by two 1x1 depthwise convolutions
 * (values checked against LiteRT in tflite.test.ts and on MobileFaceNet in mobilefacenet.test.ts);
 * where an intermediate is used elsewhere, the ops stay as they are.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { readTflite, tfliteToOnnx } from '../../src/engine/index.js';
import { mobileFaceNetFile } from '../../src/models/mobilefacenet/index.js';
import { buildTflite, values, type TestOp, type TestTensor } from './tflite-builder.js';

const opTypes = (bytes: Uint8Array) => onnxProto.onnx.ModelProto.decode(bytes).graph?.node?.map((n) => n.opType) ?? [];

const tensors: TestTensor[] = [
  { shape: [1, 8, 8, 3] }, { shape: [1, 8, 8, 3] }, { shape: [1, 8, 8, 3] }, { shape: [1, 8, 8, 3] },
  { shape: [3], data: values(3, 9) }, { shape: [1, 8, 8, 3] }, { shape: [1, 8, 8, 3] },
];
const expanded: TestOp[] = [
  { op: 'RELU', inputs: [0], outputs: [1] },
  { op: 'ABS', inputs: [0], outputs: [2] },
  { op: 'SUB', inputs: [0, 2], outputs: [3] },
  { op: 'MUL', inputs: [4, 3], outputs: [5] },
  { op: 'ADD', inputs: [1, 5], outputs: [6] },
];

describe('TFLite PReLU fusion', () => {
  it('turns the five expanded ops into one PReLU: two depthwise 1x1 convolutions, a ReLU and an Add', () => {
    const ops = opTypes(tfliteToOnnx(readTflite(buildTflite(tensors, expanded, [0], [6]), 'prelu.tflite')).bytes);
    assert.deepEqual(ops.filter((op) => op !== 'Transpose' && op !== 'Identity'), ['Conv', 'Relu', 'Conv', 'Add']);
  });

  it('computes PReLU: x where x >= 0, slope * x below', async () => {
    const onnx = tfliteToOnnx(readTflite(buildTflite(tensors, expanded, [0], [6]), 'prelu.tflite'));
    const session = await ort.InferenceSession.create(onnx.bytes);
    const x = Float32Array.from({ length: 8 * 8 * 3 }, (_, i) => ((i * 37) % 23) - 11);
    const out = await session.run({ [session.inputNames[0] as string]: new ort.Tensor('float32', x, [1, 8, 8, 3]) });
    const y = out[session.outputNames[0] as string]?.data as Float32Array;
    const m = values(3, 9);
    x.forEach((v, i) => {
      const expected = v >= 0 ? v : 2 * (m[i % 3] as number) * v;
      assert.ok(Math.abs((y[i] as number) - expected) <= 1e-5 * Math.max(1, Math.abs(expected)), `${i}: ${y[i]} vs ${expected}`);
    });
    await session.release();
  });

  it('leaves them alone where an intermediate is also an output', () => {
    const ops = opTypes(tfliteToOnnx(readTflite(buildTflite(tensors, expanded, [0], [6, 2]), 'prelu.tflite')).bytes);
    assert.ok(!ops.includes('PRelu'));
    assert.ok(ops.includes('Abs'));
  });

  it('fuses every PReLU of the shipped MobileFaceNet', async () => {
    const ops = opTypes(tfliteToOnnx(readTflite(await readFile(mobileFaceNetFile()), 'MobileFaceNet.tflite')).bytes);
    assert.equal(ops.filter((op) => op === 'Relu').length, 33);
    assert.ok(!ops.includes('Abs') && !ops.includes('PRelu'));
  });
});
