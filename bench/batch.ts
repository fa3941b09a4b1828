/**
 * Throughput of many images: `represent` one image after another against `representMany`
 * (the next images decoding while one is embedded), on the same images in the same process,
 * interleaved run by run; medians of images per second and their ratio.
 *
 *   node --import tsx bench/batch.ts [folder] [--limit 200] [--runs 3] [--threads N] [--prefetch 1] [--workers N]
 *
 * `folder` (default ../shared/datasets/lfw-dev/images) is searched for images in name order,
 * subfolders included; the first `--limit` are used. `--workers N` adds a third side:
 * representMany with N worker threads (their start-up included in every run).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { expandFolders } from '../src/cli/batch.js';
import { createVisage } from '../src/index.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { limit: { type: 'string', default: '200' }, runs: { type: 'string', default: '3' }, threads: { type: 'string' }, prefetch: { type: 'string', default: '1' }, workers: { type: 'string' } },
});
const folder = path.resolve(positionals[0] ?? path.join(PROJECT_ROOT, '../shared/datasets/lfw-dev/images'));
const limit = Number(args.limit);
const runs = Number(args.runs);
const prefetch = Number(args.prefetch);
const threads = args.threads === undefined ? undefined : Number(args.threads);

// The CLI's folder walk (name order, subfolders included), so the bench reads what `visage represent DIR` would.
const files = (await expandFolders([folder])).slice(0, limit);
const visage = await createVisage(threads === undefined ? {} : { threads });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

const sides: Record<string, () => Promise<number>> = {
  'represent, one by one': async () => {
    let failed = 0;
    for (const file of files) await visage.represent(file, { allowNoFace: true }).catch(() => failed++);
    return failed;
  },
  [`representMany (prefetch ${prefetch})`]: async () => (await visage.representMany(files, { allowNoFace: true, prefetch })).filter((i) => i.error).length,
};
if (args.workers !== undefined) {
  const workers = Number(args.workers);
  sides[`representMany (${workers} workers)`] = async () => (await visage.representMany(files, { allowNoFace: true, prefetch, workers })).filter((i) => i.error).length;
}
// Warm-up: every network loaded and compiled before timing.
await visage.represent(files[0] as string, { allowNoFace: true });
const rates: Record<string, number[]> = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
for (let run = 0; run < runs; run++) {
  for (const [name, side] of Object.entries(sides)) {
    const t0 = performance.now();
    const failed = await side();
    const seconds = (performance.now() - t0) / 1000;
    rates[name]?.push(files.length / seconds);
    process.stderr.write(`run ${run + 1}/${runs} ${name}: ${(files.length / seconds).toFixed(1)} images/s (${failed} failed)\n`);
  }
}
await visage.close();
const [base, ...others] = Object.entries(rates).map(([name, r]) => [name, median(r)] as const);
console.log(`| ${files.length} images of ${folder} | images/s (median of ${runs}) |\n|---|---|`);
for (const [name, r] of Object.entries(rates)) console.log(`| ${name} | ${median(r).toFixed(1)} |`);
for (const [name, rate] of others) console.log(`\n${name} / one by one: ${(rate / (base as readonly [string, number])[1]).toFixed(2)}x`);
