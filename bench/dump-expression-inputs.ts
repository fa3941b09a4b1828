/**
 * Writes what bench/train-expression-net.py trains and checks on, so the preprocessing stays in
 * one place (TypeScript): each face of the training and validation parts of fer2013-train
 * (bench/lib/emotion-data.ts) and of CK+'s six classes, through the pipeline's path for a face
 * crop (bench/lib/emotion-features.ts) and the expression net's own input step (the 112x112
 * centred square, 0..255), rounded to uint8; and face-api's expression weights as plain float32.
 *
 *   node --import tsx bench/dump-expression-inputs.ts <emotion-dev folder> [--out /tmp/visage-fer-net]
 *     [--threads 1] [--check 256] [--sets train,validation,ckplus6] [--limit N]
 *
 * Per set: <set>.u8 (n x 112 x 112 x 3, NHWC), <set>.json (labels in the net's output order,
 * EXPRESSION_LABELS; files; CK+ half A flags), <set>.check.f32 (visage's ONNX logits of the first
 * --check faces of the uint8 inputs, for the torch port's check). Weights: faceapi-expression.json
 * (name, shape, offset in floats) and .f32. Nothing is written inside the project.
 */
import { mkdirSync, openSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readFaceApiWeights } from '../src/engine/index.js';
import { CROP_INPUT_SIZE, cropInput, faceApiManifest } from '../src/models/common/feature-extractor.js';
import { EXPRESSION_LABELS } from '../src/models/expression/index.js';
import { ModelRegistry } from '../src/pipeline/models.js';
import { ckHalves, ckplus, ferSplit, type LabelledFace } from './lib/emotion-data.js';
import { faceCrops } from './lib/emotion-features.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string', default: '/tmp/visage-fer-net' },
    threads: { type: 'string', default: '1' },
    check: { type: 'string', default: '256' },
    sets: { type: 'string', default: 'train,validation,ckplus6' },
    limit: { type: 'string' },
  },
});
const root = positionals[0] ?? path.resolve('../shared/datasets/emotion-dev');
const out = values.out as string;
const log = (s: string) => process.stderr.write(`${s}\n`);
mkdirSync(out, { recursive: true });

const PIXELS = CROP_INPUT_SIZE * CROP_INPUT_SIZE * 3;
const models = new ModelRegistry(Number(values.threads));
const [landmarksNet, expression] = await Promise.all([models.landmarks(), models.expression()]);

async function dump(name: string, all: LabelledFace[], halfA?: Set<number>): Promise<void> {
  const faces = values.limit ? all.slice(0, Number(values.limit)) : all;
  const n = faces.length;
  const fd = openSync(path.join(out, `${name}.u8`), 'w');
  const checkCount = Math.min(n, Number(values.check));
  const check = new Float32Array(checkCount * 7);
  const started = Date.now();
  const batch = 64;
  for (let start = 0; start < n; start += batch) {
    const chunk = faces.slice(start, start + batch);
    const { crops } = await faceCrops(landmarksNet, chunk);
    const bytes = new Uint8Array(chunk.length * PIXELS);
    crops.forEach((crop, k) => {
      const { data } = cropInput(crop);
      for (let j = 0; j < PIXELS; j++) bytes[k * PIXELS + j] = Math.min(255, Math.max(0, Math.round(data[j] as number)));
    });
    writeSync(fd, bytes);
    if (start < checkCount) {
      const m = Math.min(chunk.length, checkCount - start);
      const { logits } = await expression.forwardRaw({ data: Float32Array.from(bytes.subarray(0, m * PIXELS)), dims: [m, CROP_INPUT_SIZE, CROP_INPUT_SIZE, 3] });
      check.set(logits.data, start * 7);
    }
    if ((start / batch) % 50 === 0) log(`${name}: ${start + chunk.length}/${n}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  closeSync(fd);
  writeFileSync(path.join(out, `${name}.check.f32`), new Uint8Array(check.buffer));
  const meta = {
    n,
    size: CROP_INPUT_SIZE,
    classes: EXPRESSION_LABELS,
    labels: faces.map((f) => (EXPRESSION_LABELS as readonly string[]).indexOf(f.label)),
    files: faces.map((f) => path.relative(root, f.file)),
    ...(halfA ? { halfA: faces.map((_, i) => (halfA.has(i) ? 1 : 0)) } : {}),
  };
  writeFileSync(path.join(out, `${name}.json`), JSON.stringify(meta));
}

// face-api's weights, dequantised by the project's reader, as float32 in manifest order.
const weights = await readFaceApiWeights(faceApiManifest('face_expression_model'));
const entries: { name: string; shape: number[]; offset: number }[] = [];
let offset = 0;
for (const [name, t] of weights) {
  entries.push({ name, shape: [...t.shape], offset });
  offset += t.data.length;
}
const flat = new Float32Array(offset);
for (const [i, [, t]] of [...weights].entries()) flat.set(t.data, (entries[i] as { offset: number }).offset);
writeFileSync(path.join(out, 'faceapi-expression.f32'), new Uint8Array(flat.buffer));
writeFileSync(path.join(out, 'faceapi-expression.json'), JSON.stringify(entries));

const sets = (values.sets as string).split(',');
const { train, validation } = ferSplit(root);
const ck = ckplus(root);
if (sets.includes('train')) await dump('train', train);
if (sets.includes('validation')) await dump('validation', validation);
if (sets.includes('ckplus6')) await dump('ckplus6', ck, new Set(ckHalves(ck).a));
await models.close();
