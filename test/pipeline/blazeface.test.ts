/**
 * The BlazeFace detectors through the public API: on the face-api photos they find the faces SSD
 * finds (IoU matching), give MediaPipe's 6 keypoints beside the 68 landmarks (which agree with
 * them: the landmark net runs on BlazeFace's boxes), and verify a photo against its mirror image.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { createVisage, type DetectedFace, type Point, type Visage } from '../../src/index.js';
import { iou } from '../../src/models/common/boxes.js';

const DEMO = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
const sample = (i: number) => path.join(DEMO, `sample${i}.jpg`);

let visage: Visage;
before(async () => {
  visage = await createVisage({ threads: 2 });
});
after(() => visage.close());

const mean = (points: readonly Point[]) => ({ x: points.reduce((s, p) => s + p.x, 0) / points.length, y: points.reduce((s, p) => s + p.y, 0) / points.length });

/** The keypoints and the 68 landmarks put the eyes and the mouth in the same places (within 20% of the box); returns the largest share. */
function assertPointsAgree(face: DetectedFace, label: string): number {
  assert.equal(face.keypoints?.length, 6, label);
  assert.equal(face.landmarks.length, 68, label);
  const [rightEye, leftEye, , mouth] = face.keypoints as [Point, Point, Point, Point];
  // The subject's right eye is on the image's left: landmarks 36-41; the left eye 42-47; the mouth 48-67.
  const pairs: [Point, Point, string][] = [
    [rightEye, mean(face.landmarks.slice(36, 42)), 'right eye'],
    [leftEye, mean(face.landmarks.slice(42, 48)), 'left eye'],
    [mouth, mean(face.landmarks.slice(48, 68)), 'mouth'],
  ];
  let worst = 0;
  for (const [k, l, what] of pairs) {
    const share = Math.hypot(k.x - l.x, k.y - l.y) / face.box.width;
    assert.ok(share <= 0.2, `${label} ${what}: keypoint ${JSON.stringify(k)}, landmarks ${JSON.stringify(l)}`);
    worst = Math.max(worst, share);
  }
  return worst;
}

describe('BlazeFace detectors in the pipeline', () => {
  test('blazeface-full finds the faces SSD finds on the face-api photos, keypoints agreeing with the landmarks', async (t) => {
    let ssdFaces = 0;
    let matched = 0;
    const shares: number[] = [];
    for (const i of [1, 2, 3, 4, 5, 6]) {
      const [ssd, full] = await Promise.all([visage.detect(sample(i), { detector: 'ssd' }), visage.detect(sample(i), { detector: 'blazeface-full' })]);
      assert.equal(full.detector, 'blazeface-full');
      ssdFaces += ssd.faces.length;
      for (const s of ssd.faces) if (full.faces.some((f) => iou(f.box, s.box) >= 0.4)) matched++;
      // No face of its own: each box is one SSD finds too.
      for (const f of full.faces) {
        assert.ok(ssd.faces.some((s) => iou(f.box, s.box) >= 0.4), `sample${i}: ${JSON.stringify(f.box)} is no SSD face`);
        shares.push(assertPointsAgree(f, `sample${i}`));
      }
    }
    shares.sort((a, b) => a - b);
    t.diagnostic(`blazeface-full matched ${matched} of SSD's ${ssdFaces} faces; keypoint-landmark distance / box width: median ${shares[shares.length >> 1]?.toFixed(3)}, max ${shares.at(-1)?.toFixed(3)}`);
    assert.ok(matched >= ssdFaces - 1, `${matched} of ${ssdFaces}`);
  });

  test('blazeface (short range) finds a selfie-sized face, the same as SSD on it', async () => {
    // One face of sample3 cut out with room around it, about 60% of the frame: the short-range model's use.
    const selfie = await sharp(sample(3)).extract({ left: 960, top: 150, width: 480, height: 480 }).jpeg({ quality: 95 }).toBuffer();
    const [ssd, short] = await Promise.all([visage.detect(selfie, { detector: 'ssd' }), visage.detect(selfie, { detector: 'blazeface' })]);
    assert.equal(ssd.faces.length, 1);
    assert.equal(short.faces.length, 1);
    const [face] = short.faces as [DetectedFace];
    assert.ok(iou(face.box, (ssd.faces[0] as DetectedFace).box) >= 0.5, JSON.stringify([face.box, ssd.faces[0]?.box]));
    assertPointsAgree(face, 'selfie');
  });

  test('verify with blazeface: a photo and its mirror image are the same person', async () => {
    const photo = await sharp(sample(2)).extract({ left: 1300, top: 60, width: 480, height: 480 }).jpeg({ quality: 95 }).toBuffer();
    const mirror = await sharp(photo).flop().jpeg({ quality: 95 }).toBuffer();
    for (const detector of ['blazeface', 'blazeface-full'] as const) {
      const result = await visage.verify(photo, mirror, { detector });
      assert.equal(result.detector, detector);
      assert.ok(result.verified, `${detector}: distance ${result.distance} threshold ${result.threshold}`);
    }
  });
});
