/**
 * SSD MobileNetV1 against face-api (TF.js wasm) on the shipped photos: the input preparation, the
 * network on identical inputs, and detection end to end from the image file. Also the shared box
 * utilities (IoU, NMS, square → source mapping) on synthetic boxes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { Engine, readFaceApiWeights, weight } from '../../src/engine/index.js';
import { faceApiManifest } from '../../src/models/common/packaged.js';
import { isVisageError } from '../../src/errors.js';
import { loadImage, type Box, type RgbImage } from '../../src/image/index.js';
import { iou, nonMaxSuppression, squareToSource } from '../../src/models/common/boxes.js';
import { padToSquare, resizeBilinear, rgbToSquareInput, toFloatImage } from '../../src/models/common/preprocess.js';
import { SSD_ANCHORS, SSD_INPUT_SIZE, SSD_SMALL_INPUT_SIZE, createSsdDetector, ssdAnchorCount, ssdAnchors, type SsdDetector, type SsdOptions } from '../../src/models/ssd/index.js';
import { loadFaceApiReference, type FaceApiReference } from '../reference/faceapi.js';
import { tf } from '../reference/tfjs-wasm.js';
import { HUMAN_SAMPLES, SAMPLE_IMAGES, assertSameDetections, maxAbsDiff, sampleName, takeData } from './helpers.js';

const RAW_TOLERANCE = 1e-3;
// On 0..255 values: TF.js resizes in float32 arithmetic, the shared resize in doubles.
const INPUT_TOLERANCE = 5e-3;
const MATCH = { minIou: 0.95, scoreTolerance: 0.01 };

/** End-to-end cases: every photo with face-api's defaults, and the many-faces grid at a low threshold. */
const DETECTION_CASES: { image: string; options: SsdOptions }[] = [
  ...SAMPLE_IMAGES.map((image) => ({ image, options: {} })),
  { image: HUMAN_SAMPLES, options: { minScore: 0.2 } },
];

/** face-api's NetInput.toBatchTensor(512, false) for one image, on TF.js. */
async function referenceInput(image: RgbImage): Promise<Float32Array> {
  const out = tf.tidy(() => {
    let x = tf.tensor4d(Float32Array.from(image.data), [1, image.height, image.width, 3]);
    const side = Math.max(image.width, image.height);
    if (image.width !== side) x = tf.concat([x, tf.zeros([1, image.height, side - image.width, 3])], 2);
    if (image.height !== side) x = tf.concat([x, tf.zeros([1, side - image.height, side, 3])], 1);
    return tf.image.resizeBilinear(x, [SSD_INPUT_SIZE, SSD_INPUT_SIZE], false, false);
  });
  return takeData(out);
}

let reference: FaceApiReference;
let engine: Engine;
let ssd: SsdDetector;
const images = new Map<string, RgbImage>();

before(async () => {
  reference = await loadFaceApiReference();
  engine = new Engine({ threads: 2 });
  ssd = await createSsdDetector(engine);
  for (const file of SAMPLE_IMAGES) images.set(file, await loadImage(file));
});

after(async () => {
  await engine.dispose();
  reference.dispose();
});

describe('SSD MobileNetV1 input', () => {
  test('rgbToSquareInput equals padToSquare then resizeBilinear of a float copy exactly', () => {
    for (const file of SAMPLE_IMAGES) {
      const image = images.get(file) as RgbImage;
      const fused = rgbToSquareInput(image, SSD_INPUT_SIZE);
      const padded = padToSquare(toFloatImage(image));
      assert.deepEqual(fused.padding, padded.padding);
      assert.equal(maxAbsDiff(fused.input.data, resizeBilinear(padded.image, SSD_INPUT_SIZE, SSD_INPUT_SIZE).data), 0, sampleName(file));
    }
  });

  test("matches face-api's toBatchTensor(512, false)", async (t) => {
    for (const file of SAMPLE_IMAGES) {
      const image = images.get(file) as RgbImage;
      const diff = maxAbsDiff(rgbToSquareInput(image, SSD_INPUT_SIZE).input.data, await referenceInput(image));
      t.diagnostic(`${sampleName(file)}: input max abs diff ${diff.toExponential(2)}`);
      assert.ok(diff <= INPUT_TOLERANCE, `${sampleName(file)}: ${diff}`);
    }
  });
});

