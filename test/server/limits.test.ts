/**
 * Bounds and access: the analysis queue (503 + Retry-After beyond it, deadlines), the bearer
 * token, and the OpenAPI document. A slow Visage double stands in for the models: these paths
 * are about the HTTP layer and must not depend on inference speed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Limiter } from '../../src/server/limiter.js';
import type { AnalyzeResult, Visage } from '../../src/types.js';
import { decodingOnlyVisage, sample, startService, type Service } from './fixtures.js';

/** Answers analyze after `ms`, with one fixed face. */
function slowVisage(ms: number): Visage {
  const result: AnalyzeResult = {
    detector: 'ssd',
    wholeImage: false,
    faces: [{ box: { x: 1, y: 2, width: 30, height: 40 }, score: 0.9, emotion: { angry: 0, disgust: 0, fear: 0, happy: 0.7, sad: 0.1, surprise: 0.1, neutral: 0.1 }, dominantEmotion: 'happy' }],
  };
  return { ...decodingOnlyVisage(), analyze: async () => (await sleep(ms), result) };
}

const dataUri = `data:image/jpeg;base64,${sample(2).toString('base64')}`;

describe('Limiter', () => {
  it('runs at most maxConcurrent, queues maxQueue, refuses the rest with 503 and Retry-After', async () => {
    const limiter = new Limiter({ maxConcurrent: 2, maxQueue: 1, timeoutMs: 5000 });
    let running = 0;
    let peak = 0;
    const task = async () => {
      peak = Math.max(peak, ++running);
      await sleep(50);
      running--;
      return 'done';
    };
    const outcomes = await Promise.allSettled([1, 2, 3, 4, 5].map(() => limiter.run(task)));
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    const refusal = (outcomes[3] as PromiseRejectedResult).reason as { statusCode: number; headers: Record<string, string> };
    assert.equal(refusal.statusCode, 503);
    assert.equal(refusal.headers['retry-after'], '1');
    assert.equal(peak, 2);
    assert.deepEqual(limiter.load, { running: 0, queued: 0 });
  });

  it('times out a waiter (removing it from the queue) and keeps the slot until a late task ends', async () => {
    const limiter = new Limiter({ maxConcurrent: 1, maxQueue: 5, timeoutMs: 100 });
    const slow = limiter.run(() => sleep(250).then(() => 'slow'));
    const waiting = limiter.run(async () => 'never');
    await assert.rejects(slow, { statusCode: 503 });
    await assert.rejects(waiting, { statusCode: 503 });
    assert.deepEqual(limiter.load, { running: 1, queued: 0 }); // the slow task still runs
    await sleep(200);
    assert.deepEqual(limiter.load, { running: 0, queued: 0 });
    assert.equal(await limiter.run(async () => 'next'), 'next');
  });
});

describe('server: queue and deadlines', () => {
  let service: Service;
  before(async () => {
    service = await startService({ visage: slowVisage(300), maxConcurrent: 1, maxQueue: 1, requestTimeoutMs: 2000 });
  });
  after(() => service?.close());

  it('answers 503 with Retry-After beyond running + queued, and serves the others', async () => {
    const responses = await Promise.all(
      [1, 2, 3, 4].map(() => service.request('/api/analyze/emotion', { json: { image_url: dataUri } })),
    );
    const statuses = responses.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 503, 503]);
    for (const response of responses.filter((r) => r.status === 503)) {
      assert.equal(response.headers.get('retry-after'), '1');
      assert.match(((await response.json()) as { error: string }).error, /busy/);
    }
    const ok = responses.find((r) => r.status === 200);
    assert.deepEqual(await ok?.json(), { emotions: { angry: 0, disgust: 0, fear: 0, happy: 0.7, sad: 0.1, surprise: 0.1, neutral: 0.1 }, face_detected: true });
    assert.equal((await service.request('/health')).status, 200);
  });

  it('renormalises the requested emotion labels', async () => {
    const response = await service.request('/api/analyze/emotion', { json: { image_url: dataUri, emotion_labels: ['happy', 'sad'] } });
    const { emotions } = (await response.json()) as { emotions: Record<string, number> };
    assert.deepEqual(Object.keys(emotions), ['happy', 'sad']);
    assert.ok(Math.abs((emotions.happy ?? 0) - 0.875) < 1e-9);
    assert.ok(Math.abs((emotions.sad ?? 0) - 0.125) < 1e-9);
  });
});

describe('server: request deadline', () => {
  let service: Service;
  before(async () => {
    service = await startService({ visage: slowVisage(1000), requestTimeoutMs: 200 });
  });
  after(() => service?.close());

  it('answers 503 when an analysis outlives the deadline, and keeps serving', async () => {
    const response = await service.request('/analyze', { json: { img: dataUri } });
    assert.equal(response.status, 503);
    assert.match(((await response.json()) as { error: string }).error, /longer than 200 ms/);
    assert.equal((await service.request('/health')).status, 200);
  });
});

describe('server: bearer token', () => {
  let service: Service;
  before(async () => {
    service = await startService({ visage: decodingOnlyVisage(), token: 's3cret-token' });
  });
  after(() => service?.close());

  for (const [name, headers] of [
    ['missing', {}],
    ['wrong', { authorization: 'Bearer s3cret-tokem' }],
    ['wrong scheme', { authorization: 'Basic czNjcmV0LXRva2Vu' }],
    ['a prefix of the token', { authorization: 'Bearer s3cret' }],
  ] as const) {
    it(`refuses a ${name} token with 401 JSON on every route but /health`, async () => {
      for (const pathname of ['/api/verify_similarity?image1_path=a&image2_path=b', '/docs/json', '/nowhere']) {
        const response = await service.request(pathname, { headers });
        assert.equal(response.status, 401, pathname);
        assert.equal(response.headers.get('www-authenticate'), 'Bearer');
        assert.deepEqual(await response.json(), { error: 'Missing or wrong bearer token' });
      }
      const download = await service.request('/api/download_image?url=x', { headers });
      assert.equal(download.status, 401);
      const post = await service.request('/verify', { json: { img1: 'a', img2: 'b' }, headers });
      assert.equal(post.status, 401);
    });
  }

  it('lets /health through without a token and the right token everywhere', async () => {
    assert.equal((await service.request('/health')).status, 200);
    const response = await service.request('/api/verify_similarity?image1_path=../a&image2_path=b', { headers: { authorization: 'Bearer s3cret-token' } });
    assert.equal(response.status, 400); // past auth, refused by the store
  });
});

describe('server: OpenAPI', () => {
  let service: Service;
  before(async () => {
    service = await startService({ visage: decodingOnlyVisage() });
  });
  after(() => service?.close());

  it('documents every route at /docs/json and serves the UI at /docs', async () => {
    const spec = (await (await service.request('/docs/json')).json()) as { openapi: string; paths: Record<string, unknown> };
    assert.match(spec.openapi, /^3\./);
    for (const route of ['/api/analyze/emotion', '/api/download_image', '/api/verify_similarity', '/verify', '/represent', '/analyze', '/health']) {
      assert.ok(route in spec.paths, `${route} missing from the OpenAPI document`);
    }
    const ui = await service.request('/docs');
    assert.equal(ui.status, 200);
    assert.match(ui.headers.get('content-type') ?? '', /text\/html/);
  });
});
