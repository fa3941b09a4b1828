/** The WIDER FACE ground-truth reader and matching rule of bench/wider.ts, on made-up data. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchImage, parseWiderGroundTruth, poolHeldOut, twoFolds } from '../../bench/lib/wider-protocol.js';

const GT = `a/1.jpg
2
10 10 20 20 0 0 0 0 0 0 
100 100 8 8 2 0 0 1 0 0 
a/2.jpg
0
0 0 0 0 0 0 0 0 0 0 
a/3.jpg
1
5 5 50 60 0 0 0 0 0 0 
`;

test('the official format is read, an image with no face included', () => {
  const images = parseWiderGroundTruth(GT);
  assert.deepEqual(images.map((i) => [i.file, i.faces.length]), [['a/1.jpg', 2], ['a/2.jpg', 0], ['a/3.jpg', 1]]);
  assert.deepEqual(images[0]?.faces[1], { box: { x: 100, y: 100, width: 8, height: 8 }, invalid: true });
});

test('greedy matching by score: hits, duplicates and strays are false positives, invalid faces are ignored', () => {
  const [image] = parseWiderGroundTruth(GT);
  const faces = image?.faces ?? [];
  const m = matchImage(faces, [
    { box: { x: 11, y: 11, width: 20, height: 20 }, score: 0.9 }, // the valid face
    { box: { x: 10, y: 12, width: 20, height: 20 }, score: 0.8 }, // the same face again
    { box: { x: 100, y: 100, width: 8, height: 9 }, score: 0.7 }, // the invalid face: ignored
    { box: { x: 300, y: 300, width: 20, height: 20 }, score: 0.6 }, // nothing there
  ]);
  assert.deepEqual(m.found, [true, true]);
  assert.deepEqual(m.counted, [true, false]);
  assert.deepEqual([m.truePositives, m.falsePositives, m.ignored], [1, 2, 1]);
  // A size floor ignores smaller faces the same way.
  assert.deepEqual(matchImage(faces, [], 30).counted, [false, false]);
});

test('two-fold cross-validation: each image is held out once, and the pool takes its detections from that fold', () => {
  const folds = twoFolds(5);
  assert.deepEqual(folds.map((f) => f.fit), [[true, false, true, false, true], [false, true, false, true, false]]);
  folds.forEach((f) => assert.deepEqual(f.held, f.fit.map((x) => !x)));
  // Fold 0 (fitted on even) sees every image as 'a', fold 1 as 'b'.
  const pooled = poolHeldOut(folds.map((f, i) => ({ held: f.held, detections: f.held.map(() => [i === 0 ? 'a' : 'b']) })));
  assert.deepEqual(pooled, [['b'], ['a'], ['b'], ['a'], ['b']]);
  // An image held out by no fold (or by two) is an error, not a silent gap.
  const first = folds[0] as (typeof folds)[number];
  assert.throws(() => poolHeldOut([{ held: first.held, detections: first.held.map(() => ['a']) }]), /held out by 0 folds/);
});
