/**
 * Geometry over raw pixels that sharp lacks: a similarity transform estimated from point pairs,
 * and an affine warp with bilinear sampling.
 */
import type { Point } from './types.js';

/** Float pixels, HWC interleaved. Same shape as the models' FloatImage. */
export interface Pixels {
  data: Float32Array | Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** x' = a*x - b*y + tx, y' = b*x + a*y + ty: rotation, uniform scale and shift. */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** Least-squares similarity taking `from` points onto `to` points (Umeyama, no reflection). */
export function estimateSimilarity(from: readonly Point[], to: readonly Point[]): Similarity {
  if (from.length !== to.length || from.length < 2) {
    throw new Error(`Expected at least 2 matching point pairs but received ${from.length} and ${to.length}`);
  }
  const n = from.length;
  const mean = (pts: readonly Point[]) => ({ x: pts.reduce((s, p) => s + p.x, 0) / n, y: pts.reduce((s, p) => s + p.y, 0) / n });
  const mf = mean(from);
  const mt = mean(to);
  let sxx = 0;
  let sxy = 0;
  let variance = 0;
  for (let i = 0; i < n; i++) {
    const fx = (from[i] as Point).x - mf.x;
    const fy = (from[i] as Point).y - mf.y;
    const tx = (to[i] as Point).x - mt.x;
    const ty = (to[i] as Point).y - mt.y;
    sxx += fx * tx + fy * ty;
    sxy += fx * ty - fy * tx;
    variance += fx * fx + fy * fy;
  }
  if (variance === 0) throw new Error('Cannot estimate a similarity from coincident points');
  const a = sxx / variance;
  const b = sxy / variance;
  return { a, b, tx: mt.x - (a * mf.x - b * mf.y), ty: mt.y - (b * mf.x + a * mf.y) };
}

export function applySimilarity(t: Similarity, p: Point): Point {
  return { x: t.a * p.x - t.b * p.y + t.tx, y: t.b * p.x + t.a * p.y + t.ty };
}

export function invertSimilarity(t: Similarity): Similarity {
  const d = t.a * t.a + t.b * t.b;
  const a = t.a / d;
  const b = -t.b / d;
  return { a, b, tx: -(a * t.tx - b * t.ty), ty: -(b * t.tx + a * t.ty) };
}

/**
 * Renders an output image of `width` x `height` where each output pixel (x, y) samples the
 * source at `outputToSource(x, y)` bilinearly; outside the source is black (0), like padding.
 */
export function warpSimilarity(src: Pixels, outputToSource: Similarity, width: number, height: number): Pixels & { data: Float32Array } {
  const { channels: c, data } = src;
  const { a, b, tx, ty } = outputToSource;
  const out = new Float32Array(width * height * c);
  const w = src.width;
  const h = src.height;
  // The arithmetic of applySimilarity and the bilinear blend, inlined: a closure and a point
  // object per pixel cost more than the sampling (a 150-pixel chip is 22,500 pixels).
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = a * x - b * y + tx;
      const sy = b * x + a * y + ty;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const o = (y * width + x) * c;
      // Outside the source reads as 0, per corner.
      const inX0 = x0 >= 0 && x0 < w;
      const inX1 = x0 + 1 >= 0 && x0 + 1 < w;
      const inY0 = y0 >= 0 && y0 < h;
      const inY1 = y0 + 1 >= 0 && y0 + 1 < h;
      const p00 = inX0 && inY0 ? (y0 * w + x0) * c : -1;
      const p10 = inX1 && inY0 ? (y0 * w + x0 + 1) * c : -1;
      const p01 = inX0 && inY1 ? ((y0 + 1) * w + x0) * c : -1;
      const p11 = inX1 && inY1 ? ((y0 + 1) * w + x0 + 1) * c : -1;
      for (let k = 0; k < c; k++) {
        const s00 = p00 < 0 ? 0 : (data[p00 + k] as number);
        const s10 = p10 < 0 ? 0 : (data[p10 + k] as number);
        const s01 = p01 < 0 ? 0 : (data[p01 + k] as number);
        const s11 = p11 < 0 ? 0 : (data[p11 + k] as number);
        const top = s00 * (1 - fx) + s10 * fx;
        const bottom = s01 * (1 - fx) + s11 * fx;
        out[o + k] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return { data: out, width, height, channels: c };
}
