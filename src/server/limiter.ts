/**
 * The one bound on concurrent analyses: at most `maxConcurrent` tasks run, at most `maxQueue`
 * wait in arrival order, and anything beyond is refused at once with 503 and `Retry-After`.
 * A task that outlives its deadline answers 503 to its client but keeps its slot until it really
 * ends, so the bound holds for the work actually running, not just for the requests waiting.
 */
import { HttpError } from './errors.js';

export interface LimiterOptions {
  maxConcurrent: number;
  maxQueue: number;
  /** Deadline for waiting plus running, in milliseconds. */
  timeoutMs: number;
  /** Seconds a refused client is told to wait (Retry-After). */
  retryAfterSeconds?: number;
}

export class Limiter {
  readonly #options: Required<LimiterOptions>;
  #running = 0;
  readonly #queue: (() => void)[] = [];

  constructor(options: LimiterOptions) {
    this.#options = { retryAfterSeconds: 1, ...options };
  }

  /** Tasks running and waiting now (for `/health`). */
  get load(): { running: number; queued: number } {
    return { running: this.#running, queued: this.#queue.length };
  }

  #busy(message: string): HttpError {
    return new HttpError(503, message, { 'retry-after': String(this.#options.retryAfterSeconds) });
  }

  /** Runs `task` when a slot is free; rejects with 503 when the queue is full or the deadline passes. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const { maxConcurrent, maxQueue, timeoutMs } = this.#options;
    if (this.#running >= maxConcurrent && this.#queue.length >= maxQueue) {
      return Promise.reject(this.#busy('The service is busy; retry later'));
    }
    // Everything below is synchronous bookkeeping, so a slot can never be lost between a
    // deadline firing and a slot being handed over.
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        Promise.resolve()
          .then(task)
          .then(resolve, reject)
          .finally(() => {
            clearTimeout(timer);
            this.#release();
          });
      };
      const timer = setTimeout(() => {
        // A waiter leaves the queue instead of running for nobody; a running task keeps its slot.
        const index = this.#queue.indexOf(start);
        if (index >= 0) this.#queue.splice(index, 1);
        reject(this.#busy(`The request took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      if (this.#running < maxConcurrent) {
        this.#running++;
        start();
      } else {
        this.#queue.push(start);
      }
    });
  }

  #release(): void {
    const next = this.#queue.shift();
    // The slot passes straight to the next waiter, so `running` stays the same.
    if (next) next();
    else this.#running--;
  }
}
