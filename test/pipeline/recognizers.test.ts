/**
 * Recognisers chosen per instance and per call: MobileFaceNet, a user's ONNX model (one this test
 * builds), and the typed errors for unreadable models, wrong shapes and mixed-up embeddings.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { GraphBuilder } from '../../src/engine/index.js';
import { createVisage, isVisageError, type Visage } from '../../src/index.js';

const DEMO = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
const photo = path.join(DEMO, 'sample1.jpg');
const other = path.join(DEMO, 'sample5.jpg');

/** A tiny NCHW "recogniser": 4x4 average pooling of a 32x32 crop, flattened to 192 values. */
function tinyOnnx(): Uint8Array {
  const g = new GraphBuilder('tiny-recogniser');
  const x = g.input('input', ['batch', 3, 32, 32]);
  const pooled = g.node('AveragePool', [x], { kernel_shape: [4, 4], strides: [4, 4] });
  g.output(g.node('Flatten', [pooled], { axis: 1 }), 'embedding');
  return g.toBytes();
}

describe('recognisers', () => {
  let visage: Visage;
  let dir: string;
  let mirror: Buffer;
  before(async () => {
    visage = await createVisage({ threads: 2 });
    dir = await mkdtemp(path.join(tmpdir(), 'visage-recognizer-'));
    await writeFile(path.join(dir, 'tiny.onnx'), tinyOnnx());
    await writeFile(path.join(dir, 'junk.onnx'), 'not a model');
    mirror = await sharp(photo).flop().jpeg().toBuffer();
  });
  after(() => visage.close());

  test('MobileFaceNet verifies a photo against its mirror image, 192-d', async () => {
    const result = await visage.verify(photo, mirror, { recognizer: 'mobilefacenet', metric: 'cosine' });
    assert.equal(result.model, 'mobilefacenet-192');
    assert.equal(result.verified, true, `distance ${result.distance}`);
    const { faces } = await visage.represent(photo, { recognizer: 'mobilefacenet' });
    assert.ok(faces.every((f) => f.embedding.length === 192));
  });

  test('a user ONNX recogniser runs on its declared crop; its threshold decides', async () => {
    const recognizer = { onnx: path.join(dir, 'tiny.onnx'), inputSize: 32, alignment: 'arcface' as const, threshold: 0.05, name: 'tiny' };
    const { model, faces } = await visage.represent(photo, { recognizer });
    assert.equal(model, 'tiny');
    assert.ok(faces.length > 1 && faces.every((f) => f.embedding.length === 192));
    // Different faces of the photo give different embeddings: the crop follows each face.
    assert.notDeepEqual(faces[0]?.embedding, faces[1]?.embedding);
    const same = await visage.verify(photo, photo, { recognizer, metric: 'cosine' });
    assert.equal(same.verified, true);
    assert.ok(same.distance < 1e-6);
    await assert.rejects(visage.verify(photo, photo, { recognizer, metric: 'euclidean' }), (e: unknown) => isVisageError(e, 'INVALID_ARGUMENT'));
  });

  test('unreadable files, missing files and wrong input sizes are typed errors', async () => {
    const bad = (onnx: string, inputSize = 32) => visage.represent(photo, { recognizer: { onnx, inputSize } });
    await assert.rejects(bad(path.join(dir, 'junk.onnx')), (e: unknown) => isVisageError(e, 'INVALID_MODEL'));
    await assert.rejects(bad(path.join(dir, 'missing.onnx')), (e: unknown) => isVisageError(e, 'FILE_NOT_FOUND'));
    await assert.rejects(bad(path.join(dir, 'tiny.onnx'), 48), (e: unknown) => isVisageError(e, 'INVALID_MODEL') && /48/.test((e as Error).message));
    await assert.rejects(visage.represent(photo, { recognizer: 'arcface' as never }), (e: unknown) => isVisageError(e, 'INVALID_ARGUMENT'));
  });

  test("embeddings of one model are refused by another's verify", async () => {
    const dlib = await visage.represent(other, { recognizer: 'dlib' });
    assert.equal(dlib.model, 'dlib-resnet128');
    const given = { model: dlib.model, embedding: dlib.faces[0]?.embedding ?? [] };
    await assert.rejects(visage.verify(given, photo), (e: unknown) => isVisageError(e, 'MODEL_MISMATCH'));
    await assert.rejects(visage.verify(given.embedding, photo), (e: unknown) => isVisageError(e, 'MODEL_MISMATCH'));
    const ok = await visage.verify(given, other, { recognizer: 'dlib' });
    assert.equal(ok.verified, true);
  });
});
