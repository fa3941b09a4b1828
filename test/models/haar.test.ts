/**
 * OpenCV Haar cascade (haarcascade_frontalface_default.xml on OpenCV 4.12.0 wasm) on a shipped
 * photo with three frontal, unoccluded faces, checked against hand-made ground truth; plus
 * options, validation, disposal, memory and the process-wide side effects of loading OpenCV.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import sharp from 'sharp';
import type { Box, RgbImage } from '../../src/image/types.js';
import { isVisageError } from '../../src/errors.js';
import { iou } from '../../src/models/common/boxes.js';
import { HAAR_DEFAULTS, createHaarDetector, type HaarDetection, type HaarDetector, type HaarOptions } from '../../src/models/haar/index.js';
import { loadOpenCv } from '../../src/models/haar/opencv.js';

const SAMPLE3 = path.resolve(import.meta.dirname, '../../node_modules/@vladmandic/face-api/demo/sample3.jpg');

/**
 * Ground truth for sample3.jpg (1920x1350): the three women's faces, all frontal and unoccluded,
 * and no other face in the picture. Drawn by hand on full-resolution crops with a 20 px grid
 * (not taken from any detector): left to right, hairline/top of forehead to bottom of chin,
 * left cheek edge to right cheek edge (ears and hair excluded).
 */
const SAMPLE3_FACES: readonly Box[] = [
  { x: 600, y: 370, width: 195, height: 242 }, // blonde, left
  { x: 1095, y: 228, width: 205, height: 287 }, // middle
  { x: 1520, y: 330, width: 172, height: 236 }, // dark hair, right
];

/** A detection "lies on" a face when its centre is inside the face box and IoU is at least this. */
const MIN_IOU = 0.3;

async function decode(file: string, width?: number): Promise<RgbImage> {
  let pipeline = sharp(file).removeAlpha();
  if (width !== undefined) pipeline = pipeline.resize({ width });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

function centreInside(box: Box, face: Box): boolean {
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  return cx >= face.x && cx <= face.x + face.width && cy >= face.y && cy <= face.y + face.height;
}

function liesOn(det: HaarDetection, face: Box): boolean {
  return centreInside(det.box, face) && iou(det.box, face) >= MIN_IOU;
}

function scaleBox(b: Box, s: number): Box {
  return { x: b.x * s, y: b.y * s, width: b.width * s, height: b.height * s };
}

/** Every detection lies on a face, and every face is found exactly once. */
function assertMatchesFaces(found: readonly HaarDetection[], faces: readonly Box[]): void {
  for (const det of found) {
    assert.ok(faces.some((f) => liesOn(det, f)), `detection ${JSON.stringify(det.box)} is not on any face`);
  }
  for (const face of faces) {
    const hits = found.filter((d) => liesOn(d, face)).length;
    assert.equal(hits, 1, `face ${JSON.stringify(face)} found ${hits} times`);
  }
}

function expectInvalid(fn: () => unknown, name: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isVisageError(err, 'INVALID_ARGUMENT'), `expected INVALID_ARGUMENT, got ${String(err)}`);
    assert.match(err.message, new RegExp(`^Expected .+ for ${name} but received .+$`));
    return true;
  });
}

