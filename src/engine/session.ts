/**
 * The one door to ONNX Runtime. Networks are compiled to ONNX bytes (or read from the disk cache,
 * cache.ts) and loaded into sessions once per Engine; callers see plain Float32Array tensors.
 */
import os from 'node:os';
import ort from 'onnxruntime-node';
import { cacheBase, findCached, removeCached, resolveCacheDir, storeCached, tempFileFor, type CacheSpec } from './cache.js';

/**
 * What an optimised graph depends on besides its sources: ONNX Runtime's version and the CPU
 * (its layout optimisations pick kernels and block sizes for the CPU they run on).
 */
const RUNTIME = `onnxruntime ${ort.env.versions.common} ${process.arch} ${os.cpus()[0]?.model ?? 'unknown cpu'}`;

/** A dense float tensor: row-major data and its dims. */
export interface Tensor {
  data: Float32Array;
  dims: number[];
}

export interface EngineOptions {
  /** Threads ONNX Runtime uses inside one operator (default: the machine's cores). */
  threads?: number;
  /**
   * Folder of the compiled-graph cache, or false for none (default: `$VISAGE_CACHE_DIR`, else
   * `$XDG_CACHE_HOME/visage`, else `~/.cache/visage`; `VISAGE_CACHE=off` turns it off).
   */
  cacheDir?: string | false;
}

/** How an engine came by its networks' bytes: built from weights, or read from the disk cache. */
export interface CompileStats {
  built: number;
  cached: number;
}

/** A loaded network. */
export interface Model {
  readonly key: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
}

type Build = () => Uint8Array | Promise<Uint8Array>;

/**
 * Builds in flight, by key: two engines of one process loading the same network at once share
 * one build. Entries go once settled, so the bytes are not held for the life of the process.
 */
const building = new Map<string, Promise<Uint8Array>>();

/** Compiles a network, sharing a build already under way in this process for the same key. */
export function compileOnce(key: string, build: Build): Promise<Uint8Array> {
  let bytes = building.get(key);
  if (!bytes) {
    bytes = Promise.resolve().then(build);
    building.set(key, bytes);
    const forget = () => building.delete(key);
    bytes.then(forget, forget);
  }
  return bytes;
}

class OrtModel implements Model {
  constructor(readonly key: string, private readonly session: ort.InferenceSession) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float32', t.data, t.dims);
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await this.session.run(ortFeeds);
    } catch (err) {
      const shapes = Object.entries(feeds).map(([n, t]) => `${n}[${t.dims.join('x')}]`).join(', ');
      throw new Error(`Model ${this.key} failed on inputs ${shapes}: ${(err as Error).message}`, { cause: err });
    }
    const out: Record<string, Tensor> = {};
    for (const [name, value] of Object.entries(results)) {
      out[name] = { data: value.data as Float32Array, dims: value.dims.map(Number) };
      value.dispose();
    }
    return out;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

export class Engine {
  readonly threads: number;
  /** The compiled-graph cache folder, or undefined when caching is off. */
  readonly cacheDir: string | undefined;
  /** Counts of networks this engine built and read from the cache (for tests and benches). */
  readonly compileStats: CompileStats = { built: 0, cached: 0 };
  private readonly models = new Map<string, Promise<OrtModel>>();

  constructor(options: EngineOptions = {}) {
    this.threads = options.threads ?? os.availableParallelism();
    if (!Number.isInteger(this.threads) || this.threads < 1) {
      throw new Error(`Expected a positive integer for threads but received ${options.threads}`);
    }
    this.cacheDir = resolveCacheDir(options.cacheDir);
  }

