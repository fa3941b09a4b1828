/**
 * Where one LFW image's time goes in `represent` with the library's defaults: every network and
 * step of the pipeline is wrapped with a timer (wall time per image, median over the images, and
 * the mean), and ONNX Runtime's own time is told apart from the JavaScript around it (crops,
 * pre-processing, mirror copies, fusion). Counts show how often the second looks fire (SSD's
 * margin pass, the BlazeFace and MTCNN large-face looks).
 *
 *   node --import tsx bench/lfw-stages.ts [folder] [--limit 100] [--threads N]
 *
 * `--limit N` takes the first N images of pairs.txt's sorted image list (default 300); the first
 * 20 are a warm-up and are not counted. Nested timers overlap (a network's time is inside its
 * step's), and fusion runs its two recognisers at once, so rows do not add up to the total.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createVisage } from '../src/index.js';
import type { Model } from '../src/engine/index.js';
import { imageFile, parsePairs } from './lib/lfw-protocol.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { limit: { type: 'string', default: '300' }, threads: { type: 'string' }, mirror: { type: 'string' } },
});
const folder = path.resolve(positionals[0] ?? path.resolve(PROJECT_ROOT, '../shared/datasets/lfw-dev'));
const limit = Number(args.limit);
const WARMUP = 20;

const pairs = parsePairs(await readFile(path.join(folder, 'pairs.txt'), 'utf8'));
const files = [...new Set(pairs.flat().flatMap((p) => [imageFile(p.a), imageFile(p.b)]))].sort().slice(0, limit + WARMUP);

const visage = await createVisage({
  ...(args.threads ? { threads: Number(args.threads) } : {}),
  ...(args.mirror ? { averageMirror: args.mirror === 'on' } : {}),
});
// The bench reaches into the pipeline's private parts to time them; nothing here changes what runs.
type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const pipeline = visage as unknown as Any;
const models = pipeline.models as Any;

/** Per image: ms and calls of each timer. */
let current: Record<string, { ms: number; calls: number }> = {};
const add = (name: string, ms: number) => {
  const t = (current[name] ??= { ms: 0, calls: 0 });
  t.ms += ms;
  t.calls++;
};
function timed<F extends (...a: any[]) => any>(name: string, fn: F): F { // eslint-disable-line @typescript-eslint/no-explicit-any
  return function (this: unknown, ...a: unknown[]) {
    const t0 = performance.now();
    const r = fn.apply(this, a);
    if (r instanceof Promise) return r.finally(() => add(name, performance.now() - t0));
    add(name, performance.now() - t0);
    return r;
  } as F;
}
/** Wraps methods of what a registry getter returns. */
function wrapGetter(getter: string, methods: Record<string, string>) {
  const original = models[getter] as () => Promise<Any>;
  const wrapped = new WeakSet<object>();
  models[getter] = async () => {
    const net = await original();
    if (!wrapped.has(net)) {
      for (const [method, name] of Object.entries(methods)) net[method] = timed(name, net[method].bind(net));
      wrapped.add(net);
    }
    return net;
  };
}
// ONNX Runtime's share: every session run, by network.
const engine = models.engine as Any;
const load = engine.load.bind(engine) as (...a: unknown[]) => Promise<Model>;
engine.load = async (key: string, ...rest: unknown[]) => {
  const model = (await load(key, ...rest)) as Any;
  if (!model.__timed) {
    model.run = timed(`  ort ${key.split(':')[0]}`, model.run.bind(model));
    model.__timed = true;
  }
  return model;
};
pipeline.decode = timed('decode', pipeline.decode.bind(pipeline));
wrapGetter('ssd', { detect: 'ssd detect' });
wrapGetter('blazeface', { detect: 'blazeface (large-face look)' });
wrapGetter('mtcnn', { detect: 'mtcnn (large-face look)' });
wrapGetter('landmarks', { predictBatch: 'landmarks' });
wrapGetter('descriptor', { describeBatch: 'dlib descriptor' });
wrapGetter('mobileFaceNet', { embedBatch: 'mobilefacenet' });
const recognizer = pipeline.recognizer as Any;
recognizer.embed = timed('recognise (crops, nets, mirror, fusion)', recognizer.embed.bind(recognizer));
for (const part of ['dlib', 'mobile']) {
  if (recognizer[part]) recognizer[part].embed = timed(`  ${part} recogniser`, recognizer[part].embed.bind(recognizer[part]));
}

const perImage: Record<string, { ms: number; calls: number }>[] = [];
const started = performance.now();
let countedFrom = started;
for (const [i, file] of files.entries()) {
  if (i === WARMUP) countedFrom = performance.now();
  current = {};
  const t0 = performance.now();
  await visage.represent(path.join(folder, 'images', file), { allowNoFace: true });
  add('total represent', performance.now() - t0);
  if (i >= WARMUP) perImage.push(current);
}
const seconds = (performance.now() - countedFrom) / 1000;
await visage.close();

const names = [...new Set(perImage.flatMap((p) => Object.keys(p)))];
const order = ['total represent', 'decode', 'ssd detect', '  ort ssd', 'blazeface (large-face look)', 'mtcnn (large-face look)', 'landmarks', '  ort faceapi-landmarks68-full', 'recognise (crops, nets, mirror, fusion)', '  dlib recogniser', 'dlib descriptor', '  ort descriptor', '  mobile recogniser', 'mobilefacenet', '  ort embedder'];
names.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
console.log(`${perImage.length} LFW images (after ${WARMUP} warm-up), ${(perImage.length / seconds).toFixed(1)} img/s sequential`);
console.log('| stage | mean ms/image | median ms/image | images where it ran | calls per such image |');
console.log('|---|---|---|---|---|');
for (const n of names) {
  const ran = perImage.filter((p) => p[n]);
  const ms = perImage.map((p) => p[n]?.ms ?? 0);
  const mean = ms.reduce((s, x) => s + x, 0) / perImage.length;
  const calls = ran.reduce((s, p) => s + (p[n]?.calls ?? 0), 0) / Math.max(1, ran.length);
  console.log(`| ${n} | ${mean.toFixed(2)} | ${median(ms).toFixed(2)} | ${ran.length} | ${calls.toFixed(2)} |`);
}
