/**
 * Where the CLI writes, and how it reports a failure: one line, `visage: <message> [CODE]`.
 * Commands write through an `Io` so tests can run `main()` in-process and read what it printed.
 */
import { isVisageError } from '../index.js';

export interface Io {
  /** Results (the summary or the JSON document). */
  out(text: string): void;
  /** Progress, warnings and errors. */
  err(text: string): void;
}

let stdoutGuarded = false;

/** A reader that stops early (`visage … | head`) closes the pipe: stop writing, don't crash. */
function writeStdout(text: string): void {
  if (!stdoutGuarded) {
    stdoutGuarded = true;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  if (!process.stdout.destroyed) process.stdout.write(text);
}

export const processIo: Io = {
  out: writeStdout,
  err: (text) => void process.stderr.write(text),
};

/** Exit codes: 1 for a failed run, 2 for a command line the parser refused. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The message of any thrown value, on one line, with its VisageError code where it has one. */
export function describeError(err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').trim();
  return isVisageError(err) ? `${message} [${err.code}]` : message;
}

/** Writes the one-line report of a failure, after `context` where given (and its stack with `verbose`). */
export function reportError(io: Io, err: unknown, verbose: boolean, context?: string): void {
  io.err(`visage: ${context ? `${context}: ` : ''}${describeError(err)}\n`);
  if (verbose && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
}

/** A JSON document with a trailing newline. */
export const toJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** What main hands each command: where to write, and where to leave the exit code. */
export interface CommandContext {
  io: Io;
  finish(exitCode: number): void;
}
