/**
 * The `visage` command line: detect, represent, verify, analyze, demo and serve, over the public
 * API only. Exit codes: 0 success, 1 a failure (one line on stderr: `visage: <message> [CODE]`),
 * 2 a command line the parser refused.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { defineAnalyze } from './analyze.js';
import { defineDemo } from './demo.js';
import { defineDetect } from './detect.js';
import { defineFind, defineGallery, defineIndex } from './gallery.js';
import { EXIT_FAILURE, EXIT_USAGE, processIo, reportError, type Io } from './io.js';
import { defineRepresent } from './represent.js';
import { serveCommand } from './serve.js';
import { defineVerify } from './verify.js';
import { defineVideo } from './video.js';

// package.json sits one level above both src/ (tsx) and dist/ (the build).
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/**
 * Runs the command line `argv` (the arguments after node and the script) and resolves with the
 * exit code. Output goes to `io` (default: process stdout and stderr); nothing calls
 * `process.exit`, so tests can run it in-process.
 *
 * @example
 * process.exitCode = await main(['verify', 'a.jpg', 'b.jpg', '--json']);
 */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let exitCode = 0;
  let usageError: string | undefined;
  const ctx = { io, finish: (code: number) => void (exitCode = code) };
  const program = new Command('visage')
    .description('Face detection, recognition and analysis on ONNX Runtime')
    .version(version, '-V, --version')
    .option('--verbose', 'print stack traces with errors')
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      // Parser errors are reported by main in the one-line form, with a pointer to --help.
      outputError: (text) => void (usageError = text.replace(/^error:\s*/i, '').replace(/\s*\n\s*/g, ' ').trim()),
    })
    .addHelpText(
      'after',
      `
Images may be file paths, http(s) URLs, base64 strings or data: URIs.

Examples:
  $ visage detect photo.jpg --out faces.png
  $ visage verify a.jpg b.jpg --json
  $ visage analyze photo.jpg --actions emotion,age
  $ visage index ./people --gallery staff
  $ visage find visitor.jpg --gallery staff
  $ visage demo --out-dir ./visage-demo
  $ visage video clip.mp4 --out annotated.mp4 --actions emotion
  $ visage serve --port 5005`,
    );

  // Commands made with program.command() inherit exitOverride and the output settings.
  defineDetect(program.command('detect'), ctx);
  defineRepresent(program.command('represent'), ctx);
  defineVerify(program.command('verify'), ctx);
  defineAnalyze(program.command('analyze'), ctx);
  defineDemo(program.command('demo'), ctx);
  defineIndex(program.command('index'), ctx);
  defineFind(program.command('find'), ctx);
  defineGallery(program.command('gallery'), ctx);
  defineVideo(program.command('video'), ctx);
  program
    .command('serve')
    .description('Start the HTTP service (see visage serve --help)')
    // serve parses its own options, --help included.
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[options...]')
    .action(async (_args: string[], _opts: unknown, cmd: Command) => ctx.finish(await serveCommand(cmd.args, io)));

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      if (usageError) io.err(`visage: ${usageError} (see visage ${commandName(program, argv)}--help) [INVALID_ARGUMENT]\n`);
      return EXIT_USAGE;
    }
    reportError(io, err, program.opts<{ verbose?: boolean }>().verbose === true);
    return EXIT_FAILURE;
  }
}

/** The subcommand named in argv followed by a space, or '' (for the pointer to its help). */
function commandName(program: Command, argv: string[]): string {
  const name = argv.find((arg) => program.commands.some((c) => c.name() === arg));
  return name ? `${name} ` : '';
}
