/**
 * human's TF.js graph networks converted by visage's TF.js reader (antispoof, liveness, emotion,
 * FaceRes): conversion time, and the raw forward on ONNX Runtime (1 and 2 threads) against the
 * same model.json run by TensorFlow.js (wasm, one thread in Node) on identical inputs, batch of 1
 * and of 8, runs interleaved, medians. Then, on every face of the shipped photos cropped as the
 * pipeline crops: how often human's emotion net and face-api's agree on the dominant emotion, and
 * how far FaceRes's age and gender are from face-api's.
 *
 *   node --import tsx bench/human-nets.ts [--runs 10]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Engine, readTfjsGraphModel, tfjsToOnnx } from '../src/engine/index.js';
import { createAgeGenderNet } from '../src/models/age-gender/index.js';
import { humanModel } from '../src/models/common/human.js';
import { createExpressionNet } from '../src/models/expression/index.js';
import { createFaceResNet } from '../src/models/faceres/index.js';
import { createHumanEmotionNet } from '../src/models/human-emotion/index.js';
import { EMOTIONS } from '../src/types.js';
import { pipelineFaceCrops } from '../test/models/human-helpers.js';
import { loadTfjsGraphModel } from '../test/reference/tfjs-graph.js';
import { tf, type Tensor } from '../test/reference/tfjs-wasm.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
const WARMUP = 2;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

async function interleaved(tasks: Record<string, () => Promise<unknown>>): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(tasks).map((k) => [k, []]));
  for (let i = 0; i < WARMUP + runs; i++) {
    for (const [k, fn] of Object.entries(tasks)) {
      const t0 = performance.now();
      await fn();
      if (i >= WARMUP) samples[k]?.push(performance.now() - t0);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

console.log(`${runs} runs, ${os.availableParallelism()} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const engines = [1, 2].map((threads) => new Engine({ threads }));
console.log('| network | input | convert (ms) | batch | TF.js wasm (ms) | ORT 1 thread | ORT 2 threads |');
console.log('|---|---|---|---|---|---|---|');
for (const name of ['antispoof', 'liveness', 'emotion', 'faceres']) {
  const file = humanModel(name);
  const t0 = performance.now();
  const converted = tfjsToOnnx(await readTfjsGraphModel(file));
  const convertMs = performance.now() - t0;
  const [, h, w, c] = converted.inputs[0]!.shape as [string, number, number, number];
  const reference = await loadTfjsGraphModel(file);
  const models = await Promise.all(engines.map((e) => e.load(`bench-${name}`, () => converted.bytes)));
  for (const batch of [1, 8]) {
    const dims = [batch, h, w, c];
    const data = Float32Array.from({ length: batch * h * w * c }, (_, i) => (Math.sin(i * 0.37) + 1) / 2);
    const input = tf.tensor(data, dims);
    const feeds = { [converted.inputs[0]!.name]: { data, dims } };
    const ms = await interleaved({
      ref: async () => {
        const out = reference.execute(input) as Tensor | Tensor[];
        const list = Array.isArray(out) ? out : [out];
        await Promise.all(list.map((t) => t.data()));
        tf.dispose(list);
      },
      t1: () => models[0]!.run(feeds),
      t2: () => models[1]!.run(feeds),
    });
    input.dispose();
    const ratio = (k: 't1' | 't2') => `${ms[k]!.toFixed(1)} (${(ms.ref! / ms[k]!).toFixed(1)}x)`;
    console.log(`| ${name} | ${h}x${w}x${c} | ${batch === 1 ? convertMs.toFixed(0) : ''} | ${batch} | ${ms.ref!.toFixed(1)} | ${ratio('t1')} | ${ratio('t2')} |`);
  }
}

const faces = await pipelineFaceCrops();
const crops = faces.map((f) => f.crop);
const engine = engines[1]!;
const [faceApiEmotion, humanEmotion, faceApiAgeGender, faceres] = await Promise.all([
  createExpressionNet(engine).then((n) => n.predictBatch(crops)),
  createHumanEmotionNet(engine).then((n) => n.predictBatch(crops)),
  createAgeGenderNet(engine).then((n) => n.predictBatch(crops)),
  createFaceResNet(engine).then((n) => n.predictBatch(crops)),
]);
const top = (p: Record<string, number>) => EMOTIONS.reduce((a, b) => ((p[b] as number) > (p[a] as number) ? b : a));
let sameEmotion = 0;
let sameGender = 0;
let ageDiff = 0;
const rows: string[] = [];
faces.forEach((f, i) => {
  const a = top(faceApiEmotion[i] as unknown as Record<string, number>);
  const b = top(humanEmotion[i]!.probabilities as Record<string, number>);
  if (a === b) sameEmotion++;
  const ga = faceApiAgeGender[i]!;
  const gb = faceres[i]!;
  if ((ga.gender.man > 0.5) === (gb.gender.man > 0.5)) sameGender++;
  ageDiff += Math.abs(ga.age - gb.age);
  rows.push(`${f.image}: emotion ${a}/${b}, age ${ga.age.toFixed(1)}/${gb.age.toFixed(1)}, man ${ga.gender.man.toFixed(2)}/${gb.gender.man.toFixed(2)}`);
});
console.log(rows.join('\n'));
console.log(`${faces.length} faces (face-api / human): same dominant emotion ${sameEmotion}, same gender ${sameGender}, mean |age difference| ${(ageDiff / faces.length).toFixed(1)} years`);
await Promise.all(engines.map((e) => e.dispose()));
