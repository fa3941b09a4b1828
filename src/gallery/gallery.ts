/**
 * Galleries: faces enrolled under identities, and 1:N search — who is this? A `Gallery` turns
 * images into unit embeddings through the visage instance and leaves keeping and searching them
 * to a `GalleryStore` (SQLite by default, PostgreSQL for several service instances).
 */
import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { VisageError } from '../errors.js';
import { decodeImage, loadImageBytes, type LoadOptions } from '../image/index.js';
import type { Box, RgbImage } from '../image/types.js';
import { CALIBRATION, confidence } from '../match/index.js';
import type { BuiltinModel, FaceInput, Visage } from '../types.js';
import { checkName, modelMismatch, sameModel } from './common.js';
import { normalise } from './exact.js';
import { SqliteStore } from './sqlite.js';
import type {
  AddOptions,
  Gallery,
  GalleryFace,
  GalleryInfo,
  GalleryModel,
  GalleryOptions,
  GalleryStore,
  NewFace,
  SearchOptions,
  SearchResult,
  StoreGallery,
} from './types.js';

export const DEFAULT_GALLERY = 'default';
/** The recogniser assumed for embeddings given as numbers to a gallery that has none yet. */
const DEFAULT_RECOGNIZER = 'fusion-dlib-mobilefacenet';
const MAX_K = 100;
const THUMBNAIL_SIDE = 112;

const invalid = (expected: string, name: string, value: unknown) =>
  new VisageError('INVALID_ARGUMENT', `Expected ${expected} for ${name} but received ${JSON.stringify(value)}`);

/** The default SQLite file: `VISAGE_GALLERY_FILE`, else `~/.visage/galleries.sqlite`. */
export function defaultGalleryFile(): string {
  return process.env.VISAGE_GALLERY_FILE ?? path.join(homedir(), '.visage', 'galleries.sqlite');
}

const isPostgresUrl = (spec: string) => /^postgres(ql)?:\/\//i.test(spec);

/**
 * The store `spec` names: a store as it is; a `postgres://` URL; a SQLite file path; or, left
 * out, `VISAGE_DATABASE_URL` where set, else the default SQLite file. `owned`: the caller opened
 * it and must close it.
 */
export async function openStore(spec?: GalleryStore | string): Promise<{ store: GalleryStore; owned: boolean }> {
  if (spec !== undefined && typeof spec !== 'string') return { store: spec, owned: false };
  const where = spec ?? (process.env.VISAGE_DATABASE_URL || defaultGalleryFile());
  if (typeof where !== 'string' || where.length === 0) throw invalid('a file path or a postgres:// URL', 'store', spec);
  if (isPostgresUrl(where)) {
    const { PostgresStore } = await import('./postgres.js');
    // VISAGE_PGVECTOR=0 keeps the in-memory index even where pgvector is installed.
    return { store: await PostgresStore.connect(where, { pgvector: process.env.VISAGE_PGVECTOR !== '0' }), owned: true };
  }
  return { store: new SqliteStore(where), owned: true };
}

const area = (b: Box) => b.width * b.height;

/** A small JPEG of the face (its box with a margin), for result pictures. */
async function thumbnailOf(image: RgbImage, box: Box): Promise<Buffer | null> {
  const margin = 0.2 * Math.max(box.width, box.height);
  const left = Math.max(0, Math.floor(box.x - margin));
  const top = Math.max(0, Math.floor(box.y - margin));
  const width = Math.min(image.width - left, Math.ceil(box.width + 2 * margin));
  const height = Math.min(image.height - top, Math.ceil(box.height + 2 * margin));
  if (width < 1 || height < 1) return null;
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract({ left, top, width, height })
    .resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: 'cover' })
    .jpeg({ quality: 85 })
    .toBuffer();
}

