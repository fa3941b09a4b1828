/**
 * human's FaceRes net, converted from its TF.js graph model, against the same model run by
 * TensorFlow.js (wasm) after human's own pre-processing (resize of the 0..1 face, times 255), on
 * every face of the shipped photos cropped as the pipeline crops; age read as human reads it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/index.js';
import { humanModel } from '../../src/models/common/human.js';
import { FACERES_DESCRIPTOR_LENGTH, FACERES_SIZE, type FaceResNet, createFaceResNet, faceResAge } from '../../src/models/faceres/index.js';
import { loadTfjsGraphModel } from '../reference/tfjs-graph.js';
import { tf, type Tensor } from '../reference/tfjs-wasm.js';
import { maxAbsDiff } from './helpers.js';
import { type SampleFace, humanFaceTensor, humanResize, pipelineFaceCrops } from './human-helpers.js';

let engine: Engine;
let net: FaceResNet;
let faces: SampleFace[];

before(async () => {
  engine = new Engine({ threads: 1 });
  net = await createFaceResNet(engine);
  faces = await pipelineFaceCrops();
  assert.ok(faces.length >= 20, `expected faces on the samples, found ${faces.length}`);
});

after(() => engine.dispose());

/** human's age reading, as written in its faceres.ts (argmax, then the likelier neighbour). */
function humanAge(all: Float32Array): number {
  let idx = 0;
  for (let i = 1; i < all.length; i++) if ((all[i] as number) > (all[idx] as number)) idx = i;
  return Math.round((all[idx - 1] as number) > (all[idx + 1] as number) ? 10 * idx - 100 * (all[idx - 1] as number) : 10 * idx + 100 * (all[idx + 1] as number)) / 10;
}

test('descriptor, age and gender outputs equal human on TF.js (max abs diff <= 1e-4); same age and gender', async (t) => {
  const model = await loadTfjsGraphModel(humanModel('faceres'));
  const actual = await net.predictBatch(faces.map((f) => f.crop));
  let worst = { gender: 0, descriptor: 0, age: 0, years: 0 };
  for (const [i, f] of faces.entries()) {
    const face = humanFaceTensor(f.crop);
    const resized = humanResize(face, FACERES_SIZE);
    const input = tf.mul(resized, 255);
    const [gender, descriptor, age] = model.execute(input, ['gender_pred/Sigmoid', 'global_pooling/Mean', 'age_pred/Softmax']) as Tensor[];
    const a = actual[i]!;
    const ageProbabilities = (await age!.data()) as Float32Array;
    const expectedGender = (await gender!.data())[0] as number;
    assert.equal(a.descriptor.length, FACERES_DESCRIPTOR_LENGTH);
    worst = {
      gender: Math.max(worst.gender, Math.abs(a.gender.man - expectedGender)),
      descriptor: Math.max(worst.descriptor, maxAbsDiff(a.descriptor, await descriptor!.data())),
      age: worst.age,
      years: Math.max(worst.years, Math.abs(a.age - humanAge(ageProbabilities))),
    };
    assert.equal(a.gender.man > 0.5, expectedGender > 0.5, `${f.image}: gender`);
    tf.dispose([face, resized, input, gender!, descriptor!, age!]);
  }
  // The age probabilities themselves, on one batch through forwardRaw.
  const batch = new Float32Array(faces.length * FACERES_SIZE * FACERES_SIZE * 3);
  for (const [i, f] of faces.entries()) {
    const face = humanFaceTensor(f.crop);
    const input = tf.mul(humanResize(face, FACERES_SIZE), 255);
    batch.set(await input.data(), i * FACERES_SIZE * FACERES_SIZE * 3);
    tf.dispose([face, input]);
  }
  const raw = await net.forwardRaw({ data: batch, dims: [faces.length, FACERES_SIZE, FACERES_SIZE, 3] });
  const reference = model.execute(tf.tensor4d(batch, [faces.length, FACERES_SIZE, FACERES_SIZE, 3]), 'age_pred/Softmax') as Tensor;
  worst.age = maxAbsDiff(raw.age.data, await reference.data());
  reference.dispose();
  t.diagnostic(`${faces.length} faces, max abs diff: gender ${worst.gender.toExponential(2)}, descriptor ${worst.descriptor.toExponential(2)}, age probabilities ${worst.age.toExponential(2)}; age in years vs human's (rounded to 0.1) ${worst.years.toFixed(3)}`);
  assert.ok(worst.gender <= 1e-4 && worst.descriptor <= 1e-4 && worst.age <= 1e-4, JSON.stringify(worst));
  // human rounds to 0.1 year; visage does not.
  assert.ok(worst.years <= 0.05 + 1e-3, `age off by ${worst.years}`);
});

test("the age reading: the likeliest year moved toward its likelier neighbour, ends included", () => {
  const p = new Float32Array(100);
  p[30] = 0.5; p[29] = 0.1; p[31] = 0.3;
  assert.ok(Math.abs(faceResAge(p) - 33) < 1e-6);
  p.fill(0); p[0] = 0.9; p[1] = 0.05;
  assert.ok(Math.abs(faceResAge(p) - 0.5) < 1e-6);
  p.fill(0); p[99] = 0.9; p[98] = 0.05;
  assert.ok(Math.abs(faceResAge(p) - 98.5) < 1e-6);
});
