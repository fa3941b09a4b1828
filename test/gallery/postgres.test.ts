/**
 * The PostgreSQL store against a real PostgreSQL 15 started on loopback: schema creation and
 * migration, the library over both search paths (pgvector HNSW, and the in-memory index kept in
 * sync by LISTEN/NOTIFY), two processes adding to one gallery at once, and an instance catching
 * up after missed notifications and after a restart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { PostgresStore, createVisage, type Visage } from '../../src/index.js';
import { postgresMissing, startPostgres, type TestPostgres } from './postgres-server.js';

const run = promisify(execFile);
const missing = postgresMissing();
const WRITER = path.join(import.meta.dirname, 'writer.ts');

/** A deterministic embedding (unit length after the gallery normalises it). */
const vector = (i: number, salt = 0) => Array.from({ length: 128 }, (_, d) => Math.sin((i + 1) * (d + 1) + salt) + (d === 0 ? 2 : 0));

async function until(check: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('PostgreSQL store', { skip: missing ?? false }, () => {
  let server: TestPostgres;
  let visage: Visage;
  /** The server offers pgvector (installed by .ci/run, which requires it; elsewhere, without it, only the in-memory path runs). */
  let hasVector = false;

  before(async () => {
    server = await startPostgres();
    visage = await createVisage();
    const client = new pg.Client(server.url);
    await client.connect();
    hasVector = ((await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).rowCount ?? 0) > 0;
    if (!hasVector && process.env.VISAGE_REQUIRE_POSTGRES === '1') throw new Error('pgvector is not installed; VISAGE_REQUIRE_POSTGRES=1 forbids skipping');
    await client.end();
  });
  after(async () => {
    await visage?.close();
    await server?.stop();
  });

  test('creates its schema once, idempotently, and uses pgvector where the server has it', async () => {
    const [a, b] = await Promise.all([PostgresStore.connect(server.url), PostgresStore.connect(server.url)]);
    assert.equal(a.vector, hasVector);
    assert.equal(b.vector, hasVector);
    const client = new pg.Client(server.url);
    await client.connect();
    const { rows } = await client.query<{ version: number }>('SELECT version FROM visage_schema');
    assert.deepEqual(rows, [{ version: 1 }]);
    await client.end();
    await Promise.all([a.close(), b.close()]);
  });

  for (const pgvector of [true, false]) {
    const mode = pgvector ? 'pgvector HNSW' : 'in-memory index';
    test(`enrol, search, remove through the library (${mode})`, async (t) => {
      if (pgvector && !hasVector) return t.skip('pgvector is not installed on this server');
      const store = await PostgresStore.connect(server.url, { pgvector });
      const g = await visage.gallery(`lib-${pgvector}`, { store });
      try {
        for (let i = 0; i < 300; i++) await g.add(`p${i % 30}`, vector(i), { metadata: { i } });
        const result = await g.search(vector(7), { k: 3 });
        assert.equal(result.approximate, pgvector);
        const [face] = result.faces;
        assert.equal(face?.identity, 'p7');
        assert.ok((face?.matches[0]?.distance ?? 1) < 1e-6);
        // The same ranking as an exact scan.
        const exact = await g.search(vector(7), { k: 10, exact: true });
        const approx = await g.search(vector(7), { k: 10 });
        assert.deepEqual(approx.faces[0]?.matches.map((m) => m.faceId), exact.faces[0]?.matches.map((m) => m.faceId));
        assert.equal((await g.identities()).length, 30);
        assert.deepEqual((await g.faces('p3')).map((f) => f.metadata), [{ i: 3 }, { i: 33 }, { i: 63 }, { i: 93 }, { i: 123 }, { i: 153 }, { i: 183 }, { i: 213 }, { i: 243 }, { i: 273 }]);
        assert.equal(await g.remove('p7'), 10);
        assert.notEqual((await g.search(vector(7), { k: 1 })).faces[0]?.matches[0]?.identity, 'p7');
        const [one] = await g.faces('p3');
        assert.equal(await g.remove(one?.faceId as string), 1);
        assert.equal((await g.faces('p3')).length, 9);
        // Idempotent by source key.
        const first = await g.add('src', vector(1000), { sourceKey: 'file-1' });
        assert.deepEqual(await g.add('src', vector(1000), { sourceKey: 'file-1' }), []);
        assert.equal((await g.faces('src')).length, first.length);
      } finally {
        await g.close();
        await store.close();
      }
    });

    test(`two processes adding to one gallery at once lose nothing (${mode})`, async (t) => {
      if (pgvector && !hasVector) return t.skip('pgvector is not installed on this server');
      const name = `shared-${pgvector}`;
      const per = 50;
      const env = { ...process.env, VISAGE_PGVECTOR: pgvector ? '1' : '0' };
      await Promise.all(['alpha', 'beta'].map((prefix) => run(process.execPath, ['--import', 'tsx', WRITER, server.url, name, prefix, String(per)], { env })));
      const store = await PostgresStore.connect(server.url, { pgvector });
      const g = await visage.gallery(name, { store });
      const identities = await g.identities();
      assert.equal(identities.reduce((n, i) => n + i.faces, 0), 2 * per);
      assert.equal(identities.length, 20);
      assert.equal((await g.search(vector(0, 'beta'.charCodeAt(0)), { k: 1 })).faces[0]?.identity, 'beta-0');
      await g.close();
      await store.close();
    });
  }

  test('in-memory instances stay in sync by LISTEN/NOTIFY, catch up after missed notifications and after a restart', async () => {
    const name = 'sync';
    const writerStore = await PostgresStore.connect(server.url, { pgvector: false });
    // Listens, and polls too rarely to matter: what it sees came by notification.
    const listening = await PostgresStore.connect(server.url, { pgvector: false, pollMs: 600_000 });
    // Hears nothing: only its periodic check can catch it up.
    const deaf = await PostgresStore.connect(server.url, { pgvector: false, listen: false, pollMs: 200 });
    const writer = await visage.gallery(name, { store: writerStore });
    const a = await visage.gallery(name, { store: listening });
    const b = await visage.gallery(name, { store: deaf });
    try {
      await writer.add('first', vector(1));
      for (const g of [a, b]) assert.equal((await g.search(vector(1), { k: 1 })).faces[0]?.identity, 'first');
      const seen = async (g: typeof a, identity: string | null, probe: number[]) => (await g.search(probe, { k: 1 })).faces[0]?.identity === identity;
      await writer.add('second', vector(2));
      await until(() => seen(a, 'second', vector(2)), 'the notified instance');
      await until(() => seen(b, 'second', vector(2)), 'the polling instance');
      await writer.remove('first');
      await until(() => seen(a, null, vector(1)), 'a removal, notified');
      await until(() => seen(b, null, vector(1)), 'a removal, polled');
      // A restarted instance loads everything.
      const again = await PostgresStore.connect(server.url, { pgvector: false });
      const c = await visage.gallery(name, { store: again });
      assert.equal((await c.search(vector(2), { k: 5 })).faces[0]?.matches.length, 1);
      await c.close();
      await again.close();
    } finally {
      for (const g of [writer, a, b]) await g.close();
      for (const s of [writerStore, listening, deaf]) await s.close();
    }
  });

  test('an in-memory instance whose LISTEN connection dies reconnects and catches up on what it missed', async () => {
    const name = 'reconnect';
    // The only listener on the server: the instance under test, whose periodic check is too rare to help.
    const writerStore = await PostgresStore.connect(server.url, { pgvector: false, listen: false });
    const instance = await PostgresStore.connect(server.url, { pgvector: false, pollMs: 600_000 });
    const writer = await visage.gallery(name, { store: writerStore });
    const g = await visage.gallery(name, { store: instance });
    const admin = new pg.Client(server.url);
    await admin.connect();
    try {
      await writer.add('before', vector(1));
      assert.equal((await g.search(vector(1), { k: 1 })).faces[0]?.identity, 'before');
      const killed = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN visage_gallery' AND pid <> pg_backend_pid()");
      assert.equal(killed.rowCount, 1);
      // Written while nobody listens: no notification reaches the instance.
      await writer.add('while-down', vector(2));
      await until(async () => (await g.search(vector(2), { k: 1 })).faces[0]?.identity === 'while-down', 'the catch-up after reconnecting');
      // Listening again: a later write arrives by notification.
      await until(async () => ((await admin.query("SELECT 1 FROM pg_stat_activity WHERE query = 'LISTEN visage_gallery'")).rowCount ?? 0) === 1, 'the new LISTEN connection');
      await writer.add('after', vector(3));
      await until(async () => (await g.search(vector(3), { k: 1 })).faces[0]?.identity === 'after', 'a notification after reconnecting');
    } finally {
      await admin.end();
      for (const x of [writer, g]) await x.close();
      for (const s of [writerStore, instance]) await s.close();
    }
  });
});
