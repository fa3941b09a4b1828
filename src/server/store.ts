/**
 * The service's image store: one directory, files named by the service, reads confined to it.
 *
 * A client-supplied name is refused (400, nothing read) when it is empty, absolute, holds a NUL
 * or a `..` segment, or when its real path — after every symlink is followed — is not inside the
 * store's own real path. The file is then opened without following a final symlink, so the
 * checked path is the one read.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { VisageError } from '../errors.js';
import { HttpError } from './errors.js';

const MAX_NAME_LENGTH = 1024;

export class ImageStore {
  /** The store's real path (symlinks resolved). */
  readonly root: string;

  private constructor(root: string) {
    this.root = root;
  }

  /** Opens the store at `dir`, creating it (and its parents) if missing. */
  static async open(dir: string): Promise<ImageStore> {
    await mkdir(dir, { recursive: true });
    return new ImageStore(await realpath(dir));
  }

  /** Writes `bytes` under a fresh random name with the given extension; returns the name. */
  async save(bytes: Uint8Array, extension: string): Promise<string> {
    const name = `${randomUUID()}.${extension}`;
    // 'wx': never overwrite, never follow a planted symlink.
    await writeFile(path.join(this.root, name), bytes, { flag: 'wx', mode: 0o644 });
    return name;
  }

  /** The real path of stored file `name`; 400 for a name that leaves the store, 404 when absent. */
  async resolve(name: string): Promise<string> {
    const refuse = () => new HttpError(400, 'Invalid image path: it must name a file inside the image store');
    if (name.length === 0 || name.length > MAX_NAME_LENGTH || name.includes('\0')) throw refuse();
    if (path.isAbsolute(name) || path.win32.isAbsolute(name)) throw refuse();
    if (name.split(/[\\/]/).includes('..')) throw refuse();
    const candidate = path.resolve(this.root, name);
    if (!candidate.startsWith(this.root + path.sep)) throw refuse();

    let real: string;
    try {
      real = await realpath(candidate);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new VisageError('FILE_NOT_FOUND', `No image named ${JSON.stringify(name)} in the store`);
      throw err;
    }
    if (!real.startsWith(this.root + path.sep)) throw refuse();
    return real;
  }

  /** Reads stored file `name` (see `resolve`), refusing files over `maxBytes`. */
  async read(name: string, maxBytes: number): Promise<Buffer> {
    const real = await this.resolve(name);
    const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new HttpError(400, 'Invalid image path: not a file');
      if (stats.size > maxBytes) throw new VisageError('IMAGE_TOO_LARGE', `The stored file exceeds ${maxBytes} bytes`);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }
}
