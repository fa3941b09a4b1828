/**
 * The embedded store: one SQLite file (better-sqlite3, WAL) holding every gallery. Each gallery's
 * faces are loaded, on first search, into a `MemoryIndex`; the HNSW graph, once there is one, is
 * saved beside the file (`<file>-gallery-<id>.hnsw`).
 *
 * Several processes may write one file. Every write transaction bumps its gallery's `version`
 * (the row is written first, so writers of one gallery queue behind each other, and versions
 * commit in order); each face and each removal carries the version that wrote it. Before a search
 * the index reads what was written after the version it holds, so it sees the other processes'
 * writes without reloading.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { VisageError } from '../errors.js';
import { MemoryIndex, type AnnOptions } from './memory.js';
import { boxJson, bytesEmbedding, checkName, embeddingBytes, modelMismatch, modelOf, parseJson, sameModel } from './common.js';
import type { GalleryFace, GalleryInfo, GalleryModel, GalleryStore, NewFace, StoreGallery, StoreHit } from './types.js';

const SCHEMA_VERSION = 1;

const MIGRATIONS: readonly string[] = [
  // 1: the first schema.
  `CREATE TABLE galleries (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     name TEXT NOT NULL UNIQUE,
     model TEXT,
     dimension INTEGER,
     version INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
   CREATE TABLE faces (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     face_id TEXT NOT NULL UNIQUE,
     gallery_id INTEGER NOT NULL REFERENCES galleries(id) ON DELETE CASCADE,
     identity TEXT NOT NULL,
     embedding BLOB NOT NULL,
     box TEXT,
     metadata TEXT,
     source_key TEXT,
     version INTEGER NOT NULL,
     created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
   CREATE INDEX faces_identity ON faces (gallery_id, identity);
   CREATE INDEX faces_version ON faces (gallery_id, version);
   CREATE INDEX faces_source ON faces (gallery_id, source_key) WHERE source_key IS NOT NULL;
   CREATE TABLE sources (
     gallery_id INTEGER NOT NULL REFERENCES galleries(id) ON DELETE CASCADE,
     source_key TEXT NOT NULL,
     PRIMARY KEY (gallery_id, source_key));
   CREATE TABLE thumbnails (
     face_id TEXT PRIMARY KEY REFERENCES faces(face_id) ON DELETE CASCADE,
     jpeg BLOB NOT NULL);
   CREATE TABLE removed (
     gallery_id INTEGER NOT NULL REFERENCES galleries(id) ON DELETE CASCADE,
     seq INTEGER NOT NULL,
     version INTEGER NOT NULL);
   CREATE INDEX removed_version ON removed (gallery_id, version);`,
];

/** Creates or migrates the schema (inside one transaction; `user_version` records the step). */
function migrate(db: Database.Database): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) throw new VisageError('INVALID_ARGUMENT', `The gallery file has schema ${current}, newer than this visage (${SCHEMA_VERSION})`);
    for (let step = current; step < SCHEMA_VERSION; step++) db.exec(MIGRATIONS[step] as string);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

interface GalleryRow {
  id: number;
  name: string;
  model: string | null;
  dimension: number | null;
  version: number;
}

export class SqliteStore implements GalleryStore {
  readonly kind = 'sqlite';
  readonly db: Database.Database;

