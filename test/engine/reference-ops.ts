/**
 * Plain TypeScript versions of the layers, with TensorFlow semantics on NHWC data, as the
 * independent check of the ONNX graphs the engine builds. Slow and obvious on purpose.
 */
export interface Nhwc {
  data: Float32Array;
  n: number;
  h: number;
  w: number;
  c: number;
}

const at = (t: Nhwc, b: number, y: number, x: number, ch: number): number =>
  t.data[((b * t.h + y) * t.w + x) * t.c + ch] as number;

/** TF output size and leading pad for 'same' / 'valid'. */
function geometry(size: number, k: number, stride: number, padding: 'same' | 'valid') {
  if (padding === 'valid') return { out: Math.floor((size - k) / stride) + 1, before: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  return { out, before: Math.floor(total / 2) };
}

/** Convolution with a [kh, kw, in, out] filter. */
export function conv2d(x: Nhwc, f: Float32Array, k: number, cout: number, bias: Float32Array | null, stride: number, padding: 'same' | 'valid'): Nhwc {
  const gy = geometry(x.h, k, stride, padding);
  const gx = geometry(x.w, k, stride, padding);
  const out: Nhwc = { data: new Float32Array(x.n * gy.out * gx.out * cout), n: x.n, h: gy.out, w: gx.out, c: cout };
  for (let b = 0; b < x.n; b++)
    for (let oy = 0; oy < gy.out; oy++)
      for (let ox = 0; ox < gx.out; ox++)
        for (let o = 0; o < cout; o++) {
          let sum = bias ? (bias[o] as number) : 0;
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const iy = oy * stride + ky - gy.before;
              const ix = ox * stride + kx - gx.before;
              if (iy < 0 || ix < 0 || iy >= x.h || ix >= x.w) continue;
              for (let i = 0; i < x.c; i++) sum += at(x, b, iy, ix, i) * (f[((ky * k + kx) * x.c + i) * cout + o] as number);
            }
          out.data[((b * out.h + oy) * out.w + ox) * cout + o] = sum;
        }
  return out;
}

/** Depthwise convolution with a [kh, kw, C, 1] filter. */
export function depthwise(x: Nhwc, f: Float32Array, k: number, stride: number, padding: 'same' | 'valid'): Nhwc {
  const gy = geometry(x.h, k, stride, padding);
  const gx = geometry(x.w, k, stride, padding);
  const out: Nhwc = { data: new Float32Array(x.n * gy.out * gx.out * x.c), n: x.n, h: gy.out, w: gx.out, c: x.c };
  for (let b = 0; b < x.n; b++)
    for (let oy = 0; oy < gy.out; oy++)
      for (let ox = 0; ox < gx.out; ox++)
        for (let ch = 0; ch < x.c; ch++) {
          let sum = 0;
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const iy = oy * stride + ky - gy.before;
              const ix = ox * stride + kx - gx.before;
              if (iy < 0 || ix < 0 || iy >= x.h || ix >= x.w) continue;
              sum += at(x, b, iy, ix, ch) * (f[(ky * k + kx) * x.c + ch] as number);
            }
          out.data[((b * out.h + oy) * out.w + ox) * x.c + ch] = sum;
        }
  return out;
}

export function batchNorm(x: Nhwc, mean: Float32Array, variance: Float32Array, gamma: Float32Array, beta: Float32Array, eps: number): Nhwc {
  const data = x.data.map((v, i) => {
    const ch = i % x.c;
    return ((v - (mean[ch] as number)) / Math.sqrt((variance[ch] as number) + eps)) * (gamma[ch] as number) + (beta[ch] as number);
  });
  return { ...x, data };
}

/** Max or average pooling; TF's average excludes padded cells. */
export function pool(x: Nhwc, kind: 'max' | 'avg', k: number, stride: number, padding: 'same' | 'valid'): Nhwc {
  const gy = geometry(x.h, k, stride, padding);
  const gx = geometry(x.w, k, stride, padding);
  const out: Nhwc = { data: new Float32Array(x.n * gy.out * gx.out * x.c), n: x.n, h: gy.out, w: gx.out, c: x.c };
  for (let b = 0; b < x.n; b++)
    for (let oy = 0; oy < gy.out; oy++)
      for (let ox = 0; ox < gx.out; ox++)
        for (let ch = 0; ch < x.c; ch++) {
          let acc = kind === 'max' ? -Infinity : 0;
          let count = 0;
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const iy = oy * stride + ky - gy.before;
              const ix = ox * stride + kx - gx.before;
              if (iy < 0 || ix < 0 || iy >= x.h || ix >= x.w) continue;
              const v = at(x, b, iy, ix, ch);
              acc = kind === 'max' ? Math.max(acc, v) : acc + v;
              count++;
            }
          out.data[((b * out.h + oy) * out.w + ox) * x.c + ch] = kind === 'max' ? acc : acc / count;
        }
  return out;
}

/** Dense layer on [N, in] rows with [in, out] weights. */
export function dense(rows: Float32Array, n: number, w: Float32Array, cout: number, bias: Float32Array): Float32Array {
  const cin = rows.length / n;
  const out = new Float32Array(n * cout);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < cout; o++) {
      let sum = bias[o] as number;
      for (let i = 0; i < cin; i++) sum += (rows[b * cin + i] as number) * (w[i * cout + o] as number);
      out[b * cout + o] = sum;
    }
  return out;
}

export function softmaxRows(x: Float32Array, n: number): Float32Array {
  const width = x.length / n;
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) {
    const row = x.subarray(b * width, (b + 1) * width);
    const max = Math.max(...row);
    const exps = Array.from(row, (v) => Math.exp(v - max));
    const total = exps.reduce((a, v) => a + v, 0);
    exps.forEach((e, i) => (out[b * width + i] = e / total));
  }
  return out;
}

export const relu6 = (x: Nhwc): Nhwc => ({ ...x, data: x.data.map((v) => Math.min(6, Math.max(0, v))) });

/** Global mean over H and W: [N, C] rows. */
export function globalMean(x: Nhwc): Float32Array {
  const out = new Float32Array(x.n * x.c);
  for (let b = 0; b < x.n; b++)
    for (let y = 0; y < x.h; y++)
      for (let xx = 0; xx < x.w; xx++)
        for (let ch = 0; ch < x.c; ch++) out[b * x.c + ch] = (out[b * x.c + ch] as number) + at(x, b, y, xx, ch) / (x.h * x.w);
  return out;
}
