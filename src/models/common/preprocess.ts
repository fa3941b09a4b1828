/**
 * Pre-processing shared by the face-api networks, matching the reference step by step:
 * crops are taken with integer (floored, clipped) boxes, padded to a square with zeros, and
 * resized with TF's resizeBilinear (no corner alignment, no half-pixel centres).
 */
import { VisageError } from '../../errors.js';
import type { Box, RgbImage } from '../../image/types.js';
import type { Pixels } from '../../image/warp.js';

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

/**
 * A face crop without a copy: an integer box (inside the image) of decoded pixels. The crop
 * networks pad and resize it to their input straight from the source.
 */
export interface ImageRegion {
  image: Pixels;
  box: Box;
}

/** What the face-api crop networks take: a float crop, or a region of a decoded image. */
export type CropSource = FloatImage | ImageRegion;

/** A crop source as a region: a float crop is the whole of itself. */
export function asRegion(crop: CropSource): ImageRegion {
  return 'box' in crop ? crop : { image: crop, box: { x: 0, y: 0, width: crop.width, height: crop.height } };
}

/** Width and height of a crop source. */
export function cropSize(crop: CropSource): { width: number; height: number } {
  return 'box' in crop ? { width: crop.box.width, height: crop.box.height } : { width: crop.width, height: crop.height };
}

/** face-api's NetInput.toBatchTensor for one image: pad to square, resize to size x size. */
export function toSquareInput(src: FloatImage, size: number, centre = false): { input: FloatImage; padding: SquarePadding } {
  return regionToSquareInput(asRegion(src), size, centre);
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
 * One source row interpolated between columns: `buf[x]` = left + (right - left) * fx, with `lo`
 * and `hi` the element offsets of each output column's two source pixels in the row (-1 in the
 * padding, which reads as zero). Columns `first` to `last` read both pixels inside the image.
 */
function interpolateRow(data: Uint8Array | Float32Array, base: number, cols: ColumnTaps, buf: Float64Array): void {
  const { lo, hi, frac, first, last } = cols;
  for (let x = first, o = first * 3; x <= last; x++, o += 3) {
    const l = base + (lo[x] as number);
    const r = base + (hi[x] as number);
    const fx = frac[x] as number;
    const a0 = data[l] as number;
    const a1 = data[l + 1] as number;
    const a2 = data[l + 2] as number;
    buf[o] = a0 + ((data[r] as number) - a0) * fx;
    buf[o + 1] = a1 + ((data[r + 1] as number) - a1) * fx;
    buf[o + 2] = a2 + ((data[r + 2] as number) - a2) * fx;
  }
  // The columns at the padding (either side of the image, or all of them when none is inside).
  for (let x = 0, o = 0; x < lo.length; x++, o += 3) {
    if (x === first) {
      x = last;
      o = last * 3;
      continue;
    }
    const l = lo[x] as number;
    const r = hi[x] as number;
    const fx = frac[x] as number;
    for (let k = 0; k < 3; k++) {
      const left = l < 0 ? 0 : (data[base + l + k] as number);
      const right = r < 0 ? 0 : (data[base + r + k] as number);
      buf[o + k] = left + (right - left) * fx;
    }
  }
}

/** The column taps as element offsets into a row, and the span of columns that read only the image. */
interface ColumnTaps {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float64Array;
  /** First and last output column with both source pixels in the image (first > last: none). */
  first: number;
  last: number;
}

function columnTaps(inSize: number, outSize: number, offset: number, extent: number): ColumnTaps {
  const { lo, hi, frac } = bilinearTaps(inSize, outSize, offset, extent);
  let first = -1;
  let last = -2;
  for (let x = 0; x < outSize; x++) {
    const inside = (lo[x] as number) >= 0 && (hi[x] as number) >= 0;
    if (inside && first < 0) first = x;
    if (inside) last = x;
    lo[x] = (lo[x] as number) < 0 ? -1 : (lo[x] as number) * 3;
    hi[x] = (hi[x] as number) < 0 ? -1 : (hi[x] as number) * 3;
  }
  // The inside columns are one run: the padding lies only before and after the image.
  return { lo, hi, frac, first, last };
}

/**
 * Writes the padded, resized square of a 3-channel region (resizeBilinear(padToSquare(crop)),
 * the same values) into `out` from `offset`, reading the source pixels in place. TF's bilinear
 * step is separable as written (each row first, then between rows), so each source row is
 * interpolated once, into one of two buffers (output rows only move down, so two are enough).
 */
