/**
 * The gallery routes over real HTTP on loopback with the real library: enrol (multipart and
 * JSON base64), list subjects and faces, recognise (CompreFace shape), find (DeepFace shape),
 * delete a face and a subject, and the bearer token.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { createVisage, type Visage } from '../../src/index.js';
import { sample, startService, type Service } from './fixtures.js';

const TOKEN = 'gallery-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

async function json<T>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  assert.equal(response.status, status, text.slice(0, 500));
  return JSON.parse(text) as T;
}

interface Recognized {
  result: { box: { x_min: number; y_min: number; x_max: number; y_max: number }; identity: string | null; subjects: { subject: string; image_id: string; similarity: number; distance: number; verified: boolean }[] }[];
}

describe('server: gallery routes', () => {
  let visage: Visage;
  let service: Service;
  let dir: string;
  let photo: Buffer;
  // sample1's three people, left to right, each as a crop.
  const crops: Buffer[] = [];

  before(async () => {
    visage = await createVisage();
    dir = await mkdtemp(path.join(tmpdir(), 'visage-gallery-server-'));
    service = await startService({ visage, token: TOKEN, galleryStore: path.join(dir, 'g.sqlite') });
    photo = sample(1);
    const { faces } = await visage.detect(photo);
    const { width = 0, height = 0 } = await sharp(photo).metadata();
    for (const { box } of [...faces].sort((a, b) => a.box.x - b.box.x)) {
      const left = Math.max(0, Math.round(box.x - box.width * 0.5));
      const top = Math.max(0, Math.round(box.y - box.height * 0.5));
      crops.push(await sharp(photo).extract({ left, top, width: Math.min(width - left, Math.round(box.width * 2)), height: Math.min(height - top, Math.round(box.height * 2)) }).jpeg().toBuffer());
    }
  });
  after(async () => {
    await service.close();
    await visage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('enrols by multipart upload and by JSON base64, and lists subjects and faces', async () => {
    const ids: string[] = [];
    for (const [i, name] of ['ann', 'bea'].entries()) {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(crops[i] as Buffer)]), `${name}.jpg`);
      const body = await json<{ image_id: string; subject: string }>(await service.request(`/api/v1/recognition/faces?subject=${name}&gallery=team`, { body: form, headers: auth }), 201);
      assert.equal(body.subject, name);
      ids.push(body.image_id);
    }
    const cleo = await json<{ image_id: string }>(
      await service.request('/api/v1/recognition/faces?subject=cleo&gallery=team', { json: { file: (crops[2] as Buffer).toString('base64') }, headers: auth }),
      201,
    );
    ids.push(cleo.image_id);
    assert.deepEqual(await json(await service.request('/api/v1/recognition/subjects?gallery=team', { headers: auth })), { subjects: ['ann', 'bea', 'cleo'] });
    const page = await json<{ faces: { image_id: string; subject: string }[]; total_elements: number; total_pages: number }>(
      await service.request('/api/v1/recognition/faces?gallery=team&size=2', { headers: auth }),
    );
    assert.equal(page.total_elements, 3);
    assert.equal(page.total_pages, 2);
    assert.deepEqual(page.faces, [
      { image_id: ids[0], subject: 'ann' },
      { image_id: ids[1], subject: 'bea' },
    ]);
  });

  it('recognize names every face of the group photo; limit keeps the largest; prediction_count the matches', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(photo)]), 'group.jpg');
    const all = await json<Recognized>(await service.request('/api/v1/recognition/recognize?gallery=team&prediction_count=2', { body: form, headers: auth }));
    assert.deepEqual(
      [...all.result].sort((a, b) => a.box.x_min - b.box.x_min).map((f) => f.identity),
      ['ann', 'bea', 'cleo'],
    );
    for (const face of all.result) {
      assert.equal(face.subjects.length, 2);
      assert.equal(face.subjects[0]?.subject, face.identity);
      assert.ok((face.subjects[0]?.similarity ?? 0) > 0.5 && face.subjects[0]?.verified);
    }
    const one = await json<Recognized>(
      await service.request('/api/v1/recognition/recognize?gallery=team&limit=1', { json: { file: photo.toString('base64') }, headers: auth }),
    );
    assert.equal(one.result.length, 1);
    assert.equal(one.result[0]?.subjects.length, 1);
  });

  it('find answers in DeepFace\'s shape: per face the gallery faces within the threshold; a stranger gets none', async () => {
    const found = await json<{ results: { identity: string; distance: number; threshold: number; source_w: number }[][]; model: string }>(
      await service.request('/find', { json: { img: (crops[1] as Buffer).toString('base64'), gallery: 'team' }, headers: auth }),
    );
    assert.equal(found.model, 'fusion-dlib-mobilefacenet');
    assert.equal(found.results.length, 1);
    assert.equal(found.results[0]?.[0]?.identity, 'bea');
    assert.ok(found.results[0]?.every((r) => r.distance <= r.threshold && r.source_w > 0));
    const stranger = await json<{ results: unknown[][] }>(
      await service.request('/find', { json: { img: sample(5).toString('base64'), gallery: 'team' }, headers: auth }),
    );
    assert.ok(stranger.results.length >= 3);
    assert.ok(stranger.results.every((r) => r.length === 0));
    const mismatch = await json<{ error: string }>(await service.request('/find', { json: { img: [1, 2, 3], gallery: 'team' }, headers: auth }), 409);
    assert.match(mismatch.error, /fusion-dlib-mobilefacenet embeddings \(320-d\)/);
  });

  it('deletes one face, then a subject; 404 for a face that is not there; 401 without the token', async () => {
    const page = await json<{ faces: { image_id: string; subject: string }[] }>(await service.request('/api/v1/recognition/faces?gallery=team&subject=ann', { headers: auth }));
    const id = page.faces[0]?.image_id as string;
    assert.deepEqual(await json(await service.request(`/api/v1/recognition/faces/${id}?gallery=team`, { method: 'DELETE', headers: auth })), { image_id: id, deleted: 1 });
    await json(await service.request(`/api/v1/recognition/faces/${id}?gallery=team`, { method: 'DELETE', headers: auth }), 404);
    assert.deepEqual(await json(await service.request('/api/v1/recognition/faces?gallery=team&subject=bea', { method: 'DELETE', headers: auth })), { deleted: 1 });
    assert.deepEqual(await json(await service.request('/api/v1/recognition/subjects?gallery=team', { headers: auth })), { subjects: ['cleo'] });
    await json(await service.request('/api/v1/recognition/subjects?gallery=team'), 401);
    await json(await service.request('/find', { json: { img: [1, 2, 3] } }), 401);
  });
});
