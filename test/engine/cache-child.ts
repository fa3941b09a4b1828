/**
 * A process that loads the test network of cache.test.ts into a fresh engine: argv = cache folder,
 * source file, a barrier folder and the number of processes. Its build waits at the barrier until
 * every process is building, so that they all write the cache at once. Prints its compile counts
 * and output as JSON.
 */
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Engine } from '../../src/engine/index.js';
import { loadAddGraph } from './cache-graph.js';

const [dir, source, barrier, count] = process.argv.slice(2) as [string, string, string, string];
const engine = new Engine({ threads: 1, cacheDir: dir });
const result = await loadAddGraph(engine, source, async () => {
  await writeFile(path.join(barrier, String(process.pid)), '');
  const deadline = Date.now() + 60_000;
  while ((await readdir(barrier)).length < Number(count)) {
    if (Date.now() > deadline) throw new Error('barrier: the other processes never started building');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});
console.log(JSON.stringify({ stats: engine.compileStats, output: result }));
await engine.dispose();
