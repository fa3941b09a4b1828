/**
 * A second process for the concurrency tests: adds `count` embeddings, one add per call, to
 * gallery `name` of `store` (a SQLite file or a postgres:// URL), under identities `<prefix>-<n>`.
 * Usage: node --import tsx test/gallery/writer.ts <store> <name> <prefix> <count>
 */
import { createVisage } from '../../src/index.js';

const [store, name, prefix, count] = process.argv.slice(2);
if (!store || !name || !prefix || !count) throw new Error('usage: writer.ts <store> <name> <prefix> <count>');
const visage = await createVisage({ threads: 1 });
const gallery = await visage.gallery(name, { store });
try {
  for (let i = 0; i < Number(count); i++) {
    const embedding = Array.from({ length: 128 }, (_, d) => Math.sin((i + 1) * (d + 1) + prefix.charCodeAt(0)) + (d === 0 ? 2 : 0));
    await gallery.add(`${prefix}-${i % 10}`, embedding, { metadata: { i } });
  }
} finally {
  await gallery.close();
  await visage.close();
}
