/**
 * What mirror averaging (createVisage's `averageMirror`) buys on LFW, per recogniser, against
 * what it costs. Every image is decoded and its faces found once; the subject (the face nearest
 * the centre, or the whole image where none is found, as bench/lfw.ts takes it) is then embedded
 * by dlib's ResNet and by MobileFaceNet with and without the mirror average, each call timed.
 * The fusion is scored for every combination of its parts' settings (the library's weights).
 *
 *   node --import tsx bench/mirror.ts [folder] [--limit N] [--threads N]
 *
 * Accuracy is View 2's: mean ± std over the held-out folds, cosine distance. `--limit N` keeps
 * the first N same-person and N different-person pairs of each fold.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createVisage, distance } from '../src/index.js';
import { loadImage } from '../src/image/index.js';
import { FUSION_WEIGHTS } from '../src/match/thresholds.js';
import { asPixels } from '../src/pipeline/align.js';
import type { ModelRegistry } from '../src/pipeline/models.js';
import { createRecognizer, type Recognizer } from '../src/pipeline/recognizers.js';
import type { DetectedFace } from '../src/types.js';
import { crossValidate, imageFile, meanStd, parsePairs, rocAuc, type Scored } from './lib/lfw-protocol.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: args, positionals } = parseArgs({ allowPositionals: true, options: { limit: { type: 'string' }, threads: { type: 'string' } } });
const folder = path.resolve(positionals[0] ?? path.resolve(PROJECT_ROOT, '../shared/datasets/lfw-dev'));
const limit = args.limit === undefined ? undefined : Number(args.limit);

const allFolds = parsePairs(await readFile(path.join(folder, 'pairs.txt'), 'utf8'));
const folds = limit === undefined ? allFolds : allFolds.map((fold) => [...fold.filter((p) => p.same).slice(0, limit), ...fold.filter((p) => !p.same).slice(0, limit)]);
const files = [...new Set(folds.flat().flatMap((p) => [imageFile(p.a), imageFile(p.b)]))].sort();

const visage = await createVisage(args.threads ? { threads: Number(args.threads) } : {});
// The instance's own networks, so nothing loads twice (a bench may reach inside).
const models = (visage as unknown as { models: ModelRegistry }).models;
const PARTS = ['dlib', 'mobilefacenet'] as const;
type Part = (typeof PARTS)[number];
const recognizers: Record<`${Part}/${'off' | 'on'}`, Recognizer> = {
  'dlib/off': createRecognizer('dlib', models, 'chip', false),
  'dlib/on': createRecognizer('dlib', models, 'chip', true),
  'mobilefacenet/off': createRecognizer('mobilefacenet', models, 'chip', false),
  'mobilefacenet/on': createRecognizer('mobilefacenet', models, 'chip', true),
};
type Variant = keyof typeof recognizers;
const variants = Object.keys(recognizers) as Variant[];

const embeddings = new Map<Variant, Map<string, Float32Array>>(variants.map((v) => [v, new Map()]));
const ms = Object.fromEntries(variants.map((v) => [v, 0])) as Record<Variant, number>;
const started = performance.now();
for (const [i, file] of files.entries()) {
  const image = await loadImage(path.join(folder, 'images', file));
  const { faces } = await visage.detect(path.join(folder, 'images', file), { allowNoFace: true });
  // LFW's subject: the face nearest the centre, in units of its size.
  const offset = (f: DetectedFace) => Math.hypot(f.box.x + f.box.width / 2 - image.width / 2, f.box.y + f.box.height / 2 - image.height / 2) / Math.max(1, f.box.width, f.box.height);
  const subject = [...faces].sort((a, b) => offset(a) - offset(b))[0] as DetectedFace;
  for (const v of variants) {
    const t0 = performance.now();
    const [e] = await recognizers[v].embed(asPixels(image), [subject]);
    ms[v] += performance.now() - t0;
    if (!e) throw new Error(`${file}: no crop for ${v}`);
    embeddings.get(v)?.set(file, e);
  }
  if ((i + 1) % 500 === 0) process.stderr.write(`${i + 1}/${files.length} images, ${(((i + 1) * 1000) / (performance.now() - started)).toFixed(1)} img/s\n`);
}
await visage.close();

const normalised = (v: Float32Array) => {
  const n = Math.hypot(...v) || 1;
  return Array.from(v, (x) => x / n);
};
/** The fusion as the library builds it: the parts normalised, times sqrt(weight), concatenated. */
const fused = (a: Float32Array, b: Float32Array) => [
  ...normalised(a).map((x) => x * Math.sqrt(FUSION_WEIGHTS['dlib-resnet128'])),
  ...normalised(b).map((x) => x * Math.sqrt(FUSION_WEIGHTS['mobilefacenet-192'])),
];

function score(embed: (file: string) => number[]) {
  const scored: Scored[][] = folds.map((fold) => fold.map((p) => ({ distance: distance(embed(imageFile(p.a)), embed(imageFile(p.b)), 'cosine'), same: p.same })));
  const results = crossValidate(scored);
  const { mean, std } = meanStd(results.map((r) => r.accuracy));
  const errors = scored.reduce((n, fold, f) => n + fold.filter((s) => s.distance <= (results[f] as { threshold: number }).threshold !== s.same).length, 0);
  return { mean, std, auc: rocAuc(scored.flat()), errors };
}
const get = (v: Variant) => (file: string) => Array.from(embeddings.get(v)?.get(file) as Float32Array);
const perImage = (v: Variant) => ms[v] / files.length;

console.log(`${files.length} images, ${folds.flat().length} pairs (cosine; time per image of the recogniser's embed, in one run)`);
console.log('| recogniser | mirror | accuracy % (mean ± std) | AUC | errors | ms/image |');
console.log('|---|---|---|---|---|---|');
const pct = (x: number) => (100 * x).toFixed(2);
for (const part of PARTS) {
  for (const m of ['off', 'on'] as const) {
    const v = `${part}/${m}` as Variant;
    const r = score(get(v));
    console.log(`| ${part} | ${m} | ${pct(r.mean)} ± ${pct(r.std)} | ${r.auc.toFixed(4)} | ${r.errors} | ${perImage(v).toFixed(2)} |`);
  }
}
for (const d of ['off', 'on'] as const) {
  for (const m of ['off', 'on'] as const) {
    const [a, b] = [`dlib/${d}`, `mobilefacenet/${m}`] as Variant[];
    const r = score((file) => fused(embeddings.get(a as Variant)?.get(file) as Float32Array, embeddings.get(b as Variant)?.get(file) as Float32Array));
    console.log(`| fusion | dlib ${d}, mobilefacenet ${m} | ${pct(r.mean)} ± ${pct(r.std)} | ${r.auc.toFixed(4)} | ${r.errors} | ${(perImage(a as Variant) + perImage(b as Variant)).toFixed(2)} (parts, run one after the other) |`);
  }
}
