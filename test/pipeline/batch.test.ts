/**
 * Batch calls: pipelined's order, prefetch and failure rules on made-up steps, then
 * representMany on the shipped photos against represent, one image at a time.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VisageError, createVisage, isVisageError, type Visage } from '../../src/index.js';
import { pipelined } from '../../src/pipeline/batch.js';

const DEMO = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
const sample = (i: number) => path.join(DEMO, `sample${i}.jpg`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('pipelined', () => {
  it('yields in input order whatever order the decodes finish in, decoding ahead while one works', async () => {
    const events: string[] = [];
    const decode = async (n: number) => {
      events.push(`decode ${n}`);
      await sleep(n === 0 ? 30 : 5);
      return n * 10;
    };
    const work = async (d: number) => {
      events.push(`work ${d / 10}`);
      await sleep(10);
      return d + 1;
    };
    const got = [];
    for await (const item of pipelined([0, 1, 2, 3], decode, work, 1)) got.push(item);
    assert.deepEqual(got.map((i) => [i.index, i.input, i.result]), [[0, 0, 1], [1, 1, 11], [2, 2, 21], [3, 3, 31]]);
    // With prefetch 1, image 1 is decoding before image 0's work starts, and image 2 before image 1's.
    assert.ok(events.indexOf('decode 1') < events.indexOf('work 0'), events.join(', '));
    assert.ok(events.indexOf('decode 2') < events.indexOf('work 1'), events.join(', '));
    assert.ok(events.indexOf('decode 3') > events.indexOf('work 0'), `no more than one ahead: ${events.join(', ')}`);
  });

  it('an input failing with a VisageError yields that error and the rest go on; any other error ends the run', async () => {
    const decode = async (n: number) => {
      if (n === 1) throw new VisageError('INVALID_IMAGE', 'bad one');
      return n;
    };
    const items = [];
    for await (const item of pipelined([0, 1, 2], decode, async (d) => d * 2, 2)) items.push(item);
    assert.deepEqual(items.map((i) => i.error?.code ?? i.result), [0, 'INVALID_IMAGE', 4]);

    const faulty = pipelined([0, 1, 2], async (n: number) => n, async (d) => {
      if (d === 1) throw new TypeError('a fault');
      return d;
    }, 1);
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const item of faulty) seen.push(item.result as number);
    }, TypeError);
    assert.deepEqual(seen, [0]);
  });

  it('works on an input already decoded without waiting for the source to give the next one', { timeout: 5000 }, async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The second input comes only once the first is at work (a live source, or a pool worker's inbox).
    async function* source() {
      yield 0;
      await gate;
      yield 1;
    }
    const work = async (d: number) => {
      if (d === 0) release();
      return d;
    };
    const got = [];
    for await (const item of pipelined(source(), async (n: number) => n, work, 1)) got.push(item.result);
    assert.deepEqual(got, [0, 1]);
  });

  it('stopping early closes the source and leaves no decode failure unhandled', async () => {
    let closed = false;
    async function* source() {
      try {
        for (let n = 0; ; n++) yield n;
      } finally {
        closed = true;
      }
    }
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const decode = async (n: number) => {
        if (n > 0) throw new VisageError('INVALID_IMAGE', `bad ${n}`);
        return n;
      };
      for await (const item of pipelined(source(), decode, async (d) => d, 3)) {
        assert.equal(item.result, 0);
        break;
      }
      await sleep(20);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.equal(closed, true);
    assert.deepEqual(unhandled, []);
  });
});

describe('representMany', () => {
  let visage: Visage;
  before(async () => {
    visage = await createVisage({ threads: 1 });
  });
  after(async () => {
    await visage.close();
  });

  it('gives each image what represent gives it, in input order, with a bad image failing alone', async () => {
    const missing = path.join(DEMO, 'no-such-photo.jpg');
    const inputs = [sample(1), missing, Buffer.from('not an image'), sample(2)];
    const items = await visage.representMany(inputs, { prefetch: 2 });
    assert.deepEqual(items.map((i) => i.index), [0, 1, 2, 3]);
    assert.equal(items[1]?.error?.code, 'FILE_NOT_FOUND');
    assert.equal(items[2]?.error?.code, 'INVALID_IMAGE');
    for (const i of [0, 3]) {
      const item = items[i];
      assert.equal(item?.input, inputs[i]);
      const alone = await visage.represent(inputs[i] as string);
      assert.ok(item?.result && item.result.faces.length >= 2, `sample ${i}: several faces`);
      assert.deepEqual(item.result.faces.map((f) => f.box), alone.faces.map((f) => f.box));
      item.result.faces.forEach((f, k) => {
        const other = alone.faces[k]?.embedding ?? [];
        assert.ok(f.embedding.every((v, j) => Math.abs(v - (other[j] ?? Number.NaN)) < 1e-5), `face ${k} of input ${i}: same embedding`);
      });
    }
  });

  it('refuses a bad prefetch before reading any image', async () => {
    for (const prefetch of [-1, 1.5, 9]) {
      assert.throws(() => visage.representEach([sample(1)], { prefetch }), (err: unknown) => isVisageError(err) && err.code === 'INVALID_ARGUMENT');
    }
  });
});
