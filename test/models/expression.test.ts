/**
 * The 7-class expression net against @vladmandic/face-api on TF.js wasm: raw outputs on identical
 * inputs, and probabilities against face-api's full chain (SSD → landmarks → aligned box →
 * integer crop → expressions), on the shipped sample photos. visage's fine-tuned weights
 * (models/visage-expression) in the same graph against face-api's FaceExpressionNet loaded with them.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/index.js';
import type { FloatImage } from '../../src/models/common/preprocess.js';
import { EXPRESSION_LABELS, FINE_TUNED_MANIFEST, type ExpressionNet, type Expressions, createExpressionNet } from '../../src/models/expression/index.js';
import { type FaceApiReference, loadFaceApiReference } from '../reference/faceapi.js';
import { SAMPLE_IMAGES, maxAbsDiff, referenceFaceCrops, sampleName, squareBatch } from './helpers.js';

/** face-api's label for each visage label. */
const FACEAPI_LABELS: Record<keyof Expressions, string> = {
  neutral: 'neutral',
  happy: 'happy',
  sad: 'sad',
  angry: 'angry',
  fear: 'fearful',
  disgust: 'disgusted',
  surprise: 'surprised',
};

interface Face {
  image: string;
  crop: FloatImage;
  expected: Record<string, number>;
}

let ref: FaceApiReference;
let engine: Engine;
let net: ExpressionNet;
const faces: Face[] = [];

function maxExpressionDiff(actual: Expressions, expected: Record<string, number>): number {
  return Math.max(...EXPRESSION_LABELS.map((l) => Math.abs(actual[l] - (expected[FACEAPI_LABELS[l]] as number))));
}

before(async () => {
  ref = await loadFaceApiReference();
  engine = new Engine({ threads: 2 });
  net = await createExpressionNet(engine);
  for (const file of SAMPLE_IMAGES) {
    // face-api classifies the box its landmarks re-derive.
    for (const { face, crop } of await referenceFaceCrops(ref, file, (f) => f.alignedBox)) {
      faces.push({ image: sampleName(file), crop, expected: face.expressions });
    }
  }
  assert.ok(faces.length >= 20, `expected faces on the samples, found ${faces.length}`);
});

after(async () => {
  await engine.dispose();
  ref.dispose();
});

test('raw logits and probabilities equal face-api on identical input (max abs diff <= 1e-3)', async (t) => {
  const { data: batch, dims: shape } = squareBatch(faces.map((f) => f.crop), 112);
  const expected = await ref.faceExpressionNet(batch, shape);
  const actual = await net.forwardRaw({ data: batch, dims: shape });
  assert.deepEqual(actual.logits.dims, expected.logits.shape);
  const logits = maxAbsDiff(actual.logits.data, expected.logits.data);
  const probabilities = maxAbsDiff(actual.probabilities.data, expected.probabilities.data);
  t.diagnostic(`max abs diff over ${faces.length} faces: logits ${logits.toExponential(2)}, probabilities ${probabilities.toExponential(2)}`);
  assert.ok(logits <= 1e-3 && probabilities <= 1e-3, `logits ${logits}, probabilities ${probabilities}`);
});

test("probabilities within 0.01 of face-api's full chain, same top expression", async (t) => {
  const perImage = new Map<string, number>();
  for (const face of faces) {
    const actual = await net.predict(face.crop);
    const diff = maxExpressionDiff(actual, face.expected);
    perImage.set(face.image, Math.max(perImage.get(face.image) ?? 0, diff));
    assert.ok(diff <= 0.01, `${face.image}: probabilities off by ${diff}`);
    const sum = EXPRESSION_LABELS.reduce((s, l) => s + actual[l], 0);
    assert.ok(Math.abs(sum - 1) < 1e-5, `probabilities sum to ${sum}`);
    const top = (e: (l: keyof Expressions) => number) => EXPRESSION_LABELS.reduce((a, b) => (e(b) > e(a) ? b : a));
    assert.equal(top((l) => actual[l]), top((l) => face.expected[FACEAPI_LABELS[l]] as number));
  }
  t.diagnostic(`max probability diff per image ${[...perImage].map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}`);
});

test('a batch gives the same probabilities as single crops', async (t) => {
  const batched = await net.predictBatch(faces.map((f) => f.crop));
  let worst = 0;
  for (const [i, face] of faces.entries()) {
    const single = await net.predict(face.crop);
    const b = batched[i] as Expressions;
    worst = Math.max(worst, ...EXPRESSION_LABELS.map((l) => Math.abs(b[l] - single[l])));
  }
  t.diagnostic(`batch vs single max diff ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-5, `batch vs single ${worst}`);
});

test("visage's fine-tuned weights: the same graph equals face-api's FaceExpressionNet loaded with them (max abs diff <= 1e-3)", async (t) => {
  const tuned = await createExpressionNet(engine, { manifestPath: FINE_TUNED_MANIFEST });
  const { data: batch, dims: shape } = squareBatch(faces.map((f) => f.crop), 112);
  const expected = await ref.faceExpressionNetWith(path.dirname(FINE_TUNED_MANIFEST), batch, shape);
  const actual = await tuned.forwardRaw({ data: batch, dims: shape });
  const logits = maxAbsDiff(actual.logits.data, expected.logits.data);
  const probabilities = maxAbsDiff(actual.probabilities.data, expected.probabilities.data);
  // The weights are not face-api's: the logits move.
  const original = await net.forwardRaw({ data: batch, dims: shape });
  const moved = maxAbsDiff(actual.logits.data, original.logits.data);
  t.diagnostic(`max abs diff over ${faces.length} faces: logits ${logits.toExponential(2)}, probabilities ${probabilities.toExponential(2)}; from face-api's own logits ${moved.toFixed(2)}`);
  assert.ok(logits <= 1e-3 && probabilities <= 1e-3, `logits ${logits}, probabilities ${probabilities}`);
  assert.ok(moved > 0.1, `logits moved only ${moved} from face-api's`);
});
