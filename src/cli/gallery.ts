/**
 * Gallery commands: `visage index DIR --gallery NAME` (enrol a folder, identity = sub-folder),
 * `visage find IMAGE --gallery NAME` (who is this?) and `visage gallery list|remove`.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import {
  DEFAULT_GALLERY,
  VisageError,
  decodeImage,
  isVisageError,
  loadImageBytes,
  openStore,
  renderSearch,
  type Gallery,
  type SearchResult,
} from '../index.js';
import { formatBox, inputLabel, percent } from './batch.js';
import { EXIT_FAILURE, describeError, toJson, type CommandContext } from './io.js';
import { addDetectOptions, addRecognizerOption, detectOptions, loadOptions, positiveInteger, withVisage, writePicture, type DetectFlags } from './options.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

interface GalleryFlags extends DetectFlags {
  gallery: string;
  store?: string;
}

interface IndexFlags extends GalleryFlags {
  faces?: 'largest' | 'all';
}

interface FindFlags extends GalleryFlags {
  k?: number;
  threshold?: number;
  metric?: 'cosine' | 'euclidean_l2';
}

const STORE_HELP = 'SQLite file or postgres:// URL (default: $VISAGE_DATABASE_URL, else $VISAGE_GALLERY_FILE or ~/.visage/galleries.sqlite)';

function addGalleryOptions(command: Command): Command {
  addRecognizerOption(command);
  return command.option('-g, --gallery <name>', 'gallery name', DEFAULT_GALLERY).option('--store <file|url>', STORE_HELP);
}

/** The image files of DIR by identity: every sub-folder (searched to any depth) is one identity. */
async function identityFiles(dir: string): Promise<{ identity: string; file: string }[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new VisageError(err.code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'INVALID_ARGUMENT', `Cannot read the folder ${dir}: ${err.message}`);
  });
  const out: { identity: string; file: string }[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const files = await readdir(path.join(dir, entry.name), { recursive: true, withFileTypes: true });
    const images = files
      .filter((f) => f.isFile() && IMAGE_EXTENSIONS.has(path.extname(f.name).toLowerCase()))
      .map((f) => path.join(f.parentPath, f.name))
      .sort();
    for (const file of images) out.push({ identity: entry.name, file });
  }
  return out;
}

interface IndexSummary {
  gallery: string;
  images: number;
  facesAdded: number;
  imagesAdded: number;
  skipped: number;
  failed: { file: string; code?: string; message: string }[];
}

async function withGallery<T>(flags: GalleryFlags, work: (gallery: Gallery) => Promise<T>): Promise<T> {
  return withVisage(flags, async (visage) => {
    const gallery = await visage.gallery(flags.gallery, { store: flags.store });
    try {
      return await work(gallery);
    } finally {
      await gallery.close();
    }
  });
}

/** Defines `visage index`. */
export function defineIndex(command: Command, ctx: CommandContext): void {
  addDetectOptions(
    addGalleryOptions(
      command
        .description('Enrol a folder of photos into a gallery: each sub-folder is one identity (incremental: files already indexed are skipped)')
        .argument('<dir>', 'folder holding one sub-folder per person'),
    ),
  )
    .addOption(new Option('--faces <which>', 'faces to enrol from each photo (default: largest)').choices(['largest', 'all']))
    .addHelpText(
      'after',
      `
Examples:
  $ visage index ./people --gallery staff        # people/alice/*.jpg, people/bob/*.jpg, …
  $ visage index ./people --gallery staff        # again: only new or changed files are added
  $ visage index ./people --gallery staff --store postgres://visage@db/visage`,
    )
    .action(async (dir: string, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<IndexFlags>();
      const files = await identityFiles(dir);
      const summary: IndexSummary = { gallery: flags.gallery, images: files.length, facesAdded: 0, imagesAdded: 0, skipped: 0, failed: [] };
      await withGallery(flags, async (gallery) => {
        for (const [i, { identity, file }] of files.entries()) {
          const progress = `[${i + 1}/${files.length}] ${path.relative(dir, file)}`;
          try {
            const bytes = await readFile(file);
            // The identity is part of the key: the same photo filed under another person is new.
            const sourceKey = `sha256:${createHash('sha256').update(identity).update('\0').update(bytes).digest('hex')}`;
            if (await gallery.hasSource(sourceKey)) {
              summary.skipped++;
              ctx.io.err(`${progress}: already indexed\n`);
              continue;
            }
            const ids = await gallery.add(identity, bytes, { ...detectOptions(flags), faces: flags.faces, sourceKey, metadata: { file: path.relative(dir, file) } });
            summary.facesAdded += ids.length;
            summary.imagesAdded++;
            ctx.io.err(`${progress}: ${ids.length} face${ids.length === 1 ? '' : 's'} added as ${identity}\n`);
          } catch (err) {
            summary.failed.push({ file: path.relative(dir, file), ...(isVisageError(err) ? { code: err.code } : {}), message: err instanceof Error ? err.message : String(err) });
            ctx.io.err(`${progress}: failed: ${describeError(err)}\n`);
          }
        }
      });
      const failed = summary.failed.length;
      ctx.io.out(
        flags.json
          ? toJson(summary)
          : `${dir} → gallery ${flags.gallery}: ${summary.facesAdded} face${summary.facesAdded === 1 ? '' : 's'} added from ${summary.imagesAdded} image${summary.imagesAdded === 1 ? '' : 's'}, ${summary.skipped} skipped (already indexed), ${failed} failed\n`,
      );
      ctx.finish(failed > 0 ? EXIT_FAILURE : 0);
    });
}

