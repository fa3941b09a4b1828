/**
 * One worker thread of the pool (pool.ts): a visage instance of its own, running the library's
 * `representEach` over the inputs the main thread sends, and answering each in the order sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ImageInput } from '../image/index.js';
import { toWire, type FromWorker, type ToWorker, type WorkerSetup } from './pool.js';
import { createVisage } from './visage.js';

/** The inputs as they arrive: an async iterable that ends on 'end' (after the last) or 'stop' (at once). */
class Inbox implements AsyncIterableIterator<ImageInput> {
  private readonly queued: ImageInput[] = [];
  private waiting: ((result: IteratorResult<ImageInput>) => void) | undefined;
  private ended = false;

  push(input: ImageInput): void {
    if (this.ended) return;
    if (this.waiting) {
      this.waiting({ value: input, done: false });
      this.waiting = undefined;
    } else this.queued.push(input);
  }

  end(dropQueued: boolean): void {
    this.ended = true;
    if (dropQueued) this.queued.length = 0;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
  }

  next(): Promise<IteratorResult<ImageInput>> {
    // By length, not by value: an undefined input is an input (it fails as one).
    if (this.queued.length > 0) return Promise.resolve({ value: this.queued.shift() as ImageInput, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  async return(): Promise<IteratorResult<ImageInput>> {
    this.end(true);
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

const port = parentPort;
if (!port) throw new Error('pool-worker.ts runs only as a worker thread');
const setup = workerData as WorkerSetup;
const inbox = new Inbox();
let stopped = false;
port.on('message', (message: ToWorker) => {
  if (message.type === 'input') inbox.push(message.input);
  else {
    stopped ||= message.type === 'stop';
    inbox.end(message.type === 'stop');
  }
});
const post = (message: FromWorker) => port.postMessage(message);

const visage = await createVisage(setup.options);
try {
  for await (const item of visage.representEach(inbox, { ...setup.call, workers: 1 })) {
    if (stopped) break;
    post(item.error ? { type: 'error', error: toWire(item.error) } : { type: 'result', result: item.result });
  }
} catch (error) {
  post({ type: 'fault', error: toWire(error) });
} finally {
  await visage.close();
  port.close();
}
