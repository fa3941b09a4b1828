/**
 * visage's expression head: the shipped weights load with consistent shapes, a damaged head is
 * refused, the mirrored landmark geometry renumbers the points as a mirror image does, the
 * expression net's extra outputs agree with its logits, and the head reads the shipped photos'
 * smiling faces as happy.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Engine, readFaceApiWeights, weight } from '../../src/engine/index.js';
import { faceApiManifest } from '../../src/models/common/packaged.js';
import { isVisageError, loadImage } from '../../src/index.js';
import type { Point } from '../../src/image/types.js';
import { createExpressionNet, type ExpressionNet } from '../../src/models/expression/index.js';
import { FEATURE_LENGTH, GRID_LENGTH } from '../../src/models/expression/graph.js';
import { classifyWithHead, decodeHead, GEOMETRY_LENGTH, landmarkGeometry } from '../../src/models/expression-head/index.js';
import { SHIPPED_HEAD } from '../../src/models/expression-head/weights.js';
import { createLandmarksNet, type LandmarksNet } from '../../src/models/landmarks/index.js';
import { mirror } from '../../src/models/common/preprocess.js';
import { asPixels, attributeBox, attributeCrop, cropBox } from '../../src/pipeline/align.js';
import { createSsdDetector, type SsdDetector } from '../../src/models/ssd/index.js';
import { FACEAPI_DEMO_DIR } from '../reference/faceapi.js';

let engine: Engine;
let net: ExpressionNet;
let landmarks: LandmarksNet;
let ssd: SsdDetector;
before(async () => {
  engine = new Engine({ threads: 1 });
  [net, landmarks, ssd] = await Promise.all([createExpressionNet(engine), createLandmarksNet(engine), createSsdDetector(engine)]);
});
after(() => engine.dispose());

describe('shipped weights', () => {
  test('decode with consistent shapes, 7 labels, and name the command that made them', () => {
    const head = decodeHead(SHIPPED_HEAD);
    assert.deepEqual([...head.labels].sort(), ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise']);
    const widths = { grid: GRID_LENGTH, features: FEATURE_LENGTH, logits: 7, geometry: GEOMETRY_LENGTH };
    assert.equal(head.mean.length, head.blocks.reduce((n, b) => n + widths[b], 0));
    assert.ok(head.scale.every((s) => s > 0 && Number.isFinite(s)));
    assert.ok(head.layers.every((l) => l.weights.every(Number.isFinite)));
    assert.match(SHIPPED_HEAD.command, /bench\/train-expression-head\.ts/);
  });

  test('a truncated or mis-shaped head is an INVALID_MODEL error', () => {
    const layer = SHIPPED_HEAD.layers[0]!;
    const truncated = { ...SHIPPED_HEAD, layers: [{ ...layer, weights: layer.weights.slice(0, 40) }, ...SHIPPED_HEAD.layers.slice(1)] };
    assert.throws(() => decodeHead(truncated), (err: unknown) => isVisageError(err, 'INVALID_MODEL'));
    assert.throws(() => decodeHead({ ...SHIPPED_HEAD, labels: ['happy'] }), (err: unknown) => isVisageError(err, 'INVALID_MODEL'));
  });
});

test('mirrored geometry: the landmarks of the mirrored crop, renumbered, match the mirror geometry', async () => {
  const image = await loadImage(path.join(FACEAPI_DEMO_DIR, 'sample1.jpg'));
  const pixels = asPixels(image);
  const [face] = await ssd.detect(image);
  assert.ok(face);
  const [points] = await landmarks.predictBatch([cropBox(pixels, face.box)!], [{ x: face.box.x, y: face.box.y }]);
  const box = attributeBox(points!);
  const mirrored = landmarkGeometry(points!, box, true);
  // The landmark net run on the mirror image of the same crop finds (nearly) the mirrored points.
  const crop = cropBox(pixels, box)!;
  const [onMirror] = await landmarks.predictBatch([mirror(crop)], [{ x: 0, y: 0 }]);
  const direct = landmarkGeometry(onMirror!, { x: 0, y: 0, width: crop.width, height: crop.height });
  let mean = 0;
  for (let i = 0; i < GEOMETRY_LENGTH; i++) mean += Math.abs((direct[i] as number) - (mirrored[i] as number)) / GEOMETRY_LENGTH;
  assert.ok(mean < 0.03, `mean difference ${mean} of the box`);
  // Without renumbering (x flipped only) the points land on the wrong side of the face.
  const flippedOnly = landmarkGeometry(points!, box).map((v, i) => (i % 2 === 0 ? 1 - v : v));
  let wrong = 0;
  for (let i = 0; i < GEOMETRY_LENGTH; i++) wrong += Math.abs((direct[i] as number) - (flippedOnly[i] as number)) / GEOMETRY_LENGTH;
  assert.ok(wrong > 3 * mean, `renumbering matters: ${wrong} vs ${mean}`);
  assert.throws(() => landmarkGeometry(points!.slice(0, 5) as Point[], box), (err: unknown) => isVisageError(err, 'INVALID_ARGUMENT'));
});

test("the extra outputs are the net's own: its dense layer applied to the pooled features gives its logits", async () => {
  const image = await loadImage(path.join(FACEAPI_DEMO_DIR, 'sample1.jpg'));
  const faces = await ssd.detect(image);
  const crops = faces.map((f) => cropBox(asPixels(image), f.box)!);
  const details = await net.describeBatch(crops);
  const expressions = await net.predictBatch(crops);
  const weights = await readFaceApiWeights(faceApiManifest('face_expression_model'));
  const w = weight(weights, 'fc/weights').data;
  const b = weight(weights, 'fc/bias').data;
  details.forEach((d, k) => {
    assert.equal(d.features.length, FEATURE_LENGTH);
    assert.equal(d.grid.length, GRID_LENGTH);
    assert.deepEqual(d.expressions, expressions[k]);
    for (let o = 0; o < 7; o++) {
      let s = b[o] as number;
      for (let i = 0; i < FEATURE_LENGTH; i++) s += (d.features[i] as number) * (w[i * 7 + o] as number);
      assert.ok(Math.abs(s - (d.logits[o] as number)) < 1e-3, `logit ${o}: ${s} vs ${d.logits[o]}`);
    }
    assert.ok(d.grid.some((v) => v > 0));
  });
});

test('the head calls the smiling faces of the shipped photos happy', async () => {
  // A point inside each plainly smiling face (the same faces as test/pipeline/pipeline.test.ts).
  const smiling: [number, number, number][] = [[1, 1577, 320], [3, 1185, 365], [3, 1600, 430], [4, 1350, 265], [6, 760, 475]];
  const head = decodeHead(SHIPPED_HEAD);
  for (const [i, x, y] of smiling) {
    const image = await loadImage(path.join(FACEAPI_DEMO_DIR, `sample${i}.jpg`));
    const pixels = asPixels(image);
    const found = (await ssd.detect(image)).find((f) => x >= f.box.x && x <= f.box.x + f.box.width && y >= f.box.y && y <= f.box.y + f.box.height);
    assert.ok(found, `sample${i}: no face at (${x}, ${y})`);
    const [points] = await landmarks.predictBatch([cropBox(pixels, found.box)!], [{ x: found.box.x, y: found.box.y }]);
    const crop = attributeCrop(pixels, { box: found.box, landmarks: points! })!;
    const [p] = await classifyWithHead(net, head, [{ crop, landmarks: points!, box: attributeBox(points!) }]);
    const best = head.labels[p!.indexOf(Math.max(...p!))];
    assert.equal(best, 'happy', `sample${i} (${x}, ${y}): ${Array.from(p!, (v, k) => `${head.labels[k]} ${v.toFixed(2)}`).join(', ')}`);
    assert.ok(Math.abs(p!.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  }
});
