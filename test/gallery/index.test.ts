/**
 * The in-memory index against a brute-force reference (exact scan and the HNSW path with exact
 * re-ranking), its saved graph, and the SQLite store under two writing processes at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { normalise, exactSearch } from '../../src/gallery/exact.js';
import { MemoryIndex, type IndexedFace } from '../../src/gallery/memory.js';
import { SqliteStore, createVisage } from '../../src/index.js';

const run = promisify(execFile);

/** Deterministic clustered unit vectors: `people` centres, each face its centre plus noise. */
function faces(count: number, dim: number, people: number, seed = 1): IndexedFace[] {
  let s = seed;
  const random = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const centres = Array.from({ length: people }, () => Array.from({ length: dim }, random));
  return Array.from({ length: count }, (_, i) => {
    const c = centres[i % people] as number[];
    return { seq: i + 1, faceId: `f${i + 1}`, identity: `p${i % people}`, embedding: normalise(c.map((v) => v + 0.5 * random())) };
  });
}

function bruteForce(all: readonly IndexedFace[], query: Float32Array, k: number): string[] {
  const dot = (a: Float32Array) => a.reduce((sum, v, i) => sum + v * (query[i] as number), 0);
  return [...all].sort((a, b) => dot(b.embedding) - dot(a.embedding)).slice(0, k).map((f) => f.faceId);
}

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'visage-index-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('exact search', () => {
  test('the top k equal a brute-force sort, in order, with dot products', () => {
    const all = faces(3000, 128, 300);
    const data = new Float32Array(all.length * 128);
    all.forEach((f, i) => data.set(f.embedding, i * 128));
    for (const q of [0, 7, 1234]) {
      const query = (all[q] as IndexedFace).embedding;
      const hits = exactSearch(data, all.length, 128, query, 10);
      assert.deepEqual(
        hits.map((h) => `f${h.slot + 1}`),
        bruteForce(all, query, 10),
      );
      assert.ok(Math.abs((hits[0]?.similarity ?? 0) - 1) < 1e-6, 'the query itself first');
    }
    assert.deepEqual(exactSearch(data, 0, 128, new Float32Array(128), 5), []);
  });

  test('the SIMD scan (128 dimensions) gives the brute-force top k, after removals too', () => {
    const all = faces(5000, 128, 500, 11);
    const index = new MemoryIndex(128, { threshold: Number.POSITIVE_INFINITY });
    index.add(all);
    for (const q of [1, 2500, 4999]) {
      const query = (all[q] as IndexedFace).embedding;
      assert.deepEqual(
        index.search(query, 10).map((h) => h.faceId),
        bruteForce(all, query, 10),
      );
    }
    index.remove(all.slice(0, 2500).map((f) => f.seq));
    const query = (all[3000] as IndexedFace).embedding;
    assert.deepEqual(
      index.search(query, 10).map((h) => h.faceId),
      bruteForce(all.slice(2500), query, 10),
    );
  });

  test('odd dimensions and removals keep the array dense and the answers exact', () => {
    const all = faces(500, 67, 50, 7);
    const index = new MemoryIndex(67, { threshold: Number.POSITIVE_INFINITY });
    index.add(all);
    const removed = new Set(all.filter((_, i) => i % 3 === 0).map((f) => f.seq));
    index.remove(removed);
    const kept = all.filter((f) => !removed.has(f.seq));
    assert.equal(index.size, kept.length);
    const query = (all[4] as IndexedFace).embedding;
    assert.deepEqual(
      index.search(query, 8).map((h) => h.faceId),
      bruteForce(kept, query, 8),
    );
  });
});

describe('HNSW path', () => {
  test('above the threshold the graph answers; re-ranked candidates reach recall@5 >= 0.95; a saved graph is reconciled on load', async () => {
    const all = faces(4000, 128, 400, 3);
    const index = new MemoryIndex(128, { threshold: 1000 });
    index.add(all.slice(0, 999));
    assert.equal(index.approximate, false);
    index.add(all.slice(999));
    assert.equal(index.approximate, true);
    let found = 0;
    const queries = all.filter((_, i) => i % 40 === 0);
    for (const f of queries) {
      const exact = new Set(index.search(f.embedding, 5, true).map((h) => h.faceId));
      const ann = index.search(f.embedding, 5);
      found += ann.filter((h) => exact.has(h.faceId)).length;
      // Re-ranked exactly: similarities in order.
      for (let i = 1; i < ann.length; i++) assert.ok((ann[i - 1]?.similarity ?? 0) >= (ann[i]?.similarity ?? 0));
    }
    const recall = found / (queries.length * 5);
    assert.ok(recall >= 0.95, `recall@5 ${recall}`);

    const file = path.join(dir, 'graph.hnsw');
    await index.saveAnn(file);
    // A fresh index over a changed set: 10 faces gone, 10 new; the graph read from disk is reconciled.
    const changed = [...all.slice(10), ...faces(10, 128, 5, 99).map((f) => ({ ...f, seq: f.seq + 10_000, faceId: `new${f.seq}` }))];
    const fresh = new MemoryIndex(128, { threshold: 1000 });
    fresh.add(changed, true);
    assert.equal(fresh.loadAnn(file), true);
    assert.equal(fresh.approximate, true);
    const gone = (all[3] as IndexedFace).embedding;
    assert.ok(fresh.search(gone, 5).every((h) => h.faceId !== 'f4'), 'a removed face never comes back');
    const added = changed[changed.length - 1] as IndexedFace;
    assert.equal(fresh.search(added.embedding, 1)[0]?.faceId, added.faceId);
  });
});

describe('SQLite store', () => {
  test('two processes adding to one gallery at once lose nothing', async () => {
    const file = path.join(dir, 'shared.sqlite');
    const writer = path.join(import.meta.dirname, 'writer.ts');
    const per = 60;
    await Promise.all(['alpha', 'beta'].map((prefix) => run(process.execPath, ['--import', 'tsx', writer, file, 'shared', prefix, String(per)])));
    const store = new SqliteStore(file);
    const visage = await createVisage();
    try {
      const gallery = await visage.gallery('shared', { store });
      const identities = await gallery.identities();
      assert.equal(identities.reduce((n, i) => n + i.faces, 0), 2 * per);
      assert.equal(identities.length, 20);
      // And the index loaded from the file holds them all.
      const probe = Array.from({ length: 128 }, (_, d) => Math.sin(1 * (d + 1) + 'alpha'.charCodeAt(0)) + (d === 0 ? 2 : 0));
      const hit = (await gallery.search(probe, { k: 100 })).faces[0];
      assert.equal(hit?.identity, 'alpha-0');
      assert.equal(hit?.matches.length, 100);
      await gallery.close();
    } finally {
      await visage.close();
      await store.close();
    }
  });
});