describe('SSD MobileNetV1 network', () => {
  for (const file of SAMPLE_IMAGES) {
    test(`raw outputs agree on ${sampleName(file)}`, async (t) => {
      const { input } = rgbToSquareInput(images.get(file) as RgbImage, SSD_INPUT_SIZE);
      const ours = await ssd.forwardRaw(input.data);
      const ref = await reference.ssdMobilenetv1(input.data, [1, SSD_INPUT_SIZE, SSD_INPUT_SIZE, 3]);
      assert.deepEqual(ref.boxes.shape, [1, SSD_ANCHORS, 4]);
      const diffs = {
        boxEncodings: maxAbsDiff(ours.boxEncodings, ref.boxEncodings.data),
        classLogits: maxAbsDiff(ours.classLogits, ref.classLogits.data),
        boxes: maxAbsDiff(ours.boxes, ref.boxes.data),
        scores: maxAbsDiff(ours.scores, ref.scores.data),
      };
      t.diagnostic(`${sampleName(file)}: max abs diff ${Object.entries(diffs).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
      for (const [k, v] of Object.entries(diffs)) assert.ok(v <= RAW_TOLERANCE, `${k}: ${v}`);
    });
  }

  test('a batch gives the same outputs as single images', async () => {
    const inputs = SAMPLE_IMAGES.slice(0, 3).map((file) => rgbToSquareInput(images.get(file) as RgbImage, SSD_INPUT_SIZE).input.data);
    const batch = new Float32Array(inputs.length * inputs[0]!.length);
    inputs.forEach((x, i) => batch.set(x, i * x.length));
    const batched = await ssd.forwardRaw(batch);
    for (const [i, x] of inputs.entries()) {
      const single = await ssd.forwardRaw(x);
      assert.ok(maxAbsDiff(batched.scores.subarray(i * SSD_ANCHORS, (i + 1) * SSD_ANCHORS), single.scores) <= 1e-6);
      assert.ok(maxAbsDiff(batched.boxes.subarray(i * SSD_ANCHORS * 4, (i + 1) * SSD_ANCHORS * 4), single.boxes) <= 1e-6);
    }
  });

  test('rejects an input of the wrong size', async () => {
    await assert.rejects(ssd.forwardRaw(new Float32Array(10)), (err) => isVisageError(err, 'INVALID_ARGUMENT'));
  });
});

describe('SSD MobileNetV1 detection', () => {
  for (const { image: file, options } of DETECTION_CASES) {
    test(`detections agree on ${sampleName(file)} ${JSON.stringify(options)}`, async (t) => {
      const ours = await ssd.detect(images.get(file) as RgbImage, options);
      const ref = await reference.detectSsd(file, { minConfidence: options.minScore, maxResults: options.maxResults });
      const { minIou, maxScoreDiff } = assertSameDetections(ours, ref, sampleName(file), MATCH);
      t.diagnostic(`${sampleName(file)}: ${ours.length} faces, min IoU ${minIou.toFixed(5)}, max score diff ${maxScoreDiff.toExponential(2)}`);
    });
  }

  test('detectBatch equals detect per image', async () => {
    const some = SAMPLE_IMAGES.slice(0, 3).map((file) => images.get(file) as RgbImage);
    const batched = await ssd.detectBatch(some);
    for (const [i, image] of some.entries()) assert.deepEqual(batched[i], await ssd.detect(image));
  });

  test('maxResults keeps the best faces', async () => {
    const image = images.get(SAMPLE_IMAGES[4] as string) as RgbImage;
    const all = await ssd.detect(image);
    assert.ok(all.length > 2);
    assert.deepEqual(await ssd.detect(image, { maxResults: 2 }), all.slice(0, 2));
  });

  test('rejects bad options', async () => {
    const image = images.get(SAMPLE_IMAGES[0] as string) as RgbImage;
    for (const options of [{ minScore: 0 }, { minScore: 1 }, { minScore: Number.NaN }, { maxResults: 0 }, { maxResults: 1.5 }]) {
      await assert.rejects(ssd.detect(image, options), (err) => isVisageError(err, 'INVALID_ARGUMENT'), JSON.stringify(options));
    }
  });
});

describe('SSD MobileNetV1 at a smaller input', () => {
  test("the anchor generator gives the manifest's anchors at 512", async () => {
    const manifest = weight(await readFaceApiWeights(faceApiManifest('ssd_mobilenetv1_model')), 'Output/extra_dim').data;
    const { centre, size } = ssdAnchors(SSD_INPUT_SIZE);
    assert.equal(ssdAnchorCount(SSD_INPUT_SIZE), SSD_ANCHORS);
    assert.equal(centre.length, SSD_ANCHORS * 2);
    let centreDiff = 0;
    let sizeDiff = 0;
    for (let i = 0; i < SSD_ANCHORS; i++) {
      for (let k = 0; k < 2; k++) {
        const lo = manifest[i * 4 + k] as number;
        const hi = manifest[i * 4 + k + 2] as number;
        centreDiff = Math.max(centreDiff, Math.abs((lo + hi) / 2 - (centre[i * 2 + k] as number)));
        sizeDiff = Math.max(sizeDiff, Math.abs(hi - lo - (size[i * 2 + k] as number)));
      }
    }
    assert.ok(centreDiff < 1e-6 && sizeDiff < 1e-4, `centre ${centreDiff}, size ${sizeDiff}`);
    // At 256 the grids are 16, 8, 4, 2, 1, 1 and every anchor keeps its size in pixels.
    assert.equal(ssdAnchorCount(256), 16 * 16 * 3 + (64 + 16 + 4 + 1 + 1) * 6);
    assert.equal(ssdAnchors(256).size[0], (size[0] as number) * 2);
  });

  test("'fit' finds the faces of a small image where 512 does, and runs at 256", async () => {
    // A face of sample1 as a 250-pixel thumbnail (an LFW-like portrait).
    const full = images.get(SAMPLE_IMAGES[0] as string) as RgbImage;
    const [face] = await ssd.detect(full);
    assert.ok(face);
    const side = Math.round(Math.max(face.box.width, face.box.height) * 2.2);
    const left = Math.max(0, Math.round(face.box.x + face.box.width / 2 - side / 2));
    const top = Math.max(0, Math.round(face.box.y + face.box.height / 2 - side / 2));
    const region = { left, top, width: Math.min(side, full.width - left), height: Math.min(side, full.height - top) };
    const { data, info } = await sharp(full.data, { raw: { width: full.width, height: full.height, channels: 3 } }).extract(region).resize(250, 250, { fit: 'inside' }).raw().toBuffer({ resolveWithObject: true });
    const thumb: RgbImage = { data: new Uint8Array(data), width: info.width, height: info.height };
    const at512 = await ssd.detect(thumb);
    const fit = await ssd.detect(thumb, { inputSize: 'fit' });
    assert.equal(at512.length, 1);
    assert.equal(fit.length, 1);
    const overlap = iou((at512[0] as { box: Box }).box, (fit[0] as { box: Box }).box);
    assert.ok(overlap > 0.75, `IoU ${overlap}`);
    const raw = await ssd.forwardRaw(rgbToSquareInput(thumb, SSD_SMALL_INPUT_SIZE).input.data, SSD_SMALL_INPUT_SIZE);
    assert.equal(raw.scores.length, ssdAnchorCount(SSD_SMALL_INPUT_SIZE));
    // A photo larger than 256 runs at 512 as before.
    assert.deepEqual(await ssd.detect(full, { inputSize: 'fit' }), await ssd.detect(full));
  });

  test('rejects an input side that is not a multiple of 32 from 128 to 512', async () => {
    const image = images.get(SAMPLE_IMAGES[0] as string) as RgbImage;
    for (const inputSize of [100, 544, 250]) {
      await assert.rejects(ssd.detect(image, { inputSize }), (err) => isVisageError(err, 'INVALID_ARGUMENT'), String(inputSize));
    }
  });
});

describe('common box utilities', () => {
  const box = (x: number, y: number, width: number, height: number): Box => ({ x, y, width, height });

  test('iou', () => {
    assert.equal(iou(box(0, 0, 2, 2), box(0, 0, 2, 2)), 1);
    assert.equal(iou(box(0, 0, 2, 2), box(1, 0, 2, 2)), 2 / 6);
    assert.equal(iou(box(0, 0, 1, 1), box(2, 2, 1, 1)), 0);
    assert.equal(iou(box(0, 0, 0, 1), box(0, 0, 1, 1)), 0);
  });

  test('nonMaxSuppression: score order, IoU above the threshold suppresses, ties keep index order', () => {
    const boxes = [box(0, 0, 10, 10), box(1, 0, 10, 10), box(20, 0, 10, 10), box(6, 0, 10, 10), box(40, 0, 10, 10)];
    const scores = [0.8, 0.9, 0.7, 0.95, 0.3];
    // IoU(1, 3) = 1/3, IoU(0, 3) = 1/4, IoU(0, 1) = 9/11.
    assert.deepEqual(nonMaxSuppression(boxes, scores, { iouThreshold: 0.5, scoreThreshold: 0.5, maxResults: 10 }), [3, 1, 2]);
    assert.deepEqual(nonMaxSuppression(boxes, scores, { iouThreshold: 0.5, scoreThreshold: 0.5, maxResults: 2 }), [3, 1]);
    // At 0.3, 1 falls to 3, so 0 (which only 1 would suppress) survives: suppression is by kept boxes only.
    assert.deepEqual(nonMaxSuppression(boxes, scores, { iouThreshold: 0.3, scoreThreshold: 0.2, maxResults: 10 }), [3, 0, 2, 4]);
    assert.deepEqual(nonMaxSuppression([box(0, 0, 1, 1), box(0, 0, 1, 1)], [0.6, 0.6], { iouThreshold: 0.5, scoreThreshold: 0.5, maxResults: 5 }), [0]);
  });

  test('squareToSource scales by the square side and removes the offset', () => {
    assert.deepEqual(squareToSource(box(0.25, 0.5, 0.5, 0.25), { size: 400, offsetX: 0, offsetY: 0 }), box(100, 200, 200, 100));
    assert.deepEqual(squareToSource(box(0.25, 0.5, 0.5, 0.25), { size: 400, offsetX: 50, offsetY: 0 }), box(50, 200, 200, 100));
  });
});
