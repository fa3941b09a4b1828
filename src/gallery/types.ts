/** The public contract of galleries (1:N identification): options, results and the store interface. */
import type { Box } from '../image/types.js';
import type { DetectOptions, FaceInput, Metric } from '../types.js';
import type { AnnOptions } from './memory.js';

/** Which recogniser made a gallery's embeddings; recorded with the gallery when it is created. */
export interface GalleryModel {
  model: string;
  dimension: number;
}

export interface GalleryInfo extends GalleryModel {
  name: string;
  faces: number;
  identities: number;
}

export interface GalleryFace {
  faceId: string;
  identity: string;
  /** Where the face was found in the image it was enrolled from (null for an embedding). */
  box: Box | null;
  metadata: Record<string, unknown> | null;
  createdAt: string;
}

export interface AddOptions extends DetectOptions {
  /** Stored with each face and returned by `faces()`; plain JSON. */
  metadata?: Record<string, unknown>;
  /** From an image: enrol only its largest face (default) or every face. */
  faces?: 'largest' | 'all';
  /** For an embedding given as numbers: the recogniser that made it (default: the gallery's). */
  model?: string;
  /** A key that makes the add idempotent: a second add with the same key adds nothing (the CLI uses a file hash). */
  sourceKey?: string;
}

export interface SearchOptions extends DetectOptions {
  /** How many matches per query face (default 5). */
  k?: number;
  /** 'cosine' (default) or 'euclidean_l2'; both rank the same on unit vectors. */
  metric?: Extract<Metric, 'cosine' | 'euclidean_l2'>;
  /** Distance at or below which a match names the person; default: calibrated on LFW. */
  threshold?: number;
  /** For an embedding given as numbers: the recogniser that made it (default: the gallery's). */
  model?: string;
  /** Scan every face even where the HNSW graph exists (for checking it). */
  exact?: boolean;
}

export interface GalleryMatch {
  identity: string;
  faceId: string;
  distance: number;
  /** Maps distance to [0, 1]; 0.5 sits at the threshold. */
  confidence: number;
  /** distance <= threshold. */
  verified: boolean;
}

export interface SearchedFace {
  /** The query face in its image (null for an embedding). */
  box: Box | null;
  /** The best match's identity when it passes the threshold, else null (not in the gallery). */
  identity: string | null;
  /** The best `k` faces, nearest first, passing the threshold or not. */
  matches: GalleryMatch[];
}

export interface SearchResult {
  gallery: string;
  model: string;
  metric: Extract<Metric, 'cosine' | 'euclidean_l2'>;
  threshold: number;
  /** True where the HNSW graph answered (its candidates re-ranked exactly). */
  approximate: boolean;
  faces: SearchedFace[];
  timeMs: number;
}

export interface GalleryOptions {
  /**
   * Where faces are kept: a `GalleryStore`, a SQLite file path, or a `postgres://` URL. Default:
   * `VISAGE_DATABASE_URL` where set, else the SQLite file `VISAGE_GALLERY_FILE` or
   * `~/.visage/galleries.sqlite`.
   */
  store?: GalleryStore | string;
  /** HNSW settings of the in-memory index (SQLite, and PostgreSQL without pgvector). */
  ann?: AnnOptions;
}

export interface Gallery {
  readonly name: string;
  /** The recogniser of the gallery's embeddings; null until its first face. */
  model(): Promise<GalleryModel | null>;
  /** Enrols the face(s) of `input` under `identity` → their face ids. */
  add(identity: string, input: FaceInput, options?: AddOptions): Promise<string[]>;
  /** Removes one face (by its id) or every face of an identity → how many were removed. */
  remove(faceIdOrIdentity: string): Promise<number>;
  /** Identities with their face counts, by name. */
  identities(): Promise<{ identity: string; faces: number }[]>;
  faces(identity: string): Promise<GalleryFace[]>;
  /** Whether a face was added with this `sourceKey`. */
  hasSource(sourceKey: string): Promise<boolean>;
  /** A small JPEG of the face as enrolled, where it came from an image. */
  thumbnail(faceId: string): Promise<Buffer | null>;
  /** Who each face of `input` is. */
  search(input: FaceInput, options?: SearchOptions): Promise<SearchResult>;
  info(): Promise<GalleryInfo>;
  /** Saves the index beside the data and releases the store when the gallery opened it. */
  close(): Promise<void>;
}

/** A face as a store writes it. */
export interface NewFace {
  faceId: string;
  identity: string;
  /** Unit length. */
  embedding: Float32Array;
  box: Box | null;
  metadata: Record<string, unknown> | null;
  sourceKey: string | null;
  thumbnail: Buffer | null;
}

export interface StoreHit {
  faceId: string;
  identity: string;
  /** Dot product of unit vectors (1 − cosine distance). */
  similarity: number;
}

/** One gallery inside a store. */
export interface StoreGallery {
  readonly name: string;
  model(): Promise<GalleryModel | null>;
  /** Records the model on the first add; throws GALLERY_MODEL_MISMATCH for another one. */
  claim(model: GalleryModel): Promise<void>;
  /** Adds faces in one transaction; with a sourceKey already present, adds nothing and returns the faces added then. */
  add(faces: NewFace[]): Promise<string[]>;
  remove(faceIdOrIdentity: string): Promise<number>;
  identities(): Promise<{ identity: string; faces: number }[]>;
  faces(identity: string): Promise<GalleryFace[]>;
  hasSource(sourceKey: string): Promise<boolean>;
  thumbnail(faceId: string): Promise<Buffer | null>;
  count(): Promise<number>;
  /** The `k` nearest faces of each query (unit vectors). */
  search(queries: Float32Array[], k: number, exact: boolean): Promise<{ hits: StoreHit[][]; approximate: boolean }>;
  close(): Promise<void>;
}

/** Where galleries live: SQLite (embedded) or PostgreSQL, behind the same calls. */
export interface GalleryStore {
  readonly kind: string;
  open(name: string, options: { ann?: AnnOptions }): Promise<StoreGallery>;
  list(): Promise<GalleryInfo[]>;
  /** Deletes a gallery and its faces → whether it existed. */
  drop(name: string): Promise<boolean>;
  close(): Promise<void>;
}
