/**
 * Accuracy on LFW pairs (the standard View 2 protocol over the folds of pairs.txt), per detector
 * and metric: mean ± std of the held-out fold accuracies, ROC AUC, TAR at FAR 1e-2 and 1e-3,
 * faces not detected, and embedding throughput. With --calibrate, also the library's threshold
 * (best accuracy over all folds) and confidence scale (logistic fit), as a block to paste into
 * src/match/thresholds.ts.
 *
 *   node --import tsx bench/lfw.ts [folder] [--detector ssd|tiny|mtcnn|haar|none|all]
 *     [--recognizer dlib,mobilefacenet,fusion] [--fuse] [--embeddings cache.json]
 *     [--align MODE] [--limit N] [--min-score S] [--pad P] [--calibrate] [--json out.json] [--threads N]
 *     [--in-flight N] [--mirror on|off] [--workers 1,2]
 *
 * `--recognizer` takes a comma-separated list (default: the library's default); each is run on
 * every image. `--fuse` (with dlib and mobilefacenet both listed) also scores the fusion from the
 * two parts' embeddings: each held-out fold with weights 1/σ fitted on the other folds, and prints
 * the weights over all pairs for src/match/thresholds.ts. `--embeddings F` keeps every image's
 * embeddings in F (read back where present), so a re-evaluation embeds nothing again.
 *
 * `folder` defaults to ../shared/datasets/lfw-dev from the project root. `--align` is passed to
 * createVisage, which checks it (default: the library's own, reported as "default").
 * Each distinct image is embedded once per detector. Where a detector finds several faces, the one nearest the image
 * centre (in units of its own size) is LFW's subject; where it finds none, the whole image stands
 * in (allowNoFace) so the pair still counts, and the image is reported as not detected.
 * `--limit N` keeps the first N same-person and N different-person pairs of each fold;
 * `--min-score S` passes a detection score threshold to the detector (default: its own);
 * `--pad P` surrounds each image with P black pixels before it goes in (an experiment: SSD misses
 * many faces that fill an LFW frame, and finds them with some margin around).
 * `--in-flight N` keeps N images in represent at once (default 1; 2 keeps both cores of a
 * 2-core machine busy, as a caller embedding many images would); `--mirror` sets createVisage's
 * averageMirror (default: the library's); `--precision` createVisage's precision (fp32 or int8).
 * `--workers N[,M…]` embeds the images through `representEach` with that many worker threads
 * (1: the pipeline in this thread, decoding ahead; auto: the library's default, which pools a
 * long array of paths, so with --pad 0 only), once per value listed, one after the other in
 * this process, each a row of its own (its images/s, and the ratio to the first value's): the
 * ONNX Runtime threads (`--threads`, default the cores) are shared out among the workers.
 * Progress goes to stderr, the table to stdout.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createVisage, distance, isVisageError, type DetectorName, type Metric, type RecognizerName, type RepresentOptions, type RepresentResult, type Visage, type VisageOptions } from '../src/index.js';
import {
  accuracyAt,
  bestThreshold,
  crossValidate,
  fitLogisticScale,
  imageFile,
  meanStd,
  parsePairs,
  rocAuc,
  tarAtFar,
  type LfwPair,
  type Scored,
} from './lib/lfw-protocol.js';

const DETECTORS: readonly DetectorName[] = ['ssd', 'tiny', 'mtcnn', 'haar', 'none'];
const METRICS: readonly Metric[] = ['euclidean', 'euclidean_l2', 'cosine'];
const FARS = [1e-2, 1e-3] as const;
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_FOLDER = path.resolve(PROJECT_ROOT, '../shared/datasets/lfw-dev');

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    detector: { type: 'string', default: 'ssd' },
    align: { type: 'string' },
    limit: { type: 'string' },
    'min-score': { type: 'string' },
    pad: { type: 'string' },
    calibrate: { type: 'boolean', default: false },
    json: { type: 'string' },
    threads: { type: 'string' },
    recognizer: { type: 'string' },
    fuse: { type: 'boolean', default: false },
    embeddings: { type: 'string' },
    'in-flight': { type: 'string' },
    mirror: { type: 'string' },
    workers: { type: 'string' },
    precision: { type: 'string' },
  },
});

function fail(message: string): never {
  process.stderr.write(`bench/lfw: ${message}\n`);
  process.exit(2);
}

function positiveInteger(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`Expected a positive integer for ${name} but received ${JSON.stringify(value)}`);
  return n;
}

const folder = path.resolve(positionals[0] ?? DEFAULT_FOLDER);
const detectors: readonly DetectorName[] =
  args.detector === 'all' ? DETECTORS : DETECTORS.includes(args.detector as DetectorName) ? [args.detector as DetectorName] : fail(`Expected one of ${DETECTORS.join(', ')}, all for --detector but received ${JSON.stringify(args.detector)}`);
// createVisage validates the mode, so the bench follows whatever crops the library offers.
const align = args.align as VisageOptions['align'];
const alignLabel = align ?? 'default';
const limit = positiveInteger(args.limit, '--limit');
const threads = positiveInteger(args.threads, '--threads');
const inFlight = positiveInteger(args['in-flight'], '--in-flight') ?? 1;
// Undefined: the one-by-one loop below (`--in-flight`); a number or 'auto': representEach with that many workers.
const workerCounts: (number | 'auto' | undefined)[] =
  args.workers === undefined ? [undefined] : args.workers.split(',').map((w) => (w.trim() === 'auto' ? 'auto' : (positiveInteger(w.trim(), '--workers') as number)));
if (args.workers !== undefined && args['in-flight'] !== undefined) fail('--in-flight is for the one-by-one loop; --workers embeds through representEach');
if (args.mirror !== undefined && args.mirror !== 'on' && args.mirror !== 'off') fail(`Expected on or off for --mirror but received ${JSON.stringify(args.mirror)}`);
const mirror = args.mirror === undefined ? undefined : args.mirror === 'on';
const pad = args.pad === undefined ? 0 : (positiveInteger(args.pad, '--pad') as number);
const minScore = args['min-score'] === undefined ? undefined : Number(args['min-score']);
if (minScore !== undefined && !(minScore > 0 && minScore < 1)) fail(`Expected a number in (0, 1) for --min-score but received ${JSON.stringify(args['min-score'])}`);

/** One image's embedding and how it was found. */
interface Embedded {
  embedding: number[];
  /** The detector found no face; the whole image was used. */
  notDetected: boolean;
  /** Faces the detector found (the subject was picked among them). */
  faces: number;
}

