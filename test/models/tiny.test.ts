/**
 * Tiny face detector against face-api (TF.js wasm) on the shipped photos: the network on identical
 * inputs at several input sizes, and detection end to end from the image file; the YOLO grid
 * decoding on a synthetic grid.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/index.js';
import { isVisageError } from '../../src/errors.js';
import { loadImage, type RgbImage } from '../../src/image/index.js';
import type { Detection } from '../../src/models/common/boxes.js';
import { rgbToSquareInput } from '../../src/models/common/preprocess.js';
import { TINY_ANCHORS, createTinyDetector, type TinyDetector, type TinyOptions } from '../../src/models/tiny/index.js';
import { toTinyDetections } from '../../src/models/tiny/postprocess.js';
import { loadFaceApiReference, type FaceApiReference } from '../reference/faceapi.js';
import { HUMAN_SAMPLES, SAMPLE_IMAGES, assertSameDetections, maxAbsDiff, sampleName } from './helpers.js';

const RAW_TOLERANCE = 1e-3;
const MATCH = { minIou: 0.95, scoreTolerance: 0.01 };

/** Raw-output cases: every photo at the default size, two photos at other sizes. */
const RAW_CASES: { image: string; inputSize: number }[] = [
  ...SAMPLE_IMAGES.map((image) => ({ image, inputSize: 416 })),
  { image: SAMPLE_IMAGES[0] as string, inputSize: 320 },
  { image: HUMAN_SAMPLES, inputSize: 608 },
];

/** End-to-end cases: every photo with face-api's defaults, plus other sizes and thresholds. */
const DETECTION_CASES: { image: string; options: TinyOptions }[] = [
  ...SAMPLE_IMAGES.map((image) => ({ image, options: {} })),
  { image: SAMPLE_IMAGES[1] as string, options: { minScore: 0.3 } },
  { image: SAMPLE_IMAGES[3] as string, options: { inputSize: 608 } },
  { image: HUMAN_SAMPLES, options: { inputSize: 608, minScore: 0.3 } },
];

let reference: FaceApiReference;
let engine: Engine;
let tiny: TinyDetector;
const images = new Map<string, RgbImage>();

before(async () => {
  reference = await loadFaceApiReference();
  engine = new Engine({ threads: 2 });
  tiny = await createTinyDetector(engine);
  for (const file of SAMPLE_IMAGES) images.set(file, await loadImage(file));
});

after(async () => {
  await engine.dispose();
  reference.dispose();
});

describe('Tiny face detector network', () => {
  for (const { image: file, inputSize } of RAW_CASES) {
    test(`raw grid agrees on ${sampleName(file)} at ${inputSize}`, async (t) => {
      const { input } = rgbToSquareInput(images.get(file) as RgbImage, inputSize);
      const ours = await tiny.forwardRaw(input.data, inputSize);
      const ref = await reference.tinyFaceDetector(input.data, [1, inputSize, inputSize, 3]);
      assert.deepEqual(ours.dims, ref.shape);
      assert.deepEqual(ours.dims, [1, inputSize / 32, inputSize / 32, TINY_ANCHORS.length * 5]);
      const diff = maxAbsDiff(ours.grid, ref.data);
      t.diagnostic(`${sampleName(file)} @${inputSize}: grid max abs diff ${diff.toExponential(2)}`);
      assert.ok(diff <= RAW_TOLERANCE, `${diff}`);
    });
  }

  test('rejects an input size that is not a multiple of 32', async () => {
    await assert.rejects(tiny.forwardRaw(new Float32Array(100 * 100 * 3), 100), (err) => isVisageError(err, 'INVALID_ARGUMENT'));
    await assert.rejects(tiny.forwardRaw(new Float32Array(10), 416), (err) => isVisageError(err, 'INVALID_ARGUMENT'));
  });
});

describe('Tiny face detector detection', () => {
  for (const { image: file, options } of DETECTION_CASES) {
    test(`detections agree on ${sampleName(file)} ${JSON.stringify(options)}`, async (t) => {
      const ours = await tiny.detect(images.get(file) as RgbImage, options);
      const ref = await reference.detectTiny(file, { inputSize: options.inputSize, scoreThreshold: options.minScore });
      const { minIou, maxScoreDiff } = assertSameDetections(ours, ref, sampleName(file), MATCH);
      t.diagnostic(`${sampleName(file)}: ${ours.length} faces, min IoU ${minIou.toFixed(5)}, max score diff ${maxScoreDiff.toExponential(2)}`);
    });
  }

  test('detectBatch equals detect per image', async () => {
    const some = SAMPLE_IMAGES.slice(0, 3).map((file) => images.get(file) as RgbImage);
    const batched = await tiny.detectBatch(some, { inputSize: 320 });
    for (const [i, image] of some.entries()) assert.deepEqual(batched[i], await tiny.detect(image, { inputSize: 320 }));
  });

  test('rejects bad options', async () => {
    const image = images.get(SAMPLE_IMAGES[0] as string) as RgbImage;
    for (const options of [{ inputSize: 400 }, { inputSize: 0 }, { minScore: 0 }, { minScore: 1 }, { maxResults: 0 }]) {
      await assert.rejects(tiny.detect(image, options), (err) => isVisageError(err, 'INVALID_ARGUMENT'), JSON.stringify(options));
    }
  });
});

describe('Tiny face detector grid decoding', () => {
  test('decodes one confident cell as face-api does, in source pixels', () => {
    const cells = 2;
    const grid = new Float32Array(cells * cells * TINY_ANCHORS.length * 5).fill(-10); // every score ~0
    // Row 1, column 0, anchor 2: centre offsets sigmoid(0) = 0.5, sizes exp(0) * anchor, score sigmoid(3).
    const o = ((1 * cells + 0) * TINY_ANCHORS.length + 2) * 5;
    grid.set([0, 0, 0, 0, 3], o);
    const [anchorW, anchorH] = TINY_ANCHORS[2] as readonly [number, number];
    const detections = toTinyDetections(grid, cells, { size: 200, offsetX: 0, offsetY: 0 }, 0.5, Infinity);
    assert.equal(detections.length, 1);
    const [d] = detections as [Detection];
    assert.ok(Math.abs(d.score - 1 / (1 + Math.exp(-3))) < 1e-12);
    const width = (anchorW / cells) * 200;
    const height = (anchorH / cells) * 200;
    const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;
    assert.ok(close(d.box.width, width) && close(d.box.height, height));
    assert.ok(close(d.box.x + width / 2, 0.25 * 200) && close(d.box.y + height / 2, 0.75 * 200), JSON.stringify(d.box));
  });
});
