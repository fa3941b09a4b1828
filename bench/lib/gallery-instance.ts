/**
 * One service instance of the PostgreSQL gallery bench, a child process driven over IPC by
 * bench/gallery.ts. It opens the store as `visage serve`'s gallery routes do (`openStore(url)`,
 * pgvector unless VISAGE_PGVECTOR=0), then on request: adds its share of the scaled faces, loads,
 * searches, and times how long another process's write takes to become visible to it.
 */
import { openStore } from '../../src/gallery/gallery.js';
import type { StoreGallery } from '../../src/gallery/types.js';
import { scaleFaces, scaleFace, type BaseFace } from './scale-data.js';

export type InstanceRequest =
  | { type: 'init'; base: { identity: string; unit: number[] }[] }
  | { type: 'add'; batches: [number, number][] }
  | { type: 'load' }
  | { type: 'search'; queries: number[][]; k: number; exact: number }
  | { type: 'catchup'; index: number; committedAt: number }
  | { type: 'close' };

export type InstanceReply =
  | { type: 'ready'; vector: boolean }
  | { type: 'done' }
  | { type: 'loaded'; seconds: number; rssBefore: number; rssAfter: number }
  | { type: 'searched'; ms: number[]; answers: string[][]; approximate: boolean; exactMs: number[]; rss: number }
  | { type: 'caught-up'; ms: number }
  | { type: 'error'; message: string };

const url = process.argv[2];
if (!url || !process.send) throw new Error('usage: forked by bench/gallery.ts with the postgres:// URL');
const send = (reply: InstanceReply): void => {
  process.send?.(reply);
};

const { store } = await openStore(url);
// Exact in-memory index without pgvector: no HNSW graph per instance (the default builds one from 200,000 faces).
const gallery: StoreGallery = await store.open('scale', { ann: { threshold: Number.POSITIVE_INFINITY } });
let base: BaseFace[] = [];
const probe = (i: number) => scaleFace(base, i).embedding;

async function handle(request: InstanceRequest): Promise<void> {
  switch (request.type) {
    case 'init': {
      base = request.base.map((b) => ({ identity: b.identity, unit: Float32Array.from(b.unit) }));
      return send({ type: 'done' });
    }
    case 'add': {
      for (const [from, to] of request.batches) await gallery.add(scaleFaces(base, from, to));
      return send({ type: 'done' });
    }
    case 'load': {
      // The first search reads every row into the in-memory index (pgvector: nothing to load).
      const rssBefore = process.memoryUsage().rss;
      const t = performance.now();
      await gallery.search([probe(0)], 5, false);
      return send({ type: 'loaded', seconds: (performance.now() - t) / 1000, rssBefore, rssAfter: process.memoryUsage().rss });
    }
    case 'search': {
      const queries = request.queries.map((q) => Float32Array.from(q));
      const ms: number[] = [];
      const answers: string[][] = [];
      let approximate = false;
      for (const q of queries) {
        const t = performance.now();
        const result = await gallery.search([q], request.k, false);
        ms.push(performance.now() - t);
        approximate ||= result.approximate;
        answers.push((result.hits[0] ?? []).map((h) => h.faceId));
      }
      // pgvector's exact path (a scan of the table), on a few queries: it is slow.
      const exactMs: number[] = [];
      for (const q of queries.slice(0, request.exact)) {
        const t = performance.now();
        await gallery.search([q], request.k, true);
        exactMs.push(performance.now() - t);
      }
      return send({ type: 'searched', ms, answers, approximate, exactMs, rss: process.memoryUsage().rss });
    }
    case 'catchup': {
      // Another process committed face `index` at `committedAt` (same machine, same clock): search for it until it is found.
      const want = scaleFace(base, request.index);
      for (;;) {
        const { hits } = await gallery.search([want.embedding], 1, false);
        if (hits[0]?.[0]?.faceId === want.faceId) return send({ type: 'caught-up', ms: Date.now() - request.committedAt });
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    case 'close': {
      await gallery.close();
      await store.close();
      process.disconnect?.();
      return;
    }
  }
}

let queue = Promise.resolve();
process.on('message', (request: InstanceRequest) => {
  queue = queue.then(() => handle(request)).catch((err: unknown) => send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
});
send({ type: 'ready', vector: (store as { vector?: boolean }).vector === true });