  /** Session options; `level` is 'disabled' for a graph that ONNX Runtime already optimised. */
  private sessionOptions(level: 'all' | 'disabled', optimisedPath?: string): ort.InferenceSession.SessionOptions {
    return {
      graphOptimizationLevel: level,
      executionMode: 'sequential',
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      // No arena: it keeps every session's peak activations for the life of the process (one
      // verify of two group photos peaked at 660 MB with it, 420 MB without). No memory pattern
      // either: without the arena it allocates the whole plan as one block per run, which the C
      // library maps and unmaps each time (SSD 30-40% slower); tensor by tensor, freed memory is
      // reused from the heap, and SSD runs about as fast as with the arena (README, Speed and memory).
      enableCpuMemArena: false,
      enableMemPattern: false,
      // Idle pool threads sleep instead of spinning: on a shared 2-core machine, spinning
      // threads take the cores that other sessions, sharp and JavaScript need (the whole
      // chain ran 2.3x slower with 2 spinning threads than with 2 sleeping ones).
      extra: { session: { intra_op: { allow_spinning: '0' } } },
      // Writing the optimised graph warns that it fits this CPU only: the cache key says so.
      ...(optimisedPath ? { optimizedModelFilePath: optimisedPath, logSeverityLevel: 3 as const } : {}),
    };
  }

  /**
   * A network's session. With a `cache` spec and a cache folder, the disk cache holds the graph
   * as ONNX Runtime optimised it (fused, re-laid for this CPU): a later process loads it with no
   * build and no optimisation pass, which also spares the memory those passes leave behind.
   */
  private async createSession(key: string, build: Build, cache: CacheSpec | undefined): Promise<ort.InferenceSession> {
    // A source that cannot be read or hashed leaves the cache out: the build reports it properly.
    const base = cache && this.cacheDir ? await cacheBase(this.cacheDir, key, cache, RUNTIME).catch(() => undefined) : undefined;
    const cached = base ? await findCached(base) : undefined;
    if (cached) {
      try {
        const session = await ort.InferenceSession.create(cached, this.sessionOptions('disabled'));
        this.compileStats.cached++;
        return session;
      } catch {
        await removeCached(cached); // a whole file this runtime cannot load: rebuilt below
      }
    }
    const bytes = await compileOnce(base ?? key, build);
    this.compileStats.built++;
    const optimised = base ? await tempFileFor(base) : undefined;
    if (!optimised) return ort.InferenceSession.create(bytes, this.sessionOptions('all'));
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, this.sessionOptions('all', optimised));
    } catch {
      // The optimised graph could not be written: no cache this time.
      await removeCached(optimised);
      return ort.InferenceSession.create(bytes, this.sessionOptions('all'));
    }
    await storeCached(base as string, optimised);
    return session;
  }

  /**
   * Loads a network once per engine. With a `cache` spec (its source files, builder version and
   * options), the optimised graph is kept on disk and later processes skip building it.
   */
  load(key: string, build: Build, cache?: CacheSpec): Promise<Model> {
    let model = this.models.get(key);
    if (!model) {
      model = this.createSession(key, build, cache).then((session) => new OrtModel(key, session));
      this.models.set(key, model);
      model.catch(() => this.models.delete(key));
    }
    return model;
  }

  async dispose(): Promise<void> {
    const models = [...this.models.values()];
    this.models.clear();
    await Promise.all(models.map(async (m) => (await m).release().catch(() => undefined)));
  }
}

/**
 * Runs many single items through a network in batches along dim 0: each item's feeds have batch
 * size 1; outputs come back split per item.
 */
export async function runBatched(
  model: Model,
  items: Record<string, Tensor>[],
  maxBatch = 32,
): Promise<Record<string, Tensor>[]> {
  const results: Record<string, Tensor>[] = [];
  for (let start = 0; start < items.length; start += maxBatch) {
    const chunk = items.slice(start, start + maxBatch);
    const feeds: Record<string, Tensor> = {};
    for (const name of Object.keys(chunk[0] ?? {})) {
      const parts = chunk.map((item) => item[name] as Tensor);
      const first = parts[0] as Tensor;
      const data = new Float32Array(first.data.length * parts.length);
      parts.forEach((p, i) => data.set(p.data, i * first.data.length));
      feeds[name] = { data, dims: [parts.length, ...first.dims.slice(1)] };
    }
    results.push(...splitBatch(await model.run(feeds), chunk.length));
  }
  return results;
}

/** A batch's outputs split along dim 0 into `count` items of batch size 1. */
export function splitBatch(out: Record<string, Tensor>, count: number): Record<string, Tensor>[] {
  return Array.from({ length: count }, (_, i) => {
    const item: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(out)) {
      const per = t.data.length / count;
      item[name] = { data: t.data.slice(i * per, (i + 1) * per), dims: [1, ...t.dims.slice(1)] };
    }
    return item;
  });
}
