/**
 * Galleries on real face embeddings.
 *
 * 1. Identification on lfw-dev: every image embedded (largest face; cached in /tmp), every
 *    identity enrolled (all its images), every image queried leave-one-out (its own face left out
 *    of the answer). Reports the rank-1 rate (queries whose person has other images), the
 *    detection-and-identification rate at the shipped threshold (named, and rightly), the false
 *    positive identification rate (queries whose person has no other image, yet named), and checks
 *    that the gallery's answers equal a brute-force scan of the same embeddings.
 * 2. Scale: the real embeddings (their dlib-resnet128 part, 128-d) repeated with noise up to each
 *    size (default 10k, 100k, 1M) in a SQLite gallery: add rate, file size, load time, memory, exact search p50/p99 at k=5, and where
 *    affordable (--ann-max) the HNSW graph: build time, p50/p99 and recall@5 against exact.
 *
 * node --import tsx bench/gallery.ts [lfw-dev folder] [--recognizer dlib|mobilefacenet|fusion] [--sizes 10000,100000,1000000]
 *   [--ann-max 100000] [--queries 200] [--cache /tmp/visage-gallery-lfw-<recognizer>.json] [--skip-identification] [--skip-scale]
 *   [--postgres [postgres://…]] [--instances 2] [--modes pgvector,memory] [--exact-queries 20]
 *
 * 3. With --postgres (instead of SQLite in step 2): the same scaled faces in one PostgreSQL gallery
 *    used by --instances service instances at once, with pgvector's HNSW and without it (each
 *    instance's exact in-memory index kept in sync by LISTEN/NOTIFY). Without a URL it starts its
 *    own server on loopback (fsync on, shared_buffers 1GB); with one, its role must be allowed to
 *    create databases (each run gets a fresh one, dropped afterwards).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fork } from 'node:child_process';
import pg from 'pg';
import { CALIBRATION, PostgresStore, SqliteStore, createVisage, isVisageError, type BuiltinModel, type RecognizerName } from '../src/index.js';
import { normalise } from '../src/gallery/exact.js';
import { MemoryIndex } from '../src/gallery/memory.js';
import { SCALE_MODEL, baseFaces, mb, percentile, scaleFace, scaleFaces, scaleQueries, type BaseFace } from './lib/scale-data.js';
import type { InstanceReply, InstanceRequest } from './lib/gallery-instance.js';
import { startPostgres } from '../test/gallery/postgres-server.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const isPostgresUrl = (a: string | undefined) => /^postgres(ql)?:\/\//i.test(a ?? '');
const VALUED = new Set(['--recognizer', '--cache', '--sizes', '--ann-max', '--queries', '--instances', '--modes', '--exact-queries']);
/** Whether args[i] is a flag followed by its value (`--postgres` takes one only where a URL follows). */
const takesValue = (i: number) => VALUED.has(args[i] ?? '') || (args[i] === '--postgres' && isPostgresUrl(args[i + 1]));
const folder = args.find((a, i) => !a.startsWith('--') && !(i > 0 && takesValue(i - 1))) ?? path.resolve(import.meta.dirname, '../../shared/datasets/lfw-dev');
const recognizer = (flag('--recognizer') ?? 'fusion') as RecognizerName;
const cacheFile = flag('--cache') ?? `/tmp/visage-gallery-lfw-${recognizer}.json`;
const sizes = (flag('--sizes') ?? '10000,100000,1000000').split(',').map(Number);
const annMax = Number(flag('--ann-max') ?? 100_000);
const queryCount = Number(flag('--queries') ?? 200);
const postgres = args.includes('--postgres');
const postgresUrl = isPostgresUrl(flag('--postgres')) ? flag('--postgres') : undefined;
const instanceCount = Number(flag('--instances') ?? 2);
const modes = (flag('--modes') ?? 'pgvector,memory').split(',');
const exactQueryCount = Number(flag('--exact-queries') ?? 20);


