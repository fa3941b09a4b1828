/**
 * The worker pool behind `representEach(…, { workers })`: the same results as the pipeline in
 * this thread, in input order, each bad image failing alone with its VisageError, and no worker
 * thread outliving its call, whether it ends, stops early or is refused.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { VisageError, createVisage, type Visage } from '../../src/index.js';
import os from 'node:os';
import { AUTO_POOL_MIN_INPUTS, checkWorkers, fromWire, liveWorkers, threadsPerWorker, toWire } from '../../src/pipeline/pool.js';

const DEMO = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
const sample = (i: number) => path.join(DEMO, `sample${i}.jpg`);

describe('worker pool', () => {
  let visage: Visage;
  let grey: Buffer;
  before(async () => {
    visage = await createVisage({ threads: 2 });
    // A plain grey picture: no detector finds a face in it.
    grey = await sharp({ create: { width: 200, height: 200, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toBuffer();
  });
  after(async () => {
    await visage.close();
  });

  it('gives what the pipeline in this thread gives, in input order, each bad image failing alone', async () => {
    const inputs = [sample(1), path.join(DEMO, 'no-such-photo.jpg'), sample(2), Buffer.from('not an image'), grey, sample(3), sample(4)];
    const pooled = await visage.representMany(inputs, { workers: 2 });
    assert.equal(liveWorkers(), 0, 'every worker has exited when the call returns');
    const alone = await visage.representMany(inputs);
    assert.deepEqual(pooled.map((i) => i.index), inputs.map((_, i) => i));
    assert.deepEqual(pooled.map((i) => i.error?.code ?? 'ok'), ['ok', 'FILE_NOT_FOUND', 'ok', 'INVALID_IMAGE', 'NO_FACE', 'ok', 'ok']);
    for (const [i, item] of pooled.entries()) {
      assert.equal(item.input, inputs[i], `item ${i} carries its own input`);
      const other = alone[i];
      if (item.error) {
        assert.ok(item.error instanceof VisageError, `item ${i}: a VisageError across the thread boundary`);
        assert.equal(item.error.code, other?.error?.code);
        assert.equal(item.error.message, other?.error?.message);
        continue;
      }
      assert.ok(other?.result, `item ${i} succeeds in this thread too`);
      assert.equal(item.result.model, other.result.model);
      assert.deepEqual(item.result.faces.map((f) => f.box), other.result.faces.map((f) => f.box));
      item.result.faces.forEach((f, k) => {
        const e = other.result?.faces[k]?.embedding ?? [];
        // One ONNX Runtime thread per worker against two here: the same sums, maybe in another order.
        const worst = Math.max(...f.embedding.map((v, j) => Math.abs(v - (e[j] ?? Number.NaN))));
        assert.ok(worst < 1e-4, `input ${i} face ${k}: embeddings differ by ${worst}`);
      });
    }
  });

  it('stopping early closes the source and stops every worker', async () => {
    let closed = false;
    let pulled = 0;
    async function* endless() {
      try {
        for (;;) {
          pulled++;
          yield sample(1 + (pulled % 2));
        }
      } finally {
        closed = true;
      }
    }
    let seen = 0;
    for await (const item of visage.representEach(endless(), { workers: 2 })) {
      assert.equal(item.index, seen++);
      assert.ok(item.result && item.result.faces.length > 0);
      if (seen === 3) break;
    }
    assert.equal(closed, true);
    assert.equal(liveWorkers(), 0);
    // Inputs are handed out a few ahead per worker (prefetch + 2 each), not read to the end.
    assert.ok(pulled <= 3 + 2 * 3 + 1, `pulled ${pulled}`);
  });

  it('refuses a bad workers option before starting any thread', () => {
    for (const workers of [0, -1, 1.5, 17, '2', 'all']) {
      assert.throws(() => visage.representEach([sample(1)], { workers: workers as number }), (err: unknown) => err instanceof VisageError && err.code === 'INVALID_ARGUMENT');
    }
    assert.equal(liveWorkers(), 0);
  });

  it("starts the pool by default ('auto') only for an array long enough to repay the start-up", () => {
    const many = Array.from({ length: AUTO_POOL_MIN_INPUTS }, (_, i) => sample(1 + (i % 6)));
    const cores = Math.min(2, os.availableParallelism());
    assert.equal(checkWorkers(undefined, many, 2), cores);
    assert.equal(checkWorkers('auto', many, 2), cores);
    // The instance's thread budget caps it; a shorter array or an iterable of unknown length stays in this thread.
    assert.equal(checkWorkers('auto', many, 1), 1);
    assert.equal(checkWorkers(undefined, many.slice(1), 2), 1);
    assert.equal(checkWorkers(undefined, new Set(many), 2), 1);
    assert.equal(checkWorkers(1, many, 2), 1);
    assert.equal(checkWorkers(3, [sample(1)], 2), 3);
  });

  it('shares the threads out, at least one each, and keeps error codes and details across the boundary', () => {
    assert.deepEqual([threadsPerWorker(2, 2), threadsPerWorker(2, 3), threadsPerWorker(8, 3), threadsPerWorker(1, 1)], [1, 1, 2, 1]);
    const back = fromWire(structuredClone(toWire(new VisageError('SPOOF_DETECTED', 'not real', { details: { image: 'a', face: 0, real: 0.1 } }))));
    assert.ok(back instanceof VisageError);
    assert.equal(back.code, 'SPOOF_DETECTED');
    assert.deepEqual(back.details, { image: 'a', face: 0, real: 0.1 });
    const fault = fromWire(structuredClone(toWire(new TypeError('a fault'))));
    assert.ok(!(fault instanceof VisageError));
    assert.equal(fault.name, 'TypeError');
  });
});
