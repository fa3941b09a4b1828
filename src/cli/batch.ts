/**
 * Many images through one command: folders expanded to their images, progress on stderr, a
 * failed image reported and skipped, and a non-zero exit at the end if any failed.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { VisageError, isVisageError, type Box } from '../index.js';
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

/** One input's outcome: what it gave, or what it failed with. */
export interface Settled<R> {
  index: number;
  outcome?: ImageOutcome<R>;
  error?: unknown;
}

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
  async function* each(): AsyncGenerator<Settled<R>> {
    for (const [index, input] of inputs.entries()) {
      try {
        yield { index, outcome: await work(input, index, inputLabel(input)) };
      } catch (error) {
        yield { index, error };
      }
    }
  }
  return reportBatch(io, inputs, flags, each());
}

/** Every line of `text` indented by two spaces (an element of a pretty-printed array). */
const indent = (text: string): string => text.replace(/^/gm, '  ');

/**
 * Reports outcomes as they come, in the form runBatch documents. The JSON array is written
 * element by element, so a library of thousands of images never sits in memory whole.
 */
export async function reportBatch<R>(io: Io, inputs: readonly string[], flags: { json?: boolean; verbose?: boolean }, outcomes: AsyncIterable<Settled<R>>): Promise<number> {
  if (inputs.length === 1) {
    for await (const { outcome, error } of outcomes) {
      if (outcome === undefined) throw error;
      io.out(flags.json ? toJson(outcome.result) : outcome.summary);
    }
    return 0;
  }
  let failed = 0;
  let written = 0;
  for await (const { index, outcome, error } of outcomes) {
    const label = inputLabel(inputs[index] as string);
    io.err(`[${index + 1}/${inputs.length}] ${label}\n`);
    let entry: Entry<R>;
    if (outcome !== undefined) {
      entry = { input: label, result: outcome.result };
      if (!flags.json) io.out(outcome.summary);
    } else {
      failed++;
      reportError(io, error, flags.verbose === true, label);
      const message = error instanceof Error ? error.message : String(error);
      entry = { input: label, error: isVisageError(error) ? { code: error.code, message } : { message } };
    }
    if (flags.json) io.out(`${written++ === 0 ? '[\n' : ',\n'}${indent(JSON.stringify(entry, null, 2))}`);
  }
  if (flags.json) io.out(written === 0 ? '[]\n' : '\n]\n');
  if (failed > 0) io.err(`visage: ${failed} of ${inputs.length} images failed\n`);
  return failed > 0 ? EXIT_FAILURE : 0;
}

/** Image files by name, for folders given as inputs. */
const IMAGE_FILE = /\.(jpe?g|png|webp|gif|tiff?|avif)$/i;

/**
 * The inputs with every folder replaced by the image files under it (sorted, subfolders
 * included, hidden entries and symbolic links skipped). Anything else (files, URLs, base64) is
 * kept as it is; a folder with no image is an error.
 */
export async function expandFolders(inputs: readonly string[]): Promise<string[]> {
  const expanded: string[] = [];
  for (const input of inputs) {
    const isFolder = input.length < 4096 && !/^(data:|https?:\/\/)/i.test(input) && (await stat(input).then((s) => s.isDirectory(), () => false));
    if (!isFolder) {
      expanded.push(input);
      continue;
    }
    const files = await imagesUnder(input);
    if (files.length === 0) throw new VisageError('FILE_NOT_FOUND', `No image files (jpg, png, webp, gif, tiff, avif) in the folder ${JSON.stringify(input)}`);
    expanded.push(...files);
  }
  return expanded;
}

async function imagesUnder(folder: string): Promise<string[]> {
  const found: string[] = [];
  const entries = (await readdir(folder, { withFileTypes: true })).filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) found.push(...(await imagesUnder(full)));
    else if (entry.isFile() && IMAGE_FILE.test(entry.name)) found.push(full);
  }
  return found;
}
