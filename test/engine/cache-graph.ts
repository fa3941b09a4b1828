/** The small network the disk-cache tests load: y = x + c, with c read from a source file. */
import { readFile } from 'node:fs/promises';
import { GraphBuilder, type Engine } from '../../src/engine/index.js';

export const CACHE_TEST_VERSION = 1;

/** Loads `y = x + c` (c: the source file's bytes as floats) and runs it on x = 0..n-1. */
export async function loadAddGraph(engine: Engine, source: string, onBuild?: () => void | Promise<void>): Promise<number[]> {
  const model = await engine.load(
    `cache-test:${source}`,
    async () => {
      await onBuild?.();
      const c = Float32Array.from(await readFile(source));
      const g = new GraphBuilder('cache_test');
      const x = g.input('x', [c.length]);
      g.output(g.node('Add', [x, g.constant('c', c, [c.length])]), 'y', [c.length]);
      return g.toBytes();
    },
    { sources: [source], version: CACHE_TEST_VERSION },
  );
  const n = (await readFile(source)).length;
  const out = await model.run({ x: { data: Float32Array.from({ length: n }, (_, i) => i), dims: [n] } });
  return Array.from(out.y?.data ?? []);
}
