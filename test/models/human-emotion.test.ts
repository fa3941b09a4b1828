/**
 * human's emotion net, converted from its TF.js graph model, against the same model run by
 * TensorFlow.js (wasm) after human's own pre-processing in TF.js ops (resize, grayscale weights,
 * (g - 0.5) * 2): on every face of the shipped photos, cropped as the pipeline crops.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/index.js';
import { humanModel } from '../../src/models/common/human.js';
import { EMOTIONS } from '../../src/types.js';
import {
  HUMAN_EMOTION_FEATURES,
  HUMAN_EMOTION_LABELS,
  HUMAN_EMOTION_SIZE,
  createHumanEmotionNet,
  humanEmotionInput,
  type HumanEmotionNet,
} from '../../src/models/human-emotion/index.js';
import { loadTfjsGraphModel } from '../reference/tfjs-graph.js';
import { tf, type Tensor } from '../reference/tfjs-wasm.js';
import { maxAbsDiff } from './helpers.js';
import { type SampleFace, humanFaceTensor, humanResize, pipelineFaceCrops } from './human-helpers.js';

const LOGITS = 'StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean';
const FEATURE_MAP = 'StatefulPartitionedCall/model_1/add_2/add';

let engine: Engine;
let net: HumanEmotionNet;
let faces: SampleFace[];

before(async () => {
  engine = new Engine({ threads: 1 });
  net = await createHumanEmotionNet(engine);
  faces = await pipelineFaceCrops();
  assert.ok(faces.length >= 20, `expected faces on the samples, found ${faces.length}`);
});

after(() => engine.dispose());

test('probabilities, logits and features equal human on TF.js (max abs diff <= 1e-4)', async (t) => {
  const model = await loadTfjsGraphModel(humanModel('emotion'));
  const actual = await net.predictBatch(faces.map((f) => f.crop));
  let worst = { input: 0, probabilities: 0, logits: 0, features: 0 };
  for (const [i, f] of faces.entries()) {
    // human's predict(), step by step.
    const face = humanFaceTensor(f.crop);
    const resized = humanResize(face, HUMAN_EMOTION_SIZE);
    const channels = tf.mul(resized, tf.tensor1d([0.2989, 0.587, 0.114]));
    const gray = tf.sum(channels, 3, true);
    const input = tf.mul(tf.sub(gray, 0.5), 2);
    const [probabilities, logits, map] = model.execute(input, ['Identity', LOGITS, FEATURE_MAP]) as Tensor[];
    const features = tf.mean(map as Tensor, [1, 2]);
    const a = actual[i]!;
    worst = {
      input: Math.max(worst.input, maxAbsDiff(humanEmotionInput(f.crop).data, await input.data())),
      probabilities: Math.max(worst.probabilities, maxAbsDiff(HUMAN_EMOTION_LABELS.map((l) => a.probabilities[l]), await probabilities!.data())),
      logits: Math.max(worst.logits, maxAbsDiff(a.logits, await logits!.data())),
      features: Math.max(worst.features, maxAbsDiff(a.features, await features.data())),
    };
    assert.equal(a.features.length, HUMAN_EMOTION_FEATURES);
    tf.dispose([face, resized, channels, gray, input, probabilities!, logits!, map!, features]);
  }
  t.diagnostic(`${faces.length} faces, max abs diff: input ${worst.input.toExponential(2)}, probabilities ${worst.probabilities.toExponential(2)}, logits ${worst.logits.toExponential(2)}, features ${worst.features.toExponential(2)}`);
  for (const [k, v] of Object.entries(worst)) assert.ok(v <= 1e-4, `${k} off by ${v}`);
});

test("human's labels are visage's EMOTIONS, in the same order (results map by index)", () => {
  assert.deepEqual([...HUMAN_EMOTION_LABELS], [...EMOTIONS]);
});

test('a wrong batch shape is refused', async () => {
  await assert.rejects(net.forwardRaw({ data: new Float32Array(64 * 64 * 3), dims: [1, 64, 64, 3] }), /NHWC batch \[n, 64, 64, 1\]/);
});
