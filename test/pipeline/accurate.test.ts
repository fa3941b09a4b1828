/**
 * Detection modes on a group photo made here from the faces in face-api's demo photos: several
 * faces scaled down to 20-40 pixels and two large ones on a larger canvas, one of the large ones
 * cut by the border. Accurate mode must find most of the small faces (fast mode finds few of
 * them), fast mode must keep the large ones, and every box stays inside the image.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import { createVisage, isVisageError, type Box, type DetectResult, type Visage } from '../../src/index.js';
import { iou } from '../../src/models/common/boxes.js';
import { clipToImage, combinePasses, runPass, tilePass, tileGrid, type AccuratePlan, type PassRunners } from '../../src/pipeline/accurate.js';

const DEMO = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
const WIDTH = 1280;
const HEIGHT = 800;
/** Faces the group photo is made of: two large and twelve small. */
const SOURCES = 14;

let visage: Visage;

before(async () => {
  visage = await createVisage({ threads: 2 });
});

after(async () => {
  await visage.close();
});

interface Placed {
  box: Box;
  large: boolean;
}

/**
 * The group photo: every face SSD finds in sample1..6 (at full size), cut with a margin and
 * pasted at `height` pixels of face (small ones in a grid, two large), with where each face went.
 */
async function groupPhoto(): Promise<{ png: Buffer; faces: Placed[] }> {
  const sources: { file: string; box: Box }[] = [];
  for (const i of [1, 2, 3, 4, 5, 6]) {
    // The photo takes the first SOURCES faces: photos after those hold none of them.
    if (sources.length >= SOURCES) break;
    const file = path.join(DEMO, `sample${i}.jpg`);
    for (const f of (await visage.detect(file)).faces) if (f.box.height >= 60) sources.push({ file, box: f.box });
  }
  assert.ok(sources.length >= 12, `expected at least 12 faces in the demo photos, found ${sources.length}`);
  const layers: OverlayOptions[] = [];
  const faces: Placed[] = [];
  const paste = async (source: { file: string; box: Box }, faceHeight: number, left: number, top: number, large: boolean) => {
    const meta = await sharp(source.file).metadata();
    // The face with half its size of context around it.
    const m = 0.5 * source.box.height;
    const x0 = Math.max(0, Math.round(source.box.x - m));
    const y0 = Math.max(0, Math.round(source.box.y - m));
    const x1 = Math.min(meta.width ?? 0, Math.round(source.box.x + source.box.width + m));
    const y1 = Math.min(meta.height ?? 0, Math.round(source.box.y + source.box.height + m));
    const k = faceHeight / source.box.height;
    const w = Math.max(1, Math.round((x1 - x0) * k));
    const h = Math.max(1, Math.round((y1 - y0) * k));
    const input = await sharp(source.file).extract({ left: x0, top: y0, width: x1 - x0, height: y1 - y0 }).resize(w, h).toBuffer();
    // A tile cut by the canvas edge is cropped to what fits.
    const cw = Math.min(w, WIDTH - left);
    const ch = Math.min(h, HEIGHT - top);
    layers.push({ input: cw < w || ch < h ? await sharp(input).extract({ left: 0, top: 0, width: cw, height: ch }).toBuffer() : input, left, top });
    const box = { x: left + (source.box.x - x0) * k, y: top + (source.box.y - y0) * k, width: source.box.width * k, height: source.box.height * k };
    faces.push({ box: clipToImage(box, WIDTH, HEIGHT) as Box, large });
  };
  // Two large faces: one whole on the left, one cut by the right edge.
  await paste(sources[0] as { file: string; box: Box }, 180, 40, 60, true);
  await paste(sources[1] as { file: string; box: Box }, 180, WIDTH - 200, 300, true);
  // The small ones, 20 to 40 pixels, in a loose grid in the middle.
  const small = sources.slice(2, SOURCES);
  for (const [i, s] of small.entries()) {
    const col = i % 4;
    const row = Math.floor(i / 4);
    await paste(s, 20 + ((i * 13) % 21), 380 + col * 160, 140 + row * 200, false);
  }
  const png = await sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite(layers)
    .png()
    .toBuffer();
  return { png, faces };
}

