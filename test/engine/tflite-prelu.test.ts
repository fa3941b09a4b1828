/**
 * The converter's PReLU fusion: relu(x) + m * (x - |x|), as Keras writes PReLU out, becomes one
 * ONNX PRelu with slope 2m (values checked against LiteRT in tflite.test.ts and on MobileFaceNet
 * in mobilefacenet.test.ts); where an intermediate is used elsewhere, the ops stay as they are.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
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
  it('turns the five expanded ops into one PRelu', () => {
    const ops = opTypes(tfliteToOnnx(readTflite(buildTflite(tensors, expanded, [0], [6]), 'prelu.tflite')).bytes);
    assert.equal(ops.filter((op) => op === 'PRelu').length, 1);
    for (const op of ['Relu', 'Abs', 'Sub', 'Mul', 'Add']) assert.ok(!ops.includes(op), `${op} left in [${ops.join(', ')}]`);
  });

  it('leaves them alone where an intermediate is also an output', () => {
    const ops = opTypes(tfliteToOnnx(readTflite(buildTflite(tensors, expanded, [0], [6, 2]), 'prelu.tflite')).bytes);
    assert.ok(!ops.includes('PRelu'));
    assert.ok(ops.includes('Abs'));
  });

  it('fuses every PReLU of the shipped MobileFaceNet', async () => {
    const ops = opTypes(tfliteToOnnx(readTflite(await readFile(mobileFaceNetFile()), 'MobileFaceNet.tflite')).bytes);
    assert.equal(ops.filter((op) => op === 'PRelu').length, 33);
    assert.ok(!ops.includes('Abs'));
  });
});
