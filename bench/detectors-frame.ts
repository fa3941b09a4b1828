/**
 * Time per 640x480 video frame of the face detectors, in one run, interleaved round-robin so
 * machine load hits all alike; medians, and each as a ratio against Tiny measured in the same run:
 * - network: the network alone on its prepared input (SSD 512, Tiny 416, BlazeFace 128 / 192);
 * - detector: pre-processing, network, decoding and NMS from decoded pixels;
 * - detect step: `detectPixels`, what the video loop runs on a detection frame (detector, the
 *   68-point landmark net on each face, and the pipeline's second looks where they apply).
 * The frame: face-api's sample1.jpg (three real faces) scaled to 640 wide, centred on a 640x480
 * black frame, or any image given (resized and letterboxed the same way).
 *
 *   flock /tmp/visage-heavy.lock node --import tsx bench/detectors-frame.ts [--image photo.jpg] [--runs 30] [--threads 2] [--detectors blazeface,blazeface-full,tiny,ssd]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createVisage, type DetectorName, type RgbImage } from '../src/index.js';
import { Engine } from '../src/engine/index.js';
import { blazeFaceInput, createBlazeFaceDetector } from '../src/models/blazeface/index.js';
import { rgbToSquareInput } from '../src/models/common/preprocess.js';
import { SSD_INPUT_SIZE, createSsdDetector } from '../src/models/ssd/index.js';
import { TINY_DEFAULTS, createTinyDetector } from '../src/models/tiny/index.js';
import type { VisagePipeline } from '../src/pipeline/visage.js';

const { values } = parseArgs({
  options: {
    image: { type: 'string', default: 'node_modules/@vladmandic/face-api/demo/sample1.jpg' },
    runs: { type: 'string', default: '30' },
    threads: { type: 'string', default: '2' },
    detectors: { type: 'string', default: 'blazeface,blazeface-full,tiny,ssd' },
  },
});
const runs = Number(values.runs);
const threads = Number(values.threads);
const detectors = values.detectors.split(',') as DetectorName[];
const WARMUP = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

const { data, info } = await sharp(values.image).resize(640, 480, { fit: 'contain', background: { r: 0, g: 0, b: 0 } }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const frame: RgbImage = { data: new Uint8Array(data), width: info.width, height: info.height };

const engine = new Engine({ threads });
const visage = (await createVisage({ threads })) as VisagePipeline;
const tasks: Record<string, Record<'network' | 'detector' | 'detect step', () => Promise<unknown>>> = {};
for (const name of detectors) {
  const step = () => visage.detectPixels(frame, { detector: name });
  if (name === 'ssd') {
    const ssd = await createSsdDetector(engine);
    const input = rgbToSquareInput(frame, SSD_INPUT_SIZE).input.data;
    tasks[name] = { network: () => ssd.forwardRaw(input), detector: () => ssd.detect(frame), 'detect step': step };
  } else if (name === 'tiny') {
    const tiny = await createTinyDetector(engine);
    const input = rgbToSquareInput(frame, TINY_DEFAULTS.inputSize).input.data;
    tasks[name] = { network: () => tiny.forwardRaw(input), detector: () => tiny.detect(frame), 'detect step': step };
  } else if (name === 'blazeface' || name === 'blazeface-full') {
    const blazeface = await createBlazeFaceDetector(engine, { variant: name === 'blazeface' ? 'short' : 'full' });
    const input = blazeFaceInput(frame, blazeface.inputSize).input;
    tasks[name] = { network: () => blazeface.forwardRaw(input), detector: () => blazeface.detect(frame), 'detect step': step };
  } else {
    throw new Error(`no network timing for detector ${name}`);
  }
}
if (!tasks.tiny) throw new Error('the ratios are against tiny: include it in --detectors');

const samples: Record<string, number[]> = {};
for (let i = 0; i < WARMUP + runs; i++) {
  for (const [name, kinds] of Object.entries(tasks)) {
    for (const [kind, fn] of Object.entries(kinds)) {
      const t0 = performance.now();
      await fn();
      const ms = performance.now() - t0;
      if (i >= WARMUP) (samples[`${name} ${kind}`] ??= []).push(ms);
    }
  }
}
const faces = Object.fromEntries(await Promise.all(detectors.map(async (d) => [d, (await visage.detectPixels(frame, { detector: d })).faces.length] as const)));
console.log(`${values.image} as a 640x480 frame; ${runs} runs; threads ${threads}; ${os.availableParallelism()} cores; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('| detector | faces | network ms (vs tiny) | detector ms (vs tiny) | detect step ms (vs tiny) |');
console.log('|---|---|---|---|---|');
const cell = (name: string, kind: string) => {
  const ms = median(samples[`${name} ${kind}`] as number[]);
  const tiny = median(samples[`tiny ${kind}`] as number[]);
  return `${ms.toFixed(2)} (${(ms / tiny).toFixed(2)}x)`;
};
for (const name of detectors) console.log(`| ${name} | ${faces[name]} | ${cell(name, 'network')} | ${cell(name, 'detector')} | ${cell(name, 'detect step')} |`);
await visage.close();
await engine.dispose();