function squareInto(region: ImageRegion, size: number, padding: SquarePadding, out: Float32Array, offset: number): void {
  const { image, box } = region;
  const { data } = image;
  const stride = image.width * 3;
  const origin = box.y * stride + box.x * 3;
  const n = size * 3;
  // Already a square of the output size: every tap falls on its own pixel, so the rows are copied.
  if (padding.size === size && box.width === size && box.height === size) {
    for (let y = 0; y < size; y++) {
      const from = origin + y * stride;
      if (data instanceof Float32Array) out.set(data.subarray(from, from + n), offset + y * n);
      else for (let i = 0; i < n; i++) out[offset + y * n + i] = data[from + i] as number;
    }
    return;
  }
  const rows = bilinearTaps(padding.size, size, padding.offsetY, box.height);
  const cols = columnTaps(padding.size, size, padding.offsetX, box.width);
  const zeros = new Float64Array(n);
  const bufA = new Float64Array(n);
  const bufB = new Float64Array(n);
  let rowA = -1;
  let rowB = -1;
  // Source row r from the buffer that holds it, else interpolated into the buffer `keep` is not.
  const rowOf = (r: number, keep: Float64Array | undefined): Float64Array => {
    if (r < 0) return zeros;
    if (r === rowA) return bufA;
    if (r === rowB) return bufB;
    const intoB = keep === bufA;
    const buf = intoB ? bufB : bufA;
    interpolateRow(data, origin + r * stride, cols, buf);
    if (intoB) rowB = r;
    else rowA = r;
    return buf;
  };
  for (let y = 0; y < size; y++) {
    const r0 = rows.lo[y] as number;
    const r1 = rows.hi[y] as number;
    const fy = rows.frac[y] as number;
    // The top row must not overwrite a buffer that already holds the bottom row.
    const top = rowOf(r0, r1 === rowA ? bufA : r1 === rowB ? bufB : undefined);
    const bottom = rowOf(r1, top);
    const o = offset + y * n;
    // t + (b - t) * 0 is t: a row that falls on a source row is copied.
    if (fy === 0 || top === bottom) {
      for (let i = 0; i < n; i++) out[o + i] = top[i] as number;
    } else {
      for (let i = 0; i < n; i++) {
        const t = top[i] as number;
        out[o + i] = t + ((bottom[i] as number) - t) * fy;
      }
    }
  }
}

/** The region, checked to be non-empty with 3 channels and an integer box inside its image (what squareInto reads). */
function checkedRegion(region: ImageRegion): ImageRegion {
  const { box, image } = region;
  if (box.width < 1 || box.height < 1 || image.channels !== 3) {
    throw new VisageError('INVALID_ARGUMENT', `Expected a non-empty 3-channel face crop but received ${box.width}x${box.height}x${image.channels}`);
  }
  const inside = [box.x, box.y, box.width, box.height].every(Number.isInteger) && box.x >= 0 && box.y >= 0 && box.x + box.width <= image.width && box.y + box.height <= image.height;
  if (!inside) {
    throw new VisageError('INVALID_ARGUMENT', `Expected an integer box inside the ${image.width}x${image.height} image for a face crop but received ${JSON.stringify(box)}`);
  }
  return region;
}

/** toSquareInput of a region, read in place (no crop, padding or float copy of the source). */
export function regionToSquareInput(region: ImageRegion, size: number, centre = false): { input: FloatImage; padding: SquarePadding } {
  const { width, height } = checkedRegion(region).box;
  const padding = squarePadding(width, height, centre);
  const out = new Float32Array(size * size * 3);
  squareInto(region, size, padding, out, 0);
  return { input: { data: out, width: size, height: size, channels: 3 }, padding };
}

/** Crops as one NHWC batch of centred squares (as `toSquareInput(crop, size, true)`), written in place. */
export function cropSquareBatch(crops: readonly CropSource[], size: number): Float32Array {
  const perCrop = size * size * 3;
  const batch = new Float32Array(crops.length * perCrop);
  crops.forEach((crop, i) => {
    const region = checkedRegion(asRegion(crop));
    const { width, height } = region.box;
    squareInto(region, size, squarePadding(width, height, true), batch, i * perCrop);
  });
  return batch;
}

const wholeImage = (image: RgbImage): ImageRegion => ({ image: { ...image, channels: 3 }, box: { x: 0, y: 0, width: image.width, height: image.height } });

/**
 * toSquareInput straight from 8-bit RGB, padding and resizing in one pass: the same values as
 * `toSquareInput(toFloatImage(image), size, centre)` without full-size float copies (for a large
 * photo those copies cost as much as a detector network).
 */
export function rgbToSquareInput(image: RgbImage, size: number, centre = false): { input: FloatImage; padding: SquarePadding } {
  return regionToSquareInput(wholeImage(image), size, centre);
}

/** Images as one NHWC batch of padded, resized squares (as `rgbToSquareInput`), with each padding. */
export function rgbSquareBatch(images: readonly RgbImage[], size: number): { batch: Float32Array; paddings: SquarePadding[] } {
  const perImage = size * size * 3;
  const batch = new Float32Array(images.length * perImage);
  const paddings = images.map((image, i) => {
    const padding = squarePadding(image.width, image.height, false);
    squareInto(wholeImage(image), size, padding, batch, i * perImage);
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

/** A crop mirrored left to right, as a float image (a region is read in place). */
export function mirror(crop: CropSource): FloatImage {
  const { image, box } = asRegion(crop);
  const { width, height } = box;
  const c = image.channels;
  const src = image.data;
  const data = new Float32Array(width * height * c);
  // Element by element: a subarray per pixel costs more than the copy (a hot loop in recognition).
  for (let y = 0; y < height; y++) {
    const row = y * width * c;
    const source = ((box.y + y) * image.width + box.x) * c;
    for (let x = 0; x < width; x++) {
      const from = source + x * c;
      const to = row + (width - 1 - x) * c;
      for (let k = 0; k < c; k++) data[to + k] = src[from + k] as number;
    }
  }
  return { data, width, height, channels: c };
}

