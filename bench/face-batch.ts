/**
 * The crop networks' batch size: the chain of bench/chain.ts (decode, SSD, 68 landmarks,
 * descriptor on face-api's box, expression, age/gender) with the four crop networks created at
 * `maxBatch: 32` against their default (FACE_BATCH), on one engine (the same sessions), interleaved
 * photo by photo; each stage's median per photo, summed over the shipped photos.
 *
 *   node --import tsx bench/face-batch.ts [runs, default 5]
 */
import { loadImage } from '../src/image/index.js';
import type { CropSource, FloatImage } from '../src/models/common/preprocess.js';
import { asPixels, attributeBox, cropBox, descriptorCrop } from '../src/pipeline/align.js';
import { Engine } from '../src/engine/index.js';
import { createSsdDetector } from '../src/models/ssd/index.js';
import { createLandmarksNet } from '../src/models/landmarks/index.js';
import { createDescriptorNet } from '../src/models/descriptor/index.js';
import { createExpressionNet } from '../src/models/expression/index.js';
import { createAgeGenderNet } from '../src/models/age-gender/index.js';
import { shippedPhotos } from './lib/shipped-photos.js';

const IMAGES = await shippedPhotos();
const STAGES = ['decode', 'detect', 'landmarks', 'descriptor', 'expression', 'ageGender'] as const;
type Stage = (typeof STAGES)[number];
const engine = new Engine({ threads: 2 });
const ssd = await createSsdDetector(engine);
const variant = async (maxBatch?: number) => {
  const o = maxBatch ? { maxBatch } : {};
  return { landmarks: await createLandmarksNet(engine, o), descriptor: await createDescriptorNet(engine, o), expression: await createExpressionNet(engine, o), ageGender: await createAgeGenderNet(engine, o) };
};
const variants = { A32: await variant(32), Bdefault: await variant() };
async function chain(v: Awaited<ReturnType<typeof variant>>, file: string): Promise<Record<Stage, number>> {
  const s = {} as Record<Stage, number>;
  let t = performance.now();
  const lap = (k: Stage) => { const now = performance.now(); s[k] = (s[k] ?? 0) + now - t; t = now; };
  const image = await loadImage(file);
  lap('decode');
  const pixels = asPixels(image);
  const faces = await ssd.detect(image);
  lap('detect');
  const points = await v.landmarks.predictBatch(faces.map((f) => cropBox(pixels, f.box) as FloatImage), faces.map((f) => ({ x: f.box.x, y: f.box.y })));
  lap('landmarks');
  await v.descriptor.describeBatch(points.map((p) => descriptorCrop(pixels, p, 'box') as CropSource));
  lap('descriptor');
  const ac = points.map((p) => cropBox(pixels, attributeBox(p)) as FloatImage);
  await v.expression.predictBatch(ac);
  lap('expression');
  await v.ageGender.predictBatch(ac);
  lap('ageGender');
  return s;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const samples: Record<string, number[]> = {};
const runs = Number(process.argv[2] ?? 5);
if (!Number.isInteger(runs) || runs < 1) throw new Error('Usage: node --import tsx bench/face-batch.ts [runs, a whole number, default 5]');
for (let r = 0; r <= runs; r++) for (const f of IMAGES) for (const [name, v] of Object.entries(variants)) {
  const s = await chain(v, f);
  if (r > 0) for (const k of STAGES) (samples[`${name}|${f}|${k}`] ??= []).push(s[k]);
}
for (const name of Object.keys(variants)) {
  const sums = STAGES.map((k) => IMAGES.reduce((a, f) => a + median(samples[`${name}|${f}|${k}`]!), 0));
  console.log(name, STAGES.map((k, i) => `${k} ${sums[i]!.toFixed(0)}`).join(' | '), '| total', sums.reduce((a, b) => a + b, 0).toFixed(0));
}
await engine.dispose();