const found = (result: DetectResult, face: Placed) => result.faces.some((f) => iou(f.box, face.box) >= 0.3);
const inside = (result: DetectResult) =>
  result.faces.every((f) => f.box.x >= 0 && f.box.y >= 0 && f.box.x + f.box.width <= result.width && f.box.y + f.box.height <= result.height);

describe('detection modes', () => {
  let photo: { png: Buffer; faces: Placed[] };
  let fast: DetectResult;
  let accurate: DetectResult;

  before(async () => {
    photo = await groupPhoto();
    fast = await visage.detect(photo.png, { mode: 'fast' });
    accurate = await visage.detect(photo.png, { mode: 'accurate' });
  });

  test('accurate mode finds most of the 20-40 pixel faces, and more than fast mode', () => {
    const small = photo.faces.filter((f) => !f.large);
    const inAccurate = small.filter((f) => found(accurate, f)).length;
    const inFast = small.filter((f) => found(fast, f)).length;
    const seen = small.map((f) => `${f.box.height.toFixed(0)}px:${found(fast, f) ? 'F' : '-'}${found(accurate, f) ? 'A' : '-'}`).join(' ');
    // Most of them (F: found in fast mode, A: in accurate mode).
    assert.ok(inAccurate > small.length / 2, `accurate found ${inAccurate} of ${small.length} small faces: ${seen}`);
    assert.ok(inAccurate > inFast, `accurate ${inAccurate}, fast ${inFast}: ${seen}`);
  });

  test('fast mode keeps the large faces, and so does accurate mode', () => {
    for (const f of photo.faces.filter((x) => x.large)) {
      assert.ok(found(fast, f), `fast lost the large face at ${JSON.stringify(f.box)}`);
      assert.ok(found(accurate, f), `accurate lost the large face at ${JSON.stringify(f.box)}`);
    }
  });

  test('boxes stay inside the image in both modes', () => {
    assert.ok(inside(fast), JSON.stringify(fast.faces.map((f) => f.box)));
    assert.ok(inside(accurate), JSON.stringify(accurate.faces.map((f) => f.box)));
  });

  test('faces found in accurate mode get the 68 landmarks, inside their box', () => {
    for (const f of accurate.faces) {
      assert.equal(f.landmarks.length, 68);
      const cx = f.landmarks.reduce((s, p) => s + p.x, 0) / 68;
      const cy = f.landmarks.reduce((s, p) => s + p.y, 0) / 68;
      assert.ok(cx >= f.box.x && cx <= f.box.x + f.box.width && cy >= f.box.y && cy <= f.box.y + f.box.height);
    }
  });

  test('an unknown mode is INVALID_ARGUMENT', async () => {
    await assert.rejects(
      visage.detect(photo.png, { mode: 'precise' as never }),
      (err: unknown) => isVisageError(err) && err.code === 'INVALID_ARGUMENT',
    );
  });
});

