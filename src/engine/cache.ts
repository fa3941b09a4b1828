/**
 * Compiled ONNX graphs cached on disk (as ONNX Runtime optimised them, session.ts), so a new
 * process loads a network instead of rebuilding its graph from the weights that ship in npm
 * packages and optimising it again.
 *
 * - Where: `$VISAGE_CACHE_DIR`, else `$XDG_CACHE_HOME/visage`, else `~/.cache/visage`.
 *   `VISAGE_CACHE=off` (or the engine option `cacheDir: false`) turns it off.
 * - Key: visage's version, the runtime (ONNX Runtime's version, the CPU), the network's key,
 *   builder version and options, the sha256 of every source file's bytes, and the sha256 of the
 *   graph-building code itself (every file under engine/ and models/): a changed weight file,
 *   builder, runtime or release never reads a stale graph, even where a developer forgot to bump
 *   a builder version.
 * - File: plain ONNX, named `<prefix>-<key hash>.<sha256 of its bytes>.onnx`, so ONNX Runtime
 *   reads it from its path (no copy held in JavaScript: 20 MB less per large network). A
 *   truncated or corrupt file fails the hash check and is removed and rebuilt; files are written
 *   under a temporary name and renamed into place, so two processes starting at once each see
 *   either no file or a whole one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** What makes a compiled graph: the files it is built from, its builder's version, its options. */
export interface CacheSpec {
  /** Files the graph is built from (weights, manifests); their bytes are part of the key. */
  sources: readonly string[];
  /** The network builder's own version: bump it whenever the builder emits a different graph. */
  version: number;
  /** Build options that change the graph (JSON-serialisable). */
  options?: unknown;
}

/** Hex digits of the payload's sha256 kept in the file name. */
const PAYLOAD_HASH = 32;

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

/** visage's package version, read once (src/engine and dist/engine both sit two levels down). */
let packageVersion: string | undefined;
function visageVersion(): string {
  packageVersion ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return packageVersion;
}

/** The cache folder from an engine option and the environment; undefined when caching is off. */
export function resolveCacheDir(option?: string | false, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (option === false) return undefined;
  if (option !== undefined) return path.resolve(option);
  if (['off', '0', 'false', 'no'].includes((env.VISAGE_CACHE ?? '').toLowerCase())) return undefined;
  if (env.VISAGE_CACHE_DIR) return path.resolve(env.VISAGE_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'visage');
}

/**
 * Content hashes of source files, remembered per process by path, size and mtime, so a process
 * that loads several networks from one file (MTCNN's three) reads it once.
 */
const contentHashes = new Map<string, { size: number; mtimeMs: number; hash: string }>();

async function contentHash(file: string): Promise<string> {
  const absolute = path.resolve(file);
  const { size, mtimeMs } = await stat(absolute);
  const known = contentHashes.get(absolute);
  if (known && known.size === size && known.mtimeMs === mtimeMs) return known.hash;
  const hash = await sha256File(absolute);
  contentHashes.set(absolute, { size, mtimeMs, hash });
  return hash;
}

/** The sha256 over every file of the graph-building code (engine/ and models/ beside this file), once per process. */
let codeHash: Promise<string> | undefined;
function builderCodeHash(): Promise<string> {
  codeHash ??= (async () => {
    const root = path.resolve(import.meta.dirname, '..');
    const hash = createHash('sha256');
    for (const folder of ['engine', 'models']) {
      const entries = await readdir(path.join(root, folder), { recursive: true, withFileTypes: true });
      const files = entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort();
      for (const file of files) hash.update(path.relative(root, file)).update(await readFile(file));
    }
    return hash.digest('hex');
  })();
  return codeHash;
}

/**
 * Where a network's cached graph lives, without its last part: the key's prefix (readable) and
 * the hash of everything that makes the graph. The file itself is `<base>.<payload hash>.onnx`.
 */
export async function cacheBase(dir: string, key: string, spec: CacheSpec, runtime: string): Promise<string> {
  const sources = await Promise.all(spec.sources.map(contentHash));
  const code = await builderCodeHash();
  const material = JSON.stringify({ visage: visageVersion(), runtime, code, key, version: spec.version, options: spec.options ?? null, sources });
  const prefix = (key.split(':')[0] ?? 'model').replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 40) || 'model';
  return path.join(dir, `${prefix}-${sha256(material).toString('hex').slice(0, 40)}`);
}

/**
 * The sha256 (hex) of a file, read in chunks into one buffer: no weight file or graph is held
 * whole in JavaScript, and no chunk is left behind as garbage (reading whole files, or a stream's
 * fresh buffer per chunk, left 20 MB of garbage per large network: a step in `verify`'s peak).
 */
async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafeSlow(1 << 18);
  const handle = await open(file, 'r');
  try {
    for (let read; (read = (await handle.read(chunk, 0, chunk.length, null)).bytesRead) > 0; ) hash.update(chunk.subarray(0, read));
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** The payload hash a cached graph's file name carries. */
async function fileHash(file: string): Promise<string> {
  return (await sha256File(file)).slice(0, PAYLOAD_HASH);
}

/**
 * The path of a whole cached graph for `base`, or undefined. A file whose bytes do not match the
 * hash in its name (truncated, corrupt) is removed.
 */
export async function findCached(base: string): Promise<string | undefined> {
  const dir = path.dirname(base);
  const stem = `${path.basename(base)}.`;
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.startsWith(stem) && n.endsWith('.onnx'));
  } catch {
    return undefined;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    const expected = name.slice(stem.length, -'.onnx'.length);
    if ((await fileHash(file).catch(() => '')) === expected) return file;
    await removeCached(file);
  }
  return undefined;
}

/** Removes a cached file that cannot be used (never fatal). */
export async function removeCached(file: string): Promise<void> {
  await rm(file, { force: true }).catch(() => undefined);
}

/** A fresh temporary name beside `base`, its folder made; undefined where the folder cannot be made. */
export async function tempFileFor(base: string): Promise<string | undefined> {
  try {
    await mkdir(path.dirname(base), { recursive: true });
    return `${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  } catch {
    return undefined;
  }
}

/**
 * Moves a whole graph written at `temp` into place as `<base>.<its hash>.onnx`. The rename is
 * atomic on one file system, so a reader sees no file or a whole one. Not fatal on failure: the
 * next process simply builds again.
 */
export async function storeCached(base: string, temp: string): Promise<boolean> {
  try {
    await rename(temp, `${base}.${await fileHash(temp)}.onnx`);
    return true;
  } catch {
    await removeCached(temp);
    return false;
  }
}
