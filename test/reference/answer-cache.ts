/**
 * Answers of the slow reference implementations (face-api's full chain, MTCNN on TF.js wasm: seconds
 * a photo) kept on disk, so the test files that compare against the same photos, and later runs,
 * read them instead of computing them again. An answer is keyed by the sha256 of everything it
 * depends on: the files named (the photo, the weights, the reference's wrapper source and any test
 * code that patches it) and the values given (options, library versions, backend). A change to any
 * of them computes it afresh. JSON keeps every number exactly (doubles, and float32 values widened
 * to doubles). `VISAGE_TEST_REFERENCE_CACHE=off` turns the cache off.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where answers live: a tool cache beside the installed packages. */
export const ANSWER_CACHE = path.resolve(import.meta.dirname, '../../node_modules/.cache/visage-test-reference');

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** File hashes, once per process per path, size and mtime. */
const hashes = new Map<string, { size: number; mtimeMs: number; hash: Promise<string> }>();
function fileHash(file: string): Promise<string> {
  const absolute = path.resolve(file);
  return stat(absolute).then(({ size, mtimeMs }) => {
    const known = hashes.get(absolute);
    if (known && known.size === size && known.mtimeMs === mtimeMs) return known.hash;
    const hash = readFile(absolute).then(sha256);
    hashes.set(absolute, { size, mtimeMs, hash });
    return hash;
  });
}

const enabled = () => !['off', '0', 'false', 'no'].includes((process.env.VISAGE_TEST_REFERENCE_CACHE ?? '').toLowerCase());

/**
 * The answer `compute` gives for `name` over `files` and `values`, from the cache when it holds
 * one (written under a temporary name and renamed, so test files running at once see a whole
 * answer or none).
 */
export async function cachedAnswer<T>(name: string, files: readonly string[], values: unknown, compute: () => Promise<T>): Promise<T> {
  if (!enabled()) return compute();
  const fileHashes = await Promise.all(files.map(async (f) => [path.basename(f), await fileHash(f)]));
  const file = path.join(ANSWER_CACHE, `${name}-${sha256(JSON.stringify({ fileHashes, values }))}.json`);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    // None yet (or unreadable): computed and stored below.
  }
  const answer = await compute();
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await mkdir(ANSWER_CACHE, { recursive: true });
  await writeFile(temp, JSON.stringify(answer));
  await rename(temp, file);
  return answer;
}
