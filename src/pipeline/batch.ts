/**
 * Many images through one step with both cores busy: ONNX Runtime runs a network on the main
 * thread, while sharp decodes on libuv's pool, so the next images are read and decoded while
 * this one is in the networks.
 */
import { VisageError, isVisageError } from '../errors.js';
import type { BatchItem } from '../types.js';

/** Most images decoded ahead: each holds its whole decoded frame in memory. */
export const MAX_PREFETCH = 8;
export const DEFAULT_PREFETCH = 1;

type Settled<T> = { value: T } | { error: VisageError };

/** The promise's outcome, never rejecting with a VisageError (so a decode ahead cannot go unhandled). */
async function settle<T>(promise: Promise<T>): Promise<Settled<T> | { bug: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return isVisageError(error) ? { error } : { bug: error };
  }
}

export function checkPrefetch(prefetch: unknown): number {
  if (prefetch === undefined) return DEFAULT_PREFETCH;
  if (typeof prefetch !== 'number' || !Number.isInteger(prefetch) || prefetch < 0 || prefetch > MAX_PREFETCH) {
    throw new VisageError('INVALID_ARGUMENT', `Expected an integer from 0 to ${MAX_PREFETCH} for prefetch but received ${JSON.stringify(prefetch)}`);
  }
  return prefetch;
}

/**
 * `work(decode(input))` for every input, in input order, with up to `prefetch` inputs decoding
 * while one is at work. An input that fails with a VisageError (unreadable, no face, …) yields
 * its error and the rest go on; any other error is a fault, and ends the iteration with it.
 * The source is read in the background: an input already decoded goes to work without waiting
 * for the source's next one (a slow source, or the pool's worker fed one message at a time).
 */
export async function* pipelined<I, D, R>(
  inputs: Iterable<I> | AsyncIterable<I>,
  decode: (input: I) => Promise<D>,
  work: (decoded: D) => Promise<R>,
  prefetch: number,
): AsyncGenerator<BatchItem<I, R>> {
  const iterator = Symbol.asyncIterator in inputs ? inputs[Symbol.asyncIterator]() : inputs[Symbol.iterator]();
  const ahead: { input: I; decoded: Promise<Settled<D> | { bug: unknown }> }[] = [];
  let exhausted = false;
  let sourceFailed: { error: unknown } | undefined;
  let reading = false;
  let arrived: (() => void) | undefined;
  // One reader at a time (an iterator need not take overlapping next() calls), topping `ahead` up.
  const read = async () => {
    if (reading) return;
    reading = true;
    try {
      while (!exhausted && ahead.length <= prefetch) {
        const next = await iterator.next();
        if (next.done) exhausted = true;
        else ahead.push({ input: next.value, decoded: settle(decode(next.value)) });
        arrived?.();
      }
    } catch (error) {
      sourceFailed = { error };
      exhausted = true;
      arrived?.();
    } finally {
      reading = false;
    }
  };
  try {
    for (let index = 0; ; index++) {
      void read();
      while (ahead.length === 0 && !exhausted) {
        await new Promise<void>((resolve) => {
          arrived = resolve;
        });
      }
      const head = ahead.shift();
      if (head === undefined) {
        if (sourceFailed) throw sourceFailed.error;
        return;
      }
      const decoded = await head.decoded;
      // The next decodes start before this image's networks take the main thread.
      void read();
      if ('bug' in decoded) throw decoded.bug;
      const outcome = 'error' in decoded ? decoded : await settle(work(decoded.value));
      if ('bug' in outcome) throw outcome.bug;
      yield 'error' in outcome ? { index, input: head.input, error: outcome.error } : { index, input: head.input, result: outcome.value };
    }
  } finally {
    // Stopped early: close the source; decodes still running settle without anyone waiting.
    if (!exhausted) await iterator.return?.();
  }
}
