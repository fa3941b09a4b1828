/** Face alignment: the chip transform on synthetic landmarks, and its effect on a real tilted face. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { applySimilarity, estimateSimilarity, invertSimilarity, type Similarity } from '../../src/image/warp.js';
import { chipPoint, chipToImage, cropBox, cropRegion } from '../../src/pipeline/align.js';
import { cropSquareBatch, mirror, padToSquare, regionToSquareInput, resizeBilinear, toSquareInput, type FloatImage, type ImageRegion } from '../../src/models/common/preprocess.js';
import { isVisageError } from '../../src/errors.js';
import { createVisage, type Visage } from '../../src/index.js';
import type { Point } from '../../src/image/types.js';

const near = (a: Point, b: Point, tolerance: number, label: string) =>
  assert.ok(Math.hypot(a.x - b.x, a.y - b.y) <= tolerance, `${label}: (${a.x}, ${a.y}) vs (${b.x}, ${b.y})`);

/** face-api's steps one by one: pad to a square (centred), then TF's resizeBilinear. */
const stepwise = (crop: FloatImage, size: number) => resizeBilinear(padToSquare(crop, true).image, size, size).data;

describe('crop regions', () => {
  // A made 8-bit image with every value different enough to show a misplaced pixel.
  const width = 97;
  const height = 61;
  const data = new Uint8Array(width * height * 3).map((_, i) => (i * 37 + (i >> 5)) % 256);
  const pixels = { data, width, height, channels: 3 };
  const boxes = [
    { x: 10.6, y: 4.2, width: 30.5, height: 50.9 }, // tall: padded left and right
    { x: 0, y: 20, width: 97, height: 41 }, // wide, the whole width
    { x: -8, y: -3, width: 40, height: 30 }, // clipped at the corner
    { x: 60, y: 30, width: 200, height: 200 }, // clipped at the far edges
    { x: 5, y: 5, width: 3, height: 2 }, // tiny: enlarged 50 times
  ];

  test("a region's square equals pad-to-square then resize of the copied crop, exactly", () => {
    for (const box of boxes) {
      const crop = cropBox(pixels, box) as FloatImage;
      const region = cropRegion(pixels, box);
      assert.ok(region, JSON.stringify(box));
      assert.deepEqual({ width: region.box.width, height: region.box.height }, { width: crop.width, height: crop.height });
      for (const size of [112, 150, 16]) {
        assert.deepEqual(regionToSquareInput(region, size, true).input.data, stepwise(crop, size), `${JSON.stringify(box)} at ${size}`);
        assert.deepEqual(toSquareInput(crop, size, true).input.data, stepwise(crop, size), `float crop ${JSON.stringify(box)} at ${size}`);
      }
    }
  });

  test('a float crop with fractional values gives the stepwise square exactly', () => {
    const crop: FloatImage = { data: new Float32Array(23 * 31 * 3).map((_, i) => Math.fround(Math.sin(i) * 127.3 + 128)), width: 23, height: 31, channels: 3 };
    assert.deepEqual(toSquareInput(crop, 112, true).input.data, stepwise(crop, 112));
  });

  test('a batch of squares is the squares one after another', () => {
    const regions = boxes.map((b) => cropRegion(pixels, b)).filter((r) => r !== null);
    const batch = cropSquareBatch(regions, 112);
    regions.forEach((r, i) => assert.deepEqual(batch.subarray(i * 112 * 112 * 3, (i + 1) * 112 * 112 * 3), regionToSquareInput(r, 112, true).input.data));
  });

  test("a region's mirror image is its copy's", () => {
    for (const box of boxes) assert.deepEqual(mirror(cropRegion(pixels, box) as ImageRegion), mirror(cropBox(pixels, box) as FloatImage), JSON.stringify(box));
  });

  test('a box outside the image leaves no region, and a region must lie inside its image', () => {
    assert.equal(cropRegion(pixels, { x: 200, y: 0, width: 10, height: 10 }), null);
    const bad = (box: { x: number; y: number; width: number; height: number }) =>
      assert.throws(() => regionToSquareInput({ image: pixels, box }, 112, true), (e) => isVisageError(e) && e.code === 'INVALID_ARGUMENT', JSON.stringify(box));
    bad({ x: 90, y: 0, width: 10, height: 10 });
    bad({ x: 0.5, y: 0, width: 10, height: 10 });
    bad({ x: 0, y: 0, width: 0, height: 10 });
  });
});