function findSummary(label: string, result: SearchResult, picture: string | undefined): string {
  const lines = [`${label}: ${result.faces.length} face${result.faces.length === 1 ? '' : 's'} searched in gallery ${result.gallery} (${result.metric} threshold ${result.threshold.toFixed(4)}${result.approximate ? ', HNSW' : ''}, ${Math.round(result.timeMs)} ms)`];
  result.faces.forEach((face, i) => {
    lines.push(`  ${i + 1}. ${face.box ? formatBox(face.box) : 'embedding'}: ${face.identity ?? 'not in the gallery'}`);
    for (const m of face.matches) lines.push(`       ${m.verified ? '✓' : ' '} ${m.identity}  distance ${m.distance.toFixed(4)}  confidence ${percent(m.confidence)}  (${m.faceId})`);
  });
  if (picture) lines.push(`  picture: ${picture}`);
  return `${lines.join('\n')}\n`;
}

/** Defines `visage find`. */
export function defineFind(command: Command, ctx: CommandContext): void {
  addDetectOptions(addGalleryOptions(command.description('Tell who each face in an image is, among the faces of a gallery').argument('<image>', 'path, URL, base64 string or data: URI')))
    .option('-k, --k <n>', 'matches per face (default 5)', positiveInteger)
    .addOption(new Option('-m, --metric <metric>', 'distance metric (default: cosine)').choices(['cosine', 'euclidean_l2']))
    .option('-t, --threshold <distance>', 'largest distance that names a person (default: calibrated on LFW)', Number)
    .option('-o, --out <file.png>', 'write the query faces beside their best matches, with names and distances')
    .addHelpText(
      'after',
      `
Examples:
  $ visage find visitor.jpg --gallery staff
  $ visage find visitor.jpg --gallery staff --k 3 --json
  $ visage find group.jpg --gallery staff --out who.png`,
    )
    .action(async (input: string, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<FindFlags>();
      const bytes = await loadImageBytes(input, loadOptions(flags));
      await withGallery(flags, async (gallery) => {
        const result = await gallery.search(bytes, { ...detectOptions(flags), k: flags.k, metric: flags.metric, threshold: flags.threshold });
        if (flags.out) {
          const faces = await Promise.all(
            result.faces.map(async (face) => ({
              ...face,
              matches: await Promise.all(face.matches.map(async (m) => ({ ...m, thumbnail: await gallery.thumbnail(m.faceId) }))),
            })),
          );
          await writePicture(flags.out, await renderSearch(await decodeImage(bytes, loadOptions(flags)), faces));
        }
        ctx.io.out(flags.json ? toJson(result) : findSummary(inputLabel(input), result, flags.out));
      });
      ctx.finish(0);
    });
}

/** Defines `visage gallery list|remove`. */
export function defineGallery(command: Command, ctx: CommandContext): void {
  command.description('List galleries and their identities, or remove a gallery, an identity or a face').addHelpText(
    'after',
    `
Examples:
  $ visage gallery list
  $ visage gallery list staff --json      # the identities of one gallery
  $ visage gallery remove staff alice     # one identity (or a face id)
  $ visage gallery remove staff           # the whole gallery`,
  );
  command
    .command('list')
    .description('The galleries, or with NAME the identities of one gallery')
    .argument('[name]', 'gallery')
    .option('--store <file|url>', STORE_HELP)
    .option('--json', 'print the result as JSON on stdout')
    .action(async (name: string | undefined, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<{ store?: string; json?: boolean }>();
      const { store, owned } = await openStore(flags.store);
      try {
        const galleries = await store.list();
        if (name === undefined) {
          ctx.io.out(
            flags.json
              ? toJson(galleries)
              : galleries.length === 0
                ? 'no galleries\n'
                : galleries.map((g) => `${g.name}: ${g.identities} identities, ${g.faces} faces${g.model ? ` (${g.model}, ${g.dimension}-d)` : ''}\n`).join(''),
          );
        } else {
          if (!galleries.some((g) => g.name === name)) throw new VisageError('GALLERY_NOT_FOUND', `No gallery named ${JSON.stringify(name)}`);
          const gallery = await store.open(name, {});
          try {
            const identities = await gallery.identities();
            ctx.io.out(flags.json ? toJson(identities) : identities.map((i) => `${i.identity}: ${i.faces} face${i.faces === 1 ? '' : 's'}\n`).join('') || 'no identities\n');
          } finally {
            await gallery.close();
          }
        }
      } finally {
        if (owned) await store.close();
      }
      ctx.finish(0);
    });
  command
    .command('remove')
    .description('Remove a gallery, or one identity or face of it')
    .argument('<name>', 'gallery')
    .argument('[target]', 'an identity or a face id (default: the whole gallery)')
    .option('--store <file|url>', STORE_HELP)
    .action(async (name: string, target: string | undefined, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<{ store?: string }>();
      const { store, owned } = await openStore(flags.store);
      try {
        if (!(await store.list()).some((g) => g.name === name)) throw new VisageError('GALLERY_NOT_FOUND', `No gallery named ${JSON.stringify(name)}`);
        if (target === undefined) {
          await store.drop(name);
          ctx.io.out(`removed gallery ${name}\n`);
        } else {
          const gallery = await store.open(name, {});
          try {
            const n = await gallery.remove(target);
            if (n === 0) throw new VisageError('INVALID_ARGUMENT', `Gallery ${name} has no identity or face ${JSON.stringify(target)}`);
            ctx.io.out(`removed ${n} face${n === 1 ? '' : 's'} from gallery ${name}\n`);
          } finally {
            await gallery.close();
          }
        }
      } finally {
        if (owned) await store.close();
      }
      ctx.finish(0);
    });
}