describe('accurate mode helpers', () => {
  test('tiles cover the image and overlap by at least the asked amount', () => {
    const tiles = tileGrid(1000, 700, 256, 100);
    for (const [x, y] of [[0, 0], [999, 699], [500, 350], [999, 0]] as const) {
      assert.ok(tiles.some((t) => x >= t.x && x < t.x + t.width && y >= t.y && y < t.y + t.height), `${x},${y} not covered`);
    }
    const row = tiles.filter((t) => t.y === 0).sort((a, b) => a.x - b.x);
    for (let i = 1; i < row.length; i++) assert.ok((row[i - 1] as Box).x + 256 - (row[i] as Box).x >= 100);
  });

  test('tile passes stay bounded on a large image, keep small faces clear of inner tile edges, in image pixels', async () => {
    const image = { data: new Uint8Array(4000 * 3000 * 3), width: 4000, height: 3000 };
    let tiles = 0;
    const found = await tilePass(image, 1, 512, 48, async (images) => {
      tiles = images.length;
      // One small face in the middle of every tile, and one cut by its left edge.
      return images.map((t) => [
        { box: { x: t.width / 2, y: t.height / 2, width: 20, height: 20 }, score: 0.9 },
        { box: { x: 0, y: t.height / 2, width: 20, height: 20 }, score: 0.9 },
      ]);
    });
    assert.ok(tiles > 1 && tiles <= 48, `${tiles} tiles`);
    // The cut faces are kept only in the tiles at the image's left edge.
    const leftColumn = found.filter((f) => f.box.x === 0).length;
    assert.ok(leftColumn > 0 && found.length === tiles + leftColumn, `${found.length} faces from ${tiles} tiles`);
    assert.ok(found.every((f) => f.box.x + f.box.width <= 4000 && f.box.y + f.box.height <= 3000));
  });

  test('fusion: a box several sources agree on is a face, a lone low-scored one is not; the box is their score-weighted mean', () => {
    const plan: AccuratePlan = {
      passes: [{ detector: 'ssd', scale: 1 }, { detector: 'blazeface-full', scale: 1 }],
      fusion: {
        mergeIou: 0.3,
        fast: { present: 2, score: 2 },
        passes: [{ present: 1, score: 2 }, { present: 1, score: 2 }],
        height: [0, 0],
        bias: -2,
        minProbability: 0.5,
      },
    };
    const faces = combinePasses(
      [],
      [
        [{ box: { x: 0, y: 0, width: 10, height: 10 }, score: 0.4 }, { box: { x: 50, y: 50, width: 10, height: 10 }, score: 0.4 }],
        [{ box: { x: 2, y: 0, width: 10, height: 10 }, score: 0.4 }],
      ],
      plan.fusion,
    );
    // Agreed: z = -2 + 2 x (1 + 2 x (0.4 - 0.3)) = 0.4, p 0.60; alone: z = -0.8, p 0.31.
    assert.equal(faces.length, 1);
    const [face] = faces;
    assert.deepEqual(face?.box, { x: 1, y: 0, width: 10, height: 10 });
    assert.ok(Math.abs((face?.score ?? 0) - 1 / (1 + Math.exp(-0.4))) < 1e-12);
  });

  test("a 'whole' pass runs its detector once on the whole image; every pass keeps only faces from the score floor", async () => {
    const image = { data: new Uint8Array(100 * 80 * 3), width: 100, height: 80 };
    const seen: { w: number; h: number; floor: number }[] = [];
    const runners: PassRunners = {
      ssd: async (images, floor) => {
        for (const i of images) seen.push({ w: i.width, h: i.height, floor });
        return images.map(() => [{ box: { x: 1, y: 1, width: 50, height: 50 }, score: 0.9 }]);
      },
      'blazeface-full': async () => [],
      mtcnn: async () => [{ box: { x: 1, y: 1, width: 20, height: 20 }, score: 0.2 }, { box: { x: 40, y: 1, width: 20, height: 20 }, score: 0.8 }],
    };
    assert.equal((await runPass(image, { detector: 'ssd', scale: 'whole' }, runners)).length, 1);
    assert.deepEqual(seen, [{ w: 100, h: 80, floor: 0.3 }]);
    assert.deepEqual((await runPass(image, { detector: 'mtcnn', minFaceSize: 20 }, runners)).map((c) => c.score), [0.8]);
  });

  test('clipping keeps a box inside the image and drops one wholly outside', () => {
    assert.deepEqual(clipToImage({ x: -5, y: 90, width: 20, height: 20 }, 100, 100), { x: 0, y: 90, width: 15, height: 10 });
    assert.equal(clipToImage({ x: 120, y: 0, width: 10, height: 10 }, 100, 100), null);
  });
});
