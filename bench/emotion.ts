/**
 * Expression accuracy per classifier on the validation split of fer2013-train (bench/lib/
 * emotion-data.ts: 20% of each class, seeded; never trained or tuned on) and on CK+'s six classes
 * shared with visage (contempt dropped; the prediction is the most probable of the six). Per
 * classifier: accuracy, each class's recall, and the confusion matrix.
 *
 * human's emotion net was trained on FER2013's training set, which holds the validation split:
 * its FER figures (and those of anything using it) are contaminated, marked so, and not
 * validation; for it only CK+ is a clean check.
 *
 *   node --import tsx bench/emotion.ts <emotion-dev folder> [--cache /tmp/visage-emotion]
 *     [--threads 2] [--head candidate.json ...] [--pipeline] [--limit N] [--matrices] [--frontier]
 *
 * Features come from the pipeline's path for a face crop (detector 'none') and are cached in
 * --cache; --pipeline also runs visage.analyze() end to end (detector 'none') for each emotionModel
 * and scores it, which checks that the cached path is the pipeline's. --frontier searches blends of
 * the three mirrored nets (weights in steps of 1/8, optionally handing confident faces to face-api's
 * crop alone) and prints the best CK+ accuracy reachable at each FER accuracy: the search is scored
 * on the reported sets themselves, so it is an upper bound on what any blend could reach, not a result.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createVisage } from '../src/index.js';
import { EXPRESSION_LABELS } from '../src/models/expression/index.js';
import { type EncodedHead, type ExpressionHead, decodeHead, headProbabilities, softmaxOf } from '../src/models/expression-head/index.js';
import { SHIPPED_HEAD } from '../src/models/expression-head/weights.js';
import { ModelRegistry } from '../src/pipeline/models.js';
import { EMOTIONS, type EmotionModel } from '../src/types.js';
import { CKPLUS_LABELS, ckHalves, ckplus, ferSplit, type LabelledFace } from './lib/emotion-data.js';
import { type CropMode, type FaceSetFeatures, faceSetFeatures, headParts, mobileFaceNetLogits, row } from './lib/emotion-features.js';
import { confusionText, score, summary } from './lib/emotion-metrics.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    cache: { type: 'string', default: '/tmp/visage-emotion' },
    crop: { type: 'string', default: 'pipeline' },
    threads: { type: 'string', default: '2' },
    head: { type: 'string', multiple: true, default: [] },
    pipeline: { type: 'boolean', default: false },
    limit: { type: 'string' },
    matrices: { type: 'boolean', default: false },
    frontier: { type: 'boolean', default: false },
  },
});
const root = positionals[0] ?? path.resolve('../shared/datasets/emotion-dev');
const log = (s: string) => process.stderr.write(`${s}\n`);

/** At most `limit` faces per class (for quick runs), in order. */
function limited(faces: LabelledFace[]): LabelledFace[] {
  if (!values.limit) return faces;
  const per = new Map<string, number>();
  return faces.filter((f) => {
    const n = per.get(f.label) ?? 0;
    per.set(f.label, n + 1);
    return n < Number(values.limit);
  });
}

/** face-api's logits (its label order) as probabilities in EMOTIONS order. */
const FACEAPI_ORDER = EMOTIONS.map((e) => (EXPRESSION_LABELS as readonly string[]).indexOf(e));
const faceApi = (logits: Float32Array) => {
  const p = softmaxOf(logits);
  return Float32Array.from(FACEAPI_ORDER, (k) => p[k] as number);
};
const mean = (a: Float32Array, b: Float32Array) => a.map((v, i) => (v + (b[i] as number)) / 2);

/** A head's probabilities (its labels) in EMOTIONS order. */
function headClassifier(head: ExpressionHead) {
  const order = EMOTIONS.map((e) => head.labels.indexOf(e));
  return (s: FaceSetFeatures, i: number) => {
    const p = headProbabilities(head, headParts(s.crop, i), headParts(s.mirror, i));
    return Float32Array.from(order, (k) => p[k] as number);
  };
}

type Classifier = { name: string; usesHuman: boolean; run: (s: FaceSetFeatures, i: number) => Float32Array };

/** visage-mobilefacenet's logits per set (mobileFaceNetLogits), by the set's features. */
const mobileLogits = new Map<FaceSetFeatures, { crop: Float32Array; mirror: Float32Array }>();
const mfRow = (s: FaceSetFeatures, view: 'crop' | 'mirror', i: number) => (mobileLogits.get(s) as { crop: Float32Array; mirror: Float32Array })[view].subarray(i * 7, i * 7 + 7);

/** A net's probabilities (face-api's label order in, EMOTIONS order out), crop and mirror averaged. */
const mirrored = (s: FaceSetFeatures, key: 'faLogits' | 'vnLogits' | 'mfLogits', i: number) =>
  key === 'mfLogits' ? mean(faceApi(mfRow(s, 'crop', i)), faceApi(mfRow(s, 'mirror', i))) : mean(faceApi(row(s.crop, key, i)), faceApi(row(s.mirror, key, i)));

