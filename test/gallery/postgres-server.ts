/**
 * A throwaway PostgreSQL server on loopback for the tests: initdb in a temporary folder, started
 * on a free port, trust auth for user `visage`, removed afterwards. Under root it runs as the
 * `postgres` system user (the server refuses root). Where no server binaries are installed the
 * tests skip, except where VISAGE_REQUIRE_POSTGRES=1 (set by .ci/run), where that is a failure.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPostgres {
  url: string;
  stop(): Promise<void>;
}

function binDir(): string | null {
  for (const dir of [process.env.VISAGE_PG_BIN, '/usr/lib/postgresql/15/bin']) if (dir && existsSync(path.join(dir, 'initdb'))) return dir;
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Why there is no server, where the tests may skip; null where there is one to start. */
export function postgresMissing(): string | null {
  const dir = binDir();
  if (dir && existsSync(path.join(dir, 'postgres'))) return null;
  const reason = 'PostgreSQL server binaries not found (apt-get install postgresql, or set VISAGE_PG_BIN)';
  if (process.env.VISAGE_REQUIRE_POSTGRES === '1') throw new Error(`${reason}; VISAGE_REQUIRE_POSTGRES=1 forbids skipping`);
  return reason;
}

export interface PostgresSettings {
  /** Flush commits to disk as a deployment does (default false: the tests need no durability). */
  fsync?: boolean;
  /** Server settings (`-c name=value`), e.g. shared_buffers for a bench. */
  settings?: Record<string, string | number>;
}

export async function startPostgres(options: PostgresSettings = {}): Promise<TestPostgres> {
  const bin = binDir();
  if (!bin) throw new Error('PostgreSQL binaries not found');
  const root = await mkdtemp(path.join(tmpdir(), 'visage-pg-'));
  const data = path.join(root, 'data');
  const asRoot = process.getuid?.() === 0;
  const as = async (command: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, command), ...args]) : run(path.join(bin, command), args);
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    await chown(root, uid, gid);
  }
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'visage', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const settings = Object.entries({ max_connections: 60, ...options.settings }).map(([name, value]) => `-c ${name}=${value}`);
  await as('pg_ctl', ['-D', data, '-l', path.join(root, 'log'), '-w', '-o', [`-h 127.0.0.1 -p ${port} -k ${root}`, ...(options.fsync ? [] : ['-F']), ...settings].join(' '), 'start']);
  return {
    url: `postgres://visage@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}
