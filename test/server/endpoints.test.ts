/**
 * Every endpoint's success case on the photos shipped with face-api, over real HTTP on loopback,
 * with the real library behind the service. Images reach the service as URLs (from a local
 * server, hence allowPrivateUrls), base64, data URIs and multipart uploads.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { createVisage } from '../../src/index.js';
import { EMOTIONS, type Box, type Visage } from '../../src/types.js';
import { sample, startFixtures, startService, type Fixtures, type Service } from './fixtures.js';

const PNG_SIGNATURE = Buffer.from('\x89PNG\r\n\x1a\n', 'latin1');
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** A face cut out of a photo with a margin, optionally mirrored: a single-face image. */
async function faceCrop(photo: Buffer, box: Box, mirror = false): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(photo).metadata();
  const left = Math.max(0, Math.round(box.x - box.width * 0.4));
  const top = Math.max(0, Math.round(box.y - box.height * 0.4));
  const region = { left, top, width: Math.min(width - left, Math.round(box.width * 1.8)), height: Math.min(height - top, Math.round(box.height * 1.8)) };
  const cropped = sharp(photo).extract(region);
  return (mirror ? cropped.flop() : cropped).jpeg().toBuffer();
}

async function json<T>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  assert.equal(response.status, status, text.slice(0, 500));
  return JSON.parse(text) as T;
}

async function png(response: Response): Promise<{ width: number; height: number }> {
  assert.equal(response.status, 200, response.status === 200 ? '' : await response.text());
  assert.equal(response.headers.get('content-type'), 'image/png');
  const bytes = Buffer.from(await response.arrayBuffer());
  assert.ok(bytes.subarray(0, 8).equals(PNG_SIGNATURE));
  const { width = 0, height = 0, format } = await sharp(bytes).metadata();
  assert.equal(format, 'png');
  return { width, height };
}

interface DeepfaceVerify {
  verified: boolean;
  distance: number;
  threshold: number;
  confidence: number;
  model: string;
  detector_backend: string;
  similarity_metric: string;
  facial_areas: { img1: { x: number; y: number; w: number; h: number } | null; img2: { x: number; y: number; w: number; h: number } | null };
  time: number;
}

