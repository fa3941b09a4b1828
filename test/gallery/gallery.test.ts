/**
 * Galleries through the public API on the photos that ship with face-api: enrol faces, find the
 * right person, say "not in the gallery" for a stranger, refuse another recogniser's embeddings,
 * remove faces and identities, and see another connection's writes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { CALIBRATION, SqliteStore, createVisage, isVisageError, type Box, type Gallery, type Visage } from '../../src/index.js';

const DEMO = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
const sample = (i: number) => path.join(DEMO, `sample${i}.jpg`);
const isCode = (code: string) => (err: unknown) => isVisageError(err) && err.code === code;
const centre = (b: Box) => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 });

let visage: Visage;
let dir: string;

before(async () => {
  visage = await createVisage();
  dir = await mkdtemp(path.join(tmpdir(), 'visage-gallery-'));
});

after(async () => {
  await visage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('gallery', () => {
  let gallery: Gallery;
  let file: string;
  // sample1's three women, each enrolled from her own crop under her own name.
  const people: { name: string; box: Box }[] = [];

  before(async () => {
    file = path.join(dir, 'people.sqlite');
    gallery = await visage.gallery('people', { store: file });
    const { faces, width } = await visage.detect(sample(1));
    assert.equal(faces.length, 3, 'precondition: three faces in sample1');
    for (const [i, face] of faces.entries()) {
      const m = face.box.width;
      const left = Math.max(0, Math.round(face.box.x - m));
      const top = Math.max(0, Math.round(face.box.y - m));
      const crop = await sharp(sample(1))
        .extract({ left, top, width: Math.min(width - left, Math.round(face.box.width + 2 * m)), height: Math.round(face.box.height + 2 * m) })
        .jpeg({ quality: 92 })
        .toBuffer();
      const name = `person-${i + 1}`;
      const ids = await gallery.add(name, crop, { metadata: { from: 'sample1', index: i } });
      assert.equal(ids.length, 1);
      people.push({ name, box: face.box });
    }
  });

  after(async () => {
    await gallery.close();
  });

  test('each face of a mirrored, smaller copy of the photo is found as the right person', async () => {
    const width = 1000;
    const scale = width / (await sharp(sample(1)).metadata()).width;
    const query = await sharp(sample(1)).flop().resize(width).jpeg({ quality: 90 }).toBuffer();
    const result = await gallery.search(query, { k: 3 });
    assert.equal(result.faces.length, 3);
    assert.equal(result.model, 'fusion-dlib-mobilefacenet');
    assert.equal(result.metric, 'cosine');
    assert.equal(result.threshold, CALIBRATION['fusion-dlib-mobilefacenet'].cosine.threshold);
    for (const face of result.faces) {
      assert.ok(face.box);
      // The enrolled face at the mirrored position is the one that must be named.
      const c = centre(face.box);
      const expected = people.reduce((best, p) => {
        const q = centre(p.box);
        const d = (p2: typeof q) => Math.hypot((width - c.x) / scale - p2.x, c.y / scale - p2.y);
        return d(q) < d(centre(best.box)) ? p : best;
      });
      assert.equal(face.identity, expected.name, JSON.stringify(face.matches));
      assert.equal(face.matches.length, 3);
      const [best, ...rest] = face.matches;
      assert.ok(best && best.verified && best.confidence > 0.5 && best.distance <= result.threshold);
      for (const m of rest) assert.ok(m.distance >= best.distance);
    }
  });

  test('a stranger is not in the gallery: identity null, nearest matches still listed', async () => {
    const result = await gallery.search(sample(5), { k: 2 });
    assert.ok(result.faces.length >= 3, `${result.faces.length} faces in sample5`);
    for (const face of result.faces) {
      assert.equal(face.identity, null, JSON.stringify(face.matches));
      assert.equal(face.matches.length, 2);
      assert.ok(face.matches.every((m) => !m.verified && m.distance > result.threshold && m.confidence < 0.5));
    }
  });

  test('an embedding from another recogniser (dimension) is refused with GALLERY_MODEL_MISMATCH', async () => {
    const other = Array.from({ length: 512 }, (_, i) => Math.sin(i));
    await assert.rejects(gallery.add('x', other), isCode('GALLERY_MODEL_MISMATCH'));
    await assert.rejects(gallery.search(other), isCode('GALLERY_MODEL_MISMATCH'));
    assert.deepEqual(await gallery.model(), { model: 'fusion-dlib-mobilefacenet', dimension: 320 });
  });

  test('identities, faces, thumbnails, removal by face id and by identity', async () => {
    const g = await visage.gallery('scratch', { store: file });
    try {
      const { faces } = await visage.represent(sample(2));
      const [a, b, c] = faces.map((f) => f.embedding);
      assert.ok(a && b && c);
      const [fa] = await g.add('ann', a, { metadata: { note: 'first' } });
      await g.add('ann', b);
      await g.add('bo', c);
      const imageIds = await g.add('group', sample(2), { faces: 'all' });
      assert.equal(imageIds.length, faces.length);
      assert.deepEqual(await g.identities(), [
        { identity: 'ann', faces: 2 },
        { identity: 'bo', faces: 1 },
        { identity: 'group', faces: faces.length },
      ]);
      const annFaces = await g.faces('ann');
      assert.equal(annFaces[0]?.faceId, fa);
      assert.deepEqual(annFaces[0]?.metadata, { note: 'first' });
      assert.equal(annFaces[0]?.box, null);
      const thumb = await g.thumbnail(imageIds[0] as string);
      assert.ok(thumb && (await sharp(thumb).metadata()).format === 'jpeg');
      assert.equal(await g.thumbnail(fa as string), null);
      // Searching with an enrolled embedding finds that very face first, at distance ~0.
      const hit = (await g.search(a, { k: 1 })).faces[0]?.matches[0];
      assert.ok(hit && hit.distance < 1e-6 && (hit.faceId === fa || hit.identity === 'group'));
      assert.equal(await g.remove(fa as string), 1);
      assert.equal(await g.remove('group'), faces.length);
      assert.equal(await g.remove('nobody'), 0);
      assert.deepEqual(await g.identities(), [
        { identity: 'ann', faces: 1 },
        { identity: 'bo', faces: 1 },
      ]);
      const after = (await g.search(a, { k: 5 })).faces[0]?.matches ?? [];
      assert.equal(after.length, 2);
      assert.ok(after.every((m) => m.faceId !== fa));
      await assert.rejects(g.add('', a), isCode('INVALID_ARGUMENT'));
      await assert.rejects(g.search(a, { k: 0 }), isCode('INVALID_ARGUMENT'));
    } finally {
      await g.close();
    }
  });

  test('a second connection sees faces another one adds and removes after its first search', async () => {
    const store = new SqliteStore(file);
    const other = await visage.gallery('people', { store });
    try {
      const before = await other.search(sample(5), { k: 1 });
      const probe = (await visage.represent(sample(5))).faces[0]?.embedding as number[];
      const [id] = await gallery.add('stranger', probe);
      const seen = (await other.search(probe, { k: 1 })).faces[0];
      assert.equal(seen?.identity, 'stranger');
      assert.equal(seen?.matches[0]?.faceId, id);
      await gallery.remove('stranger');
      assert.equal((await other.search(probe, { k: 1 })).faces[0]?.identity, null);
      assert.ok(before.faces.every((f) => f.identity === null));
    } finally {
      await other.close();
      await store.close();
    }
  });
});
