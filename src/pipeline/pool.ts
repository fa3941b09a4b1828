/**
 * Many images across worker threads, each with a whole pipeline of its own. onnxruntime-node
 * runs `session.run` on the calling thread, so one thread runs one network at a time however
 * many images are in flight; threads with their own sessions overlap (README, Many images).
 *
 * The main thread hands out inputs, a few ahead per worker, and yields results in input order;
 * each worker runs the library's own `representEach` over the inputs it is sent
 * (pool-worker.ts), so the pipeline's logic stays in one place.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { VisageError, isVisageError, type ErrorCode } from '../errors.js';
import type { BatchItem, RepresentOptions, RepresentResult, VisageOptions } from '../types.js';
import type { ImageInput } from '../image/index.js';

export const MAX_WORKERS = 16;
/**
 * `workers: 'auto'` (the default) starts the pool only for an array of at least this many inputs:
 * the workers' start-up (each loads every network, 2-3 s) must be repaid by their faster rate
 * (LFW alone on 2 cores: 62 images/s against 42 in one thread, so about 320 images break even).
 */
export const AUTO_POOL_MIN_INPUTS = 500;

/**
 * The worker count a call runs with: a number as given (1 to MAX_WORKERS), or for 'auto' (and
 * undefined) one worker per core the instance may use — its `threads`, at most the machine's
 * cores — for an array of at least AUTO_POOL_MIN_INPUTS inputs, and one (this thread) otherwise.
 */
export function checkWorkers(workers: unknown, inputs: unknown, threads: number): number {
  if (workers === undefined || workers === 'auto') {
    const many = Array.isArray(inputs) && inputs.length >= AUTO_POOL_MIN_INPUTS;
    return many ? Math.max(1, Math.min(threads, os.availableParallelism(), MAX_WORKERS)) : 1;
  }
  if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new VisageError('INVALID_ARGUMENT', `Expected 'auto' or an integer from 1 to ${MAX_WORKERS} for workers but received ${JSON.stringify(workers)}`);
  }
  return workers;
}

/** ONNX Runtime threads per worker: the instance's threads shared out, at least one each. */
export function threadsPerWorker(threads: number, workers: number): number {
  return Math.max(1, Math.floor(threads / workers));
}

/** An error as it crosses the thread boundary (a VisageError keeps its code and details). */
export interface WireError {
  message: string;
  code?: ErrorCode;
  details?: Record<string, unknown>;
  name?: string;
  stack?: string;
}

export function toWire(error: unknown): WireError {
  if (isVisageError(error)) return { message: error.message, code: error.code, ...(error.details ? { details: { ...error.details } } : {}) };
  if (error instanceof Error) return { message: error.message, name: error.name, ...(error.stack ? { stack: error.stack } : {}) };
  return { message: String(error) };
}

export function fromWire(wire: WireError): Error {
  if (wire.code) return new VisageError(wire.code, wire.message, wire.details ? { details: wire.details } : undefined);
  const error = new Error(wire.message);
  if (wire.name) error.name = wire.name;
  if (wire.stack) error.stack = wire.stack;
  return error;
}

/** What a worker is started with. */
export interface WorkerSetup {
  options: VisageOptions;
  call: RepresentOptions & { prefetch: number };
}

/** Main → worker. */
export type ToWorker = { type: 'input'; input: ImageInput } | { type: 'end' } | { type: 'stop' };
/** Worker → main: one per input, in the order it was sent; or a fault that ends the worker. */
export type FromWorker = { type: 'result'; result: RepresentResult } | { type: 'error'; error: WireError } | { type: 'fault'; error: WireError };

/**
 * The worker's entry. Run from the TypeScript sources (tests, benches under tsx), a worker thread
 * does not inherit tsx's loader on Node 20, so the thread registers it before loading the entry.
 */
function startWorker(setup: WorkerSetup): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './pool-worker.ts' : './pool-worker.js', import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData: setup });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData: setup });
}

let live = 0;
/** Worker threads of this module started and not yet exited (tests check none outlives its call). */
export function liveWorkers(): number {
  return live;
}

interface Slot {
  worker: Worker;
  /** Indices of the inputs sent to this worker and not yet answered, in the order sent. */
  pending: number[];
  exited: Promise<void>;
  gone: boolean;
  /** Sent 'end' or 'stop': the worker will exit on its own. */
  told: boolean;
}

