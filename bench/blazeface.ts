/**
 * BlazeFace against the other detectors on real data, the detectors alone (network and decoding,
 * no second looks), same run:
 * - LFW (tight 250x250 portraits, one subject in the centre): how often a box covers the image
 *   centre; how often the pipeline's margin pass (src/pipeline/visage.ts, findBoxes; run where
 *   the detector finds nothing) then finds it; and how often no box fills the frame, which is
 *   when the pipeline's large-face look (cascade, then MTCNN) runs, and how often its cascade
 *   adds a face beside the detector's (one subject per image: a duplicate or a false face).
 * - WIDER FACE (the two validation events in detection-dev): recall of the annotated faces at
 *   least `--min-face` px on their longer side, a detection matching at IoU >= 0.4 (BlazeFace's
 *   boxes are square, WIDER's tall), and detections per image.
 *
 *   flock /tmp/visage-heavy.lock node --import tsx bench/blazeface.ts [--datasets ../shared/datasets] [--limit 500] [--min-face 64]
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../src/engine/index.js';
import { loadImage, type Box, type RgbImage } from '../src/image/index.js';
import { createBlazeFaceDetector } from '../src/models/blazeface/index.js';
import { iou } from '../src/models/common/boxes.js';
import { createSsdDetector } from '../src/models/ssd/index.js';
import { createTinyDetector } from '../src/models/tiny/index.js';
import { createHaarDetector } from '../src/models/haar/index.js';

const { values: args } = parseArgs({ options: { datasets: { type: 'string', default: path.resolve(import.meta.dirname, '../../shared/datasets') }, limit: { type: 'string', default: '500' }, 'min-face': { type: 'string', default: '64' } } });
const limit = Number(args.limit);
const minFace = Number(args['min-face']);

const engine = new Engine({ threads: 2 });
const [ssd, tiny, short, full] = await Promise.all([createSsdDetector(engine), createTinyDetector(engine), createBlazeFaceDetector(engine, { variant: 'short' }), createBlazeFaceDetector(engine, { variant: 'full' })]);
const DETECTORS: Record<string, (image: RgbImage) => Promise<{ box: Box }[]>> = {
  blazeface: (i) => short.detect(i),
  'blazeface-full': (i) => full.detect(i),
  tiny: (i) => tiny.detect(i),
  ssd: (i) => ssd.detect(i),
};

/** The pipeline's margin pass: the image in a black margin of a quarter of its longer side. */
function withMargin(image: RgbImage): { image: RgbImage; margin: number } {
  const margin = Math.round(Math.max(image.width, image.height) * 0.25);
  const width = image.width + 2 * margin;
  const data = new Uint8Array(width * (image.height + 2 * margin) * 3);
  for (let y = 0; y < image.height; y++) data.set(image.data.subarray(y * image.width * 3, (y + 1) * image.width * 3), ((y + margin) * width + margin) * 3);
  return { image: { data, width, height: image.height + 2 * margin }, margin };
}

/** The pipeline's "a face fills the frame" rule (findBoxes): 40% of the shorter side, off the border. */
function fillsFrame(box: Box, image: RgbImage): boolean {
  const short = Math.min(image.width, image.height);
  const edge = 0.02 * short;
  return Math.max(box.width, box.height) >= Math.round(0.4 * short) && box.x > edge && box.y > edge && box.x + box.width < image.width - edge && box.y + box.height < image.height - edge;
}

const covers = (box: Box, x: number, y: number) => box.x <= x && x <= box.x + box.width && box.y <= y && y <= box.y + box.height;

