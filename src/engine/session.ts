/**
 * The one door to ONNX Runtime. Networks are compiled to ONNX bytes once per process (cached by
 * key) and loaded into sessions once per Engine; callers see plain Float32Array tensors.
 */
import os from 'node:os';
import ort from 'onnxruntime-node';

/** A dense float tensor: row-major data and its dims. */
export interface Tensor {
  data: Float32Array;
  dims: number[];
}

export interface EngineOptions {
  /** Threads ONNX Runtime uses inside one operator (default: the machine's cores). */
  threads?: number;
}

/** A loaded network. */
export interface Model {
  readonly key: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
}

const compiled = new Map<string, Promise<Uint8Array>>();

/** Compiles a network once per process; later calls with the same key reuse the bytes. */
export function compileOnce(key: string, build: () => Uint8Array | Promise<Uint8Array>): Promise<Uint8Array> {
  let bytes = compiled.get(key);
  if (!bytes) {
    bytes = Promise.resolve().then(build);
    compiled.set(key, bytes);
    bytes.catch(() => compiled.delete(key)); // a failed build may be retried
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
  private readonly models = new Map<string, Promise<OrtModel>>();

  constructor(options: EngineOptions = {}) {
    this.threads = options.threads ?? os.availableParallelism();
    if (!Number.isInteger(this.threads) || this.threads < 1) {
      throw new Error(`Expected a positive integer for threads but received ${options.threads}`);
    }
  }

  /** Loads a network once per engine, compiling it once per process. */
  load(key: string, build: () => Uint8Array | Promise<Uint8Array>): Promise<Model> {
    let model = this.models.get(key);
    if (!model) {
      model = compileOnce(key, build).then(async (bytes) => {
        const session = await ort.InferenceSession.create(bytes, {
          graphOptimizationLevel: 'all',
          executionMode: 'sequential',
          intraOpNumThreads: this.threads,
          interOpNumThreads: 1,
          // Idle pool threads sleep instead of spinning: on a shared 2-core machine, spinning
          // threads take the cores that other sessions, sharp and JavaScript need (the whole
          // chain ran 2.3x slower with 2 spinning threads than with 2 sleeping ones).
          extra: { session: { intra_op: { allow_spinning: '0' } } },
        });
        return new OrtModel(key, session);
      });
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
    const out = await model.run(feeds);
    for (let i = 0; i < chunk.length; i++) {
      const item: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(out)) {
        const per = t.data.length / chunk.length;
        item[name] = { data: t.data.slice(i * per, (i + 1) * per), dims: [1, ...t.dims.slice(1)] };
      }
      results.push(item);
    }
  }
  return results;
}