/** Every lfw-dev image's embedding (largest face), computed once and cached. */
async function embeddings(): Promise<{ model: BuiltinModel; all: Map<string, number[] | null> }> {
  if (existsSync(cacheFile)) {
    const cached = JSON.parse(await readFile(cacheFile, 'utf8')) as { model: BuiltinModel; embeddings: Record<string, number[] | null> };
    return { model: cached.model, all: new Map(Object.entries(cached.embeddings)) };
  }
  const images = path.join(folder, 'images');
  const files: string[] = [];
  for (const person of (await readdir(images)).sort()) for (const f of (await readdir(path.join(images, person))).sort()) files.push(`${person}/${f}`);
  const visage = await createVisage({ threads: 2, recognizer });
  let model: BuiltinModel | undefined;
  const out = new Map<string, number[] | null>();
  const started = performance.now();
  for (const [i, file] of files.entries()) {
    try {
      const { faces, model: made } = await visage.represent(path.join(images, file));
      model = made as BuiltinModel;
      const largest = faces.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));
      out.set(file, largest.embedding);
    } catch (err) {
      if (!isVisageError(err, 'NO_FACE')) throw err;
      out.set(file, null);
    }
    if ((i + 1) % 500 === 0) process.stderr.write(`embedded ${i + 1}/${files.length} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
  }
  await visage.close();
  if (!model) throw new Error('no face embedded');
  await writeFile(cacheFile, JSON.stringify({ model, embeddings: Object.fromEntries(out) }));
  return { model, all: out };
}

async function identification(all: Map<string, number[] | null>, model: BuiltinModel): Promise<void> {
  const THRESHOLD = CALIBRATION[model].cosine.threshold;
  const entries = [...all].filter((e): e is [string, number[]] => e[1] !== null);
  const identityOf = (file: string) => file.split('/')[0] as string;
  const counts = new Map<string, number>();
  for (const [file] of entries) counts.set(identityOf(file), (counts.get(identityOf(file)) ?? 0) + 1);
  const dir = await mkdtemp(path.join(tmpdir(), 'visage-bench-id-'));
  const visage = await createVisage({ recognizer });
  const store = new SqliteStore(path.join(dir, 'lfw.sqlite'));
  const gallery = await visage.gallery('lfw', { store });
  const idOf = new Map<string, string>();
  for (const [file, embedding] of entries) idOf.set((await gallery.add(identityOf(file), embedding))[0] as string, file);

  // Brute force reference: cosine distances over the same unit vectors, in doubles.
  const units = entries.map(([, e]) => normalise(e));
  let mated = 0;
  let rank1 = 0;
  let identified = 0;
  let nonMated = 0;
  let falseAccepts = 0;
  let disagreements = 0;
  const searchMs: number[] = [];
  // For open-set thresholds: mated queries' best (right person?, distance), non-mated best distances.
  const matedBest: { right: boolean; distance: number }[] = [];
  const nonMatedBest: number[] = [];
  for (const [qi, [file, embedding]] of entries.entries()) {
    const t = performance.now();
    const result = await gallery.search(embedding, { k: 2 });
    searchMs.push(performance.now() - t);
    const matches = (result.faces[0]?.matches ?? []).filter((m) => idOf.get(m.faceId) !== file);
    const best = matches[0];
    // Brute force: the nearest other image.
    let bf = -1;
    let bfDistance = Number.POSITIVE_INFINITY;
    const q = units[qi] as Float32Array;
    for (let j = 0; j < units.length; j++) {
      if (j === qi) continue;
      const u = units[j] as Float32Array;
      let dot = 0;
      for (let d = 0; d < u.length; d++) dot += (u[d] as number) * (q[d] as number);
      const distance = 1 - dot;
      if (distance < bfDistance) {
        bfDistance = distance;
        bf = j;
      }
    }
    const bfFile = entries[bf]?.[0];
    if (!best || (idOf.get(best.faceId) !== bfFile && Math.abs(best.distance - bfDistance) > 1e-6)) disagreements++;
    const own = identityOf(file);
    if ((counts.get(own) ?? 0) > 1) {
      mated++;
      if (best?.identity === own) rank1++;
      if (best?.identity === own && best.distance <= THRESHOLD) identified++;
      matedBest.push({ right: best?.identity === own, distance: best?.distance ?? Number.POSITIVE_INFINITY });
    } else {
      nonMated++;
      if (best && best.distance <= THRESHOLD) falseAccepts++;
      nonMatedBest.push(best?.distance ?? Number.POSITIVE_INFINITY);
    }
  }
  console.log(`identification on lfw-dev: ${entries.length} images (${all.size - entries.length} without a face), ${counts.size} identities, leave-one-out`);
  console.log(`  queries whose person has other images: ${mated}; rank-1 ${(100 * rank1 / mated).toFixed(2)}%; identified at the shipped threshold (cosine ${THRESHOLD}) ${(100 * identified / mated).toFixed(2)}%`);
  console.log(`  queries whose person has no other image: ${nonMated}; named anyway (FPIR) ${(100 * falseAccepts / nonMated).toFixed(2)}%, rightly "not in the gallery" ${(100 * (1 - falseAccepts / nonMated)).toFixed(2)}%`);
  // The shipped threshold is a 1:1 threshold (about 1% false accepts per pair): against thousands
  // of faces nearly every stranger has someone that close. Open-set thresholds from the data:
  const sortedNonMated = [...nonMatedBest].sort((a, b) => a - b);
  for (const fpir of [0.01, 0.05, 0.1]) {
    const t = sortedNonMated[Math.floor(fpir * sortedNonMated.length)] as number;
    const dir = matedBest.filter((m) => m.right && m.distance < t).length / mated;
    console.log(`  at FPIR ${(fpir * 100).toFixed(0)}%: cosine threshold ${t.toFixed(4)}, identified (DIR) ${(100 * dir).toFixed(2)}%`);
  }
  console.log(`  answers different from brute force: ${disagreements}; search p50 ${percentile(searchMs, 0.5).toFixed(2)} ms over ${entries.length} faces`);
  await gallery.close();
  await store.close();
  await visage.close();
  await rm(dir, { recursive: true, force: true });
}

async function scale(all: Map<string, number[] | null>, model: BuiltinModel): Promise<void> {
  const base = baseFaces(all, model);
  const dim = SCALE_MODEL.dimension;
  for (const size of sizes) {
    const dir = await mkdtemp(path.join(tmpdir(), 'visage-bench-scale-'));
    const file = path.join(dir, 'scale.sqlite');
    let store = new SqliteStore(file);
    let gallery = await store.open('scale', { ann: { threshold: Number.POSITIVE_INFINITY } });
    await gallery.claim(SCALE_MODEL);
    const addStart = performance.now();
    const batch = 10_000;
    for (let from = 0; from < size; from += batch) await gallery.add(scaleFaces(base, from, Math.min(size, from + batch)));
    const addSeconds = (performance.now() - addStart) / 1000;
    // One add per transaction, as the library's add() does (1,000 of them).
    const single = performance.now();
    for (let i = size; i < size + 1000; i++) await gallery.add([scaleFace(base, i)]);
    const singleRate = 1000 / ((performance.now() - single) / 1000);
    await gallery.close();
    await store.close();
    const fileBytes = (await stat(file)).size + (existsSync(`${file}-wal`) ? (await stat(`${file}-wal`)).size : 0);

    // Load: a fresh process-level open; the first search reads every row into the array.
    const rssBefore = process.memoryUsage().rss;
    store = new SqliteStore(file);
    gallery = await store.open('scale', { ann: { threshold: Number.POSITIVE_INFINITY } });
    const queries = scaleQueries(base, queryCount);
    const loadStart = performance.now();
    await gallery.search([queries[0] as Float32Array], 5, true);
    const loadSeconds = (performance.now() - loadStart) / 1000;
    const rssLoaded = process.memoryUsage().rss;
    const exactMs: number[] = [];
    const exactAnswers: string[][] = [];
    for (const q of queries) {
      const t = performance.now();
      const { hits } = await gallery.search([q], 5, true);
      exactMs.push(performance.now() - t);
      exactAnswers.push((hits[0] ?? []).map((h) => h.faceId));
    }
    console.log(
      `scale ${size.toLocaleString('en')}: add ${Math.round(size / addSeconds).toLocaleString('en')}/s in batches of ${batch}, ${Math.round(singleRate)}/s one per transaction; file ${mb(fileBytes)}; load ${loadSeconds.toFixed(2)} s; RSS +${mb(rssLoaded - rssBefore)}; exact k=5 p50 ${percentile(exactMs, 0.5).toFixed(1)} ms, p99 ${percentile(exactMs, 0.99).toFixed(1)} ms`,
    );
    await gallery.close();
    await store.close();

    if (size <= annMax) {
      // The graph over the same rows, built as the store builds it, then searched and compared with exact.
      const index = new MemoryIndex(dim, { threshold: Number.POSITIVE_INFINITY });
      const s2 = new SqliteStore(file);
      const rows = s2.db.prepare('SELECT seq, face_id, identity, embedding FROM faces ORDER BY seq').raw().iterate() as IterableIterator<[number, string, string, Buffer]>;
      let chunk = [];
      for (const [seq, faceId, identity, bytes] of rows) {
        const e = new Float32Array(dim);
        new Uint8Array(e.buffer).set(bytes);
        chunk.push({ seq, faceId, identity, embedding: e });
        if (chunk.length === 10_000) {
          index.add(chunk, true);
          chunk = [];
        }
      }
      index.add(chunk, true);
      await s2.close();
      const buildStart = performance.now();
      index.buildAnn();
      const buildSeconds = (performance.now() - buildStart) / 1000;
      const annFile = path.join(dir, 'graph.hnsw');
      await index.saveAnn(annFile);
      const annMs: number[] = [];
      let found = 0;
      for (const [i, q] of queries.entries()) {
        const t = performance.now();
        const hits = index.search(q, 5);
        annMs.push(performance.now() - t);
        const exact = new Set(exactAnswers[i]);
        found += hits.filter((h) => exact.has(h.faceId)).length;
      }
      const reload = new MemoryIndex(dim, { threshold: Number.POSITIVE_INFINITY });
      console.log(
        `  HNSW (m 16, efConstruction 100, efSearch 64, re-ranked exactly): build ${buildSeconds.toFixed(0)} s (${(size / buildSeconds).toFixed(0)}/s), file ${mb((await stat(annFile)).size)}; k=5 p50 ${percentile(annMs, 0.5).toFixed(2)} ms, p99 ${percentile(annMs, 0.99).toFixed(2)} ms; recall@5 vs exact ${(found / (queries.length * 5)).toFixed(4)}`,
      );
      void reload;
    }
    await rm(dir, { recursive: true, force: true });
  }
}

interface Instance {
  ready: InstanceReply;
  call(request: InstanceRequest): Promise<InstanceReply>;
}

/** A service instance in a process of its own (bench/lib/gallery-instance.ts), answering one request at a time. */
async function startInstance(url: string, pgvector: boolean): Promise<Instance> {
  const child = fork(path.join(import.meta.dirname, 'lib/gallery-instance.ts'), [url], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, VISAGE_PGVECTOR: pgvector ? '1' : '0' },
  });
  const pending: { resolve: (r: InstanceReply) => void; reject: (e: Error) => void }[] = [];
  const next = () => new Promise<InstanceReply>((resolve, reject) => pending.push({ resolve, reject }));
  child.on('message', (reply: InstanceReply) => {
    const waiter = pending.shift();
    if (reply.type === 'error') waiter?.reject(new Error(`instance: ${reply.message}`));
    else waiter?.resolve(reply);
  });
  child.on('exit', (code) => {
    for (const waiter of pending.splice(0)) waiter.reject(new Error(`instance exited with ${code}`));
  });
  const ready = await next();
  return {
    ready,
    call: (request) => {
      const reply = next();
      child.send(request);
      return reply;
    },
  };
}

/** `reply` as the type `type` asks for, else a clear failure. */
function expect<T extends InstanceReply['type']>(reply: InstanceReply, type: T): Extract<InstanceReply, { type: T }> {
  if (reply.type !== type) throw new Error(`instance answered ${reply.type}, not ${type}`);
  return reply as Extract<InstanceReply, { type: T }>;
}

async function postgresScale(all: Map<string, number[] | null>, model: BuiltinModel): Promise<void> {
  const base = baseFaces(all, model);
  // A deployment-like server: commits flushed, the HNSW graph able to sit in shared buffers.
  const server = postgresUrl ? null : await startPostgres({ fsync: true, settings: { shared_buffers: '1GB', maintenance_work_mem: '1GB' } });
  const adminUrl = (postgresUrl ?? server?.url) as string;
  try {
    for (const size of sizes) {
      // The exact answers over every face the instances add (the same faces: seeded by index).
      const truth = new MemoryIndex(SCALE_MODEL.dimension, { threshold: Number.POSITIVE_INFINITY });
      for (let from = 0; from < size + 1000; from += 10_000) {
        truth.add(scaleFaces(base, from, Math.min(size + 1000, from + 10_000)).map((f, j) => ({ seq: from + j, faceId: f.faceId, identity: f.identity, embedding: f.embedding })), true);
      }
      const queries = scaleQueries(base, queryCount);
      const expected = queries.map((q) => truth.search(q, 5, true).map((h) => h.faceId));
      for (const mode of modes) await postgresRun(adminUrl, base, size, mode, queries, expected);
    }
  } finally {
    await server?.stop();
  }
}

let runs = 0;

/**
 * One gallery of `size` faces used by the instances. `mode`: 'pgvector' (the HNSW index maintained
 * by every add, as the store does), 'pgvector-bulk' (an initial import as pgvector advises: the
 * index dropped, the faces added, the index built once, timed), or 'memory' (no pgvector).
 */
async function postgresRun(adminUrl: string, base: BaseFace[], size: number, mode: string, queries: Float32Array[], expected: string[][]): Promise<void> {
  if (!['pgvector', 'pgvector-bulk', 'memory'].includes(mode)) throw new Error(`--modes: pgvector, pgvector-bulk or memory, not ${mode}`);
  const pgvector = mode !== 'memory';
  // A fresh database per run, so its size on disk is this gallery's alone.
  const database = `visage_bench_${process.pid}_${runs++}`;
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const address = new URL(adminUrl);
  address.pathname = `/${database}`;
  const url = address.toString();
  const instances: Instance[] = [];
  try {
    const writer = await PostgresStore.connect(url, { pgvector });
    if (writer.vector !== pgvector) throw new Error('pgvector was asked for but the server does not have it');
    const gallery = await writer.open('scale', { ann: { threshold: Number.POSITIVE_INFINITY } });
    // The model, recorded before any face: with pgvector this creates the HNSW index, which every add below maintains, as in a deployment.
    await gallery.claim(SCALE_MODEL);
    const hnswName = async () => (await writer.pool.query<{ name: string }>("SELECT 'visage_faces_hnsw_' || id AS name FROM visage_galleries WHERE name = 'scale'")).rows[0]?.name as string;
    const { rows: defined } = await writer.pool.query<{ indexdef: string }>('SELECT indexdef FROM pg_indexes WHERE indexname = $1', [await hnswName()]);
    if (mode === 'pgvector-bulk') await writer.pool.query(`DROP INDEX ${await hnswName()}`);
    for (let i = 0; i < instanceCount; i++) instances.push(await startInstance(url, pgvector));
    for (const instance of instances) if (instance.ready.type !== 'ready' || instance.ready.vector !== pgvector) throw new Error('an instance does not use the search path asked for');
    const plain = base.map((b) => ({ identity: b.identity, unit: Array.from(b.unit) }));
    for (const instance of instances) expect(await instance.call({ type: 'init', base: plain }), 'done');

    // Adds: batches of 10,000 dealt round-robin, every instance adding at once; then 1,000 faces one per transaction, likewise.
    const deal = (from: number, to: number, step: number) => {
      const shares = instances.map(() => [] as [number, number][]);
      for (let i = from, j = 0; i < to; i += step, j++) shares[j % instances.length]?.push([i, Math.min(to, i + step)]);
      return shares;
    };
    const addAll = async (shares: [number, number][][]) => {
      const t = performance.now();
      await Promise.all(instances.map(async (instance, k) => expect(await instance.call({ type: 'add', batches: shares[k] ?? [] }), 'done')));
      return (performance.now() - t) / 1000;
    };
    const batchSeconds = await addAll(deal(0, size, 10_000));
    let buildSeconds: number | null = null;
    if (mode === 'pgvector-bulk') {
      const t = performance.now();
      await writer.pool.query(defined[0]?.indexdef as string);
      buildSeconds = (performance.now() - t) / 1000;
    }
    const singleSeconds = await addAll(deal(size, size + 1000, 1));
    const count = await gallery.count();
    if (count !== size + 1000) throw new Error(`${size + 1000 - count} faces lost by concurrent adds`);

    const { rows } = await writer.pool.query<{ table: string; indexes: string; hnsw: string | null }>(
      `SELECT pg_table_size('visage_faces') AS table, pg_indexes_size('visage_faces') AS indexes,
              pg_relation_size(to_regclass('visage_faces_hnsw_' || (SELECT id FROM visage_galleries WHERE name = 'scale'))) AS hnsw`,
    );
    const sizes = rows[0] as (typeof rows)[number];

    const loads = await Promise.all(instances.map(async (i) => expect(await i.call({ type: 'load' }), 'loaded')));
    const plainQueries = queries.map((q) => Array.from(q));
    const searched = await Promise.all(instances.map(async (i) => expect(await i.call({ type: 'search', queries: plainQueries, k: 5, exact: pgvector ? exactQueryCount : 0 }), 'searched')));
    const recall = (answers: string[][]) => answers.reduce((n, a, qi) => n + a.filter((id) => expected[qi]?.includes(id)).length, 0) / (answers.length * 5);

    // Catch-up: another process (this one) adds 10,000 faces in one transaction; each instance searches until it finds the last of them.
    const from = size + 1000;
    await gallery.add(scaleFaces(base, from, from + 10_000));
    const committedAt = Date.now();
    const caught = await Promise.all(instances.map(async (i) => expect(await i.call({ type: 'catchup', index: from + 9_999, committedAt }), 'caught-up')));

    const each = <T>(values: T[], show: (v: T) => string) => values.map(show).join(' / ');
    const what = pgvector ? `pgvector HNSW (m 16, ef_construction 64, ef_search 40)${mode === 'pgvector-bulk' ? ', built after the import' : ''}` : 'no pgvector: exact in-memory index per instance';
    console.log(`postgres ${size.toLocaleString('en')}, ${what}, ${instances.length} instances (figures per instance, a / b):`);
    console.log(
      `  add ${Math.round(size / batchSeconds).toLocaleString('en')}/s in batches of 10,000, ${Math.round(1000 / singleSeconds)}/s one per transaction (all instances adding at once; ${count.toLocaleString('en')} faces, none lost)`,
    );
    if (buildSeconds !== null) console.log(`  HNSW index built after the import (CREATE INDEX, maintenance_work_mem 1GB): ${buildSeconds.toFixed(0)} s (${Math.round(size / buildSeconds).toLocaleString('en')}/s)`);
    console.log(`  on disk: table ${mb(Number(sizes.table))}, indexes ${mb(Number(sizes.indexes))}${sizes.hnsw === null ? '' : ` (of which HNSW ${mb(Number(sizes.hnsw))})`}`);
    console.log(`  load (first search) ${each(loads, (l) => `${l.seconds.toFixed(2)} s`)}; RSS after load ${each(loads, (l) => `+${mb(l.rssAfter - l.rssBefore)}`)}, ${each(searched, (s) => mb(s.rss))} in all`);
    console.log(
      `  k=5 (instances searching at once), ${searched[0]?.approximate ? 'approximate' : 'exact'}: p50 ${each(searched, (s) => `${percentile(s.ms, 0.5).toFixed(2)} ms`)}, p99 ${each(searched, (s) => `${percentile(s.ms, 0.99).toFixed(2)} ms`)}; recall@5 vs exact ${each(searched, (s) => recall(s.answers).toFixed(4))}`,
    );
    if (pgvector) console.log(`  exact in the database (a scan), ${exactQueryCount} queries: p50 ${each(searched, (s) => `${percentile(s.exactMs, 0.5).toFixed(0)} ms`)}`);
    console.log(`  catch-up: 10,000 faces committed by another process are found after ${each(caught, (c) => `${c.ms} ms`)}`);
    await gallery.close();
    await writer.close();
  } finally {
    await Promise.all(instances.map((i) => i.call({ type: 'close' }).catch(() => undefined)));
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

const { model, all } = await embeddings();
console.log(`recogniser ${model}`);
if (!args.includes('--skip-identification')) await identification(all, model);
if (!args.includes('--skip-scale')) await (postgres ? postgresScale(all, model) : scale(all, model));
