/**
 * How MediaPipe feeds BlazeFace (ImageToTensorCalculator with keep_aspect_ratio, zero border,
 * output range [-1, 1]): the image is letterboxed into a square centred on it, black bars on
 * both sides of the shorter axis, and sampled bilinearly with half-pixel centres (as its GPU path
 * samples a texture). Pixels of the bars are black, so they read -1.
 */
import type { Box, Point, RgbImage } from '../../image/types.js';

/** The square MediaPipe letterboxes an image into: its side and the image's offset in it, in source pixels. */
export interface Letterbox {
  side: number;
  offsetX: number;
  offsetY: number;
}

export function letterboxOf(image: { width: number; height: number }): Letterbox {
  const side = Math.max(image.width, image.height);
  return { side, offsetX: (side - image.width) / 2, offsetY: (side - image.height) / 2 };
}

/** Source rows (or columns) read for each output index, with weights; -1 is outside the image. */
function taps(outSize: number, scale: number, offset: number, extent: number) {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  for (let i = 0; i < outSize; i++) {
    // The output pixel's centre in the source's continuous coordinates, then as a sample position.
    const s = (i + 0.5) * scale - offset - 0.5;
    const i0 = Math.floor(s);
    frac[i] = s - i0;
    lo[i] = i0 >= 0 && i0 < extent ? i0 : -1;
    hi[i] = i0 + 1 >= 0 && i0 + 1 < extent ? i0 + 1 : -1;
  }
  return { lo, hi, frac };
}

/** The network input for one image: NHWC [size, size, 3] in [-1, 1], written into `out` at `at`. */
export function blazeFaceInput(image: RgbImage, size: number, out = new Float32Array(size * size * 3), at = 0): { input: Float32Array; letterbox: Letterbox } {
  const letterbox = letterboxOf(image);
  const scale = letterbox.side / size;
  const rows = taps(size, scale, letterbox.offsetY, image.height);
  const cols = taps(size, scale, letterbox.offsetX, image.width);
  const { data, width } = image;
  const px = (row: number, col: number, k: number) => (row < 0 || col < 0 ? 0 : (data[(row * width + col) * 3 + k] as number));
  for (let y = 0; y < size; y++) {
    const r0 = rows.lo[y] as number;
    const r1 = rows.hi[y] as number;
    const fy = rows.frac[y] as number;
    for (let x = 0; x < size; x++) {
      const c0 = cols.lo[x] as number;
      const c1 = cols.hi[x] as number;
      const fx = cols.frac[x] as number;
      const o = at + (y * size + x) * 3;
      for (let k = 0; k < 3; k++) {
        const top = px(r0, c0, k) + (px(r0, c1, k) - px(r0, c0, k)) * fx;
        const bottom = px(r1, c0, k) + (px(r1, c1, k) - px(r1, c0, k)) * fx;
        out[o + k] = (top + (bottom - top) * fy) / 127.5 - 1;
      }
    }
  }
  return { input: out, letterbox };
}

/** A point relative to the square input (0..1) in source pixels. */
export function toSourcePoint(p: Point, l: Letterbox): Point {
  return { x: p.x * l.side - l.offsetX, y: p.y * l.side - l.offsetY };
}

/** A box relative to the square input in source pixels, clipped to the image. */
export function toSourceBox(box: Box, l: Letterbox, image: { width: number; height: number }): Box {
  const x0 = Math.min(image.width, Math.max(0, box.x * l.side - l.offsetX));
  const y0 = Math.min(image.height, Math.max(0, box.y * l.side - l.offsetY));
  const x1 = Math.min(image.width, Math.max(0, (box.x + box.width) * l.side - l.offsetX));
  const y1 = Math.min(image.height, Math.max(0, (box.y + box.height) * l.side - l.offsetY));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
