/**
 * Decoding the shipped photos with sharp on one libvips thread and on more (what
 * `allowDecodeThreads` lets an instance do), alternated round by round; medians of the
 * rounds after a warm-up, with the pixels checked to be the same.
 *
 *   node --import tsx bench/decode.ts [--rounds 7] [--threads 2]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { decodeImage } from '../src/image/index.js';
import { shippedPhotos } from './lib/shipped-photos.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, threads: { type: 'string', default: '2' } } });
const rounds = Number(args.rounds);
const threads = Number(args.threads);
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(threads) || threads < 2) {
  throw new Error('Usage: node --import tsx bench/decode.ts [--rounds N >= 1] [--threads N >= 2]');
}

const files = await shippedPhotos();
const bytes = await Promise.all(files.map((f) => readFile(f)));
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const settings = [1, threads];
const times = new Map(settings.map((c) => [c, [] as number[]]));
const pixels = new Map<number, Buffer[]>();
for (let r = 0; r <= rounds; r++) {
  for (const c of settings) {
    sharp.concurrency(c);
    const t0 = performance.now();
    const decoded = [];
    for (const b of bytes) decoded.push(await decodeImage(b));
    if (r > 0) times.get(c)?.push(performance.now() - t0);
    pixels.set(c, decoded.map((d) => Buffer.from(d.data)));
  }
}
const same = (pixels.get(1) ?? []).every((p, i) => p.equals(pixels.get(threads)?.[i] ?? Buffer.alloc(0)));
const [one, many] = settings.map((c) => median(times.get(c) ?? []));
console.log(`${files.length} photos, ${rounds} rounds: decodeImage on 1 thread ${one?.toFixed(0)} ms, on ${threads} ${many?.toFixed(0)} ms (${((one ?? 0) / (many ?? 1)).toFixed(2)}x); pixels ${same ? 'identical' : 'DIFFERENT'}`);
