/**
 * The photos that ship with the reference packages, the benches' common test set: face-api's demo
 * sample1..6 and @vladmandic/human's assets/*.jpg (11 photos, 112 faces by SSD).
 */
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const demoDir = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
// @vladmandic/human does not export its package.json: its folder is found from the project root.
const humanDir = path.resolve(import.meta.dirname, '../../node_modules/@vladmandic/human/assets');

/** Paths of the shipped photos, in a fixed order. */
export async function shippedPhotos(): Promise<string[]> {
  return [
    ...[1, 2, 3, 4, 5, 6].map((i) => path.join(demoDir, `sample${i}.jpg`)),
    ...(await readdir(humanDir)).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(humanDir, f)),
  ];
}
