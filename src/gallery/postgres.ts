/**
 * The PostgreSQL store, for several `visage serve` instances over one database
 * (`VISAGE_DATABASE_URL`). visage creates and migrates its tables (`visage_*`, the step in
 * `visage_schema`). Where the pgvector extension is available, embeddings are also kept as
 * `vector`s with an HNSW index per gallery and searched in the database; otherwise each instance
 * keeps an exact in-memory index (`MemoryIndex`, as the SQLite store does) and stays in sync
 * through LISTEN/NOTIFY, with a periodic check that catches up after missed notifications or a
 * lost connection.
 *
 * Writers of one gallery queue on its row (each write transaction bumps `version` first), so
 * versions commit in order and "everything after version v" is a complete catch-up.
 */
import pg from 'pg';
import { VisageError } from '../errors.js';
import { MemoryIndex, type AnnOptions } from './memory.js';
import { boxJson, bytesEmbedding, checkName, embeddingBytes, modelMismatch, modelOf, sameModel } from './common.js';
import type { GalleryFace, GalleryInfo, GalleryModel, GalleryStore, NewFace, StoreGallery, StoreHit } from './types.js';

const CHANNEL = 'visage_gallery';
/** Serialises migrations of concurrent instances (an arbitrary constant key). */
const MIGRATION_LOCK = 7_306_417;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE visage_galleries (
     id bigserial PRIMARY KEY,
     name text NOT NULL UNIQUE,
     model text,
     dimension integer,
     version bigint NOT NULL DEFAULT 0,
     created_at timestamptz NOT NULL DEFAULT now());
   CREATE TABLE visage_faces (
     seq bigserial PRIMARY KEY,
     face_id uuid NOT NULL UNIQUE,
     gallery_id bigint NOT NULL REFERENCES visage_galleries(id) ON DELETE CASCADE,
     identity text NOT NULL,
     embedding bytea NOT NULL,
     box jsonb,
     metadata jsonb,
     source_key text,
     version bigint NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now());
   CREATE INDEX visage_faces_identity ON visage_faces (gallery_id, identity);
   CREATE INDEX visage_faces_version ON visage_faces (gallery_id, version);
   CREATE INDEX visage_faces_source ON visage_faces (gallery_id, source_key) WHERE source_key IS NOT NULL;
   CREATE TABLE visage_sources (
     gallery_id bigint NOT NULL REFERENCES visage_galleries(id) ON DELETE CASCADE,
     source_key text NOT NULL,
     PRIMARY KEY (gallery_id, source_key));
   CREATE TABLE visage_thumbnails (
     face_id uuid PRIMARY KEY REFERENCES visage_faces(face_id) ON DELETE CASCADE,
     jpeg bytea NOT NULL);
   CREATE TABLE visage_removed (
     gallery_id bigint NOT NULL REFERENCES visage_galleries(id) ON DELETE CASCADE,
     seq bigint NOT NULL,
     version bigint NOT NULL);
   CREATE INDEX visage_removed_version ON visage_removed (gallery_id, version);`,
];

export interface PostgresOptions {
  /** Use pgvector where the extension can be created (default true). */
  pgvector?: boolean;
  /** LISTEN for other instances' writes (default true). */
  listen?: boolean;
  /** How often a loaded in-memory index checks for writes it missed, in ms (default 5000). */
  pollMs?: number;
  /** Connections in the pool (default 4). */
  maxConnections?: number;
}

type Queryable = pg.Pool | pg.PoolClient;

async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, isolation = 'READ COMMITTED'): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

const vectorText = (v: Float32Array) => `[${Array.from(v).join(',')}]`;

export class PostgresStore implements GalleryStore {
  readonly kind = 'postgres';
  private listener: pg.Client | null = null;
  private closed = false;
  private readonly galleries = new Set<PostgresGallery>();
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    readonly pool: pg.Pool,
    private readonly url: string,
    /** pgvector answers searches. */
    readonly vector: boolean,
    private readonly options: PostgresOptions,
  ) {}

  /** Connects, creates or migrates the schema, and starts listening for other instances' writes. */
  static async connect(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 4 });
    // An idle connection that dies must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    try {
      const vector = await inTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        await client.query('CREATE TABLE IF NOT EXISTS visage_schema (version integer NOT NULL)');
        const { rows } = await client.query<{ version: number }>('SELECT version FROM visage_schema');
        let current = rows[0]?.version ?? 0;
        if (rows.length === 0) await client.query('INSERT INTO visage_schema (version) VALUES (0)');
        if (current > MIGRATIONS.length) throw new VisageError('INVALID_ARGUMENT', `The database has visage schema ${current}, newer than this visage (${MIGRATIONS.length})`);
        for (; current < MIGRATIONS.length; current++) await client.query(MIGRATIONS[current] as string);
        await client.query('UPDATE visage_schema SET version = $1', [current]);
        if (options.pgvector === false) return false;
        const available = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
        if (available.rowCount === 0) return false;
        await client.query('SAVEPOINT vector');
        try {
          await client.query('CREATE EXTENSION IF NOT EXISTS vector');
          await client.query('ALTER TABLE visage_faces ADD COLUMN IF NOT EXISTS vec vector');
          return true;
        } catch {
          // Not allowed to create it here: the in-memory index serves.
          await client.query('ROLLBACK TO SAVEPOINT vector');
          return false;
        }
      });
      const store = new PostgresStore(pool, url, vector, options);
      if (!vector) await store.startSync();
      return store;
    } catch (err) {
      await pool.end();
      throw err;
    }
  }

  /** LISTEN on a connection of its own (re-established when lost), plus the periodic check. */
  private async startSync(): Promise<void> {
    if (this.options.listen !== false) await this.listen();
    this.timer = setInterval(() => this.catchUpAll(), this.options.pollMs ?? 5000);
    this.timer.unref();
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url });
    const reconnect = () => {
      if (this.listener !== client || this.closed) return;
      this.listener = null;
      client.end().catch(() => undefined);
      // Notifications may have been missed while disconnected: catch up once listening again.
      setTimeout(() => void this.listen().then(() => this.catchUpAll(), () => reconnect()), 1000).unref();
    };
    client.on('error', reconnect);
    client.on('end', reconnect);
    client.on('notification', (message) => {
      const [id, version] = (message.payload ?? '').split(':').map(Number);
      for (const g of this.galleries) if (g.id === id && version !== undefined) g.notified(version);
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  private catchUpAll(): void {
    for (const g of this.galleries) g.notified(Number.POSITIVE_INFINITY);
  }

  async open(name: string, options: { ann?: AnnOptions } = {}): Promise<StoreGallery> {
    checkName(name, 'gallery name');
    await this.pool.query('INSERT INTO visage_galleries (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM visage_galleries WHERE name = $1', [name]);
    const id = Number(rows[0]?.id);
    const gallery = new PostgresGallery(this, id, name, options.ann ?? {});
    this.galleries.add(gallery);
    return gallery;
  }

  forget(gallery: PostgresGallery): void {
    this.galleries.delete(gallery);
  }

  async list(): Promise<GalleryInfo[]> {
    const { rows } = await this.pool.query<{ name: string; model: string | null; dimension: number | null; faces: string; identities: string }>(
      `SELECT g.name, g.model, g.dimension, COUNT(f.seq) AS faces, COUNT(DISTINCT f.identity) AS identities
       FROM visage_galleries g LEFT JOIN visage_faces f ON f.gallery_id = g.id GROUP BY g.id ORDER BY g.name`,
    );
    return rows.map((r) => ({ name: r.name, model: r.model, dimension: r.dimension, faces: Number(r.faces), identities: Number(r.identities) }) as GalleryInfo);
  }

  async drop(name: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ id: string }>('DELETE FROM visage_galleries WHERE name = $1 RETURNING id', [name]);
    const id = rows[0]?.id;
    if (id === undefined) return false;
    if (this.vector) await this.pool.query(`DROP INDEX IF EXISTS visage_faces_hnsw_${Number(id)}`);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
    await this.pool.end();
  }
}

class PostgresGallery implements StoreGallery {
  private index: MemoryIndex | null = null;
  private version = 0;
  /** The newest version a notification announced (or +Infinity: check). */
  private wanted = 0;
  private syncing: Promise<void> | null = null;

  constructor(
    private readonly store: PostgresStore,
    readonly id: number,
    readonly name: string,
    private readonly ann: AnnOptions,
  ) {}

  private get pool(): pg.Pool {
    return this.store.pool;
  }

  private gone(): VisageError {
    return new VisageError('GALLERY_NOT_FOUND', `Gallery ${JSON.stringify(this.name)} was deleted`);
  }

  async model(): Promise<GalleryModel | null> {
    const { rows } = await this.pool.query<{ model: string | null; dimension: number | null }>('SELECT model, dimension FROM visage_galleries WHERE id = $1', [this.id]);
    const row = rows[0];
    if (!row) throw this.gone();
    return modelOf(row.model, row.dimension);
  }

  async claim(model: GalleryModel): Promise<void> {
    const { rowCount } = await this.pool.query('UPDATE visage_galleries SET model = $1, dimension = $2 WHERE id = $3 AND model IS NULL', [model.model, model.dimension, this.id]);
    const has = await this.model();
    if (has && !sameModel(has, model)) throw modelMismatch(this.name, has, model);
    if (rowCount && this.store.vector) {
      await this.pool.query(
        `CREATE INDEX IF NOT EXISTS visage_faces_hnsw_${this.id} ON visage_faces USING hnsw ((vec::vector(${Number(model.dimension)})) vector_ip_ops) WHERE gallery_id = ${this.id}`,
      );
    }
  }

  /** Bumps the version inside `client`'s transaction (queueing behind other writers) and announces it at commit. */
  private async nextVersion(client: pg.PoolClient): Promise<number> {
    const { rows } = await client.query<{ version: string }>('UPDATE visage_galleries SET version = version + 1 WHERE id = $1 RETURNING version', [this.id]);
    const version = rows[0]?.version;
    if (version === undefined) throw this.gone();
    await client.query('SELECT pg_notify($1, $2)', [CHANNEL, `${this.id}:${version}`]);
    return Number(version);
  }

  async add(faces: NewFace[]): Promise<string[]> {
    const ids = await inTransaction(this.pool, async (client) => {
      const version = await this.nextVersion(client);
      const keys = new Set(faces.map((f) => f.sourceKey).filter((k): k is string => k !== null));
      for (const key of keys) {
        const inserted = await client.query('INSERT INTO visage_sources (gallery_id, source_key) VALUES ($1, $2) ON CONFLICT DO NOTHING', [this.id, key]);
        if (inserted.rowCount === 0) {
          const { rows } = await client.query<{ face_id: string }>('SELECT face_id FROM visage_faces WHERE gallery_id = $1 AND source_key = $2 ORDER BY seq', [this.id, key]);
          return rows.map((r) => r.face_id);
        }
      }
      for (const f of faces) {
        const values = [f.faceId, this.id, f.identity, embeddingBytes(f.embedding), boxJson(f.box), f.metadata === null ? null : JSON.stringify(f.metadata), f.sourceKey, version];
        if (this.store.vector) {
          await client.query(
            'INSERT INTO visage_faces (face_id, gallery_id, identity, embedding, box, metadata, source_key, version, vec) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::vector)',
            [...values, vectorText(f.embedding)],
          );
        } else {
          await client.query('INSERT INTO visage_faces (face_id, gallery_id, identity, embedding, box, metadata, source_key, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', values);
        }
        if (f.thumbnail) await client.query('INSERT INTO visage_thumbnails (face_id, jpeg) VALUES ($1, $2)', [f.faceId, f.thumbnail]);
      }
      return faces.map((f) => f.faceId);
    });
    await this.sync();
    return ids;
  }

  async remove(faceIdOrIdentity: string): Promise<number> {
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(faceIdOrIdentity);
    const n = await inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ seq: string }>(
        isUuid ? 'SELECT seq FROM visage_faces WHERE gallery_id = $1 AND (face_id = $3::uuid OR identity = $2)' : 'SELECT seq FROM visage_faces WHERE gallery_id = $1 AND identity = $2',
        isUuid ? [this.id, faceIdOrIdentity, faceIdOrIdentity] : [this.id, faceIdOrIdentity],
      );
      if (rows.length === 0) return 0;
      const version = await this.nextVersion(client);
      const seqs = rows.map((r) => r.seq);
      await client.query('INSERT INTO visage_removed (gallery_id, seq, version) SELECT $1, unnest($2::bigint[]), $3', [this.id, seqs, version]);
      await client.query('DELETE FROM visage_faces WHERE seq = ANY($1::bigint[])', [seqs]);
      return rows.length;
    });
    await this.sync();
    return n;
  }

  async identities(): Promise<{ identity: string; faces: number }[]> {
    const { rows } = await this.pool.query<{ identity: string; faces: string }>(
      'SELECT identity, COUNT(*) AS faces FROM visage_faces WHERE gallery_id = $1 GROUP BY identity ORDER BY identity COLLATE "C"',
      [this.id],
    );
    return rows.map((r) => ({ identity: r.identity, faces: Number(r.faces) }));
  }

  async faces(identity: string): Promise<GalleryFace[]> {
    const { rows } = await this.pool.query<{ face_id: string; identity: string; box: GalleryFace['box']; metadata: GalleryFace['metadata']; created_at: Date }>(
      'SELECT face_id, identity, box, metadata, created_at FROM visage_faces WHERE gallery_id = $1 AND identity = $2 ORDER BY seq',
      [this.id, identity],
    );
    return rows.map((r) => ({ faceId: r.face_id, identity: r.identity, box: r.box, metadata: r.metadata, createdAt: r.created_at.toISOString() }));
  }

  async hasSource(sourceKey: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM visage_sources WHERE gallery_id = $1 AND source_key = $2', [this.id, sourceKey]);
    return (rowCount ?? 0) > 0;
  }

  async thumbnail(faceId: string): Promise<Buffer | null> {
    if (!/^[0-9a-f-]{36}$/i.test(faceId)) return null;
    const { rows } = await this.pool.query<{ jpeg: Buffer }>(
      'SELECT t.jpeg FROM visage_thumbnails t JOIN visage_faces f ON f.face_id = t.face_id WHERE f.gallery_id = $1 AND t.face_id = $2::uuid',
      [this.id, faceId],
    );
    return rows[0]?.jpeg ?? null;
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT COUNT(*) AS n FROM visage_faces WHERE gallery_id = $1', [this.id]);
    return Number(rows[0]?.n ?? 0);
  }

  /** A notification (or the periodic check) says there may be writes after the version held. */
  notified(version: number): void {
    if (!this.index || version <= this.version) return;
    this.wanted = Math.max(this.wanted, version);
    void this.sync().catch(() => undefined);
  }

  /** Brings the in-memory index (where loaded) level with the database; one catch-up at a time. */
  sync(): Promise<void> {
    if (!this.index) return Promise.resolve();
    if (this.syncing) return this.syncing.then(() => (this.wanted > this.version ? this.sync() : undefined));
    const index = this.index;
    this.syncing = this.readChanges(index).finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  /** Removals and faces after the version held, read in one snapshot. */
  private async readChanges(index: MemoryIndex): Promise<void> {
    const checked = this.wanted;
    await inTransaction(
      this.pool,
      async (client) => {
        const { rows } = await client.query<{ version: string }>('SELECT version FROM visage_galleries WHERE id = $1', [this.id]);
        const row = rows[0];
        if (!row) throw this.gone();
        const now = Number(row.version);
        if (now === this.version) return;
        const removed = await client.query<{ seq: string }>('SELECT seq FROM visage_removed WHERE gallery_id = $1 AND version > $2', [this.id, this.version]);
        index.remove(removed.rows.map((r) => Number(r.seq)));
        await this.load(client, index, this.version);
        this.version = now;
      },
      'REPEATABLE READ',
    );
    if (this.wanted === checked && this.wanted === Number.POSITIVE_INFINITY) this.wanted = this.version;
  }

  private async load(client: Queryable, index: MemoryIndex, after: number, deferAnn = false): Promise<void> {
    // In pages by seq, so a large gallery is not one huge result.
    let from = 0;
    for (;;) {
      const { rows } = await client.query<{ seq: string; face_id: string; identity: string; embedding: Buffer }>(
        'SELECT seq, face_id, identity, embedding FROM visage_faces WHERE gallery_id = $1 AND version > $2 AND seq > $3 ORDER BY seq LIMIT 20000',
        [this.id, after, from],
      );
      if (rows.length === 0) return;
      index.add(
        rows.map((r) => ({ seq: Number(r.seq), faceId: r.face_id, identity: r.identity, embedding: bytesEmbedding(r.embedding) })),
        deferAnn,
      );
      from = Number(rows[rows.length - 1]?.seq);
    }
  }

  private async loaded(dimension: number): Promise<MemoryIndex> {
    if (this.index) return this.index;
    const index = new MemoryIndex(dimension, this.ann);
    await inTransaction(
      this.pool,
      async (client) => {
        const { rows } = await client.query<{ version: string }>('SELECT version FROM visage_galleries WHERE id = $1', [this.id]);
        if (!rows[0]) throw this.gone();
        this.version = Number(rows[0].version);
        await this.load(client, index, 0, true);
      },
      'REPEATABLE READ',
    );
    // Each instance builds its own graph (nothing is saved beside a database).
    index.attachAnn(null);
    this.index ??= index;
    return this.index;
  }

  async search(queries: Float32Array[], k: number, exact: boolean): Promise<{ hits: StoreHit[][]; approximate: boolean }> {
    const model = await this.model();
    if (!model) return { hits: queries.map(() => []), approximate: false };
    if (this.store.vector) return this.searchVector(queries, model.dimension, k, exact);
    const index = await this.loaded(model.dimension);
    if (this.syncing) await this.syncing;
    return { hits: queries.map((q) => index.search(q, k, exact)), approximate: index.approximate && !exact };
  }

  /** pgvector: the per-gallery HNSW index (inner product on unit vectors), or a full scan for `exact`. */
  private async searchVector(queries: Float32Array[], dimension: number, k: number, exact: boolean): Promise<{ hits: StoreHit[][]; approximate: boolean }> {
    const d = Number(dimension);
    const hits = await inTransaction(this.pool, async (client) => {
      await client.query(exact ? 'SET LOCAL enable_indexscan = off' : `SET LOCAL hnsw.ef_search = ${Math.max(40, Math.min(1000, 2 * k))}`);
      const out: StoreHit[][] = [];
      for (const q of queries) {
        const { rows } = await client.query<{ face_id: string; identity: string; similarity: number }>(
          `SELECT face_id, identity, -(vec::vector(${d}) <#> $1::vector(${d})) AS similarity
           FROM visage_faces WHERE gallery_id = ${this.id} ORDER BY vec::vector(${d}) <#> $1::vector(${d}) LIMIT $2`,
          [vectorText(q), k],
        );
        out.push(rows.map((r) => ({ faceId: r.face_id, identity: r.identity, similarity: Number(r.similarity) })));
      }
      return out;
    });
    return { hits, approximate: !exact };
  }

  async close(): Promise<void> {
    this.store.forget(this);
  }
}
