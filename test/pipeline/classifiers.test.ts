/**
 * The selectable classifiers through the public API: human's emotion net and FaceRes age/gender
 * beside face-api's, per call and as instance defaults, each result naming its model; FaceRes in
 * the pipeline agrees with human's model run by TF.js on the pipeline's own crop.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createVisage, isVisageError, loadImage, type Box, type EmotionModel, type Visage } from '../../src/index.js';
import { humanModel } from '../../src/models/common/human.js';
import { FACERES_SIZE } from '../../src/models/faceres/index.js';
import { asPixels, attributeBox, cropBox } from '../../src/pipeline/align.js';
import { humanFaceTensor, humanResize } from '../models/human-helpers.js';
import { loadTfjsGraphModel } from '../reference/tfjs-graph.js';
import { tf, type Tensor } from '../reference/tfjs-wasm.js';

const DEMO = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
const sample = (i: number) => path.join(DEMO, `sample${i}.jpg`);
const contains = (box: Box, x: number, y: number) => x >= box.x && x <= box.x + box.width && y >= box.y && y <= box.y + box.height;
/** Smiling faces in the face-api samples, [sample, x, y] inside each face: the same as the face-api test in pipeline.test.ts (checked by eye). */
const SMILING: readonly [number, number, number][] = [
  [1, 1577, 320],
  [3, 1185, 365],
  [3, 1600, 430],
  [4, 1350, 265],
  [6, 760, 475],
];

let visage: Visage;
before(async () => {
  visage = await createVisage({ threads: 1 });
});
after(() => visage.close());

/** Every SMILING face comes out happy with `emotionModel`, named as its model, its probabilities summing to 1. */
async function assertSmilingHappy(emotionModel: EmotionModel): Promise<void> {
  for (const [i, x, y] of SMILING) {
    const { faces } = await visage.analyze(sample(i), { actions: ['emotion'], emotionModel });
    const face = faces.find((f) => contains(f.box, x, y));
    assert.ok(face, `sample${i}: no face at (${x}, ${y})`);
    assert.deepEqual(face.models, { emotion: emotionModel });
    assert.equal(face.dominantEmotion, 'happy', `sample${i} (${x}, ${y}): ${JSON.stringify(face.emotion)}`);
    const sum = Object.values(face.emotion ?? {}).reduce((s, p) => s + p, 0);
    assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to ${sum}`);
  }
}

describe('emotionModel: human', () => {
  test('the smiling faces in the face-api samples come out happy with human\'s net too', async () => {
    await assertSmilingHappy('human');
  });

  test('the two classifiers differ on the same face (the option is not ignored)', async () => {
    const [a, b] = await Promise.all([
      visage.analyze(sample(1), { actions: ['emotion'] }),
      visage.analyze(sample(1), { actions: ['emotion'], emotionModel: 'human' }),
    ]);
    assert.deepEqual(a.faces[0]?.models, { emotion: 'face-api' });
    assert.notDeepEqual(a.faces[0]?.emotion, b.faces[0]?.emotion);
  });
});

describe('emotionModel: visage', () => {
  test("the smiling faces in the face-api samples come out happy with visage's head", async () => {
    await assertSmilingHappy('visage');
  });

  test("MTCNN's five-point faces get the 68 landmarks the head's geometry reads", async () => {
    const { faces } = await visage.analyze(sample(1), { actions: ['emotion'], emotionModel: 'visage', detector: 'mtcnn' });
    assert.ok(faces.length > 0, 'MTCNN found no face');
    for (const face of faces) {
      const sum = Object.values(face.emotion ?? {}).reduce((s, p) => s + p, 0);
      assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to ${sum}`);
    }
    const laughing = faces.find((f) => contains(f.box, 1577, 320));
    assert.equal(laughing?.dominantEmotion, 'happy', JSON.stringify(laughing?.emotion));
  });
});

describe('emotionModel: visage-net', () => {
  test("the smiling faces in the face-api samples come out happy with visage's fine-tuned net", async () => {
    await assertSmilingHappy('visage-net');
  });
});

describe('emotionModel: visage-mobilefacenet', () => {
  test("the smiling faces in the face-api samples come out happy with visage's MobileFaceNet expression net", async () => {
    await assertSmilingHappy('visage-mobilefacenet');
  });
});