/** LFW's subject: the face nearest the image centre, measured in units of the face's size. */
function subjectIndex(result: RepresentResult, width: number, height: number): number {
  let best = 0;
  let bestOffset = Number.POSITIVE_INFINITY;
  result.faces.forEach(({ box }, i) => {
    const offset = Math.hypot(box.x + box.width / 2 - width / 2, box.y + box.height / 2 - height / 2) / Math.max(1, box.width, box.height);
    if (offset < bestOffset) {
      bestOffset = offset;
      best = i;
    }
  });
  return best;
}

/** The image as a path, or padded with black on every side (lossless PNG). */
async function input(file: string): Promise<string | Buffer> {
  if (pad === 0) return file;
  return sharp(file).extend({ top: pad, bottom: pad, left: pad, right: pad, background: { r: 0, g: 0, b: 0 } }).png({ compressionLevel: 0 }).toBuffer();
}

/** The options every image is embedded with. */
function representOptions(detector: DetectorName, recognizer: RecognizerName | undefined): RepresentOptions {
  return { detector, allowNoFace: true, ...(recognizer === undefined ? {} : { recognizer }), ...(minScore === undefined ? {} : { minScore }) };
}

/** The subject's embedding from represent's outcome for an image. */
async function subjectOf(visage: Visage, image: string | Buffer, outcome: { result: RepresentResult } | { error: unknown }, detector: DetectorName, recognizer: RecognizerName | undefined, size: { width: number; height: number }): Promise<Embedded> {
  if ('error' in outcome) {
    const { error } = outcome;
    // A detection whose crop falls outside the image: fall back to the whole image as well.
    if (!isVisageError(error) || error.code !== 'NO_FACE') throw error;
    const result = await visage.represent(image, { ...(recognizer === undefined ? {} : { recognizer }), detector: 'none' });
    return { embedding: (result.faces[0] as RepresentResult['faces'][number]).embedding, notDetected: true, faces: 0 };
  }
  const { result } = outcome;
  const face = result.faces[subjectIndex(result, size.width, size.height)] as RepresentResult['faces'][number];
  const notDetected = result.wholeImage && detector !== 'none';
  return { embedding: face.embedding, notDetected, faces: result.wholeImage ? 0 : result.faces.length };
}