describe('server: endpoints on the shipped photos', () => {
  let visage: Visage;
  let fixtures: Fixtures;
  let service: Service;
  // Single-face crops: face A and its mirror image, and face B, another person in the same group photo.
  let faceA: Buffer;
  let faceAMirror: Buffer;
  let faceB: Buffer;

  before(async () => {
    visage = await createVisage();
    fixtures = await startFixtures();
    service = await startService({ visage, allowPrivateUrls: true });
    const photo = sample(1);
    const { faces } = await visage.detect(photo);
    assert.ok(faces.length >= 2, 'sample1 holds a group');
    const [first, second] = [...faces].sort((p, q) => q.score - p.score) as [(typeof faces)[0], (typeof faces)[0]];
    [faceA, faceAMirror, faceB] = await Promise.all([faceCrop(photo, first.box), faceCrop(photo, first.box, true), faceCrop(photo, second.box)]);
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
    await visage?.close();
  });

  it('GET /health', async () => {
    assert.deepEqual(await json(await service.request('/health')), { status: 'ok', running: 0, queued: 0 });
  });

  it('POST /api/analyze/emotion: probabilities of the main face, with its embedding on request', async () => {
    const body = await json<{ emotions: Record<string, number>; face_detected: boolean; face_embedding?: number[] }>(
      await service.request('/api/analyze/emotion', { json: { image_url: fixtures.url('/sample1.jpg'), face_embedding: true } }),
    );
    assert.deepEqual(Object.keys(body.emotions).sort(), [...EMOTIONS].sort());
    assert.ok(Math.abs(sum(Object.values(body.emotions)) - 1) < 1e-4);
    assert.equal(body.face_detected, true);
    assert.equal(body.face_embedding?.length, 320);
  });

  it('POST /api/analyze/emotion: face_detection false takes the whole image; labels renormalised', async () => {
    const dataUri = `data:image/jpeg;base64,${faceA.toString('base64')}`;
    const body = await json<{ emotions: Record<string, number>; face_detected: boolean; face_embedding?: number[] }>(
      await service.request('/api/analyze/emotion', { json: { image_url: dataUri, face_detection: false, emotion_labels: ['happy', 'neutral'] } }),
    );
    assert.deepEqual(Object.keys(body.emotions), ['happy', 'neutral']);
    assert.ok(Math.abs(sum(Object.values(body.emotions)) - 1) < 1e-9);
    assert.equal(body.face_detected, false);
    assert.equal(body.face_embedding, undefined);
  });

  it('POST /api/analyze/emotion with Accept: image/png returns the analysis picture', async () => {
    const { width, height } = await png(
      await service.request('/api/analyze/emotion', { json: { image_url: fixtures.url('/sample2.jpg') }, headers: { accept: 'image/png' } }),
    );
    assert.ok(width > 1920 && height >= 1367, `${width}x${height}`); // the photo plus a text panel
  });

  it('GET /api/download_image, then /api/verify_similarity on the stored images (JSON and PNG)', async () => {
    const stored: string[] = [];
    for (const name of ['/sample1.jpg', '/sample1.jpg']) {
      const body = await json<{ success: boolean; message: string; image_path: string }>(
        await service.request(`/api/download_image?url=${encodeURIComponent(fixtures.url(name))}`),
      );
      assert.equal(body.success, true);
      assert.match(body.image_path, /^[0-9a-f-]{36}\.jpg$/);
      assert.ok((await readFile(path.join(service.store, body.image_path))).equals(sample(1)));
      stored.push(body.image_path);
    }
    assert.notEqual(stored[0], stored[1], 'each download gets a fresh name');
    const query = `image1_path=${stored[0]}&image2_path=${stored[1]}`;
    const verdict = await json<{ verified: boolean; message: string; distance: number; threshold: number }>(
      await service.request(`/api/verify_similarity?${query}`),
    );
    assert.deepEqual(verdict, { verified: true, message: 'Images are of the same person', distance: verdict.distance, threshold: verdict.threshold });
    assert.ok(verdict.distance < 1e-6, `same photo: distance ${verdict.distance}`);
    const picture = await png(await service.request(`/api/verify_similarity?${query}&format=png`));
    assert.ok(picture.width > 400 && picture.height > 400, `${picture.width}x${picture.height}`);
  });

  it('POST /verify (JSON URLs): a face and its mirror image are the same person, in DeepFace shape', async () => {
    const body = await json<DeepfaceVerify>(
      await service.request('/verify', { json: { img1: `data:image/jpeg;base64,${faceA.toString('base64')}`, img2: faceAMirror.toString('base64'), distance_metric: 'cosine' } }),
    );
    assert.equal(body.verified, true);
    assert.ok(body.distance < body.threshold);
    assert.equal(body.similarity_metric, 'cosine');
    assert.equal(body.model, 'fusion-dlib-mobilefacenet');
    assert.equal(body.detector_backend, 'ssd');
    assert.ok(body.confidence > 0.5 && body.confidence <= 1);
    for (const area of [body.facial_areas.img1, body.facial_areas.img2]) {
      assert.ok(area && [area.x, area.y, area.w, area.h].every(Number.isInteger) && area.w > 50 && area.h > 50, JSON.stringify(area));
    }
    assert.ok(body.time > 0 && body.time < 60);
  });

  it('POST /verify model_name picks a built-in recogniser (DeepFace\'s "Dlib" too); a model visage lacks is a 400', async () => {
    const images = { img1: faceA.toString('base64'), img2: faceAMirror.toString('base64') };
    for (const [name, model] of [['Dlib', 'dlib-resnet128'], ['mobilefacenet', 'mobilefacenet-192']]) {
      const body = await json<DeepfaceVerify>(await service.request('/verify', { json: { ...images, model_name: name } }));
      assert.equal(body.model, model);
      assert.equal(body.verified, true);
    }
    const refused = await service.request('/verify', { json: { ...images, model_name: 'VGG-Face' } });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /model_name \\"VGG-Face\\": expected one of dlib, mobilefacenet, fusion/);
  });

  it('POST /verify (multipart uploads): two people of one group photo are different persons', async () => {
    const form = new FormData();
    form.append('img1', new Blob([new Uint8Array(faceA)]), 'a.jpg');
    form.append('img2', new Blob([new Uint8Array(faceB)]), 'b.jpg');
    form.append('detector_backend', 'ssd');
    const body = await json<DeepfaceVerify>(await service.request('/verify', { body: form }));
    assert.equal(body.verified, false);
    assert.ok(body.distance > body.threshold);
    assert.equal(body.detector_backend, 'ssd');
    assert.equal(body.similarity_metric, 'euclidean');
  });

  it('POST /verify with ?format=png returns the side-by-side picture', async () => {
    const { height } = await png(await service.request('/verify?format=png', { json: { img1: faceA.toString('base64'), img2: faceAMirror.toString('base64') } }));
    assert.ok(height > 400);
  });

  it('POST /represent (multipart, detector_backend opencv = Haar), and its embedding verifies as an input of /verify', async () => {
    const form = new FormData();
    form.append('img', new Blob([new Uint8Array(faceA)]), 'a.jpg');
    form.append('detector_backend', 'opencv');
    const { results } = await json<{ results: { embedding: number[]; facial_area: { w: number }; face_confidence: number }[] }>(
      await service.request('/represent', { body: form }),
    );
    assert.equal(results.length, 1);
    const [face] = results as [(typeof results)[0]];
    assert.equal(face.embedding.length, 320);
    assert.ok(face.face_confidence > 0 && face.face_confidence <= 1);
    assert.ok(face.facial_area.w > 50);
    const body = await json<DeepfaceVerify>(await service.request('/verify', { json: { img1: face.embedding, img2: faceAMirror.toString('base64') } }));
    assert.equal(body.verified, true);
    assert.equal(body.facial_areas.img1, null);
  });

  it('POST /analyze (JSON URL): every face with emotion and gender in percent, and age', async () => {
    const { results } = await json<{ results: Record<string, unknown>[] }>(
      await service.request('/analyze', { json: { img: fixtures.url('/sample1.jpg') } }),
    );
    assert.ok(results.length >= 2);
    for (const face of results) {
      const emotion = face.emotion as Record<string, number>;
      assert.deepEqual(Object.keys(emotion).sort(), [...EMOTIONS].sort());
      assert.ok(Math.abs(sum(Object.values(emotion)) - 100) < 0.01);
      assert.equal(face.dominant_emotion, Object.entries(emotion).sort((p, q) => q[1] - p[1])[0]?.[0]);
      const gender = face.gender as { Woman: number; Man: number };
      assert.ok(Math.abs(gender.Woman + gender.Man - 100) < 0.01);
      assert.ok(['Woman', 'Man'].includes(face.dominant_gender as string));
      assert.ok(typeof face.age === 'number' && face.age > 0 && face.age < 100);
      assert.ok(typeof face.face_confidence === 'number');
      assert.deepEqual(Object.keys(face.region as object), ['x', 'y', 'w', 'h']);
    }
  });

  it('POST /analyze with emotion_model and age_gender_model: results name them; an unknown name is a 400', async () => {
    const { results } = await json<{ results: Record<string, unknown>[] }>(
      await service.request('/analyze', { json: { img: fixtures.url('/sample1.jpg'), emotion_model: 'human', age_gender_model: 'faceres' } }),
    );
    assert.ok(results.length >= 2);
    for (const face of results) {
      assert.deepEqual(face.models, { emotion: 'human', age_gender: 'faceres' });
      assert.ok(typeof face.age === 'number' && face.age > 0 && face.age < 100);
    }
    const bad = await service.request('/analyze', { json: { img: fixtures.url('/sample1.jpg'), emotion_model: 'deepface' } });
    assert.equal(bad.status, 400);
  });

  it('POST /analyze (multipart, DeepFace text actions, max_faces) and ?format=png', async () => {
    const form = new FormData();
    form.append('img', new Blob([new Uint8Array(sample(1))]), 'group.jpg');
    form.append('actions', '[emotion]');
    form.append('max_faces', '1');
    const { results } = await json<{ results: Record<string, unknown>[] }>(await service.request('/analyze', { body: form }));
    assert.equal(results.length, 1);
    assert.deepEqual(Object.keys(results[0] ?? {}).sort(), ['dominant_emotion', 'emotion', 'face_confidence', 'models', 'region']);
    assert.deepEqual(results[0]?.models, { emotion: 'face-api' });
    const { width } = await png(await service.request('/analyze?format=png', { json: { img: faceA.toString('base64'), actions: ['emotion'] } }));
    assert.ok(width > 0);
  });
});
