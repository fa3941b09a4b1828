/**
 * human's antispoof and liveness nets, converted from their TF.js graph models, against the same
 * models run by TensorFlow.js (wasm): on every face of the shipped photos, cropped as the pipeline
 * crops, human's pre-processing in TF.js ops on one side and visage's on the other.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/index.js';
import { ModelRegistry } from '../../src/pipeline/models.js';
import { humanCropInput, humanModel } from '../../src/models/common/human.js';
import { ANTISPOOF_SIZE, createHumanAntispoofNet, type RealnessNet } from '../../src/models/human-antispoof/index.js';
import { LIVENESS_SIZE, createHumanLivenessNet } from '../../src/models/human-liveness/index.js';
import { type GraphModel, loadTfjsGraphModel } from '../reference/tfjs-graph.js';
import { tf, type Tensor } from '../reference/tfjs-wasm.js';
import { maxAbsDiff } from './helpers.js';
import { type SampleFace, humanFaceTensor, humanResize, pipelineFaceCrops } from './human-helpers.js';

let engine: Engine;
let faces: SampleFace[];

before(async () => {
  engine = new Engine({ threads: 1 });
  faces = await pipelineFaceCrops();
  assert.ok(faces.length >= 20, `expected faces on the samples, found ${faces.length}`);
});

after(() => engine.dispose());

/** human's chain in TF.js: face tensor → resize → model; the output's values per face. */
async function reference(model: GraphModel, size: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const f of faces) {
    const face = humanFaceTensor(f.crop);
    const resized = humanResize(face, size);
    const result = model.execute(resized) as Tensor;
    out.push(Float32Array.from(await result.data()));
    tf.dispose([face, resized, result]);
  }
  return out;
}

async function check(t: { diagnostic(s: string): void }, name: string, net: RealnessNet, size: number, width: number): Promise<void> {
  const expected = await reference(await loadTfjsGraphModel(humanModel(name)), size);
  const batch = new Float32Array(faces.length * size * size * 3);
  faces.forEach((f, i) => batch.set(humanCropInput(f.crop, size).data, i * size * size * 3));
  const raw = await net.forwardRaw({ data: batch, dims: [faces.length, size, size, 3] });
  assert.deepEqual(raw.dims, [faces.length, width]);
  const rawDiff = maxAbsDiff(raw.data, Float32Array.from(expected.flatMap((e) => Array.from(e))));
  const scores = await net.realScores(faces.map((f) => f.crop));
  const scoreDiff = maxAbsDiff(scores, expected.map((e) => e[0] as number));
  const real = scores.filter((s) => s > 0.5).length;
  t.diagnostic(`${name}: ${faces.length} faces, max abs diff raw ${rawDiff.toExponential(2)}, scores ${scoreDiff.toExponential(2)}; judged real (> 0.5): ${real}`);
  assert.ok(rawDiff <= 1e-4 && scoreDiff <= 1e-4, `raw ${rawDiff}, scores ${scoreDiff}`);
  // Not a constant: the scores vary from face to face.
  assert.ok(Math.max(...scores) - Math.min(...scores) > 0.01, 'scores do not vary');
}

test('antispoof: raw outputs and real scores equal human on TF.js (max abs diff <= 1e-4)', async (t) => {
  await check(t, 'antispoof', await createHumanAntispoofNet(engine), ANTISPOOF_SIZE, 1);
});

test('liveness: raw outputs and live scores equal human on TF.js (max abs diff <= 1e-4)', async (t) => {
  await check(t, 'liveness', await createHumanLivenessNet(engine), LIVENESS_SIZE, 2);
});

test('a crop that is not RGB is refused', async () => {
  const net = await createHumanAntispoofNet(engine);
  await assert.rejects(net.realScores([{ data: new Float32Array(4), width: 2, height: 2, channels: 1 }]), /3-channel face crop/);
  await assert.rejects(net.forwardRaw({ data: new Float32Array(3), dims: [1, 1, 1, 3] }), /NHWC batch \[n, 128, 128, 3\]/);
});

test('the model registry loads both lazily, once, with the same scores', async () => {
  const registry = new ModelRegistry(1);
  try {
    const [a, b] = await Promise.all([registry.humanAntispoof(), registry.humanAntispoof()]);
    assert.equal(a, b);
    const crops = faces.slice(0, 3).map((f) => f.crop);
    assert.deepEqual(await a.realScores(crops), await (await createHumanAntispoofNet(engine)).realScores(crops));
    assert.equal((await registry.humanLiveness()).inputSize, LIVENESS_SIZE);
  } finally {
    await registry.close();
  }
});
