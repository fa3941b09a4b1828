/**
 * The compiled-graph disk cache: a second engine reads the graph instead of building it; a
 * changed source, a truncated or corrupt file all lead to a rebuild; two processes starting at
 * once both succeed and leave one whole file; the shipped SSD gives the same outputs from the cache.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Engine, resolveCacheDir } from '../../src/engine/index.js';
import { loadImage } from '../../src/image/index.js';
import { rgbToSquareInput } from '../../src/models/common/preprocess.js';
import { SSD_INPUT_SIZE, createSsdDetector, type SsdRawOutput } from '../../src/models/ssd/index.js';
import { loadAddGraph } from './cache-graph.js';
import { SAMPLE_IMAGES } from '../models/helpers.js';

const run = promisify(execFile);

let dir: string;
let source: string;
const expected = [7, 9, 11];

/** A fresh engine on the test folder; the network loaded; its counts and whether it built. */
async function loadOnce(): Promise<{ output: number[]; built: number; cached: number; buildCalls: number }> {
  const engine = new Engine({ threads: 1, cacheDir: dir });
  let buildCalls = 0;
  try {
    const output = await loadAddGraph(engine, source, () => void buildCalls++);
    return { output, ...engine.compileStats, buildCalls };
  } finally {
    await engine.dispose();
  }
}

async function cacheFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.startsWith('cache-test-'));
}

describe('compiled-graph disk cache', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'visage-cache-'));
    source = path.join(dir, 'weights.bin');
    await writeFile(source, Uint8Array.of(7, 8, 9));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the first engine builds and writes; a second engine reads the file and does not build', async () => {
    const first = await loadOnce();
    assert.deepEqual(first, { output: expected, built: 1, cached: 0, buildCalls: 1 });
    assert.equal((await cacheFiles()).length, 1);
    const second = await loadOnce();
    assert.deepEqual(second, { output: expected, built: 0, cached: 1, buildCalls: 0 });
  });

  test('a changed source file is a different key: rebuilt, with the new values', async () => {
    const [first] = await cacheFiles();
    await writeFile(source, Uint8Array.of(1, 2, 3));
    const changed = await loadOnce();
    assert.deepEqual(changed, { output: [1, 3, 5], built: 1, cached: 0, buildCalls: 1 });
    await writeFile(source, Uint8Array.of(7, 8, 9));
    assert.equal((await loadOnce()).cached, 1, 'the first file is still valid for the first bytes');
    // Only the first bytes' file stays, so the tests below find it alone.
    for (const f of await cacheFiles()) if (f !== first) await rm(path.join(dir, f));
  });

  test('a truncated cache file fails its hash, is removed, rebuilt and rewritten whole, never fatal', async () => {
    await loadOnce();
    const [name] = await cacheFiles();
    const file = path.join(dir, name as string);
    const size = (await readFile(file)).length;
    for (const length of [size - 1, 20, 0]) {
      await truncate(file, length);
      assert.deepEqual(await loadOnce(), { output: expected, built: 1, cached: 0, buildCalls: 1 }, `truncated to ${length} bytes`);
      assert.deepEqual(await cacheFiles(), [name], 'one whole file again');
      assert.equal((await loadOnce()).cached, 1);
    }
  });

  test('a flipped byte fails the hash check and is rebuilt', async () => {
    const [name] = await cacheFiles();
    const file = path.join(dir, name as string);
    const bytes = await readFile(file);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0xff;
    await writeFile(file, bytes);
    assert.deepEqual(await loadOnce(), { output: expected, built: 1, cached: 0, buildCalls: 1 });
    assert.equal((await loadOnce()).cached, 1);
  });

  test('a whole file that ONNX Runtime cannot load is removed and rebuilt', async () => {
    const [name] = await cacheFiles();
    await rm(path.join(dir, name as string));
    const garbage = Buffer.from('not an ONNX model');
    const hash = createHash('sha256').update(garbage).digest('hex').slice(0, 32);
    const bad = `${(name as string).split('.')[0]}.${hash}.onnx`;
    await writeFile(path.join(dir, bad), garbage);
    assert.deepEqual(await loadOnce(), { output: expected, built: 1, cached: 0, buildCalls: 1 });
    assert.ok(!(await cacheFiles()).includes(bad), 'the unloadable file is gone');
    assert.equal((await loadOnce()).cached, 1);
  });

  test('two processes starting at once on an empty cache both load, leaving one whole file', async () => {
    for (const f of await cacheFiles()) await rm(path.join(dir, f));
    const child = path.join(import.meta.dirname, 'cache-child.ts');
    const barrier = await mkdtemp(path.join(os.tmpdir(), 'visage-barrier-'));
    const start = () => run(process.execPath, ['--import', 'tsx', child, dir, source, barrier, '2'], { cwd: process.cwd() });
    const results = (await Promise.all([start(), start()]).finally(() => rm(barrier, { recursive: true, force: true }))).map((r) => JSON.parse(r.stdout) as { stats: { built: number; cached: number }; output: number[] });
    for (const r of results) assert.deepEqual(r.output, expected);
    // The barrier held both builds until both were under way: both built, neither read a partial file.
    assert.equal(results.reduce((n, r) => n + r.stats.built, 0), 2);
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
    assert.equal((await cacheFiles()).length, 1);
    assert.deepEqual(await loadOnce(), { output: expected, built: 0, cached: 1, buildCalls: 0 });
  });

  test('the folder follows the option, VISAGE_CACHE_DIR, XDG_CACHE_HOME and HOME; VISAGE_CACHE=off turns it off', () => {
    assert.equal(resolveCacheDir(false, { VISAGE_CACHE_DIR: '/a' }), undefined);
    assert.equal(resolveCacheDir('/opt/c', { VISAGE_CACHE_DIR: '/a' }), '/opt/c');
    assert.equal(resolveCacheDir(undefined, { VISAGE_CACHE_DIR: '/a', XDG_CACHE_HOME: '/x' }), '/a');
    assert.equal(resolveCacheDir(undefined, { XDG_CACHE_HOME: '/x' }), '/x/visage');
    assert.equal(resolveCacheDir(undefined, {}), path.join(os.homedir(), '.cache', 'visage'));
    assert.equal(resolveCacheDir(undefined, { VISAGE_CACHE: 'off', VISAGE_CACHE_DIR: '/a' }), undefined);
  });

  test('an engine with the cache off always builds and writes nothing', async () => {
    const engine = new Engine({ threads: 1, cacheDir: false });
    const before = await readdir(dir);
    await loadAddGraph(engine, source);
    assert.deepEqual(engine.compileStats, { built: 1, cached: 0 });
    assert.deepEqual(await readdir(dir), before);
    await engine.dispose();
  });

  test('the shipped SSD read from the cache gives the outputs of the one built from its weights', async () => {
    const image = await loadImage(SAMPLE_IMAGES[0] as string);
    const input = rgbToSquareInput(image, SSD_INPUT_SIZE).input.data;
    const outputs: SsdRawOutput[] = [];
    for (const expectCached of [false, true]) {
      const engine = new Engine({ threads: 1, cacheDir: dir });
      const ssd = await createSsdDetector(engine);
      assert.deepEqual(engine.compileStats, expectCached ? { built: 0, cached: 1 } : { built: 1, cached: 0 });
      outputs.push(await ssd.forwardRaw(input));
      await engine.dispose();
    }
    assert.deepEqual(outputs[1], outputs[0]);
  });
});
