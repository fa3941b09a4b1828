/**
 * The whole default chain against face-api's own `detectAll` on the shipped demo photos:
 * SSD → 68 landmarks → descriptor, expression and age/gender, each on the crop face-api takes.
 * Slow (the reference runs on TF.js wasm, one thread): kept apart from the pipeline tests.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createVisage, type Emotion, type Visage } from '../../src/index.js';
import { iou } from '../../src/models/common/boxes.js';
import { FACEAPI_DEMO_DIR, loadFaceApiReference, type FaceApiReference } from '../reference/faceapi.js';

const MIN_IOU = 0.95;
// visage's descriptor runs dlib's full-precision weights, face-api the same weights quantised to
// 8 bits: their descriptors agree to a cosine of about 0.9994.
const MIN_COSINE = 0.999;
const PROBABILITY_TOLERANCE = 0.01;
const AGE_TOLERANCE = 0.5;

/** face-api's expression names → visage's. */
const EMOTION_OF: Record<string, Emotion> = {
  neutral: 'neutral',
  happy: 'happy',
  sad: 'sad',
  angry: 'angry',
  fearful: 'fear',
  disgusted: 'disgust',
  surprised: 'surprise',
};

const SAMPLES = [1, 2, 3, 4, 5, 6].map((i) => path.join(FACEAPI_DEMO_DIR, `sample${i}.jpg`));

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => {
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  });
  return dot / Math.sqrt(na * nb);
}

let visage: Visage;
let reference: FaceApiReference;

before(async () => {
  // face-api's own crop and a single descriptor pass: the configuration that reproduces face-api.
  [visage, reference] = await Promise.all([createVisage({ recognizer: 'dlib', align: 'box', averageMirror: false }), loadFaceApiReference()]);
});

after(async () => {
  reference.dispose();
  await visage.close();
});

test('the default chain agrees with face-api detectAll on sample1..6', async (t) => {
  const worst = { iou: 1, cosine: 1, expression: 0, gender: 0, age: 0 };
  for (const file of SAMPLES) {
    const name = path.basename(file);
    const [expected, analysis, representation] = await Promise.all([reference.detectAllCached(file), visage.analyze(file), visage.represent(file)]);
    assert.equal(analysis.faces.length, expected.length, `${name}: face count (analyze)`);
    assert.equal(representation.faces.length, expected.length, `${name}: face count (represent)`);
    for (const ref of expected) {
      const best = <T extends { box: typeof ref.box }>(faces: T[]): T => faces.reduce((p, q) => (iou(q.box, ref.box) > iou(p.box, ref.box) ? q : p));
      const analysed = best(analysis.faces);
      const represented = best(representation.faces);
      const overlap = Math.min(iou(analysed.box, ref.box), iou(represented.box, ref.box));
      assert.ok(overlap >= MIN_IOU, `${name}: box IoU ${overlap}`);

      const similarity = cosine(represented.embedding, ref.descriptor);
      assert.ok(similarity >= MIN_COSINE, `${name}: descriptor cosine ${similarity}`);

      const emotion = analysed.emotion;
      assert.ok(emotion, `${name}: no emotion`);
      for (const [label, p] of Object.entries(ref.expressions)) {
        const mine = emotion[EMOTION_OF[label] as Emotion];
        const diff = Math.abs(mine - p);
        assert.ok(diff <= PROBABILITY_TOLERANCE, `${name}: ${label} ${mine} vs ${p}`);
        worst.expression = Math.max(worst.expression, diff);
      }

      // face-api reports the likelier gender and its probability.
      const gender = analysed.gender?.[ref.gender === 'male' ? 'man' : 'woman'];
      assert.ok(gender !== undefined, `${name}: no gender`);
      const genderDiff = Math.abs(gender - ref.genderProbability);
      assert.ok(genderDiff <= PROBABILITY_TOLERANCE, `${name}: gender ${gender} vs ${ref.genderProbability}`);
      const ageDiff = Math.abs((analysed.age ?? Number.NaN) - ref.age);
      assert.ok(ageDiff <= AGE_TOLERANCE, `${name}: age ${analysed.age} vs ${ref.age}`);

      worst.iou = Math.min(worst.iou, overlap);
      worst.cosine = Math.min(worst.cosine, similarity);
      worst.gender = Math.max(worst.gender, genderDiff);
      worst.age = Math.max(worst.age, ageDiff);
    }
  }
  t.diagnostic(
    `worst over all faces: IoU ${worst.iou.toFixed(4)}, cosine ${worst.cosine.toFixed(6)}, expression ${worst.expression.toExponential(2)}, ` +
      `gender ${worst.gender.toExponential(2)}, age ${worst.age.toFixed(3)}`,
  );
});
