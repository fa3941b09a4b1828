/**
 * 68-point landmarks (full and tiny) against @vladmandic/face-api on TF.js wasm: raw outputs on
 * identical inputs, and points in source pixels against face-api's full chain (SSD detection →
 * integer crop → landmarks), on the shipped sample photos.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Engine } from '../../src/engine/index.js';
import { isVisageError } from '../../src/errors.js';
import type { Point } from '../../src/image/types.js';
import type { FloatImage } from '../../src/models/common/preprocess.js';
import { type LandmarksNet, createLandmarksNet } from '../../src/models/landmarks/index.js';
import { toSourcePoints } from '../../src/models/landmarks/postprocess.js';
import { type FaceApiReference, loadFaceApiReference } from '../reference/faceapi.js';
import { SAMPLE_IMAGES, maxAbsDiff, referenceFaceCrops, sampleName, squareBatch } from './helpers.js';

const VARIANTS = ['full', 'tiny'] as const;

interface Face {
  image: string;
  crop: FloatImage;
  /** Where face-api shifts the landmarks: the detection box corner (not the floored crop corner). */
  offset: Point;
  /** face-api's full-chain landmarks, source pixels. */
  expected: Record<(typeof VARIANTS)[number], [number, number][]>;
}

let ref: FaceApiReference;
let engine: Engine;
const nets = {} as Record<(typeof VARIANTS)[number], LandmarksNet>;
const faces: Face[] = [];

function maxPointDiff(points: Point[], expected: [number, number][]): number {
  assert.equal(points.length, expected.length);
  return Math.max(...points.map((p, i) => Math.max(Math.abs(p.x - (expected[i] as [number, number])[0]), Math.abs(p.y - (expected[i] as [number, number])[1]))));
}

before(async () => {
  ref = await loadFaceApiReference();
  engine = new Engine({ threads: 2 });
  for (const v of VARIANTS) nets[v] = await createLandmarksNet(engine, { variant: v });
  for (const file of SAMPLE_IMAGES) {
    const full = await referenceFaceCrops(ref, file, (f) => f.box);
    const tiny = await ref.detectAllCached(file, { tinyLandmarks: true });
    assert.equal(tiny.length, full.length);
    full.forEach(({ face: f, crop }, i) => {
      faces.push({
        image: sampleName(file),
        crop,
        offset: { x: f.box.x, y: f.box.y },
        expected: { full: f.landmarks, tiny: (tiny[i] as (typeof tiny)[number]).landmarks },
      });
    });
  }
  assert.ok(faces.length >= 20, `expected faces on the samples, found ${faces.length}`);
});

after(async () => {
  await engine.dispose();
  ref.dispose();
});

for (const variant of VARIANTS) {
  describe(`landmarks (${variant})`, () => {
    test('raw outputs equal face-api on identical input (max abs diff <= 1e-3)', async (t) => {
      const { data: batch, dims: shape } = squareBatch(faces.map((f) => f.crop), 112);
      const expected = variant === 'full' ? await ref.faceLandmark68Net(batch, shape) : await ref.faceLandmark68TinyNet(batch, shape);
      const actual = await nets[variant].forwardRaw({ data: batch, dims: shape });
      assert.deepEqual(actual.dims, expected.shape);
      const diff = maxAbsDiff(actual.data, expected.data);
      t.diagnostic(`${variant}: raw max abs diff ${diff.toExponential(2)} over ${faces.length} faces`);
      assert.ok(diff <= 1e-3, `raw max abs diff ${diff}`);
    });

    test("points in source pixels within 0.5 px of face-api's full chain", async (t) => {
      const perImage = new Map<string, number>();
      for (const face of faces) {
        const points = await nets[variant].predict(face.crop, face.offset);
        const diff = maxPointDiff(points, face.expected[variant]);
        perImage.set(face.image, Math.max(perImage.get(face.image) ?? 0, diff));
        assert.ok(diff <= 0.5, `${face.image}: landmarks off by ${diff} px`);
      }
      t.diagnostic(`${variant}: max px diff per image ${[...perImage].map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}`);
    });

    test('a batch gives the same points as single crops', async (t) => {
      const batched = await nets[variant].predictBatch(faces.map((f) => f.crop), faces.map((f) => f.offset));
      let worst = 0;
      for (const [i, face] of faces.entries()) {
        const single = await nets[variant].predict(face.crop, face.offset);
        worst = Math.max(worst, maxPointDiff(batched[i] as Point[], single.map((p) => [p.x, p.y])));
      }
      t.diagnostic(`${variant}: batch vs single max px diff ${worst.toExponential(2)}`);
      assert.ok(worst <= 1e-3, `batch vs single ${worst} px`);
    });
  });
}

test('post-processing undoes the centred padding and the offset', () => {
  // A 50x100 crop sits in the middle 56 columns of the 112 square; its centre is (0.5, 0.5).
  const raw = new Float32Array(136).fill(0.5);
  raw[0] = (28 + 56) / 112; // right edge of the crop
  raw[1] = 0;
  const points = toSourcePoints(raw, 50, 100, { x: 10, y: 20 });
  assert.ok(maxPointDiff(points.slice(0, 2), [[60, 20], [35, 70]]) < 1e-9);
});

test('forwardRaw rejects a batch of the wrong size', async () => {
  await assert.rejects(nets.full.forwardRaw({ data: new Float32Array(3 * 64 * 64), dims: [1, 64, 64, 3] }), (e) =>
    isVisageError(e, 'INVALID_ARGUMENT'),
  );
});
