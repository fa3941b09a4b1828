/**
 * The age/gender net against @vladmandic/face-api on TF.js wasm: raw outputs on identical inputs,
 * and age and gender against face-api's full chain (SSD → landmarks → aligned box → integer
 * crop → age/gender), on the shipped sample photos.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/index.js';
import { type AgeGender, type AgeGenderNet, createAgeGenderNet } from '../../src/models/age-gender/index.js';
import type { FloatImage } from '../../src/models/common/preprocess.js';
import { type FaceApiReference, loadFaceApiReference } from '../reference/faceapi.js';
import { SAMPLE_IMAGES, maxAbsDiff, referenceFaceCrops, sampleName, squareBatch } from './helpers.js';

interface Face {
  image: string;
  crop: FloatImage;
  age: number;
  /** face-api's probability of 'male'. */
  man: number;
}

let ref: FaceApiReference;
let engine: Engine;
let net: AgeGenderNet;
const faces: Face[] = [];

before(async () => {
  ref = await loadFaceApiReference();
  engine = new Engine({ threads: 2 });
  net = await createAgeGenderNet(engine);
  for (const file of SAMPLE_IMAGES) {
    // face-api classifies the box its landmarks re-derive.
    for (const { face: f, crop } of await referenceFaceCrops(ref, file, (face) => face.alignedBox)) {
      faces.push({
        image: sampleName(file),
        crop,
        age: f.age,
        man: f.gender === 'male' ? f.genderProbability : 1 - f.genderProbability,
      });
    }
  }
  assert.ok(faces.length >= 20, `expected faces on the samples, found ${faces.length}`);
});

after(async () => {
  await engine.dispose();
  ref.dispose();
});

test('raw age and gender outputs equal face-api on identical input (max abs diff <= 1e-3)', async (t) => {
  const { data: batch, dims: shape } = squareBatch(faces.map((f) => f.crop), 112);
  const expected = await ref.ageGenderNet(batch, shape);
  const actual = await net.forwardRaw({ data: batch, dims: shape });
  assert.deepEqual(actual.age.dims, expected.age.shape);
  assert.deepEqual(actual.genderLogits.dims, expected.genderLogits.shape);
  const age = maxAbsDiff(actual.age.data, expected.age.data);
  const logits = maxAbsDiff(actual.genderLogits.data, expected.genderLogits.data);
  const probabilities = maxAbsDiff(actual.gender.data, expected.genderProbabilities.data);
  t.diagnostic(
    `max abs diff over ${faces.length} faces: age ${age.toExponential(2)}, gender logits ${logits.toExponential(2)}, probabilities ${probabilities.toExponential(2)}`,
  );
  assert.ok(age <= 1e-3 && logits <= 1e-3 && probabilities <= 1e-3, `age ${age}, logits ${logits}, probabilities ${probabilities}`);
});

test("age within 0.5 years and gender within 0.01 of face-api's full chain", async (t) => {
  const perImage = new Map<string, { age: number; gender: number }>();
  for (const face of faces) {
    const { age, gender } = await net.predict(face.crop);
    const ageDiff = Math.abs(age - face.age);
    const genderDiff = Math.abs(gender.man - face.man);
    const seen = perImage.get(face.image) ?? { age: 0, gender: 0 };
    perImage.set(face.image, { age: Math.max(seen.age, ageDiff), gender: Math.max(seen.gender, genderDiff) });
    assert.ok(ageDiff <= 0.5, `${face.image}: age off by ${ageDiff}`);
    assert.ok(genderDiff <= 0.01, `${face.image}: gender off by ${genderDiff}`);
    assert.ok(Math.abs(gender.man + gender.woman - 1) < 1e-6);
  }
  t.diagnostic(
    `max diff per image (age years / gender): ${[...perImage].map(([k, v]) => `${k} ${v.age.toExponential(1)}/${v.gender.toExponential(1)}`).join(', ')}`,
  );
});

test('a batch gives the same age and gender as single crops', async (t) => {
  const batched = await net.predictBatch(faces.map((f) => f.crop));
  let worst = 0;
  for (const [i, face] of faces.entries()) {
    const single = await net.predict(face.crop);
    const b = batched[i] as AgeGender;
    worst = Math.max(worst, Math.abs(b.age - single.age), Math.abs(b.gender.man - single.gender.man));
  }
  t.diagnostic(`batch vs single max diff ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-4, `batch vs single ${worst}`);
});