async function embedImage(visage: Visage, file: string, detector: DetectorName, recognizer: RecognizerName | undefined, size: { width: number; height: number }): Promise<Embedded> {
  const image = await input(file);
  let settled: { result: RepresentResult } | { error: unknown };
  try {
    settled = { result: await visage.represent(image, representOptions(detector, recognizer)) };
  } catch (error) {
    settled = { error };
  }
  return subjectOf(visage, image, settled, detector, recognizer, size);
}

interface MetricReport {
  folds: { threshold: number; accuracy: number }[];
  mean: number;
  std: number;
  auc: number;
  tar: Record<string, { tar: number; threshold: number; falseAccepts: number }>;
  calibration?: { threshold: number; allPairsAccuracy: number; foldMeanAccuracy: number; scale: number };
  /** Pairs the held-out fold thresholds got wrong, for looking into the errors. */
  errors: { fold: number; a: string; b: string; same: boolean; distance: number; threshold: number; notDetected: boolean }[];
}

interface DetectorReport {
  detector: DetectorName;
  recognizer: string;
  align: string;
  images: number;
  pairs: number;
  notDetected: number;
  notDetectedImages: string[];
  multiFaceImages: number;
  seconds: number;
  imagesPerSecond: number;
  /** representEach's workers, or null for the one-by-one loop. */
  workers?: number | 'auto' | null;
  metrics: Record<string, MetricReport>;
}

function evaluate(folds: readonly LfwPair[][], embedded: ReadonlyMap<string, Embedded>, metric: Metric, calibrate: boolean): MetricReport {
  const embeddingOf = (file: string) => (embedded.get(file) as Embedded).embedding;
  const scored: Scored[][] = folds.map((fold) => fold.map((p) => ({ distance: distance(embeddingOf(imageFile(p.a)), embeddingOf(imageFile(p.b)), metric), same: p.same })));
  const foldResults = crossValidate(scored);
  const { mean, std } = meanStd(foldResults.map((f) => f.accuracy));
  const all = scored.flat();
  const errors = folds.flatMap((fold, f) =>
    fold.flatMap((p, k) => {
      const s = scored[f]?.[k] as Scored;
      const threshold = (foldResults[f] as { threshold: number }).threshold;
      if (s.distance <= threshold === s.same) return [];
      const [a, b] = [imageFile(p.a), imageFile(p.b)];
      const notDetected = Boolean(embedded.get(a)?.notDetected || embedded.get(b)?.notDetected);
      return [{ fold: f + 1, a, b, same: p.same, distance: s.distance, threshold, notDetected }];
    }),
  );
  const report: MetricReport = {
    folds: foldResults,
    mean,
    std,
    auc: rocAuc(all),
    tar: Object.fromEntries(FARS.map((far) => [String(far), tarAtFar(all, far)])),
    errors,
  };
  if (calibrate) {
    const { threshold, accuracy } = bestThreshold(all);
    report.calibration = {
      threshold,
      allPairsAccuracy: accuracy,
      foldMeanAccuracy: meanStd(scored.map((fold) => accuracyAt(fold, threshold))).mean,
      scale: fitLogisticScale(all, threshold),
    };
  }
  return report;
}

