/**
 * Many images through one command: progress on stderr, a failed image reported and skipped,
 * and a non-zero exit at the end if any failed.
 */
import { isVisageError, type Box } from '../index.js';
import { EXIT_FAILURE, reportError, toJson, type Io } from './io.js';

/** What one image gave: the result for --json and the readable summary. */
export interface ImageOutcome<R> {
  result: R;
  summary: string;
}

interface Entry<R> {
  input: string;
  result?: R;
  error?: { code?: string; message: string };
}

/** How an input is named in progress and JSON: paths and URLs as given, long base64 shortened. */
export function inputLabel(input: string): string {
  if (/^data:/i.test(input)) return `data URI (${input.length} chars)`;
  return input.length > 120 ? `${input.slice(0, 40)}… (${input.length} chars)` : input;
}

/** A box for people: `x=12 y=34 120x140`. */
export const formatBox = (b: Box): string => `x=${Math.round(b.x)} y=${Math.round(b.y)} ${Math.round(b.width)}x${Math.round(b.height)}`;

export const percent = (p: number): string => `${(p * 100).toFixed(1)}%`;

/**
 * Runs `work` on every input in turn. One input: its failure propagates (main reports it);
 * several: each failure is reported on stderr and the rest still run. Prints the summaries, or
 * with `json` the result (one input) or an array of `{ input, result | error }`.
 */
export async function runBatch<R>(
  io: Io,
  inputs: readonly string[],
  flags: { json?: boolean; verbose?: boolean },
  work: (input: string, index: number, label: string) => Promise<ImageOutcome<R>>,
): Promise<number> {
  if (inputs.length === 1) {
    const input = inputs[0] as string;
    const { result, summary } = await work(input, 0, inputLabel(input));
    io.out(flags.json ? toJson(result) : summary);
    return 0;
  }
  const entries: Entry<R>[] = [];
  let failed = 0;
  for (const [index, input] of inputs.entries()) {
    const label = inputLabel(input);
    io.err(`[${index + 1}/${inputs.length}] ${label}\n`);
    try {
      const { result, summary } = await work(input, index, label);
      entries.push({ input: label, result });
      if (!flags.json) io.out(summary);
    } catch (err) {
      failed++;
      reportError(io, err, flags.verbose === true, label);
      const message = err instanceof Error ? err.message : String(err);
      entries.push({ input: label, error: isVisageError(err) ? { code: err.code, message } : { message } });
    }
  }
  if (flags.json) io.out(toJson(entries));
  if (failed > 0) io.err(`visage: ${failed} of ${inputs.length} images failed\n`);
  return failed > 0 ? EXIT_FAILURE : 0;
}
