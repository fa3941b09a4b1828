/**
 * `visage serve`: the HTTP service over a visage instance, until SIGINT or SIGTERM.
 *
 * Environment: `VISAGE_API_TOKEN` turns on bearer-token auth; `VISAGE_ALLOW_PRIVATE_URLS=1`
 * is the same as `--allow-private-urls`.
 */
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { createVisage, type Precision, type RecognizerOption } from '../index.js';
import { EXIT_USAGE, processIo, type Io } from './io.js';
import { precisionOption, recognizerOption } from './options.js';
import { buildServer } from '../server/index.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('Expected an integer from 0 to 65535.');
  return n;
}

interface ServeFlags {
  host: string;
  port: number;
  store: string;
  allowPrivateUrls: boolean;
  recognizer?: RecognizerOption;
  precision?: Precision;
}

/**
 * Runs `visage serve [--host H] [--port P] [--store DIR] [--allow-private-urls] [--precision P]` with `argv` the
 * arguments after `serve`. Resolves with the exit code once the server has stopped (0 after a
 * signal, 1 when it could not start, 2 for a bad option, as every command, and 0 for --help).
 *
 * @example
 * process.exitCode = await serveCommand(['--port', '8080', '--store', './images']);
 */
export async function serveCommand(argv: string[], io: Io = processIo): Promise<number> {
  let usageError: string | undefined;
  const program = new Command('visage serve')
    .description('Start the HTTP service (OpenAPI document at /docs)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', port, 5005)
    .option('--store <dir>', 'image store directory for /api/download_image (created if missing)', 'visage-store')
    .option('--allow-private-urls', 'let image URLs reach loopback and private addresses (also VISAGE_ALLOW_PRIVATE_URLS=1)', false)
    .option('-r, --recognizer <name|file.json>', "the service's recogniser: dlib, mobilefacenet, fusion (default), or a JSON file describing an ONNX model; requests may name a built-in one (model_name)", recognizerOption)
    .addOption(precisionOption())
    .addHelpText('after', '\nEnvironment:\n  VISAGE_API_TOKEN           require "Authorization: Bearer <token>" on every route but /health\n  VISAGE_ALLOW_PRIVATE_URLS  1: same as --allow-private-urls')
    .exitOverride()
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      // Reported below in the one-line form every command uses.
      outputError: (text) => void (usageError = text.replace(/^error:\s*/i, '').replace(/\s*\n\s*/g, ' ').trim()),
    });

  let flags: ServeFlags;
  try {
    flags = program.parse(argv, { from: 'user' }).opts<ServeFlags>();
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.exitCode === 0) return 0; // --help
    io.err(`visage: ${usageError ?? err.message} (see visage serve --help) [INVALID_ARGUMENT]\n`);
    return EXIT_USAGE;
  }

  const token = process.env.VISAGE_API_TOKEN || undefined;
  const allowPrivateUrls = flags.allowPrivateUrls || process.env.VISAGE_ALLOW_PRIVATE_URLS === '1';
  const visage = await createVisage({ recognizer: flags.recognizer, precision: flags.precision });
  let app: Awaited<ReturnType<typeof buildServer>>;
  try {
    app = await buildServer({ visage, store: flags.store, allowPrivateUrls, token, logger: { level: 'info' } });
    await app.listen({ host: flags.host, port: flags.port });
  } catch (err) {
    io.err(`visage serve: ${err instanceof Error ? err.message : String(err)}\n`);
    await visage.close();
    return 1;
  }

  io.err(
    `visage serve: listening on ${app.listeningOrigin} (docs at /docs, store ${path.resolve(flags.store)}` +
      `${token ? ', bearer token required' : ''}${allowPrivateUrls ? ', private URLs allowed' : ''})\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await app.close();
  await visage.close();
  return 0;
}
