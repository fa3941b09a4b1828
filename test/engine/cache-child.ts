/**
 * A process that loads the test network of cache.test.ts into a fresh engine: argv = cache folder,
 * source file, build delay in ms. Prints its compile counts and output as JSON.
 */
import { Engine } from '../../src/engine/index.js';
import { loadAddGraph } from './cache-graph.js';

const [dir, source, delay] = process.argv.slice(2) as [string, string, string];
const engine = new Engine({ threads: 1, cacheDir: dir });
const result = await loadAddGraph(engine, source, Number(delay));
console.log(JSON.stringify({ stats: engine.compileStats, output: result }));
await engine.dispose();