/** Blends of the mirrored nets' probabilities: shares of visage-mobilefacenet, visage-net, face-api. */
const BLENDS: readonly (readonly [number, number, number])[] = [[0.5, 0.5, 0], [0.5, 0, 0.5], [0.5, 0.25, 0.25], [0.75, 0, 0.25], [0.25, 0.5, 0.25]];
function blendRow([m, v, f]: readonly [number, number, number]): Classifier {
  return {
    name: `blend, all mirrored: visage-mobilefacenet ${m}, visage-net ${v}, face-api ${f}${m === 0.5 && v === 0.5 ? " (as 'visage-ensemble' ships)" : ''}`,
    usesHuman: false,
    run: (s, i) => {
      const [a, b, c] = [mirrored(s, 'mfLogits', i), mirrored(s, 'vnLogits', i), mirrored(s, 'faLogits', i)];
      return a.map((x, k) => m * x + v * (b[k] as number) + f * (c[k] as number));
    },
  };
}

const classifiers: Classifier[] = [
  { name: 'face-api', usesHuman: false, run: (s, i) => faceApi(row(s.crop, 'faLogits', i)) },
  { name: 'face-api + mirror', usesHuman: false, run: (s, i) => mean(faceApi(row(s.crop, 'faLogits', i)), faceApi(row(s.mirror, 'faLogits', i))) },
  { name: 'human', usesHuman: true, run: (s, i) => softmaxOf(row(s.crop, 'huLogits', i)) },
  { name: 'human + mirror', usesHuman: true, run: (s, i) => mean(softmaxOf(row(s.crop, 'huLogits', i)), softmaxOf(row(s.mirror, 'huLogits', i))) },
  {
    name: 'face-api + human (mean, both mirrored)',
    usesHuman: true,
    run: (s, i) => mean(mean(faceApi(row(s.crop, 'faLogits', i)), faceApi(row(s.mirror, 'faLogits', i))), mean(softmaxOf(row(s.crop, 'huLogits', i)), softmaxOf(row(s.mirror, 'huLogits', i)))),
  },
  { name: 'visage-net (fine-tuned weights)', usesHuman: false, run: (s, i) => faceApi(row(s.crop, 'vnLogits', i)) },
  { name: "visage-net + mirror (as 'visage-net' ships)", usesHuman: false, run: (s, i) => mean(faceApi(row(s.crop, 'vnLogits', i)), faceApi(row(s.mirror, 'vnLogits', i))) },
  ...[0.25, 0.5].map((w) => ({
    name: `visage-net + face-api, both mirrored, face-api share ${w}`,
    usesHuman: false,
    run: (s: FaceSetFeatures, i: number) => {
      const tuned = mean(faceApi(row(s.crop, 'vnLogits', i)), faceApi(row(s.mirror, 'vnLogits', i)));
      const original = mean(faceApi(row(s.crop, 'faLogits', i)), faceApi(row(s.mirror, 'faLogits', i)));
      return tuned.map((v, k) => (1 - w) * v + w * (original[k] as number));
    },
  })),
  { name: 'visage-mobilefacenet (no mirror)', usesHuman: false, run: (s, i) => faceApi(mfRow(s, 'crop', i)) },
  { name: "visage-mobilefacenet + mirror (as 'visage-mobilefacenet' ships)", usesHuman: false, run: (s, i) => mirrored(s, 'mfLogits', i) },
  ...BLENDS.map(blendRow),
  ...headRows('visage (shipped head)', decodeHead(SHIPPED_HEAD)),
  ...(values.head ?? []).flatMap((file) => headRows(`head ${path.basename(file)}`, decodeHead(JSON.parse(readFileSync(file, 'utf8')) as EncodedHead))),
];

/** A head alone, as encoded, and blended half and half with face-api's probabilities (nothing fitted). */
function headRows(name: string, head: ExpressionHead): Classifier[] {
  return [...new Set([0, head.faceApiWeight, 0.5])].map((w) => ({
    name: `${name}, face-api weight ${w}${w === head.faceApiWeight ? ' (as encoded)' : ''}`,
    usesHuman: false,
    run: headClassifier({ ...head, faceApiWeight: w }),
  }));
}

function report(title: string, probabilities: Float32Array[], labels: Int32Array, classes = EMOTIONS): void {
  const s = score(probabilities, labels, classes);
  log(`  ${title}: ${summary(s)}`);
  if (values.matrices) log(confusionText(s).replace(/^/gm, '      '));
}

