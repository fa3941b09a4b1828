/**
 * Pre-processing shared by the face-api networks, matching the reference step by step:
 * crops are taken with integer (floored, clipped) boxes, padded to a square with zeros, and
 * resized with TF's resizeBilinear (no corner alignment, no half-pixel centres).
 */
import type { Box, RgbImage } from '../../image/types.js';

/** A float image, HWC interleaved, values as 0..255. */
export interface FloatImage {
  data: Float32Array;
  width: number;
  height: number;
  channels: number;
}

export function toFloatImage(image: RgbImage): FloatImage {
  return { data: Float32Array.from(image.data), width: image.width, height: image.height, channels: 3 };
}

/**
 * TF resizeBilinear with alignCorners = false and halfPixelCenters = false: source coordinate
 * = dst * (in / out), neighbours floor and min(ceil, in - 1).
 */
export function resizeBilinear(src: FloatImage, outWidth: number, outHeight: number): FloatImage {
  const { width: inW, height: inH, channels: c, data } = src;
  if (inW === outWidth && inH === outHeight) return src;
  const out = new Float32Array(outWidth * outHeight * c);
  const scaleY = inH / outHeight;
  const scaleX = inW / outWidth;
  for (let y = 0; y < outHeight; y++) {
    const sy = y * scaleY;
    const y0 = Math.floor(sy);
    const y1 = Math.min(inH - 1, Math.ceil(sy));
    const fy = sy - y0;
    for (let x = 0; x < outWidth; x++) {
      const sx = x * scaleX;
      const x0 = Math.floor(sx);
      const x1 = Math.min(inW - 1, Math.ceil(sx));
      const fx = sx - x0;
      const o = (y * outWidth + x) * c;
      const tl = (y0 * inW + x0) * c;
      const tr = (y0 * inW + x1) * c;
      const bl = (y1 * inW + x0) * c;
      const br = (y1 * inW + x1) * c;
      for (let k = 0; k < c; k++) {
        const top = (data[tl + k] as number) + ((data[tr + k] as number) - (data[tl + k] as number)) * fx;
        const bottom = (data[bl + k] as number) + ((data[br + k] as number) - (data[bl + k] as number)) * fx;
        out[o + k] = top + (bottom - top) * fy;
      }
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels: c };
}

/** Where the original image sits inside its padded square. */
export interface SquarePadding {
  /** Side of the padded square, in source pixels. */
  size: number;
  offsetX: number;
  offsetY: number;
}

/**
 * face-api's padToSquare: zeros appended after the image (bottom or right), or split around it
 * when `centre` is set (round(diff / 2) after, the rest before).
 */
export function padToSquare(src: FloatImage, centre = false): { image: FloatImage; padding: SquarePadding } {
  const { width, height, channels: c } = src;
  const size = Math.max(width, height);
  if (width === height) return { image: src, padding: { size, offsetX: 0, offsetY: 0 } };
  const diff = size - Math.min(width, height);
  const after = Math.round(diff * (centre ? 0.5 : 1));
  const before = diff - after;
  const offsetX = width < height ? before : 0;
  const offsetY = height < width ? before : 0;
  const out = new Float32Array(size * size * c);
  for (let y = 0; y < height; y++) {
    out.set(src.data.subarray(y * width * c, (y + 1) * width * c), ((y + offsetY) * size + offsetX) * c);
  }
  return { image: { data: out, width: size, height: size, channels: c }, padding: { size, offsetX, offsetY } };
}

/** face-api's NetInput.toBatchTensor for one image: pad to square, resize to size x size. */
export function toSquareInput(src: FloatImage, size: number, centre = false): { input: FloatImage; padding: SquarePadding } {
  const { image, padding } = padToSquare(src, centre);
  return { input: resizeBilinear(image, size, size), padding };
}

/** Source rows (or columns) and weights TF's resizeBilinear reads for each output index. */
function bilinearTaps(inSize: number, outSize: number, offset: number, extent: number) {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  const scale = inSize / outSize;
  const inImage = (i: number) => (i - offset >= 0 && i - offset < extent ? i - offset : -1);
  for (let i = 0; i < outSize; i++) {
    const s = i * scale;
    const i0 = Math.floor(s);
    frac[i] = s - i0;
    // Positions in the padding are -1 (they read as zero).
    lo[i] = inImage(i0);
    hi[i] = inImage(Math.min(inSize - 1, Math.ceil(s)));
  }
  return { lo, hi, frac };
}

/** The padding toSquareInput puts around an image of this size. */
function squarePadding(width: number, height: number, centre: boolean): SquarePadding {
  const side = Math.max(width, height);
  const diff = side - Math.min(width, height);
  const before = diff - Math.round(diff * (centre ? 0.5 : 1));
  return { size: side, offsetX: width < height ? before : 0, offsetY: height < width ? before : 0 };
}

/**
 * Writes rgbToSquareInput's values for `image` into `out` from `offset`. TF's bilinear step is
 * separable as written (each row first, then between rows), so each source row is interpolated
 * once, into one of two buffers (output rows only move down, so two are enough).
 */
function squareInto(image: RgbImage, size: number, padding: SquarePadding, out: Float32Array, offset: number): void {
  const { width, height, data } = image;
  const rows = bilinearTaps(padding.size, size, padding.offsetY, height);
  const cols = bilinearTaps(padding.size, size, padding.offsetX, width);
  const n = size * 3;
  const zeros = new Float64Array(n);
  const buffers = [new Float64Array(n), new Float64Array(n)] as const;
  const held = [-1, -1];
  const { lo, hi, frac } = cols;
  // The interpolated source `row`, in a buffer other than the one holding `keep`.
  const interpolatedRow = (row: number, keep: number): Float64Array => {
    if (row < 0) return zeros;
    if (held[0] === row) return buffers[0];
    if (held[1] === row) return buffers[1];
    const slot = held[0] === keep && keep >= 0 ? 1 : 0;
    const buf = buffers[slot];
    held[slot] = row;
    const base = row * width * 3;
    for (let x = 0, o = 0; x < size; x++, o += 3) {
      const c0 = lo[x] as number;
      const c1 = hi[x] as number;
      const fx = frac[x] as number;
      if (c0 >= 0 && c1 >= 0) {
        const l = base + c0 * 3;
        const r = base + c1 * 3;
        for (let k = 0; k < 3; k++) {
          const left = data[l + k] as number;
          buf[o + k] = left + ((data[r + k] as number) - left) * fx;
        }
      } else {
        for (let k = 0; k < 3; k++) {
          const left = c0 < 0 ? 0 : (data[base + c0 * 3 + k] as number);
          const right = c1 < 0 ? 0 : (data[base + c1 * 3 + k] as number);
          buf[o + k] = left + (right - left) * fx;
        }
      }
    }
    return buf;
  };
  for (let y = 0; y < size; y++) {
    const r0 = rows.lo[y] as number;
    const r1 = rows.hi[y] as number;
    const top = interpolatedRow(r0, r1);
    const bottom = interpolatedRow(r1, r0);
    const fy = rows.frac[y] as number;
    const o = offset + y * n;
    for (let i = 0; i < n; i++) {
      const t = top[i] as number;
      out[o + i] = t + ((bottom[i] as number) - t) * fy;
    }
  }
}

/**
 * toSquareInput straight from 8-bit RGB, padding and resizing in one pass: the same values as
 * `toSquareInput(toFloatImage(image), size, centre)` without full-size float copies (for a large
 * photo those copies cost as much as a detector network).
 */
export function rgbToSquareInput(image: RgbImage, size: number, centre = false): { input: FloatImage; padding: SquarePadding } {
  const padding = squarePadding(image.width, image.height, centre);
  const out = new Float32Array(size * size * 3);
  squareInto(image, size, padding, out, 0);
  return { input: { data: out, width: size, height: size, channels: 3 }, padding };
}

/** Images as one NHWC batch of padded, resized squares (as `rgbToSquareInput`), with each padding. */
export function rgbSquareBatch(images: readonly RgbImage[], size: number): { batch: Float32Array; paddings: SquarePadding[] } {
  const perImage = size * size * 3;
  const batch = new Float32Array(images.length * perImage);
  const paddings = images.map((image, i) => {
    const padding = squarePadding(image.width, image.height, false);
    squareInto(image, size, padding, batch, i * perImage);
    return padding;
  });
  return { batch, paddings };
}

/**
 * face-api's box.clipAtImageBorders: clip the corner to the image, limit the size to what is
 * left, then floor x, y, width and height each (so a crop may lose a pixel at the far edge).
 */
export function clipBox(box: Box, width: number, height: number): Box {
  const x = Math.max(box.x, 0);
  const y = Math.max(box.y, 0);
  const w = Math.min(box.x + box.width - x, width - x);
  const h = Math.min(box.y + box.height - y, height - y);
  return { x: Math.floor(x), y: Math.floor(y), width: Math.max(0, Math.floor(w)), height: Math.max(0, Math.floor(h)) };
}

/** Crops an integer box (already clipped) out of a float image. */
export function crop(src: FloatImage, box: Box): FloatImage {
  const { channels: c } = src;
  const out = new Float32Array(box.width * box.height * c);
  for (let y = 0; y < box.height; y++) {
    const from = ((box.y + y) * src.width + box.x) * c;
    out.set(src.data.subarray(from, from + box.width * c), y * box.width * c);
  }
  return { data: out, width: box.width, height: box.height, channels: c };
}

/** A crop mirrored left to right. */
export function mirror(image: FloatImage): FloatImage {
  const { width, height, channels: c } = image;
  const src = image.data;
  const data = new Float32Array(src.length);
  // Element by element: a subarray per pixel costs more than the copy (a hot loop in recognition).
  for (let y = 0; y < height; y++) {
    const row = y * width * c;
    for (let x = 0; x < width; x++) {
      const from = row + x * c;
      const to = row + (width - 1 - x) * c;
      for (let k = 0; k < c; k++) data[to + k] = src[from + k] as number;
    }
  }
  return { data, width, height, channels: c };
}