  /** Opens (creating if missing) the gallery file at `file`. */
  constructor(readonly file: string) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // Writers of other processes hold the lock for milliseconds; wait for them rather than fail.
    this.db.pragma('busy_timeout = 30000');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('synchronous = NORMAL');
    migrate(this.db);
  }

  row(name: string): GalleryRow | undefined {
    return this.db.prepare('SELECT id, name, model, dimension, version FROM galleries WHERE name = ?').get(name) as GalleryRow | undefined;
  }

  async open(name: string, options: { ann?: AnnOptions } = {}): Promise<StoreGallery> {
    checkName(name, 'gallery name');
    this.db.prepare('INSERT INTO galleries (name) VALUES (?) ON CONFLICT (name) DO NOTHING').run(name);
    const row = this.row(name) as GalleryRow;
    return new SqliteGallery(this, row.id, name, options.ann ?? {});
  }

  async list(): Promise<GalleryInfo[]> {
    const rows = this.db
      .prepare(
        `SELECT g.name, g.model, g.dimension, COUNT(f.seq) AS faces, COUNT(DISTINCT f.identity) AS identities
         FROM galleries g LEFT JOIN faces f ON f.gallery_id = g.id GROUP BY g.id ORDER BY g.name`,
      )
      .all() as { name: string; model: string | null; dimension: number | null; faces: number; identities: number }[];
    return rows.map((r) => ({ name: r.name, model: r.model, dimension: r.dimension, faces: r.faces, identities: r.identities }) as GalleryInfo);
  }

  async drop(name: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM galleries WHERE name = ?').run(name).changes > 0;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

class SqliteGallery implements StoreGallery {
  private index: MemoryIndex | null = null;
  /** The version the index holds. */
  private version = 0;

  constructor(
    private readonly store: SqliteStore,
    private readonly id: number,
    readonly name: string,
    private readonly ann: AnnOptions,
  ) {}

  private get db(): Database.Database {
    return this.store.db;
  }

  private get annFile(): string {
    return `${this.store.file}-gallery-${this.id}.hnsw`;
  }

  async model(): Promise<GalleryModel | null> {
    const row = this.db.prepare('SELECT model, dimension FROM galleries WHERE id = ?').get(this.id) as { model: string | null; dimension: number | null } | undefined;
    if (!row) throw new VisageError('GALLERY_NOT_FOUND', `Gallery ${JSON.stringify(this.name)} was deleted`);
    return modelOf(row.model, row.dimension);
  }

  async claim(model: GalleryModel): Promise<void> {
    this.db.prepare('UPDATE galleries SET model = ?, dimension = ? WHERE id = ? AND model IS NULL').run(model.model, model.dimension, this.id);
    const has = await this.model();
    if (has && !sameModel(has, model)) throw modelMismatch(this.name, has, model);
  }

  /** Bumps the gallery's version inside the caller's write transaction and returns it. */
  private nextVersion(): number {
    const row = this.db.prepare('UPDATE galleries SET version = version + 1 WHERE id = ? RETURNING version').get(this.id) as { version: number } | undefined;
    if (!row) throw new VisageError('GALLERY_NOT_FOUND', `Gallery ${JSON.stringify(this.name)} was deleted`);
    return row.version;
  }

  async add(faces: NewFace[]): Promise<string[]> {
    const insertSource = this.db.prepare('INSERT INTO sources (gallery_id, source_key) VALUES (?, ?) ON CONFLICT DO NOTHING');
    const insertFace = this.db.prepare(
      'INSERT INTO faces (face_id, gallery_id, identity, embedding, box, metadata, source_key, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertThumbnail = this.db.prepare('INSERT INTO thumbnails (face_id, jpeg) VALUES (?, ?)');
    const write = this.db.transaction((): string[] => {
      const version = this.nextVersion();
      const keys = new Set(faces.map((f) => f.sourceKey).filter((k): k is string => k !== null));
      for (const key of keys) {
        if (insertSource.run(this.id, key).changes === 0) {
          // Added before (an interrupted run, or another process): nothing new.
          return (this.db.prepare('SELECT face_id FROM faces WHERE gallery_id = ? AND source_key = ? ORDER BY seq').all(this.id, key) as { face_id: string }[]).map((r) => r.face_id);
        }
      }
      for (const f of faces) {
        insertFace.run(f.faceId, this.id, f.identity, embeddingBytes(f.embedding), boxJson(f.box), f.metadata === null ? null : JSON.stringify(f.metadata), f.sourceKey, version);
        if (f.thumbnail) insertThumbnail.run(f.faceId, f.thumbnail);
      }
      return faces.map((f) => f.faceId);
    });
    const ids = write.immediate();
    this.sync();
    return ids;
  }

  async remove(faceIdOrIdentity: string): Promise<number> {
    const removed = this.db.transaction((): number => {
      const seqs = this.db
        .prepare('SELECT seq, face_id FROM faces WHERE gallery_id = ? AND (face_id = ? OR identity = ?)')
        .all(this.id, faceIdOrIdentity, faceIdOrIdentity) as { seq: number; face_id: string }[];
      if (seqs.length === 0) return 0;
      const version = this.nextVersion();
      const log = this.db.prepare('INSERT INTO removed (gallery_id, seq, version) VALUES (?, ?, ?)');
      const del = this.db.prepare('DELETE FROM faces WHERE seq = ?');
      for (const { seq } of seqs) {
        log.run(this.id, seq, version);
        del.run(seq);
      }
      return seqs.length;
    });
    const n = removed.immediate();
    this.sync();
    return n;
  }

  async identities(): Promise<{ identity: string; faces: number }[]> {
    return this.db.prepare('SELECT identity, COUNT(*) AS faces FROM faces WHERE gallery_id = ? GROUP BY identity ORDER BY identity').all(this.id) as {
      identity: string;
      faces: number;
    }[];
  }

  async faces(identity: string): Promise<GalleryFace[]> {
    const rows = this.db
      .prepare('SELECT face_id, identity, box, metadata, created_at FROM faces WHERE gallery_id = ? AND identity = ? ORDER BY seq')
      .all(this.id, identity) as { face_id: string; identity: string; box: string | null; metadata: string | null; created_at: string }[];
    return rows.map((r) => ({ faceId: r.face_id, identity: r.identity, box: parseJson(r.box), metadata: parseJson(r.metadata), createdAt: r.created_at }));
  }

  async hasSource(sourceKey: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM sources WHERE gallery_id = ? AND source_key = ?').get(this.id, sourceKey) !== undefined;
  }

  async thumbnail(faceId: string): Promise<Buffer | null> {
    const row = this.db.prepare('SELECT t.jpeg FROM thumbnails t JOIN faces f ON f.face_id = t.face_id WHERE f.gallery_id = ? AND t.face_id = ?').get(this.id, faceId) as
      | { jpeg: Buffer }
      | undefined;
    return row?.jpeg ?? null;
  }

  async count(): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM faces WHERE gallery_id = ?').get(this.id) as { n: number }).n;
  }

  /** Brings the index (where loaded) level with the file: faces and removals after its version. */
  private sync(): void {
    const index = this.index;
    if (!index) return;
    const row = this.db.prepare('SELECT version FROM galleries WHERE id = ?').get(this.id) as { version: number } | undefined;
    if (!row) throw new VisageError('GALLERY_NOT_FOUND', `Gallery ${JSON.stringify(this.name)} was deleted`);
    if (row.version === this.version) return;
    const read = this.db.transaction(() => {
      const now = (this.db.prepare('SELECT version FROM galleries WHERE id = ?').get(this.id) as { version: number }).version;
      const removed = this.db.prepare('SELECT seq FROM removed WHERE gallery_id = ? AND version > ?').pluck().all(this.id, this.version) as number[];
      index.remove(removed);
      this.load(index, this.version);
      this.version = now;
    });
    read.deferred();
  }

  /** Adds the faces written after `after` to `index`. */
  private load(index: MemoryIndex, after: number, deferAnn = false): void {
    const rows = this.db
      .prepare('SELECT seq, face_id, identity, embedding FROM faces WHERE gallery_id = ? AND version > ? ORDER BY seq')
      .raw()
      .iterate(this.id, after) as IterableIterator<[number, string, string, Buffer]>;
    let batch = [];
    for (const [seq, faceId, identity, bytes] of rows) {
      batch.push({ seq, faceId, identity, embedding: bytesEmbedding(bytes) });
      if (batch.length === 10_000) {
        index.add(batch, deferAnn);
        batch = [];
      }
    }
    index.add(batch, deferAnn);
  }

  /** The index, loaded on first use (and its HNSW graph read from beside the file, or built). */
  private loaded(dimension: number): MemoryIndex {
    if (this.index) return this.index;
    const index = new MemoryIndex(dimension, this.ann);
    this.db
      .transaction(() => {
        this.version = (this.db.prepare('SELECT version FROM galleries WHERE id = ?').get(this.id) as { version: number }).version;
        this.load(index, 0, true);
      })
      .deferred();
    index.attachAnn(this.annFile);
    this.index = index;
    return index;
  }

  async search(queries: Float32Array[], k: number, exact: boolean): Promise<{ hits: StoreHit[][]; approximate: boolean }> {
    const model = await this.model();
    if (!model) return { hits: queries.map(() => []), approximate: false };
    const index = this.loaded(model.dimension);
    this.sync();
    return { hits: queries.map((q) => index.search(q, k, exact)), approximate: index.approximate && !exact };
  }

  async close(): Promise<void> {
    await this.index?.saveAnn(this.annFile);
  }
}
