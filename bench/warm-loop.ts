/**
 * One warm process, round after round of verify + analyze + represent on face-api's group photos:
 * the median round time and the process's RSS at the end. For comparing allocator settings set
 * through the environment (each variant in a fresh process, interleaved), e.g.
 *
 *   node --import tsx bench/warm-loop.ts [--rounds 8]
 *   MALLOC_ARENA_MAX=2 node --import tsx bench/warm-loop.ts
 *   LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 node --import tsx bench/warm-loop.ts
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createVisage } from '../src/index.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '8' }, threads: { type: 'string', default: '2' } } });
const demo = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
const photo = (k: number) => path.join(demo, `sample${1 + (k % 6)}.jpg`);
const visage = await createVisage({ threads: Number(args.threads) });
const round = async (k: number) => {
  await visage.verify(photo(k), photo(k + 1));
  await visage.analyze(photo(k + 2));
  await visage.represent(photo(k + 3));
};
await round(0); // warm-up: every network loaded
const times: number[] = [];
for (let k = 1; k <= Number(args.rounds); k++) {
  const t0 = performance.now();
  await round(k);
  times.push(performance.now() - t0);
}
const rss = Number(/VmRSS:\s+(\d+)/.exec(await readFile('/proc/self/status', 'utf8'))?.[1]) / 1024;
await visage.close();
times.sort((a, b) => a - b);
console.log(`median round ${(times[times.length >> 1] as number).toFixed(0)} ms over ${times.length} rounds; RSS ${rss.toFixed(0)} MB`);
