/**
 * BlazeFace against its references on the shipped photos, both models:
 * - the converted network against LiteRT (the TFLite runtime) on identical inputs;
 * - faces against MediaPipe's own face detection solution (its graph: letterbox, inference,
 *   TensorsToDetections, weighted NMS) in headless Chromium (test/reference/mediapipe.ts), both
 *   for visage's detect() end to end and for visage's decoding of LiteRT's outputs;
 * - the anchors, decoding and weighted NMS on synthetic values.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Engine } from '../../src/engine/index.js';
import { isVisageError } from '../../src/errors.js';
import { loadImage, type RgbImage } from '../../src/image/index.js';
import { iou } from '../../src/models/common/boxes.js';
import {
  BLAZEFACE_CONFIGS,
  blazeFaceAnchors,
  blazeFaceFile,
  blazeFaceInput,
  createBlazeFaceDetector,
  decodeBlazeFace,
  letterboxOf,
  toBlazeFaceDetections,
  weightedNms,
  type BlazeFaceDetection,
  type BlazeFaceDetector,
  type BlazeFaceVariant,
  type RelativeFace,
} from '../../src/models/blazeface/index.js';
import { liteRtRunner, type LiteRtRunner } from '../reference/litert.js';
import { loadMediaPipeReference, mediaPipeAvailable, type MediaPipeFace, type MediaPipeReference } from '../reference/mediapipe.js';
import { SAMPLE_IMAGES, sampleName } from './helpers.js';

const VARIANTS: readonly BlazeFaceVariant[] = ['short', 'full'];
const RAW_TOLERANCE = 1e-4;
const MIN_IOU = 0.95;
/** MediaPipe's graphs' own score thresholds (its solution cannot be given another: see mediapipe.ts). */
const GRAPH_MIN_SCORE: Record<BlazeFaceVariant, number> = { short: 0.5, full: 0.6 };

let engine: Engine;
const detectors = new Map<BlazeFaceVariant, BlazeFaceDetector>();
const images = new Map<string, RgbImage>();

before(async () => {
  engine = new Engine({ threads: 2 });
  for (const v of VARIANTS) detectors.set(v, await createBlazeFaceDetector(engine, { variant: v }));
  for (const file of SAMPLE_IMAGES) images.set(file, await loadImage(file));
});
after(() => engine.dispose());

/** Each variant's TFLite file compiled on LiteRT once. */
const liteRtRunners = new Map<BlazeFaceVariant, Promise<LiteRtRunner>>();
function liteRtFor(variant: BlazeFaceVariant): Promise<LiteRtRunner> {
  let runner = liteRtRunners.get(variant);
  if (!runner) liteRtRunners.set(variant, (runner = readFile(blazeFaceFile(variant)).then((bytes) => liteRtRunner(new Uint8Array(bytes)))));
  return runner;
}
after(async () => {
  for (const runner of liteRtRunners.values()) (await runner).close();
});

/** LiteRT's outputs for one photo's input, as visage prepares it; run once per variant and photo (both suites read them). */
const liteRtRuns = new WeakMap<RgbImage, Map<BlazeFaceVariant, ReturnType<typeof runLiteRtOn>>>();
function liteRt(variant: BlazeFaceVariant, image: RgbImage) {
  const runs = liteRtRuns.get(image) ?? new Map<BlazeFaceVariant, ReturnType<typeof runLiteRtOn>>();
  liteRtRuns.set(image, runs);
  let run = runs.get(variant);
  if (!run) runs.set(variant, (run = runLiteRtOn(variant, image)));
  return run;
}

async function runLiteRtOn(variant: BlazeFaceVariant, image: RgbImage) {
  const { inputSize } = BLAZEFACE_CONFIGS[variant];
  const { input, letterbox } = blazeFaceInput(image, inputSize);
  const [regressors, scores] = await (await liteRtFor(variant)).run([{ data: input, dims: [1, inputSize, inputSize, 3] }]);
  assert.ok(regressors && scores);
  return { input, letterbox, regressors, scores };
}

