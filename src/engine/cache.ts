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
 * - File: a magic, the sha256 of the payload, then the payload. A truncated or corrupt file fails
 *   the check and is rebuilt; files are written to a temporary name and renamed into place, so
 *   two processes starting at once each see either no file or a whole one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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

const MAGIC = Buffer.from('VSGONNX1');
const HEADER = MAGIC.length + 32;

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
  const hash = sha256(await readFile(absolute)).toString('hex');
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

/** The cache file for a network: its key's prefix (readable) and the hash of everything that makes it. */
export async function cacheFile(dir: string, key: string, spec: CacheSpec, runtime: string): Promise<string> {
  const sources = await Promise.all(spec.sources.map(contentHash));
  const code = await builderCodeHash();
  const material = JSON.stringify({ visage: visageVersion(), runtime, code, key, version: spec.version, options: spec.options ?? null, sources });
  const prefix = (key.split(':')[0] ?? 'model').replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 40) || 'model';
  return path.join(dir, `${prefix}-${sha256(material).toString('hex').slice(0, 40)}.onnx`);
}

/** The cached bytes, or undefined when the file is missing, truncated or corrupt. */
export async function readCached(file: string): Promise<Uint8Array | undefined> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch {
    return undefined;
  }
  if (data.length < HEADER || !data.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const payload = data.subarray(HEADER);
  if (!sha256(payload).equals(data.subarray(MAGIC.length, HEADER))) return undefined;
  return payload;
}

const tempName = (file: string) => `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;

/** A fresh temporary name beside `file`, its folder made; undefined where the folder cannot be made. */
export async function tempFileFor(file: string): Promise<string | undefined> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    return tempName(file);
  } catch {
    return undefined;
  }
}

/**
 * Writes the bytes under a temporary name and renames them into place (atomic on one file
 * system). A failure to write is not fatal: the caller has its bytes and the next process
 * simply builds again.
 */
export async function writeCached(file: string, bytes: Uint8Array): Promise<boolean> {
  const temp = tempName(file);
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(temp, Buffer.concat([MAGIC, sha256(bytes), bytes]), { mode: 0o644 });
    await rename(temp, file);
    return true;
  } catch {
    await rm(temp, { force: true }).catch(() => undefined);
    return false;
  }
}
