/**
 * The bad-input table: each hostile or malformed request gets its 4xx and a JSON error, over
 * real HTTP on loopback, and the service keeps answering. The routes are exercised with a
 * Visage double that only decodes images: none of these requests may reach a model.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodingOnlyVisage, pixelBombPng, sample, startFixtures, startService, type Fixtures, type Service } from './fixtures.js';

const INVALID_URL = { error: 'Invalid image_url provided' };
const DOWNLOAD_FAILED = { success: false, message: 'Failed to download image. Check the URL and try again.' };

type Send = (service: Service) => Promise<Response>;
interface Row {
  name: string;
  send: Send;
  status: number;
  /** The exact JSON body, or a pattern the `error` field must match. */
  body?: object;
  error?: RegExp;
}

describe('server: bad inputs', () => {
  let fixtures: Fixtures;
  let service: Service; // private addresses allowed: the fixtures live on 127.0.0.1
  let guarded: Service; // default: private addresses refused
  let base: string;
  let visage: ReturnType<typeof decodingOnlyVisage>;
  const url = (p: string) => fixtures.url(p);
  const emotion = (json: unknown): Send => (s) => s.request('/api/analyze/emotion', { json });
  const download = (query: string): Send => (s) => s.request(`/api/download_image${query}`);
  const similarity = (a: string, b: string): Send => (s) =>
    s.request(`/api/verify_similarity?image1_path=${encodeURIComponent(a)}&image2_path=${encodeURIComponent(b)}`);

  before(async () => {
    fixtures = await startFixtures();
    visage = decodingOnlyVisage();
    base = await mkdtemp(path.join(tmpdir(), 'visage-bad-input-'));
    service = await startService({ visage, allowPrivateUrls: true, downloadTimeoutMs: 1500, store: path.join(base, 'store') });
    guarded = await startService({ visage });
    // A genuine stored image, a symlink in the store that points out of it, and a file outside.
    await writeFile(path.join(service.store, 'good.jpg'), sample(1));
    await mkdir(path.join(service.store, 'sub'));
    await symlink('/etc/passwd', path.join(service.store, 'escape.jpg'));
    await symlink(base, path.join(service.store, 'sub', 'up'));
    await writeFile(path.join(base, 'outside.jpg'), sample(2));
  });
  after(async () => {
    await Promise.all([service?.close(), guarded?.close()]);
    await fixtures?.close();
    await rm(base, { recursive: true, force: true });
  });

  const rows: Row[] = [
    // POST /api/analyze/emotion
    { name: 'emotion: missing image_url', send: emotion({}), status: 400, body: INVALID_URL },
    { name: 'emotion: image_url is an object', send: emotion({ image_url: { href: 'x' } }), status: 400, body: INVALID_URL },
    { name: 'emotion: image_url is a number', send: emotion({ image_url: 42 }), status: 400, body: INVALID_URL },
    { name: 'emotion: image_url is not a URL', send: emotion({ image_url: 'package.json' }), status: 400, body: INVALID_URL },
    { name: 'emotion: face_detection is not a boolean', send: (s) => s.request('/api/analyze/emotion', { json: { image_url: url('/sample1.jpg'), face_detection: 'maybe' } }), status: 400, error: /face_detection/ },
    { name: 'emotion: unknown emotion label', send: (s) => s.request('/api/analyze/emotion', { json: { image_url: url('/sample1.jpg'), emotion_labels: ['joy'] } }), status: 400, error: /emotion_labels/ },
    { name: 'emotion: body is not JSON', send: (s) => s.request('/api/analyze/emotion', { body: '{"image_url": ', headers: { 'content-type': 'application/json' } }), status: 400, error: /JSON/i },
    { name: 'emotion: body is text/plain', send: (s) => s.request('/api/analyze/emotion', { body: 'image_url=x', headers: { 'content-type': 'text/plain' } }), status: 415, error: /content-type|media type/i },
    { name: 'emotion: a text file as the image', send: (s) => emotion({ image_url: url('/text.jpg') })(s), status: 400, body: INVALID_URL },
    { name: 'emotion: a truncated JPEG', send: (s) => emotion({ image_url: url('/truncated.jpg') })(s), status: 400, body: INVALID_URL },
    { name: 'emotion: a pixel bomb PNG', send: (s) => emotion({ image_url: url('/bomb.png') })(s), status: 400, body: INVALID_URL },
    { name: 'emotion: a URL that 404s', send: (s) => emotion({ image_url: url('/missing.jpg') })(s), status: 400, body: INVALID_URL },
    { name: 'emotion: a URL that never answers', send: (s) => emotion({ image_url: url('/hang') })(s), status: 400, body: INVALID_URL },
    { name: 'emotion: a URL that redirects forever', send: (s) => emotion({ image_url: url('/loop') })(s), status: 400, body: INVALID_URL },
    { name: 'emotion: a private address without the flag', send: () => emotion({ image_url: url('/sample1.jpg') })(guarded), status: 400, body: INVALID_URL },

    // GET /api/download_image
    { name: 'download: missing url', send: download(''), status: 400, body: DOWNLOAD_FAILED },
    { name: 'download: not an http(s) URL', send: download('?url=file:///etc/passwd'), status: 400, body: DOWNLOAD_FAILED },
    { name: 'download: a text file', send: (s) => download(`?url=${encodeURIComponent(url('/text.jpg'))}`)(s), status: 400, body: DOWNLOAD_FAILED },
    { name: 'download: a truncated JPEG', send: (s) => download(`?url=${encodeURIComponent(url('/truncated.jpg'))}`)(s), status: 400, body: DOWNLOAD_FAILED },
    { name: 'download: a pixel bomb PNG', send: (s) => download(`?url=${encodeURIComponent(url('/bomb.png'))}`)(s), status: 413, body: DOWNLOAD_FAILED },
    { name: 'download: a URL that 404s', send: (s) => download(`?url=${encodeURIComponent(url('/missing.jpg'))}`)(s), status: 400, body: DOWNLOAD_FAILED },
    { name: 'download: a URL that never answers', send: (s) => download(`?url=${encodeURIComponent(url('/hang'))}`)(s), status: 400, body: DOWNLOAD_FAILED },
    { name: 'download: a URL that redirects forever', send: (s) => download(`?url=${encodeURIComponent(url('/loop'))}`)(s), status: 400, body: DOWNLOAD_FAILED },
    { name: 'download: a private address without the flag', send: () => download(`?url=${encodeURIComponent(url('/sample1.jpg'))}`)(guarded), status: 400, body: DOWNLOAD_FAILED },

    // GET /api/verify_similarity
    { name: 'similarity: missing image2_path', send: (s) => s.request('/api/verify_similarity?image1_path=good.jpg'), status: 400, error: /image2_path/ },
    { name: 'similarity: ../ in image1_path', send: similarity('../outside.jpg', 'good.jpg'), status: 400, error: /Invalid image path/ },
    { name: 'similarity: ../ in image2_path', send: similarity('good.jpg', '../outside.jpg'), status: 400, error: /Invalid image path/ },
    { name: 'similarity: absolute image1_path', send: similarity('/etc/passwd', 'good.jpg'), status: 400, error: /Invalid image path/ },
    { name: 'similarity: absolute image2_path', send: similarity('good.jpg', '/etc/passwd'), status: 400, error: /Invalid image path/ },
    { name: 'similarity: NUL in a path', send: similarity('good.jpg\0.png', 'good.jpg'), status: 400, error: /Invalid image path/ },
    { name: 'similarity: symlink out of the store (image1)', send: similarity('escape.jpg', 'good.jpg'), status: 400, error: /Invalid image path/ },
    { name: 'similarity: symlink out of the store (image2)', send: similarity('good.jpg', 'escape.jpg'), status: 400, error: /Invalid image path/ },
    { name: 'similarity: directory symlink out of the store', send: similarity('sub/up/outside.jpg', 'good.jpg'), status: 400, error: /Invalid image path/ },
    { name: 'similarity: a name not in the store', send: similarity('nope.jpg', 'good.jpg'), status: 404, error: /nope\.jpg/ },

    // DeepFace-compatible routes
    { name: 'verify: missing img2', send: (s) => s.request('/verify', { json: { img1: url('/sample1.jpg') } }), status: 400, error: /img2/ },
    { name: 'verify: img1 of the wrong type', send: (s) => s.request('/verify', { json: { img1: { a: 1 }, img2: url('/sample1.jpg') } }), status: 400, error: /img1/ },
    { name: 'verify: a server file path as img1', send: (s) => s.request('/verify', { json: { img1: '/etc/passwd', img2: 'package.json' } }), status: 400, error: /URL, a data: URI, base64/ },
    { name: 'verify: unknown detector_backend', send: (s) => s.request('/verify', { json: { img1: url('/sample1.jpg'), img2: url('/sample2.jpg'), detector_backend: 'retinaface' } }), status: 400, error: /detector_backend/ },
    { name: 'verify: unknown detection_mode', send: (s) => s.request('/verify', { json: { img1: url('/sample1.jpg'), img2: url('/sample2.jpg'), detection_mode: 'precise' } }), status: 400, error: /detection_mode/ },
    { name: 'detect: unknown mode', send: (s) => s.request('/api/detect', { json: { img: url('/sample1.jpg'), mode: 'precise' } }), status: 400, error: /mode/ },
    { name: 'verify: unknown distance_metric', send: (s) => s.request('/verify', { json: { img1: url('/sample1.jpg'), img2: url('/sample2.jpg'), distance_metric: 'manhattan' } }), status: 400, error: /distance_metric/ },
    { name: 'verify: negative threshold', send: (s) => s.request('/verify', { json: { img1: url('/sample1.jpg'), img2: url('/sample2.jpg'), threshold: -1 } }), status: 400, error: /threshold/ },
    { name: 'verify: no body', send: (s) => s.request('/verify', { method: 'POST' }), status: 415, error: /json|multipart/i },
    { name: 'verify: a pixel bomb as base64', send: (s) => s.request('/verify', { json: { img1: pixelBombPng().toString('base64'), img2: sample(1).toString('base64') } }), status: 413, error: /pixel/ },
    { name: 'verify: a truncated JPEG as a data URI', send: (s) => s.request('/verify', { json: { img1: `data:image/jpeg;base64,${sample(1).subarray(0, 4000).toString('base64')}`, img2: url('/sample1.jpg') } }), status: 400, error: /decode|truncat|premature/i },
    { name: 'verify: a private address without the flag', send: () => guarded.request('/verify', { json: { img1: url('/sample1.jpg'), img2: url('/sample2.jpg') } }), status: 400, error: /non-public|loopback|private/i },
    {
      name: 'represent: a text file uploaded as multipart',
      send: (s) => {
        const form = new FormData();
        form.append('img', new Blob(['not an image']), 'notes.txt');
        return s.request('/represent', { body: form });
      },
      status: 400,
      error: /JPEG, PNG/,
    },
    {
      name: 'verify: a multipart upload over the size limit',
      send: (s) => {
        const form = new FormData();
        form.append('img1', new Blob([new Uint8Array(11 * 1024 * 1024)]), 'big.jpg');
        form.append('img2', new Blob([new Uint8Array(sample(1))]), 'b.jpg');
        return s.request('/verify', { body: form });
      },
      status: 413,
      error: /too large/i,
    },
    {
      name: 'verify: three files uploaded',
      send: (s) => {
        const form = new FormData();
        for (const name of ['img1', 'img2', 'img3']) form.append(name, new Blob([new Uint8Array(sample(1))]), `${name}.jpg`);
        return s.request('/verify', { body: form });
      },
      status: 413,
      error: /files limit/i,
    },
    { name: 'analyze: unsupported action', send: (s) => s.request('/analyze', { json: { img: url('/sample1.jpg'), actions: ['race'] } }), status: 400, error: /race is not supported/ },
    { name: 'analyze: body over the size limit', send: (s) => s.request('/analyze', { json: { img: 'A'.repeat(11 * 1024 * 1024) } }), status: 413, error: /too large/i },
    { name: 'unknown route', send: (s) => s.request('/api/nothing'), status: 404, error: /No route/ },
  ];

  for (const row of rows) {
    it(`${row.name} → ${row.status}`, async () => {
      const response = await row.send(service);
      assert.equal(response.status, row.status, `status for ${row.name}: ${await response.clone().text()}`);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      const json = (await response.json()) as Record<string, unknown>;
      if (row.body) assert.deepEqual(json, row.body);
      if (row.error) {
        assert.equal(typeof json.error, 'string', JSON.stringify(json));
        assert.match(json.error as string, row.error);
      }
    });
  }

  it('never reached a model, and read nothing for refused store paths', () => {
    // Only the four rows whose bytes carry an image signature but fail to decode reach the
    // double (and fail in its real decoder); store-path refusals never get that far.
    assert.equal(visage.calls, 4);
  });

  it('still answers afterwards', async () => {
    for (const s of [service, guarded]) {
      const response = await s.request('/health');
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { status: string }).status, 'ok');
    }
  });
});