describe('BlazeFace network against LiteRT', () => {
  for (const variant of VARIANTS) {
    for (const file of SAMPLE_IMAGES) {
      test(`${variant} range raw outputs agree on ${sampleName(file)}`, async (t) => {
        const { inputSize, anchors } = BLAZEFACE_CONFIGS[variant];
        const ref = await liteRt(variant, images.get(file) as RgbImage);
        const ours = await (detectors.get(variant) as BlazeFaceDetector).forwardRaw(ref.input);
        assert.deepEqual(ref.regressors.dims, [1, anchors, 16]);
        assert.deepEqual(ref.scores.dims, [1, anchors, 1]);
        // Regressors are offsets in input pixels (up to ~300): compared as MediaPipe uses them,
        // divided by the input size. Logits reach -400, where float32 itself holds ~4e-5: compared
        // relative to their size above 1.
        let box = 0;
        let logit = 0;
        let logitAbs = 0;
        ours.regressors.forEach((v, i) => (box = Math.max(box, Math.abs(v - (ref.regressors.data[i] as number)) / inputSize)));
        ours.scores.forEach((v, i) => {
          const r = ref.scores.data[i] as number;
          logitAbs = Math.max(logitAbs, Math.abs(v - r));
          logit = Math.max(logit, Math.abs(v - r) / Math.max(1, Math.abs(r)));
        });
        t.diagnostic(`${variant} ${sampleName(file)}: regressors/${inputSize} max diff ${box.toExponential(2)}; logits max diff ${logitAbs.toExponential(2)} (relative ${logit.toExponential(2)})`);
        assert.ok(box <= RAW_TOLERANCE, `regressors ${box}`);
        assert.ok(logit <= RAW_TOLERANCE, `logits ${logit}`);
      });
    }
  }

  test('rejects an input of the wrong size', async () => {
    await assert.rejects((detectors.get('short') as BlazeFaceDetector).forwardRaw(new Float32Array(100)), (err) => isVisageError(err, 'INVALID_ARGUMENT'));
  });
});

/** Pairs each MediaPipe face with the detection overlapping it most; asserts count, IoU and keypoints. */
function assertSameFaces(ours: readonly BlazeFaceDetection[], ref: readonly MediaPipeFace[], label: string): number {
  assert.equal(ours.length, ref.length, `${label}: ${ours.length} faces, MediaPipe ${ref.length}`);
  let least = 1;
  for (const r of ref) {
    const best = ours.reduce((a, b) => (iou(b.box, r.box) > iou(a.box, r.box) ? b : a));
    const overlap = iou(best.box, r.box);
    assert.ok(overlap >= MIN_IOU, `${label}: MediaPipe box ${JSON.stringify(r.box)} best IoU ${overlap}`);
    // Keypoints within 5% of the face's size.
    r.keypoints.forEach((p, k) => {
      const q = best.keypoints[k] as { x: number; y: number };
      assert.ok(Math.hypot(p.x - q.x, p.y - q.y) <= 0.05 * r.box.width, `${label}: keypoint ${k} ${JSON.stringify(q)} vs ${JSON.stringify(p)}`);
    });
    least = Math.min(least, overlap);
  }
  return least;
}

describe('BlazeFace faces against MediaPipe', { skip: mediaPipeAvailable() ? false : 'chromium is not installed (.ci/run installs it)' }, () => {
  let mediapipe: MediaPipeReference;
  before(async () => (mediapipe = await loadMediaPipeReference()));
  after(() => mediapipe?.close());

  for (const variant of VARIANTS) {
    for (const file of SAMPLE_IMAGES) {
      test(`${variant} range faces agree on ${sampleName(file)}`, async (t) => {
        const image = images.get(file) as RgbImage;
        const ref = await mediapipe.detect(file, variant);
        const minScore = GRAPH_MIN_SCORE[variant];
        const ours = await (detectors.get(variant) as BlazeFaceDetector).detect(image, { minScore });
        const fromLiteRt = await liteRt(variant, image);
        const decoded = toBlazeFaceDetections(fromLiteRt.regressors.data, fromLiteRt.scores.data, BLAZEFACE_CONFIGS[variant], fromLiteRt.letterbox, image, { minScore, maxResults: Infinity });
        const a = assertSameFaces(ours, ref, `${sampleName(file)} detect()`);
        const b = assertSameFaces(decoded, ref, `${sampleName(file)} LiteRT outputs decoded`);
        t.diagnostic(`${variant} ${sampleName(file)}: ${ref.length} faces; least IoU detect() ${a.toFixed(5)}, LiteRT decoded ${b.toFixed(5)}`);
      });
    }
  }
});

