/**
 * A gallery's faces in memory: unit embeddings in one contiguous Float32Array (exact search, in
 * WebAssembly SIMD where the dimension is a multiple of 16, else in TypeScript),
 * and above a size threshold an HNSW graph (hnswlib-node) whose candidates are re-ranked exactly
 * from the array. Rows are keyed by the store's `seq`, a whole number that never changes for a
 * face; removal moves the last row into the freed slot, so the array stays dense.
 */
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import hnswlib from 'hnswlib-node';
import { exactSearch, rankSlots, topK, type Hit } from './exact.js';
import { SimdRows } from './simd.js';

export interface IndexedFace {
  seq: number;
  faceId: string;
  identity: string;
  /** Unit length. */
  embedding: Float32Array;
}

export interface IndexHit {
  seq: number;
  faceId: string;
  identity: string;
  /** Dot product with the query: 1 − cosine distance. */
  similarity: number;
}

export interface AnnOptions {
  /** Build the HNSW graph once the gallery holds this many faces (default 200,000: below it the SIMD scan answers in ~10 ms; Infinity: never). */
  threshold?: number;
  /** Graph degree (default 16). */
  m?: number;
  /** Build-time candidate list (default 100). */
  efConstruction?: number;
  /** Search-time candidate list; also how many candidates are re-ranked exactly (default 64). */
  efSearch?: number;
}

export const ANN_DEFAULTS = { threshold: 200_000, m: 16, efConstruction: 100, efSearch: 64 } as const;

type Hnsw = InstanceType<typeof hnswlib.HierarchicalNSW>;

export class MemoryIndex {
  private data: Float32Array;
  /** The rows' home where SIMD serves (then `data` is its view), else null. */
  private readonly simd: SimdRows | null;
  private rows = 0;
  private seqs: number[] = [];
  private faceIds: string[] = [];
  private identities: string[] = [];
  private readonly slotOf = new Map<number, number>();
  private ann: Hnsw | null = null;
  /** The graph changed since it was read or written. */
  private annDirty = false;
  private readonly ann_: Required<AnnOptions>;

  constructor(
    readonly dimension: number,
    options: AnnOptions = {},
  ) {
    this.simd = SimdRows.create(dimension);
    this.data = this.simd?.data ?? new Float32Array(dimension * 1024);
    this.ann_ = {
      threshold: options.threshold ?? ANN_DEFAULTS.threshold,
      m: options.m ?? ANN_DEFAULTS.m,
      efConstruction: options.efConstruction ?? ANN_DEFAULTS.efConstruction,
      efSearch: options.efSearch ?? ANN_DEFAULTS.efSearch,
    };
  }

  get size(): number {
    return this.rows;
  }

  /** True once the HNSW graph answers searches. */
  get approximate(): boolean {
    return this.ann !== null;
  }

  has(seq: number): boolean {
    return this.slotOf.has(seq);
  }

  /** Adds faces (those already held are skipped); `deferAnn` leaves the graph to `attachAnn`. */
  add(faces: readonly IndexedFace[], deferAnn = false): void {
    const fresh = faces.filter((f) => !this.slotOf.has(f.seq));
    if (fresh.length === 0) return;
    const needed = (this.rows + fresh.length) * this.dimension;
    if (this.simd) {
      this.simd.reserve(this.rows + fresh.length);
      this.data = this.simd.data;
    } else if (needed > this.data.length) {
      const grown = new Float32Array(Math.max(needed, this.data.length * 2));
      grown.set(this.data.subarray(0, this.rows * this.dimension));
      this.data = grown;
    }
    for (const face of fresh) {
      if (face.embedding.length !== this.dimension) throw new RangeError(`Expected ${this.dimension} dimensions, got ${face.embedding.length}`);
      const slot = this.rows++;
      this.data.set(face.embedding, slot * this.dimension);
      this.seqs[slot] = face.seq;
      this.faceIds[slot] = face.faceId;
      this.identities[slot] = face.identity;
      this.slotOf.set(face.seq, slot);
    }
    if (this.ann) this.annAdd(fresh);
    else if (!deferAnn && this.wantsAnn) this.buildAnn();
  }

  remove(seqs: Iterable<number>): void {
    for (const seq of seqs) {
      const slot = this.slotOf.get(seq);
      if (slot === undefined) continue;
      const last = --this.rows;
      if (slot !== last) {
        this.data.copyWithin(slot * this.dimension, last * this.dimension, (last + 1) * this.dimension);
        const lastSeq = this.seqs[last] as number;
        this.seqs[slot] = lastSeq;
        this.faceIds[slot] = this.faceIds[last] as string;
        this.identities[slot] = this.identities[last] as string;
        this.slotOf.set(lastSeq, slot);
      }
      this.seqs.length = this.rows;
      this.faceIds.length = this.rows;
      this.identities.length = this.rows;
      this.slotOf.delete(seq);
      if (this.ann) this.annForget(seq);
    }
  }