describe('similarity transforms', () => {
  test('estimateSimilarity recovers a known rotation, scale and shift', () => {
    const t: Similarity = { a: 1.7 * Math.cos(0.3), b: 1.7 * Math.sin(0.3), tx: 40, ty: -12 };
    const from = [{ x: 0, y: 0 }, { x: 10, y: 3 }, { x: -4, y: 8 }, { x: 6, y: -7 }];
    const fitted = estimateSimilarity(from, from.map((p) => applySimilarity(t, p)));
    for (const key of ['a', 'b', 'tx', 'ty'] as const) assert.ok(Math.abs(fitted[key] - t[key]) < 1e-9, key);
    const back = invertSimilarity(fitted);
    from.forEach((p, i) => near(applySimilarity(back, applySimilarity(t, p)), p, 1e-9, `point ${i}`));
  });

  test('the chip transform takes a tilted, scaled, shifted face back onto dlib\'s mean face', () => {
    // A face whose 68 landmarks are the mean face itself, turned 20°, 3x larger, moved.
    const place: Similarity = { a: 3 * Math.cos(0.35), b: 3 * Math.sin(0.35), tx: 500, ty: 200 };
    const landmarks = Array.from({ length: 68 }, (_, i) => applySimilarity(place, i >= 17 ? chipPoint(i) : { x: 75, y: 75 }));
    const toImage = chipToImage(landmarks);
    for (const i of [27, 30, 36, 45, 48, 54, 62]) near(applySimilarity(toImage, chipPoint(i)), landmarks[i] as Point, 1e-6, `landmark ${i}`);
  });

  test('five MTCNN points give nearly the same chip as the 68 they summarise', () => {
    const place: Similarity = { a: 2 * Math.cos(-0.2), b: 2 * Math.sin(-0.2), tx: 300, ty: 120 };
    const landmarks = Array.from({ length: 68 }, (_, i) => applySimilarity(place, i >= 17 ? chipPoint(i) : { x: 75, y: 75 }));
    const mean = (ids: number[]) => ({ x: ids.reduce((s, i) => s + (landmarks[i] as Point).x, 0) / ids.length, y: ids.reduce((s, i) => s + (landmarks[i] as Point).y, 0) / ids.length });
    const five = [mean([36, 37, 38, 39, 40, 41]), mean([42, 43, 44, 45, 46, 47]), landmarks[30] as Point, landmarks[48] as Point, landmarks[54] as Point];
    const from68 = chipToImage(landmarks);
    const from5 = chipToImage(five);
    for (const corner of [{ x: 0, y: 0 }, { x: 150, y: 150 }]) near(applySimilarity(from5, corner), applySimilarity(from68, corner), 1e-6, 'chip corner');
  });
});

describe('chip alignment on a real photo', () => {
  let chip: Visage;
  let box: Visage;
  let face: Buffer;
  let tilted: Buffer;

  before(async () => {
    [chip, box] = await Promise.all([createVisage(), createVisage({ align: 'box', averageMirror: false })]);
    const photo = createRequire(import.meta.url).resolve('@vladmandic/face-api/demo/sample3.jpg');
    // One face with room around it, then the same turned by 25 degrees.
    face = await sharp(photo).extract({ left: 480, top: 250, width: 420, height: 480 }).jpeg().toBuffer();
    tilted = await sharp(face).rotate(25, { background: '#000' }).jpeg().toBuffer();
  });

  after(async () => {
    await Promise.all([chip.close(), box.close()]);
  });

  test('levelling the eyes brings a tilted face closer to its upright self than the plain box does', async () => {
    const withChip = await chip.verify(face, tilted);
    const withBox = await box.verify(face, tilted);
    assert.equal(withChip.verified, true);
    assert.ok(withChip.distance < withBox.distance, `chip ${withChip.distance} vs box ${withBox.distance}`);
  });
});