describe('emotionModel: visage-ensemble', () => {
  test('the smiling faces in the face-api samples come out happy with the mean of visage-net and visage-mobilefacenet', async () => {
    await assertSmilingHappy('visage-ensemble');
  });

  test('is the mean of the two nets it names', async () => {
    const emotionOf = async (emotionModel: EmotionModel) => (await visage.analyze(sample(1), { actions: ['emotion'], emotionModel })).faces[0]?.emotion;
    const a = await emotionOf('visage-net');
    const b = await emotionOf('visage-mobilefacenet');
    const c = await emotionOf('visage-ensemble');
    assert.ok(a && b && c);
    for (const k of Object.keys(c) as (keyof typeof c)[]) assert.ok(Math.abs(c[k] - (a[k] + b[k]) / 2) < 1e-6, k);
  });
});

describe('ageGenderModel: faceres', () => {
  test('plausible age and gender on sample1 (three women in their twenties or thirties), equal to human\'s model on TF.js', async () => {
    const { faces } = await visage.analyze(sample(1), { actions: ['age', 'gender'], ageGenderModel: 'faceres' });
    assert.equal(faces.length, 3);
    const detected = await visage.detect(sample(1));
    const pixels = asPixels(await loadImage(sample(1)));
    const model = await loadTfjsGraphModel(humanModel('faceres'));
    for (const face of faces) {
      assert.deepEqual(face.models, { ageGender: 'faceres' });
      assert.ok(face.age !== undefined && face.age > 15 && face.age < 50, `age ${face.age}`);
      assert.equal(face.dominantGender, 'woman', JSON.stringify(face.gender));
      // The oracle: human's chain in TF.js on the crop the pipeline takes of this face.
      const same = detected.faces.find((d) => d.box.x === face.box.x && d.box.y === face.box.y);
      assert.ok(same);
      const crop = cropBox(pixels, attributeBox(same.landmarks));
      assert.ok(crop);
      const input = humanFaceTensor(crop);
      const resized = humanResize(input, FACERES_SIZE);
      const scaled = tf.mul(resized, 255);
      const [gender, age] = model.execute(scaled, ['gender_pred/Sigmoid', 'age_pred/Softmax']) as Tensor[];
      const p = (await age!.data()) as Float32Array;
      let idx = 0;
      for (let k = 1; k < p.length; k++) if ((p[k] as number) > (p[idx] as number)) idx = k;
      const before = p[idx - 1] ?? 0;
      const after = p[idx + 1] ?? 0;
      const expectedAge = before > after ? idx - 10 * before : idx + 10 * after;
      const man = (await gender!.data())[0] as number;
      assert.ok(Math.abs((face.age as number) - expectedAge) < 1e-3, `age ${face.age} vs ${expectedAge}`);
      assert.ok(Math.abs((face.gender?.man as number) - man) < 1e-4, `man ${face.gender?.man} vs ${man}`);
      tf.dispose([input, resized, scaled, gender!, age!]);
    }
  });

  test('instance defaults apply, a call overrides them, and unknown names are refused', async () => {
    const other = await createVisage({ threads: 1, emotionModel: 'human', ageGenderModel: 'faceres' });
    try {
      const byDefault = await other.analyze(sample(1));
      assert.deepEqual(byDefault.faces[0]?.models, { emotion: 'human', ageGender: 'faceres' });
      const overridden = await other.analyze(sample(1), { emotionModel: 'face-api', actions: ['emotion', 'age'] });
      assert.deepEqual(overridden.faces[0]?.models, { emotion: 'face-api', ageGender: 'faceres' });
    } finally {
      await other.close();
    }
    await assert.rejects(visage.analyze(sample(1), { emotionModel: 'deepface' as never }), (err: unknown) => isVisageError(err, 'INVALID_ARGUMENT') && /emotionModel/.test(err.message));
    await assert.rejects(createVisage({ ageGenderModel: 'ssrnet' as never }), (err: unknown) => isVisageError(err, 'INVALID_ARGUMENT') && /ageGenderModel/.test(err.message));
  });
});