  /** The `k` nearest faces, best first: exact, or HNSW candidates re-ranked exactly. */
  search(query: Float32Array, k: number, exact = false): IndexHit[] {
    let hits: Hit[];
    if (this.ann && !exact) {
      const want = Math.min(Math.max(k, this.ann_.efSearch), this.rows);
      if (want === 0) return [];
      this.ann.setEf(Math.max(want, this.ann_.efSearch));
      const { neighbors } = this.ann.searchKnn(Array.from(query), want);
      const slots = neighbors.map((seq) => this.slotOf.get(seq)).filter((s): s is number => s !== undefined);
      hits = rankSlots(this.data, slots, this.dimension, query, k);
    } else if (this.simd) {
      hits = topK(this.simd.scores(query, this.rows), k);
    } else {
      hits = exactSearch(this.data, this.rows, this.dimension, query, k);
    }
    return hits.map((h) => ({
      seq: this.seqs[h.slot] as number,
      faceId: this.faceIds[h.slot] as string,
      identity: this.identities[h.slot] as string,
      similarity: h.similarity,
    }));
  }

  private newAnn(capacity: number): Hnsw {
    const ann = new hnswlib.HierarchicalNSW('ip', this.dimension);
    ann.initIndex({ maxElements: capacity, m: this.ann_.m, efConstruction: this.ann_.efConstruction, randomSeed: 100, allowReplaceDeleted: false });
    return ann;
  }

  private annAdd(faces: readonly IndexedFace[]): void {
    const ann = this.ann as Hnsw;
    const needed = ann.getCurrentCount() + faces.length;
    if (needed > ann.getMaxElements()) ann.resizeIndex(Math.max(needed, Math.ceil(ann.getMaxElements() * 1.5)));
    for (const f of faces) ann.addPoint(Array.from(f.embedding), f.seq);
    this.annDirty = true;
  }

  private annForget(seq: number): void {
    try {
      (this.ann as Hnsw).markDelete(seq);
      this.annDirty = true;
    } catch {
      // Already marked deleted in a graph read from disk.
    }
  }

  /** The graph from `file` where it fits, else built if the size calls for one. */
  attachAnn(file: string | null): void {
    if (this.ann || !this.wantsAnn) return;
    if (file && this.loadAnn(file)) return;
    this.buildAnn();
  }

  /** Builds the graph over every row (slow: minutes of CPU per 100k faces). */
  buildAnn(): void {
    const ann = this.newAnn(Math.max(1024, Math.ceil(this.rows * 1.25)));
    const row = new Array<number>(this.dimension);
    for (let slot = 0; slot < this.rows; slot++) {
      const o = slot * this.dimension;
      for (let i = 0; i < this.dimension; i++) row[i] = this.data[o + i] as number;
      ann.addPoint(row, this.seqs[slot] as number);
    }
    this.ann = ann;
    this.annDirty = true;
  }

  /**
   * Reads a graph saved by `saveAnn`, then brings it level with the rows held now: rows it lacks
   * are added, labels it holds that are no longer rows are marked deleted. False where there is
   * no file or it does not fit (the caller may build one).
   */
  loadAnn(file: string): boolean {
    if (!existsSync(file)) return false;
    const ann = new hnswlib.HierarchicalNSW('ip', this.dimension);
    try {
      ann.readIndexSync(file, false);
    } catch {
      return false;
    }
    if (ann.getNumDimensions() !== this.dimension) return false;
    const inGraph = new Set(ann.getIdsList());
    this.ann = ann;
    const missing: IndexedFace[] = [];
    for (let slot = 0; slot < this.rows; slot++) {
      const seq = this.seqs[slot] as number;
      if (!inGraph.delete(seq)) missing.push({ seq, faceId: '', identity: '', embedding: this.data.subarray(slot * this.dimension, (slot + 1) * this.dimension) });
    }
    if (missing.length > 0) this.annAdd(missing);
    for (const stale of inGraph) this.annForget(stale);
    this.annDirty = missing.length > 0 || inGraph.size > 0;
    return true;
  }

  /** Writes the graph to `file` (through a temporary file and a rename) if it changed. */
  async saveAnn(file: string): Promise<void> {
    if (!this.ann || !this.annDirty) return;
    const temporary = `${file}.${process.pid}.tmp`;
    await this.ann.writeIndex(temporary);
    await rename(temporary, file);
    this.annDirty = false;
  }

  /** Whether the graph should exist at the current size but does not. */
  get wantsAnn(): boolean {
    return this.ann === null && this.rows >= this.ann_.threshold;
  }
}