// LFW
const lfwDir = path.join(args.datasets, 'lfw-dev', 'images');
const files: string[] = [];
for (const person of (await readdir(lfwDir)).sort()) {
  for (const f of (await readdir(path.join(lfwDir, person))).sort()) files.push(path.join(lfwDir, person, f));
}
// Every kth image, so the sample spans the alphabet.
const step = Math.max(1, Math.floor(files.length / limit));
const sample = files.filter((_, i) => i % step === 0).slice(0, limit);
const haar = await createHaarDetector();
const lfw = Object.fromEntries(Object.keys(DETECTORS).map((k) => [k, { found: 0, margin: 0, noFill: 0, added: 0, ms: 0 }]));
for (const file of sample) {
  const image = await loadImage(file);
  const cx = image.width / 2;
  const cy = image.height / 2;
  for (const [name, detect] of Object.entries(DETECTORS)) {
    const s = lfw[name] as { found: number; margin: number; noFill: number; added: number; ms: number };
    const faces = await detect(image);
    if (faces.some((f) => covers(f.box, cx, cy))) s.found++;
    else if (faces.length === 0) {
      const m = withMargin(image);
      if ((await detect(m.image)).some((f) => covers(f.box, cx + m.margin, cy + m.margin))) s.margin++;
    }
    if (!faces.some((f) => fillsFrame(f.box, image))) {
      s.noFill++;
      // The look's first stage: the cascade for a frame-filling face the detector has not given.
      const started = performance.now();
      const looked = haar.detect(image, { minSize: Math.round(0.4 * Math.min(image.width, image.height)) });
      s.ms += performance.now() - started;
      if (looked.some((h) => faces.every((f) => iou(f.box, h.box) < 0.3))) s.added++;
    }
  }
}
console.log(`LFW (lfw-dev, ${sample.length} images, every ${step}th)`);
console.log('| detector | subject found | found by the margin pass where none was | no face fills the frame (large-face look runs) | the look\'s cascade adds a face | cascade ms per image |');
console.log('|---|---|---|---|---|---|');
const pct = (n: number, of: number) => `${n} (${((100 * n) / of).toFixed(1)}%)`;
for (const [name, s] of Object.entries(lfw)) console.log(`| ${name} | ${pct(s.found, sample.length)} | ${s.margin} | ${pct(s.noFill, sample.length)} | ${s.added} | ${(s.ms / sample.length).toFixed(2)} |`);
haar.dispose();

// WIDER
const widerDir = path.join(args.datasets, 'detection-dev', 'wider-val-subset');
const gtLines = (await readFile(path.join(widerDir, 'wider_face_val_bbx_gt.txt'), 'utf8')).split('\n');
const truth: { file: string; boxes: Box[] }[] = [];
for (let i = 0; i < gtLines.length && gtLines[i]?.trim(); ) {
  const file = (gtLines[i] as string).trim();
  const n = Number(gtLines[i + 1]);
  const boxes = gtLines.slice(i + 2, i + 2 + Math.max(n, 1)).map((l) => l.trim().split(/\s+/).map(Number)).filter((v) => n > 0 && (v[7] ?? 0) === 0).map(([x, y, w, h]) => ({ x: x as number, y: y as number, width: w as number, height: h as number }));
  truth.push({ file, boxes });
  i += 2 + Math.max(n, 1);
}
const wider = Object.fromEntries(Object.keys(DETECTORS).map((k) => [k, { hit: 0, detections: 0 }]));
let large = 0;
for (const { file, boxes } of truth) {
  const image = await loadImage(path.join(widerDir, 'images', file));
  const big = boxes.filter((b) => Math.max(b.width, b.height) >= minFace);
  large += big.length;
  for (const [name, detect] of Object.entries(DETECTORS)) {
    const faces = await detect(image);
    const s = wider[name] as { hit: number; detections: number };
    s.detections += faces.length;
    const used = new Set<number>();
    for (const b of big) {
      let best = -1;
      let bestIou = 0.4;
      faces.forEach((f, k) => {
        const v = iou(f.box, b);
        if (!used.has(k) && v >= bestIou) [best, bestIou] = [k, v];
      });
      if (best >= 0) {
        used.add(best);
        s.hit++;
      }
    }
  }
}
console.log(`\nWIDER FACE (${truth.length} images of 13--Interview and 19--Couple; ${large} valid faces >= ${minFace} px on their longer side)`);
console.log('| detector | recall (IoU >= 0.4) | detections per image |');
console.log('|---|---|---|');
for (const [name, s] of Object.entries(wider)) console.log(`| ${name} | ${pct(s.hit, large)} | ${(s.detections / truth.length).toFixed(2)} |`);
await engine.dispose();