describe('BlazeFace anchors and decoding', () => {
  test('anchors: 896 (16x16 x 2, 8x8 x 6) and 2304 (48x48 x 1), centred in their cells', () => {
    const short = blazeFaceAnchors(BLAZEFACE_CONFIGS.short);
    const full = blazeFaceAnchors(BLAZEFACE_CONFIGS.full);
    assert.equal(short.length, 896);
    assert.equal(full.length, 2304);
    assert.deepEqual(short[0], { x: 0.5 / 16, y: 0.5 / 16 });
    assert.deepEqual(short[1], short[0]);
    assert.deepEqual(short[2], { x: 1.5 / 16, y: 0.5 / 16 });
    assert.deepEqual(short[512], { x: 0.5 / 8, y: 0.5 / 8 });
    assert.deepEqual(short[512 + 6], { x: 1.5 / 8, y: 0.5 / 8 });
    assert.deepEqual(full[48], { x: 0.5 / 48, y: 1.5 / 48 });
  });

  test('decodes offsets from the anchor centre, clips the logit, drops negative sizes', () => {
    const anchors = [{ x: 0.25, y: 0.5 }, { x: 0.5, y: 0.5 }, { x: 0.75, y: 0.5 }];
    const regressors = new Float32Array(3 * 16);
    regressors.set([12.8, -6.4, 25.6, 38.4, 0, 0, 12.8, 12.8], 0);
    regressors.set([0, 0, -1, 10], 16); // negative width: dropped
    const scores = Float32Array.of(1000, 1000, -3);
    const faces = decodeBlazeFace(regressors, scores, anchors, 128, 0.5);
    assert.equal(faces.length, 1);
    const [f] = faces as [RelativeFace];
    // Clipped to 100 before the sigmoid: 1 in float64.
    assert.equal(f.score, 1 / (1 + Math.exp(-100)));
    const close = (a: number, b: number) => Math.abs(a - b) < 1e-6;
    assert.ok(close(f.box.x, 0.35 - 0.1) && close(f.box.y, 0.45 - 0.15) && close(f.box.width, 0.2) && close(f.box.height, 0.3), JSON.stringify(f.box));
    assert.deepEqual(f.keypoints[0], { x: 0.25, y: 0.5 });
    assert.ok(close((f.keypoints[1] as { x: number }).x, 0.35));
  });

  test('weighted NMS: overlapping faces become their score-weighted mean with the best score; others stay', () => {
    const face = (x: number, score: number): RelativeFace => ({ box: { x, y: 0, width: 1, height: 1 }, score, keypoints: [{ x, y: 0 }] });
    const merged = weightedNms([face(0, 0.6), face(0.2, 0.9), face(5, 0.7)]);
    assert.equal(merged.length, 2);
    const [a, b] = merged as [RelativeFace, RelativeFace];
    assert.equal(a.score, 0.9);
    const x = (0 * 0.6 + 0.2 * 0.9) / 1.5;
    assert.ok(Math.abs(a.box.x - x) < 1e-12 && Math.abs((a.keypoints[0] as { x: number }).x - x) < 1e-12);
    assert.ok(Math.abs(a.box.width - 1) < 1e-12);
    assert.ok(Math.abs(b.box.x - 5) < 1e-12 && Math.abs(b.box.width - 1) < 1e-12 && b.score === 0.7);
    // IoU exactly 1/3 (> 0.3) merges; IoU 0.25 does not.
    assert.equal(weightedNms([face(0, 0.9), face(0.5, 0.8)]).length, 1);
    assert.equal(weightedNms([face(0, 0.9), face(0.6, 0.8)]).length, 2);
  });

  test('letterbox: centred on the longer side; boxes map back and clip to the image', () => {
    assert.deepEqual(letterboxOf({ width: 200, height: 100 }), { side: 200, offsetX: 0, offsetY: 50 });
    const image: RgbImage = { data: new Uint8Array(200 * 100 * 3).fill(255), width: 200, height: 100 };
    const { input } = blazeFaceInput(image, 128);
    // The bars read -1 (black), the image +1 (white).
    assert.equal(input[0], -1);
    assert.equal(input[(64 * 128 + 64) * 3], 1);
    const [d] = toBlazeFaceDetections(
      Float32Array.from({ length: 896 * 16 }, (_, i) => (i === 2 || i === 3 ? 64 : 0)),
      Float32Array.from({ length: 896 }, (_, i) => (i === 0 ? 5 : -20)),
      BLAZEFACE_CONFIGS.short,
      letterboxOf(image),
      image,
      { minScore: 0.5, maxResults: Infinity },
    ) as [BlazeFaceDetection];
    // Anchor 0 at (1/32, 1/32), a half-input box: x from -0.219 to 0.281 of 200 px, clipped at 0.
    assert.ok(Math.abs(d.box.x) < 1e-9 && Math.abs(d.box.width - (0.5 / 16 + 0.25) * 200) < 1e-6, JSON.stringify(d.box));
    assert.ok(Math.abs(d.box.y) < 1e-9);
  });

  test('rejects bad options', async () => {
    const image = images.get(SAMPLE_IMAGES[0] as string) as RgbImage;
    for (const options of [{ minScore: 0 }, { minScore: 1 }, { maxResults: 0 }, { maxResults: 1.5 }]) {
      await assert.rejects((detectors.get('short') as BlazeFaceDetector).detect(image, options), (err) => isVisageError(err, 'INVALID_ARGUMENT'), JSON.stringify(options));
    }
    await assert.rejects(createBlazeFaceDetector(engine, { variant: 'long' as BlazeFaceVariant }), (err) => isVisageError(err, 'INVALID_ARGUMENT'));
  });

  test('detectBatch equals detect per image', async () => {
    const some = SAMPLE_IMAGES.slice(0, 3).map((file) => images.get(file) as RgbImage);
    const full = detectors.get('full') as BlazeFaceDetector;
    const batched = await full.detectBatch(some);
    for (const [i, image] of some.entries()) {
      const single = await full.detect(image);
      assert.equal(batched[i]?.length, single.length);
      single.forEach((f, k) => assert.ok(iou(f.box, (batched[i]?.[k] as BlazeFaceDetection).box) > 0.9999));
    }
  });
});
