/**
 * Speed of the SSD MobileNetV1 and Tiny face detectors: visage (ONNX Runtime, 1 and 2 threads)
 * against face-api on TF.js wasm (one thread in Node), raw forward and end to end from decoded
 * pixels (pre-processing, network, decoding, NMS). Runs are interleaved so machine load hits both
 * sides alike; medians are reported.
 *
 *   node --import tsx bench/networks-detectors.ts [image] [runs]
 */
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../src/engine/index.js';
import { loadImage } from '../src/image/index.js';
import { rgbToSquareInput } from '../src/models/common/preprocess.js';
import { SSD_INPUT_SIZE, createSsdDetector } from '../src/models/ssd/index.js';
import { TINY_DEFAULTS, createTinyDetector } from '../src/models/tiny/index.js';
import { FACEAPI_DEMO_DIR, loadFaceApiReference } from '../test/reference/faceapi.js';

const file = process.argv[2] ?? path.join(FACEAPI_DEMO_DIR, 'sample1.jpg');
const runs = Number(process.argv[3] ?? 15);
const WARMUP = 2;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Runs the named tasks round-robin `runs` times after a warm-up; returns each task's median ms. */
async function interleaved(tasks: Record<string, () => Promise<unknown>>): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(tasks).map((k) => [k, []]));
  for (let i = 0; i < WARMUP + runs; i++) {
    for (const [k, fn] of Object.entries(tasks)) {
      const ms = await time(fn);
      if (i >= WARMUP) samples[k]?.push(ms);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

const reference = await loadFaceApiReference();
const image = await loadImage(file);
const tensor = await reference.imageToTensor(file);
const ssdInput = rgbToSquareInput(image, SSD_INPUT_SIZE).input.data;
const tinyInput = rgbToSquareInput(image, TINY_DEFAULTS.inputSize).input.data;
const engines = [1, 2].map((threads) => new Engine({ threads }));
const ssd = await Promise.all(engines.map((e) => createSsdDetector(e)));
const tiny = await Promise.all(engines.map((e) => createTinyDetector(e)));

console.log(`${path.basename(file)} ${image.width}x${image.height}, ${runs} runs, ${os.availableParallelism()} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const rows: string[][] = [];
for (const [family, size, tasks] of [
  ['ssd', SSD_INPUT_SIZE, {
    'raw ref': () => reference.ssdMobilenetv1(ssdInput, [1, SSD_INPUT_SIZE, SSD_INPUT_SIZE, 3]),
    'raw t1': () => ssd[0]!.forwardRaw(ssdInput),
    'raw t2': () => ssd[1]!.forwardRaw(ssdInput),
    'e2e ref': () => reference.detectSsd(tensor),
    'e2e t1': () => ssd[0]!.detect(image),
    'e2e t2': () => ssd[1]!.detect(image),
  }],
  ['tiny', TINY_DEFAULTS.inputSize, {
    'raw ref': () => reference.tinyFaceDetector(tinyInput, [1, TINY_DEFAULTS.inputSize, TINY_DEFAULTS.inputSize, 3]),
    'raw t1': () => tiny[0]!.forwardRaw(tinyInput),
    'raw t2': () => tiny[1]!.forwardRaw(tinyInput),
    'e2e ref': () => reference.detectTiny(tensor),
    'e2e t1': () => tiny[0]!.detect(image),
    'e2e t2': () => tiny[1]!.detect(image),
  }],
] as const) {
  const m = await interleaved(tasks);
  for (const kind of ['raw', 'e2e']) {
    const ref = m[`${kind} ref`] as number;
    const t1 = m[`${kind} t1`] as number;
    const t2 = m[`${kind} t2`] as number;
    rows.push([`${family} ${size}`, kind, ref.toFixed(1), `${t1.toFixed(1)} (${(ref / t1).toFixed(1)}x)`, `${t2.toFixed(1)} (${(ref / t2).toFixed(1)}x)`]);
  }
}
console.log('| network | step | face-api wasm ms | visage 1 thread ms | visage 2 threads ms |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);

tensor.dispose();
reference.dispose();
await Promise.all(engines.map((e) => e.dispose()));