describe('Haar cascade face detector', () => {
  let detector: HaarDetector;
  let photo: RgbImage;
  let small: RgbImage; // sample3 at 480 px wide, for the quicker option tests
  let initMs = 0;
  const listenersBefore = { uncaughtException: 0, unhandledRejection: 0 };
  const listenersAfter = { uncaughtException: 0, unhandledRejection: 0 };

  before(async () => {
    for (const e of ['uncaughtException', 'unhandledRejection'] as const) listenersBefore[e] = process.listenerCount(e);
    const t0 = performance.now();
    detector = await createHaarDetector();
    initMs = performance.now() - t0;
    for (const e of ['uncaughtException', 'unhandledRejection'] as const) listenersAfter[e] = process.listenerCount(e);
    [photo, small] = await Promise.all([decode(SAMPLE3), decode(SAMPLE3, 480)]);
  });

  after(() => detector?.dispose());

  const smallFaces = (): Box[] => SAMPLE3_FACES.map((f) => scaleBox(f, small.width / photo.width));

  test('loads OpenCV without leaving its process-wide error handlers behind', (t) => {
    t.diagnostic(`wasm init + cascade load: ${initMs.toFixed(0)} ms`);
    assert.deepEqual(listenersAfter, listenersBefore);
  });

  test('finds every face in sample3.jpg and nothing else (defaults)', (t) => {
    assert.equal(photo.width, 1920);
    assert.equal(photo.height, 1350);
    detector.detect(photo); // warm-up
    const runs = 3;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let found: HaarDetection[] = [];
    for (let i = 0; i < runs; i++) found = detector.detect(photo);
    const cpu = process.cpuUsage(cpu0);
    const ms = (performance.now() - t0) / runs;
    const cpuMs = (cpu.user + cpu.system) / 1000 / runs;
    t.diagnostic(`detect on 1920x1350: ${ms.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU (mean of ${runs})`);
    t.diagnostic(`${found.length} faces: ${JSON.stringify(found.map((d) => d.box))}`);
    t.diagnostic(`IoU with ground truth: ${SAMPLE3_FACES.map((f) => Math.max(0, ...found.map((d) => iou(d.box, f))).toFixed(2)).join(', ')}`);

    for (const det of found) {
      assert.equal(det.score, 1);
      assert.equal(det.box.width, det.box.height, 'Haar boxes are square');
    }
    assertMatchesFaces(found, SAMPLE3_FACES);
  });

  test('is deterministic and the defaults are the documented ones', () => {
    assert.deepEqual(HAAR_DEFAULTS, { scaleFactor: 1.1, minNeighbors: 5, minSize: 30, maxSize: undefined });
    const explicit: HaarOptions = { scaleFactor: 1.1, minNeighbors: 5, minSize: 30 };
    assert.deepEqual(detector.detect(small, explicit), detector.detect(small));
    assert.deepEqual(detector.detect(small, {}), detector.detect(small));
  });

  test('finds the same faces on a downscaled copy', () => {
    assertMatchesFaces(detector.detect(small), smallFaces());
  });

  test('options change behaviour', () => {
    // Faces are ~60-80 px at this size.
    assert.equal(detector.detect(small, { minSize: 1000 }).length, 0, 'minSize larger than the image finds nothing');
    assert.equal(detector.detect(photo, { minSize: 5000 }).length, 0);
    assert.equal(detector.detect(small, { maxSize: 40 }).length, 0, 'maxSize below the face size finds no face');
    const bounded = detector.detect(small, { minSize: 40, maxSize: 120 });
    for (const d of bounded) assert.ok(d.box.width >= 40 && d.box.width <= 120, JSON.stringify(d.box));
    assertMatchesFaces(bounded, smallFaces());
    // minNeighbors 0 returns the raw, ungrouped window hits: many per face.
    const raw = detector.detect(small, { minNeighbors: 0 });
    assert.ok(raw.length > 3 * 3, `expected many raw hits, got ${raw.length}`);
    // A coarser pyramid with a lower threshold still finds faces.
    const coarse = detector.detect(small, { scaleFactor: 1.3, minNeighbors: 2 });
    assert.ok(coarse.length >= 1);
  });

  test('rejects bad options with INVALID_ARGUMENT', () => {
    const cases: [HaarOptions, string][] = [
      [{ scaleFactor: 1 }, 'scaleFactor'],
      [{ scaleFactor: 0.5 }, 'scaleFactor'],
      [{ scaleFactor: Number.NaN }, 'scaleFactor'],
      [{ scaleFactor: Number.POSITIVE_INFINITY }, 'scaleFactor'],
      [{ scaleFactor: '1.2' as unknown as number }, 'scaleFactor'],
      [{ minNeighbors: -1 }, 'minNeighbors'],
      [{ minNeighbors: 1.5 }, 'minNeighbors'],
      [{ minSize: 0 }, 'minSize'],
      [{ minSize: 12.5 }, 'minSize'],
      [{ maxSize: 0 }, 'maxSize'],
      [{ minSize: 50, maxSize: 40 }, 'maxSize'],
    ];
    for (const [options, name] of cases) expectInvalid(() => detector.detect(small, options), name);
    expectInvalid(() => detector.detect(small, 5 as unknown as HaarOptions), 'options');
    assert.throws(
      () => detector.detect({ data: new Uint8Array(10), width: 4, height: 4 }),
      (err: unknown) => isVisageError(err, 'INVALID_IMAGE'),
    );
  });

  test('frees its Mats (the wasm heap does not grow over many calls)', async () => {
    const { cv } = await loadOpenCv();
    const heap = (): number => (cv as unknown as { HEAPU8: Uint8Array }).HEAPU8.length;
    const big: RgbImage = { data: new Uint8Array(2000 * 1500 * 3), width: 2000, height: 1500 };
    detector.detect(big, { minSize: 1600 }); // warm-up; 12 MB of Mats per call
    const start = heap();
    for (let i = 0; i < 30; i++) detector.detect(big, { minSize: 1600 });
    assert.equal(heap(), start, 'a leak of 30 x 12 MB would have grown the heap');
  });

  test('shares one runtime; dispose is idempotent and final', async () => {
    const t0 = performance.now();
    const second = await createHaarDetector();
    const ms = performance.now() - t0;
    assert.ok(ms < initMs, `second detector took ${ms.toFixed(0)} ms, first ${initMs.toFixed(0)} ms`);
    assertMatchesFaces(second.detect(small), smallFaces());
    second.dispose();
    second.dispose();
    assert.throws(() => second.detect(small), (err: unknown) => isVisageError(err, 'MODEL_ERROR'));
    assertMatchesFaces(detector.detect(small), smallFaces()); // the other detector still works
  });
});
