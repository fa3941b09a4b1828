/**
 * The TFLite oracle: Google's LiteRT runtime (@litertjs/core, its wasm CPU build) run in Node.
 * LiteRT.js is written for browsers and workers; the few globals it looks for are provided here:
 * `self`, a synchronous `importScripts` that loads the emscripten factory through require, a
 * `fetch` that reads the package's own wasm files, and no MessageChannel (no threads).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
type LiteRt = typeof import('@litertjs/core');
let loaded: Promise<LiteRt> | undefined;

async function load(): Promise<LiteRt> {
  const g = globalThis as Record<string, unknown>;
  g.self ??= globalThis;
  g.importScripts = (...urls: string[]) => {
    for (const u of urls) g.ModuleFactory = require(u.startsWith('file:') ? fileURLToPath(u) : u);
  };
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    const u = String(url instanceof Request ? url.url : url);
    if (u.startsWith('file:')) return new Response(await readFile(fileURLToPath(u)), { headers: { 'content-type': 'application/wasm' } });
    return realFetch(url, init);
  }) as typeof fetch;
  delete g.MessageChannel;
  const lite = await import('@litertjs/core');
  const wasmDir = path.join(path.dirname(require.resolve('@litertjs/core/package.json')), 'wasm') + path.sep;
  await lite.loadLiteRt(pathToFileURL(wasmDir).href as Parameters<LiteRt['loadLiteRt']>[0]);
  return lite;
}

export interface LiteRtOutput {
  data: Float32Array;
  dims: number[];
}

/** A TFLite model compiled once on LiteRT's CPU runtime, for many runs. */
export interface LiteRtRunner {
  /** Float32 inputs in, float32 outputs out, in declared order. */
  run(inputs: { data: Float32Array; dims: number[] }[]): Promise<LiteRtOutput[]>;
  close(): void;
}

/** Compiles a TFLite model (bytes) on LiteRT's CPU runtime (compiling takes longer than a run of most models). */
export async function liteRtRunner(model: Uint8Array): Promise<LiteRtRunner> {
  loaded ??= load();
  const lite = await loaded;
  const compiled = await lite.loadAndCompile(model, { accelerator: 'wasm' });
  return {
    async run(inputs) {
      const tensors = inputs.map((x) => new lite.Tensor(x.data, x.dims));
      const out = await compiled.run(tensors);
      tensors.forEach((t) => t.delete());
      return out.map((t) => {
        const data = Float32Array.from(t.toTypedArray() as Float32Array);
        const dims = Array.from(t.type.layout.dimensions);
        t.delete();
        return { data, dims };
      });
    },
    close: () => compiled.delete(),
  };
}

/** Runs a TFLite model (bytes) once on LiteRT's CPU runtime: float32 inputs in, float32 outputs out, in declared order. */
export async function runLiteRt(model: Uint8Array, inputs: { data: Float32Array; dims: number[] }[]): Promise<LiteRtOutput[]> {
  const runner = await liteRtRunner(model);
  try {
    return await runner.run(inputs);
  } finally {
    runner.close();
  }
}
