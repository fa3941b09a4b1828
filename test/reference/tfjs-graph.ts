/**
 * TF.js graph models run by TensorFlow.js itself (tfjs-converter's GraphModel on the wasm backend):
 * the reference runtime for visage's TF.js graph converter and for human's networks.
 * The model is read from disk with an in-memory IOHandler (no fetch, no network).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as TfConverter from '@tensorflow/tfjs-converter';
import type { io } from '@tensorflow/tfjs-core';
import { initTfWasm, requireCjs, tf, type Tensor } from './tfjs-wasm.js';

const converter = requireCjs('@tensorflow/tfjs-converter') as typeof TfConverter;

export type GraphModel = TfConverter.GraphModel;

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: unknown[] }[];
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/** Loads `model.json` and its shards as TF.js does, on the wasm backend. */
export async function loadTfjsGraphModel(modelJsonPath: string): Promise<GraphModel> {
  await initTfWasm();
  const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as ModelJson;
  const dir = path.dirname(modelJsonPath);
  const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(path.join(dir, p))));
  const bytes = Buffer.concat(shards);
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const handler = {
    load: async () => ({
      modelTopology: json.modelTopology as object,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as io.WeightsManifestEntry[],
      weightData,
      format: json.format ?? 'graph-model',
      generatedBy: json.generatedBy ?? '',
      convertedBy: json.convertedBy ?? null,
      ...(json.signature ? { signature: json.signature as object } : {}),
      ...(json.userDefinedMetadata ? { userDefinedMetadata: json.userDefinedMetadata as object } : {}),
    }),
  };
  return converter.loadGraphModel(handler as unknown as io.IOHandler);
}

/** Runs a graph model on an NHWC float batch; returns each requested output's values and shape. */
export async function runTfjsGraphModel(
  model: GraphModel,
  data: Float32Array,
  shape: number[],
  outputs?: string[],
): Promise<{ data: Float32Array; shape: number[] }[]> {
  const input = tf.tensor(data, shape, 'float32');
  try {
    const result = (outputs ? model.execute(input, outputs) : model.execute(input)) as Tensor | Tensor[];
    const list = Array.isArray(result) ? result : [result];
    const values = await Promise.all(list.map(async (t) => ({ data: Float32Array.from(await t.data()), shape: [...t.shape] })));
    tf.dispose(list);
    return values;
  } finally {
    input.dispose();
  }
}
