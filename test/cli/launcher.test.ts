/**
 * The installed launcher, bin/visage.js, as a user runs it (it loads the built dist/): on Linux
 * it starts the CLI again with glibc's mmap threshold fixed, passing output, exit codes and a
 * supervisor's SIGTERM through.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const LAUNCHER = path.resolve('bin/visage.js');
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  promisify(execFile)(process.execPath, [LAUNCHER, ...args], { env: { ...process.env, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );

/** The processes whose parent is `pid` (from /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // Fields after the command name (which may hold spaces): state, then the parent's pid.
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(name));
  }
  return found;
}

describe('bin/visage.js', { skip: process.platform !== 'linux' && 'the relaunch is for glibc (Linux)' }, () => {
  it('passes output and exit codes through', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    assert.deepEqual(await run(['--version']), { code: 0, stdout: `${version}\n`, stderr: '' });
    const missing = await run(['detect', path.join(tmpdir(), 'visage-no-such.jpg')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\[FILE_NOT_FOUND\]/);
  });

  it('serve runs in a child with MALLOC_MMAP_THRESHOLD_ set, and a SIGTERM to the launcher stops it cleanly', async () => {
    const store = await mkdtemp(path.join(tmpdir(), 'visage-launcher-'));
    try {
      const launcher = spawn(process.execPath, [LAUNCHER, 'serve', '--port', '0', '--store', store], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      await new Promise<void>((resolve, reject) => {
        launcher.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes('listening on')) resolve();
        });
        launcher.on('exit', () => reject(new Error(`launcher exited: ${stderr}`)));
      });
      const [child] = await childrenOf(launcher.pid as number);
      assert.ok(child, 'the CLI runs in a child process');
      const environ = (await readFile(`/proc/${child}/environ`, 'latin1')).split('\0');
      assert.ok(environ.includes('MALLOC_MMAP_THRESHOLD_=131072'), 'the child has the threshold');
      const exited = new Promise<[number | null, string | null]>((resolve) => launcher.on('exit', (code, signal) => resolve([code, signal])));
      launcher.kill('SIGTERM');
      assert.deepEqual(await exited, [0, null]);
      assert.deepEqual(await childrenOf(launcher.pid as number), []);
    } finally {
      await rm(store, { recursive: true, force: true });
    }
  });

  it('VISAGE_NO_RELAUNCH=1 runs the CLI in the one process', async () => {
    assert.equal((await run(['--version'], { VISAGE_NO_RELAUNCH: '1' })).code, 0);
  });
});
