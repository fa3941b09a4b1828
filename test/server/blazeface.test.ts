/**
 * The BlazeFace detectors through the service: the web page's detect route (keypoints kept by
 * the response schema), DeepFace's detector_backend 'mediapipe', and the live WebSocket route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import WebSocket from 'ws';
import { createVisage, type DetectResult, type Visage } from '../../src/index.js';
import { sample, startService, type Service } from './fixtures.js';

describe('service with BlazeFace', () => {
  let visage: Visage;
  let service: Service;
  before(async () => {
    visage = await createVisage({ threads: 2 });
    service = await startService({ visage });
  });
  after(async () => {
    await service.close();
    await visage.close();
  });

  it('POST /api/detect with detector blazeface-full: three faces, each with 68 landmarks and 6 keypoints; an unknown detector is a 400', async () => {
    const res = await service.request('/api/detect', { json: { img: sample(1).toString('base64'), detector: 'blazeface-full' } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as DetectResult;
    assert.equal(body.detector, 'blazeface-full');
    assert.equal(body.faces.length, 3);
    for (const f of body.faces) {
      assert.equal(f.landmarks.length, 68);
      assert.equal(f.keypoints?.length, 6);
    }
    assert.equal((await service.request('/api/detect', { json: { img: sample(1).toString('base64'), detector: 'blazeface-huge' } })).status, 400);
  });

  it("POST /verify with DeepFace's detector_backend 'mediapipe': a face and its mirror image are the same person", async () => {
    const face = await sharp(sample(2)).extract({ left: 1300, top: 60, width: 480, height: 480 }).jpeg({ quality: 95 }).toBuffer();
    const mirror = await sharp(face).flop().jpeg({ quality: 95 }).toBuffer();
    const res = await service.request('/verify', { json: { img1: face.toString('base64'), img2: mirror.toString('base64'), detector_backend: 'mediapipe' } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { verified: boolean; detector_backend: string };
    assert.equal(body.verified, true);
    assert.equal(body.detector_backend, 'mediapipe');
  });

  it('the live route with detector=blazeface answers a 640-wide frame with its three faces', async () => {
    const frame = await sharp(sample(1)).resize(640).jpeg({ quality: 80 }).toBuffer();
    const ws = new WebSocket(`${service.origin.replace('http', 'ws')}/api/live?detector=blazeface`);
    try {
      const faces = await new Promise<unknown[]>((resolve, reject) => {
        ws.on('error', reject);
        ws.on('message', (data) => {
          const m = JSON.parse(String(data)) as { faces?: unknown[]; error?: string; ready?: boolean };
          if (m.error) reject(new Error(m.error));
          if (m.faces) resolve(m.faces);
        });
        ws.on('open', () => ws.send(frame));
      });
      assert.equal(faces.length, 3);
    } finally {
      ws.close();
    }
  });
});