const models = new ModelRegistry(Number(values.threads));
const cacheDir = values.cache as string;
const { validation } = ferSplit(root);
const ck = ckplus(root);
const fer = await faceSetFeatures(models, limited(validation), cacheDir, 'fer-validation', log, values.crop as CropMode);
const ckf = await faceSetFeatures(models, limited(ck), cacheDir, 'ckplus6', log, values.crop as CropMode);
mobileLogits.set(fer, await mobileFaceNetLogits(models, limited(validation), cacheDir, 'fer-validation', log, values.crop as CropMode));
mobileLogits.set(ckf, await mobileFaceNetLogits(models, limited(ck), cacheDir, 'ckplus6', log, values.crop as CropMode));
const halves = ckHalves(ckf.faces);
const pick = (arr: Float32Array[], idx: number[]) => idx.map((i) => arr[i] as Float32Array);
const pickLabels = (labels: Int32Array, idx: number[]) => Int32Array.from(idx, (i) => labels[i] as number);

log(`\nFER2013 train, validation split: ${fer.faces.length} faces; CK+ 6 classes: ${ckf.faces.length} faces (${halves.a.length} in half A, ${halves.b.length} in half B, subject-disjoint)`);
for (const c of classifiers) {
  const pf = fer.faces.map((_, i) => c.run(fer, i));
  const pc = ckf.faces.map((_, i) => c.run(ckf, i));
  log(`\n${c.name}`);
  report(c.usesHuman ? 'FER validation [CONTAMINATED: human was trained on these faces]' : 'FER validation', pf, fer.labels);
  report('CK+ 6 classes', pc, ckf.labels, CKPLUS_LABELS);
  report('CK+ half A', pick(pc, halves.a), pickLabels(ckf.labels, halves.a), CKPLUS_LABELS);
  report('CK+ half B', pick(pc, halves.b), pickLabels(ckf.labels, halves.b), CKPLUS_LABELS);
  report('CK+ 7-way (neutral counts as wrong)', pc, ckf.labels);
}

if (values.frontier) {
  // Blend shares (MobileFaceNet, visage-net, face-api) in eighths; a gate (t, a) hands a face to
  // face-api's crop alone in proportion to sigmoid(a (c - t)), c the mirrored face-api's top probability.
  const eighths = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => k / 8);
  const shares = eighths.flatMap((m) => eighths.filter((v) => m + v <= 1).map((v) => [m, v, 1 - m - v] as const));
  const gates = [null, ...[0.5, 0.6, 0.7, 0.8, 0.9, 0.95].flatMap((t) => [10, 30, 100].map((a) => [t, a] as const))];
  const blended = (s: FaceSetFeatures, [m, v, f]: readonly [number, number, number], gate: readonly [number, number] | null) =>
    s.faces.map((_, i) => {
      const [a, b, c] = [mirrored(s, 'mfLogits', i), mirrored(s, 'vnLogits', i), mirrored(s, 'faLogits', i)];
      const g = gate ? 1 / (1 + Math.exp(-gate[1] * (Math.max(...c) - gate[0]))) : 0;
      const alone = faceApi(row(s.crop, 'faLogits', i));
      return a.map((x, k) => (1 - g) * (m * x + v * (b[k] as number) + f * (c[k] as number)) + g * (alone[k] as number));
    });
  const points = shares.flatMap((w) => gates.map((gate) => ({
    w, gate,
    fer: score(blended(fer, w, gate), fer.labels).accuracy,
    ck: score(blended(ckf, w, gate), ckf.labels, CKPLUS_LABELS).accuracy,
  })));
  points.sort((p, q) => q.fer - p.fer || q.ck - p.ck);
  log(`
Frontier of ${points.length} blends (upper bound: chosen on the reported sets): FER validation, CK+ 6 classes, shares MobileFaceNet / visage-net / face-api, gate`);
  let bestCk = -1;
  for (const p of points) {
    if (p.ck <= bestCk) continue;
    bestCk = p.ck;
    log(`  ${(100 * p.fer).toFixed(1)}%  ${(100 * p.ck).toFixed(1)}%  ${p.w.join(' / ')}  ${p.gate ? `t ${p.gate[0]}, a ${p.gate[1]}` : '-'}`);
  }
}

if (values.pipeline) {
  // visage.analyze end to end on each face crop, per emotionModel.
  const visage = await createVisage({ threads: Number(values.threads) });
  // human's figures are above (contaminated on FER); the pipeline check is for face-api's net and visage's own two.
  for (const model of ['face-api', 'visage', 'visage-net', 'visage-mobilefacenet', 'visage-ensemble'] as const satisfies readonly EmotionModel[]) {
    const run = async (set: FaceSetFeatures) => {
      const out: Float32Array[] = [];
      for (const f of set.faces) {
        const { faces } = await visage.analyze(f.file, { detector: 'none', actions: ['emotion'], emotionModel: model });
        const e = faces[0]?.emotion;
        if (!e) throw new Error(`${f.file}: no emotion`);
        out.push(Float32Array.from(EMOTIONS, (k) => e[k]));
      }
      return out;
    };
    log(`\nvisage.analyze({ detector: 'none', emotionModel: '${model}' })`);
    report('FER validation', await run(fer), fer.labels);
    report('CK+ 6 classes', await run(ckf), ckf.labels, CKPLUS_LABELS);
  }
  await visage.close();
}
await models.close();