/**
 * `represent` of every input on `workers` threads, yielded in input order, with the failure
 * rules of `pipelined`: an input's VisageError is its item; a fault ends the iteration. Each
 * worker holds up to `prefetch + 2` inputs (one embedding, `prefetch` decoding, one on its way),
 * and no result waits for its turn behind more than `workers * (prefetch + 2)` inputs.
 * Stopping early, finishing, or a fault: every worker is stopped and has exited before this returns.
 */
export async function* pooled<I extends ImageInput>(
  inputs: Iterable<I> | AsyncIterable<I>,
  setup: WorkerSetup,
  workers: number,
): AsyncGenerator<BatchItem<I, RepresentResult>> {
  const iterator = Symbol.asyncIterator in inputs ? inputs[Symbol.asyncIterator]() : inputs[Symbol.iterator]();
  const depth = setup.call.prefetch + 2;
  const window = workers * depth;
  const sent = new Map<number, I>();
  const answered = new Map<number, { result: RepresentResult } | { error: VisageError }>();
  let fault: Error | undefined;
  let wake: () => void = () => undefined;
  const changed = () => wake();

  const slots: Slot[] = Array.from({ length: workers }, () => {
    const worker = startWorker(setup);
    live++;
    const slot: Slot = { worker, pending: [], gone: false, told: false, exited: new Promise((resolve) => worker.once('exit', () => resolve())) };
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'fault') {
        fault ??= fromWire(message.error);
      } else {
        const index = slot.pending.shift() as number;
        answered.set(index, message.type === 'result' ? { result: message.result } : { error: fromWire(message.error) as VisageError });
        // A worker with nothing to do does not keep the process alive (a caller that drops the iterator).
        if (slot.pending.length === 0) worker.unref();
      }
      changed();
    });
    worker.on('error', (error) => {
      fault ??= error;
      changed();
    });
    worker.once('exit', (code) => {
      live--;
      slot.gone = true;
      if (slot.pending.length > 0 || !slot.told) fault ??= new Error(`A visage worker thread exited (code ${code}) with ${slot.pending.length} images unanswered`);
      changed();
    });
    return slot;
  });

  const tell = (slot: Slot, message: ToWorker & { type: 'end' | 'stop' }) => {
    slot.told = true;
    slot.worker.postMessage(message);
  };

  let exhausted = false;
  let next = 0;
  let yielded = 0;
  try {
    for (;;) {
      if (fault) throw fault;
      const ready = answered.get(yielded);
      if (ready) {
        answered.delete(yielded);
        const input = sent.get(yielded) as I;
        sent.delete(yielded);
        yield 'error' in ready ? { index: yielded++, input, error: ready.error } : { index: yielded++, input, result: ready.result };
        continue;
      }
      if (exhausted && yielded === next) return;
      // Hand out inputs while a worker has room and the window allows.
      let handed = false;
      while (!exhausted && next - yielded < window) {
        const slot = slots.filter((s) => !s.gone && s.pending.length < depth).sort((a, b) => a.pending.length - b.pending.length)[0];
        if (!slot) break;
        const item = await iterator.next();
        if (item.done) {
          exhausted = true;
          for (const s of slots) tell(s, { type: 'end' });
          break;
        }
        const index = next++;
        sent.set(index, item.value);
        try {
          slot.worker.postMessage({ type: 'input', input: item.value } satisfies ToWorker);
        } catch (error) {
          // Not something a thread can be sent (a function, a stream, …): not an image input either.
          answered.set(index, { error: new VisageError('INVALID_ARGUMENT', `Expected an image path, URL, Buffer, base64 string or data URI but received ${typeof item.value}`, { cause: error }) });
          continue;
        }
        slot.pending.push(index);
        slot.worker.ref();
        handed = true;
      }
      if (handed || answered.has(yielded) || fault) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    if (!exhausted) await iterator.return?.();
    for (const s of slots) {
      if (!s.gone) {
        // Referenced again, so the process waits for the exits awaited here.
        s.worker.ref();
        tell(s, { type: 'stop' });
      }
    }
    await Promise.all(slots.map((s) => s.exited));
  }
}
