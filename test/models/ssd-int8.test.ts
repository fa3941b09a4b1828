/**
 * int8 SSD MobileNetV1 (precision 'int8') against the float network on the shipped photos: the
 * same faces where float is sure of them, boxes and scores within what was measured
 * (bench/int8-ssd.ts), no face float does not see at all, and the option really taking effect.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createVisage } from '../../src/index.js';
import { Engine } from '../../src/engine/index.js';
import { isVisageError } from '../../src/errors.js';
import { loadImage, type RgbImage } from '../../src/image/index.js';
import { iou } from '../../src/models/common/boxes.js';
import { rgbToSquareInput } from '../../src/models/common/preprocess.js';
import { SSD_INPUT_SIZE, createSsdDetector, type SsdDetector } from '../../src/models/ssd/index.js';
import { SAMPLE_IMAGES, sampleName } from './helpers.js';

/** Float faces this sure must be found by int8 (the 6 of 112 it loses on the chain's 11 photos scored 0.50-0.57 in float). */
const SURE = 0.6;
/** Measured on the 11 photos: best-match IoU at least 0.77, scores within 0.11 (bench/int8-ssd.ts). */
const MIN_IOU = 0.7;
const SCORE_TOLERANCE = 0.15;

let engine: Engine;
let fp32: SsdDetector;
let int8: SsdDetector;
const images = new Map<string, RgbImage>();

before(async () => {
  engine = new Engine({ threads: 2, cacheDir: false });
  fp32 = await createSsdDetector(engine);
  int8 = await createSsdDetector(engine, { precision: 'int8' });
  for (const file of SAMPLE_IMAGES) images.set(file, await loadImage(file));
});

after(() => engine.dispose());

describe('int8 SSD against fp32', () => {
  for (const file of SAMPLE_IMAGES) {
    test(`${sampleName(file)}: the faces fp32 is sure of, with close boxes and scores`, async () => {
      const image = images.get(file) as RgbImage;
      const [expected, found] = [await fp32.detect(image), await int8.detect(image)];
      for (const e of expected.filter((d) => d.score >= SURE)) {
        const best = found.reduce((b, f) => (iou(f.box, e.box) > iou(b.box, e.box) ? f : b), found[0] ?? e);
        assert.ok(found.length > 0 && iou(best.box, e.box) >= MIN_IOU, `face at ${JSON.stringify(e.box)} (score ${e.score.toFixed(3)}): best IoU ${found.length ? iou(best.box, e.box).toFixed(3) : 'none'}`);
        assert.ok(Math.abs(best.score - e.score) <= SCORE_TOLERANCE, `score ${best.score.toFixed(3)} vs fp32 ${e.score.toFixed(3)}`);
      }
      // Nothing from nowhere: every int8 face is one fp32 scores at least 0.3 too.
      const loose = await fp32.detect(image, { minScore: 0.3 });
      for (const f of found) assert.ok(loose.some((e) => iou(e.box, f.box) >= 0.5), `int8 face at ${JSON.stringify(f.box)} (score ${f.score.toFixed(3)}) not in fp32's at 0.3`);
    });
  }

  test('the option takes effect: int8 scores are not fp32 scores', async () => {
    const input = rgbToSquareInput(images.get(SAMPLE_IMAGES[0] as string) as RgbImage, SSD_INPUT_SIZE).input.data;
    const [a, b] = [await fp32.forwardRaw(input), await int8.forwardRaw(input)];
    let diff = 0;
    for (let i = 0; i < a.scores.length; i++) diff = Math.max(diff, Math.abs((a.scores[i] as number) - (b.scores[i] as number)));
    assert.ok(diff > 1e-3 && diff < 0.3, `max score difference ${diff}`);
  });
});

describe('precision option', () => {
  test("createVisage({ precision: 'int8' }) detects with the int8 network", async () => {
    const file = SAMPLE_IMAGES[0] as string;
    const image = images.get(file) as RgbImage;
    const [int8Scores, fp32Scores] = [(await int8.detect(image)).map((d) => d.score), (await fp32.detect(image)).map((d) => d.score)];
    const visage = await createVisage({ threads: 2, precision: 'int8' });
    try {
      const { faces } = await visage.detect(file, { detector: 'ssd' });
      const scores = faces.map((f) => f.score).sort((a, b) => b - a);
      assert.equal(scores.length, int8Scores.length);
      scores.forEach((s, i) => assert.ok(Math.abs(s - (int8Scores[i] as number)) < 1e-5, `face ${i}: ${s} vs int8 ${int8Scores[i]}`));
      assert.ok(scores.some((s, i) => Math.abs(s - (fp32Scores[i] ?? 0)) > 1e-3), 'scores are fp32\'s');
    } finally {
      await visage.close();
    }
  });

  test('an unknown precision is INVALID_ARGUMENT for the detector and for createVisage', async () => {
    const bad = (err: unknown) => isVisageError(err) && err.code === 'INVALID_ARGUMENT' && /precision/.test(err.message);
    await assert.rejects(createSsdDetector(engine, { precision: 'fp16' as 'int8' }), bad);
    await assert.rejects(createVisage({ precision: 'int4' as 'int8' }), bad);
  });
});