/** Embeddings kept between runs, by `detector/recognizer/align/pad/min-score` and image. */
type EmbeddingCache = Record<string, { seconds: number; images: Record<string, Embedded> }>;
const cache: EmbeddingCache = args.embeddings ? await readFile(args.embeddings, 'utf8').then((t) => JSON.parse(t) as EmbeddingCache, () => ({})) : {};

async function embedAll(visage: Visage, detector: DetectorName, recognizer: RecognizerName | undefined, files: readonly string[], workers: number | 'auto' | undefined): Promise<{ embedded: Map<string, Embedded>; seconds: number }> {
  const key = [detector, recognizer ?? 'default', alignLabel, pad, minScore ?? '', mirror ?? '', workers ?? ''].join('/');
  const kept = cache[key];
  if (kept && files.every((f) => kept.images[f])) return { embedded: new Map(files.map((f) => [f, kept.images[f] as Embedded])), seconds: kept.seconds };
  const embedded = new Map<string, Embedded>();
  const started = performance.now();
  // Every LFW image is 250x250, the subject at its centre.
  const size = { width: 250 + 2 * pad, height: 250 + 2 * pad };
  const progress = () => {
    const done = embedded.size;
    if (done % 200 === 0 || done === files.length) {
      const seconds = (performance.now() - started) / 1000;
      const missed = [...embedded.values()].filter((e) => e.notDetected).length;
      process.stderr.write(`${detector}/${recognizer ?? 'default'}/${alignLabel}${workers === undefined ? '' : `/workers ${workers}`}: ${done}/${files.length} images, ${(done / seconds).toFixed(1)} img/s, not detected ${missed}\n`);
    }
  };
  if (workers === undefined) {
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const file = files[next++] as string;
        embedded.set(file, await embedImage(visage, path.join(folder, 'images', file), detector, recognizer, size));
        progress();
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
  } else {
    async function* images() {
      for (const file of files) yield await input(path.join(folder, 'images', file));
    }
    // The paths as an array, as a caller with a folder has them ('auto' pools only a long array).
    const inputs = pad === 0 ? files.map((file) => path.join(folder, 'images', file)) : images();
    for await (const item of visage.representEach(inputs, { ...representOptions(detector, recognizer), workers })) {
      const outcome = item.error ? { error: item.error } : { result: item.result };
      embedded.set(files[item.index] as string, await subjectOf(visage, item.input, outcome, detector, recognizer, size));
      progress();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (args.embeddings) {
    cache[key] = { seconds, images: Object.fromEntries(embedded) };
    await writeFile(args.embeddings, JSON.stringify(cache));
  }
  return { embedded, seconds };
}

async function runDetector(visage: Visage, detector: DetectorName, recognizer: RecognizerName | undefined, folds: readonly LfwPair[][], files: readonly string[], workers: number | 'auto' | undefined): Promise<{ report: DetectorReport; embedded: Map<string, Embedded> }> {
  const { embedded, seconds } = await embedAll(visage, detector, recognizer, files, workers);
  return { report: { ...report(detector, recognizer ?? 'default', embedded, seconds, folds, files), workers: workers ?? null }, embedded };
}

function report(detector: DetectorName, recognizer: string, embedded: ReadonlyMap<string, Embedded>, seconds: number, folds: readonly LfwPair[][], files: readonly string[], metrics: readonly Metric[] = METRICS, evaluator = evaluate): DetectorReport {
  const notDetectedImages = files.filter((f) => embedded.get(f)?.notDetected);
  return {
    detector,
    recognizer,
    align: alignLabel,
    images: files.length,
    pairs: folds.reduce((s, f) => s + f.length, 0),
    notDetected: notDetectedImages.length,
    notDetectedImages,
    multiFaceImages: files.filter((f) => (embedded.get(f)?.faces ?? 0) > 1).length,
    seconds,
    imagesPerSecond: files.length / seconds,
    metrics: Object.fromEntries(metrics.map((m) => [m, evaluator(folds, embedded, m, args.calibrate)])),
  };
}

const normalised = (v: readonly number[]) => {
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
};
const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * (b[i] as number), 0);

/** Standard deviation of a part's cosine similarities over the given pairs. */
function cosineStd(pairs: readonly LfwPair[], part: ReadonlyMap<string, Embedded>): number {
  const sims = pairs.map((p) => dot(normalised((part.get(imageFile(p.a)) as Embedded).embedding), normalised((part.get(imageFile(p.b)) as Embedded).embedding)));
  return meanStd(sims).std;
}

/** The fusion embedding as the library builds it: the normalised parts, each times sqrt(weight), concatenated. */
function fuse(a: ReadonlyMap<string, Embedded>, b: ReadonlyMap<string, Embedded>, wa: number, wb: number): Map<string, Embedded> {
  return new Map([...a].map(([file, ea]) => {
    const eb = b.get(file) as Embedded;
    const embedding = [...normalised(ea.embedding).map((x) => x * Math.sqrt(wa)), ...normalised(eb.embedding).map((x) => x * Math.sqrt(wb))];
    return [file, { ...ea, embedding, notDetected: ea.notDetected || eb.notDetected }];
  }));
}

/** Fusion weights 1/σ from the given pairs. */
function fusionWeights(pairs: readonly LfwPair[], a: ReadonlyMap<string, Embedded>, b: ReadonlyMap<string, Embedded>): [number, number] {
  return [1 / cosineStd(pairs, a), 1 / cosineStd(pairs, b)];
}

/**
 * The fusion evaluated fold by fold with weights fitted on the other folds only (the protocol's
 * threshold is fitted there too); AUC, TAR and the calibration use the weights of all pairs.
 */
function fusionEvaluator(a: ReadonlyMap<string, Embedded>, b: ReadonlyMap<string, Embedded>) {
  return (folds: readonly LfwPair[][], _embedded: ReadonlyMap<string, Embedded>, metric: Metric, calibrate: boolean): MetricReport => {
    const [wa, wb] = fusionWeights(folds.flat(), a, b);
    const overall = evaluate(folds, fuse(a, b, wa, wb), metric, calibrate);
    const perFold = folds.map((_, f) => {
      const [fa, fb] = fusionWeights(folds.filter((_, k) => k !== f).flat(), a, b);
      return evaluate(folds, fuse(a, b, fa, fb), metric, false).folds[f] as { threshold: number; accuracy: number };
    });
    const { mean, std } = meanStd(perFold.map((x) => x.accuracy));
    return { ...overall, folds: perFold, mean, std };
  };
}

const pct = (x: number, digits = 2) => (100 * x).toFixed(digits);

function printTable(reports: readonly DetectorReport[]): void {
  console.log('| detector | recognizer | align | workers | metric | accuracy % (mean ± std) | AUC | TAR@FAR=1e-2 % | TAR@FAR=1e-3 % | not detected | errors (with a not-detected image) | images/s |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of reports) {
    for (const m of METRICS) {
      const x = r.metrics[m];
      if (!x) continue;
      const notDetected = r.detector === 'none' ? 'n/a' : `${r.notDetected}/${r.images}`;
      console.log(`| ${r.detector} | ${r.recognizer} | ${r.align} | ${r.workers ?? '-'} | ${m} | ${pct(x.mean)} ± ${pct(x.std)} | ${x.auc.toFixed(4)} | ${pct(x.tar['0.01']?.tar ?? Number.NaN)} | ${pct(x.tar['0.001']?.tar ?? Number.NaN)} | ${notDetected} | ${x.errors.length} (${x.errors.filter((e) => e.notDetected).length}) | ${r.imagesPerSecond.toFixed(1)} |`);
    }
  }
}

/** The block for src/match/thresholds.ts, with the command and date that produced it. */
function calibrationBlock(r: DetectorReport, command: string): string {
  const round = (x: number) => Number(x.toPrecision(4));
  const lines = [`// ${r.detector}/${r.recognizer}/${r.align}: ${command} (${new Date().toISOString().slice(0, 10)})`, `  '${r.recognizer}': {`];
  for (const m of METRICS) {
    const c = r.metrics[m]?.calibration;
    if (!c) continue;
    lines.push(`    ${m}: { threshold: ${round(c.threshold)}, scale: ${round(c.scale)} }, // accuracy ${pct(c.allPairsAccuracy)}% all pairs, fold mean ${pct(c.foldMeanAccuracy)}%`);
  }
  lines.push('  },');
  return lines.join('\n');
}

const allFolds = parsePairs(await readFile(path.join(folder, 'pairs.txt'), 'utf8'));
const folds = limit === undefined ? allFolds : allFolds.map((fold) => [...fold.filter((p) => p.same).slice(0, limit), ...fold.filter((p) => !p.same).slice(0, limit)]);
const files = [...new Set(folds.flat().flatMap((p) => [imageFile(p.a), imageFile(p.b)]))].sort();
process.stderr.write(`${folder}: ${folds.length} folds, ${folds.reduce((s, f) => s + f.length, 0)} pairs, ${files.length} images\n`);

const recognizers: (RecognizerName | undefined)[] = args.recognizer === undefined ? [undefined] : args.recognizer.split(',').map((r) => r.trim() as RecognizerName);
const visage = await createVisage({ ...(align === undefined ? {} : { align }), ...(threads === undefined ? {} : { threads }), ...(mirror === undefined ? {} : { averageMirror: mirror }), ...(args.precision === undefined ? {} : { precision: args.precision as 'fp32' | 'int8' }) }).catch((error: unknown) =>
  fail(error instanceof Error ? error.message : String(error)),
);
const reports: DetectorReport[] = [];
try {
  for (const detector of detectors) {
    const parts = new Map<string, Map<string, Embedded>>();
    for (const recognizer of recognizers) {
      for (const workers of workerCounts) {
        const { report: r, embedded } = await runDetector(visage, detector, recognizer, folds, files, workers);
        reports.push(r);
        parts.set(recognizer ?? 'default', embedded);
      }
    }
    const [a, b] = [parts.get('dlib'), parts.get('mobilefacenet')];
    if (args.fuse && a && b) {
      const [wa, wb] = fusionWeights(folds.flat(), a, b);
      process.stderr.write(`fusion weights over all pairs (1/σ of cosine similarity): dlib-resnet128 ${wa.toPrecision(4)}, mobilefacenet-192 ${wb.toPrecision(4)}\n`);
      const r = report(detector, 'fused parts', fuse(a, b, wa, wb), Number.NaN, folds, files, ['cosine'], fusionEvaluator(a, b));
      reports.push(r);
      console.log(`FUSION_WEIGHTS: { 'dlib-resnet128': ${wa.toPrecision(4)}, 'mobilefacenet-192': ${wb.toPrecision(4)} }`);
    }
  }
} finally {
  await visage.close();
}

printTable(reports);
if (workerCounts.length > 1) {
  // Each workers setting against the first, for the same detector and recogniser.
  for (const r of reports.filter((x) => x.workers != null && x.workers !== workerCounts[0])) {
    const base = reports.find((x) => x.detector === r.detector && x.recognizer === r.recognizer && x.workers === workerCounts[0]);
    if (base) console.log(`${r.detector}/${r.recognizer}: workers ${r.workers} / workers ${base.workers}: ${(r.imagesPerSecond / base.imagesPerSecond).toFixed(2)}x images/s`);
  }
}
const command = `node --import tsx bench/lfw.ts ${process.argv.slice(2).join(' ')}`.trim();
if (args.calibrate) {
  console.log('\nCalibration (threshold: best accuracy over all pairs; scale: logistic fit, 0.5 at the threshold):');
  for (const r of reports) console.log(calibrationBlock(r, command));
}
if (args.json) {
  await writeFile(args.json, `${JSON.stringify({ folder, command, date: new Date().toISOString(), limit: limit ?? null, reports }, null, 2)}\n`);
  process.stderr.write(`wrote ${args.json}\n`);
}