class VisageGallery implements Gallery {
  constructor(
    private readonly visage: Visage,
    private readonly load: LoadOptions,
    private readonly inner: StoreGallery,
    private readonly store: GalleryStore,
    private readonly ownsStore: boolean,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  model(): Promise<GalleryModel | null> {
    return this.inner.model();
  }

  /** Embeddings of `input` (unit vectors) with their boxes, and the recogniser that made them. */
  private async embed(
    input: FaceInput,
    options: AddOptions | SearchOptions,
    keepImage: boolean,
  ): Promise<{ model: GalleryModel; faces: { box: Box | null; embedding: Float32Array }[]; image: RgbImage | null }> {
    if (!Array.isArray(input) && typeof input === 'object' && input !== null && !(input instanceof Uint8Array) && 'embedding' in input) {
      return this.embed(input.embedding, { ...options, model: input.model }, keepImage);
    }
    if (Array.isArray(input)) {
      if (input.length === 0 || !input.every((v) => typeof v === 'number' && Number.isFinite(v))) throw invalid('a non-empty array of finite numbers', 'embedding', '[…]');
      if (!input.some((v) => v !== 0)) throw invalid('a non-zero embedding', 'embedding', '[0, …]');
      const model = options.model ?? (await this.inner.model())?.model ?? DEFAULT_RECOGNIZER;
      return { model: { model, dimension: input.length }, faces: [{ box: null, embedding: normalise(input) }], image: null };
    }
    const bytes = await loadImageBytes(input, this.load);
    const result = await this.visage.represent(bytes, options);
    const image = keepImage ? await decodeImage(bytes, this.load) : null;
    const dimension = result.faces[0]?.embedding.length ?? 0;
    return { model: { model: result.model, dimension }, faces: result.faces.map((f) => ({ box: f.box, embedding: normalise(f.embedding) })), image };
  }

  /**
   * Enrols the largest face of `input` (or every face, `faces: 'all'`) under `identity`, or an
   * embedding computed earlier → the new face ids.
   *
   * @example
   * const [faceId] = await gallery.add('alice', 'alice.jpg', { metadata: { source: 'badge' } });
   */
  async add(identity: string, input: FaceInput, options: AddOptions = {}): Promise<string[]> {
    checkName(identity, 'identity');
    const which = options.faces ?? 'largest';
    if (which !== 'largest' && which !== 'all') throw invalid("'largest' or 'all'", 'faces', options.faces);
    const metadata = options.metadata ?? null;
    if (metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata))) throw invalid('a plain object', 'metadata', metadata);
    if (options.sourceKey !== undefined && (typeof options.sourceKey !== 'string' || options.sourceKey.length === 0)) throw invalid('a non-empty string', 'sourceKey', options.sourceKey);
    if (options.sourceKey !== undefined && (await this.inner.hasSource(options.sourceKey))) return [];
    const embedded = await this.embed(input, options, true);
    const chosen = which === 'all' ? embedded.faces : [embedded.faces.reduce((a, b) => (a.box && b.box && area(b.box) > area(a.box) ? b : a))];
    await this.inner.claim(embedded.model);
    const faces: NewFace[] = [];
    for (const face of chosen) {
      faces.push({
        faceId: randomUUID(),
        identity,
        embedding: face.embedding,
        box: face.box,
        metadata,
        sourceKey: options.sourceKey ?? null,
        thumbnail: embedded.image && face.box ? await thumbnailOf(embedded.image, face.box) : null,
      });
    }
    return this.inner.add(faces);
  }

  /** Removes the face with this id, or else every face of this identity → how many. */
  remove(faceIdOrIdentity: string): Promise<number> {
    checkName(faceIdOrIdentity, 'face id or identity');
    return this.inner.remove(faceIdOrIdentity);
  }

  identities(): Promise<{ identity: string; faces: number }[]> {
    return this.inner.identities();
  }

  faces(identity: string): Promise<GalleryFace[]> {
    checkName(identity, 'identity');
    return this.inner.faces(identity);
  }

  hasSource(sourceKey: string): Promise<boolean> {
    return this.inner.hasSource(sourceKey);
  }

  thumbnail(faceId: string): Promise<Buffer | null> {
    return this.inner.thumbnail(faceId);
  }

  /**
   * Who each face in `input` is: its best `k` matches, and the identity of the best one where it
   * is within the threshold (else null: not in the gallery).
   *
   * @example
   * const { faces: [face] } = await gallery.search('visitor.jpg', { k: 3 });
   * console.log(face?.identity ?? 'unknown', face?.matches[0]?.distance);
   */
  async search(input: FaceInput, options: SearchOptions = {}): Promise<SearchResult> {
    const started = performance.now();
    const k = options.k ?? 5;
    if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw invalid(`a whole number from 1 to ${MAX_K}`, 'k', options.k);
    const metric = options.metric ?? 'cosine';
    if (metric !== 'cosine' && metric !== 'euclidean_l2') throw invalid("'cosine' or 'euclidean_l2'", 'metric', options.metric);
    const embedded = await this.embed(input, options, false);
    const has = await this.inner.model();
    if (has && !sameModel(has, embedded.model)) throw modelMismatch(this.name, has, embedded.model);
    const calibration = (CALIBRATION as Partial<Record<string, (typeof CALIBRATION)[BuiltinModel]>>)[embedded.model.model]?.[metric];
    const threshold = options.threshold ?? calibration?.threshold;
    if (threshold === undefined) throw invalid('a threshold (the model has no calibrated one)', 'threshold', options.threshold);
    if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0) throw invalid('a number >= 0', 'threshold', options.threshold);
    const { hits, approximate } = await this.inner.search(
      embedded.faces.map((f) => f.embedding),
      k,
      options.exact === true,
    );
    // Unit vectors: cosine distance 1 − dot, euclidean distance sqrt(2 − 2 dot).
    const toDistance = metric === 'cosine' ? (s: number) => Math.max(0, 1 - s) : (s: number) => Math.sqrt(Math.max(0, 2 - 2 * s));
    const faces = embedded.faces.map((face, i) => {
      const matches = (hits[i] ?? []).map((h) => {
        const distance = toDistance(h.similarity);
        return { identity: h.identity, faceId: h.faceId, distance, confidence: confidence(distance, { threshold, scale: calibration?.scale ?? Math.max(threshold, 1e-3) / 10 }), verified: distance <= threshold };
      });
      const best = matches[0];
      return { box: face.box, identity: best?.verified ? best.identity : null, matches };
    });
    return { gallery: this.name, model: embedded.model.model, metric, threshold, approximate, faces, timeMs: performance.now() - started };
  }

  async info(): Promise<GalleryInfo> {
    const found = (await this.store.list()).find((g) => g.name === this.name);
    if (!found) throw new VisageError('GALLERY_NOT_FOUND', `No gallery named ${JSON.stringify(this.name)}`);
    return found;
  }

  async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      if (this.ownsStore) await this.store.close();
    }
  }
}

/** Opens (creating where missing) gallery `name` of `store` for `visage`; see `Visage.gallery`. */
export async function openGallery(visage: Visage, load: LoadOptions, name: string = DEFAULT_GALLERY, options: GalleryOptions = {}): Promise<Gallery> {
  checkName(name, 'gallery name');
  const { store, owned } = await openStore(options.store);
  try {
    const inner = await store.open(name, { ann: options.ann });
    return new VisageGallery(visage, load, inner, store, owned);
  } catch (err) {
    if (owned) await store.close();
    throw err;
  }
}
