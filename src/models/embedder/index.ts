/**
 * A face embedding network given as a file (ONNX, or TFLite converted by the engine) with a
 * declared input: size, layout, channel order and normalisation. MobileFaceNet and user-supplied
 * recognisers (an exported ArcFace or FaceNet) are both this; the crop is the pipeline's business.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { faceApiWeightFiles, readFaceApiWeights, readTflite, replaceTfliteConstants, tfliteToOnnx, type Engine, type Model } from '../../engine/index.js';
import { VisageError } from '../../errors.js';
import type { FloatImage } from '../common/preprocess.js';
import { FACE_BATCH, positiveInteger } from '../common/packaged.js';

export interface EmbedderSpec {
  /** A .onnx or .tflite file. */
  file: string;
  /** Input side in pixels (square crops). */
  inputSize: number;
  layout: 'nchw' | 'nhwc';
  channels: 'rgb' | 'bgr';
  /** input = (pixel - mean) / std, pixels 0..255. */
  mean: number;
  std: number;
  /** Most faces per network call (default 8, FACE_BATCH: larger batches run slower per face); a TFLite file with a fixed batch is made dynamic. */
  maxBatch?: number;
  /**
   * A face-api weights manifest whose tensors replace the TFLite file's float32 constants of the
   * same names and shapes (weights fine-tuned over a published file; TFLite files only).
   */
  replacements?: string;
}

export interface EmbedderNet {
  readonly dims: number;
  /** Embeddings of crops already `inputSize` square, RGB, values 0..255. */
  embedBatch(crops: readonly FloatImage[]): Promise<Float32Array[]>;
}

function invalidModel(file: string, why: string, cause?: unknown): VisageError {
  return new VisageError('INVALID_MODEL', `Recogniser ${file}: ${why}`, cause === undefined ? undefined : { cause });
}

async function modelBytes(file: string, replacements?: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new VisageError('FILE_NOT_FOUND', `No model file at ${file}`, { cause: err });
    throw invalidModel(file, `cannot be read (${(err as Error).message})`, err);
  }
  if (!file.toLowerCase().endsWith('.tflite')) return bytes;
  if (replacements !== undefined) {
    const weights = await readFaceApiWeights(replacements);
    const floats = new Map([...weights].map(([name, t]) => {
      if (!(t.data instanceof Float32Array)) throw invalidModel(replacements, `weight ${name} is not float`);
      return [name, { shape: t.shape, data: t.data }];
    }));
    bytes = replaceTfliteConstants(bytes, path.basename(file), floats);
  }
  return tfliteToOnnx(readTflite(bytes, path.basename(file)), { batch: 'batch' }).bytes;
}

/** The TFLite conversion's version in the disk-cache key: bump it whenever the converted graph changes. */
const TFLITE_GRAPH_VERSION = 3;

/**
 * Loads an embedding network and checks it against its declared input on one blank crop, so a
 * wrong size, layout or file fails at load with a typed error rather than at the first face.
 */
export async function createEmbedderNet(engine: Engine, spec: EmbedderSpec): Promise<EmbedderNet> {
  const size = positiveInteger(spec.inputSize, 'inputSize');
  const maxBatch = positiveInteger(spec.maxBatch ?? FACE_BATCH, 'maxBatch');
  if (!(spec.std > 0) || !Number.isFinite(spec.mean)) throw new VisageError('INVALID_ARGUMENT', `Expected a finite mean and a std > 0 but received ${spec.mean} and ${spec.std}`);
  const converted = spec.file.toLowerCase().endsWith('.tflite');
  if (spec.replacements !== undefined && !converted) throw new VisageError('INVALID_ARGUMENT', `Weight replacements apply to TFLite files, not ${spec.file}`);
  let model: Model;
  try {
    // A TFLite file is converted to ONNX: the converted graph is kept in the disk cache.
    const sources = [spec.file, ...(spec.replacements === undefined ? [] : await faceApiWeightFiles(spec.replacements))];
    const cache = converted ? { sources, version: TFLITE_GRAPH_VERSION, options: { batch: 'batch' } } : undefined;
    const key = `embedder:${path.resolve(spec.file)}${spec.replacements === undefined ? '' : `+${path.resolve(spec.replacements)}`}`;
    model = await engine.load(key, () => modelBytes(spec.file, spec.replacements), cache);
  } catch (err) {
    if (err instanceof VisageError) throw err;
    throw invalidModel(spec.file, `is not a model ONNX Runtime can load (${(err as Error).message})`, err);
  }
  if (model.inputNames.length !== 1 || model.outputNames.length < 1) {
    throw invalidModel(spec.file, `expected one input and an output, found inputs [${model.inputNames.join(', ')}] and outputs [${model.outputNames.join(', ')}]`);
  }
  const inputName = model.inputNames[0] as string;
  const outputName = model.outputNames[0] as string;
  const perFace = size * size * 3;
  const [r, g, b] = spec.channels === 'bgr' ? [2, 1, 0] : [0, 1, 2];

  async function forward(crops: readonly FloatImage[]): Promise<Float32Array[]> {
    const data = new Float32Array(crops.length * perFace);
    crops.forEach((crop, n) => {
      if (crop.width !== size || crop.height !== size || crop.channels !== 3) {
        throw new VisageError('INVALID_ARGUMENT', `Expected ${size}x${size}x3 crops for ${spec.file} but received ${crop.width}x${crop.height}x${crop.channels}`);
      }
      const base = n * perFace;
      const src = crop.data;
      const { mean, std } = spec;
      // Where each channel of a pixel goes: interleaved (NHWC) or planar (NCHW).
      const [pixelStep, planeStep] = spec.layout === 'nhwc' ? [3, 1] : [1, size * size];
      for (let i = 0; i < size * size; i++) {
        const o = base + i * pixelStep;
        data[o] = ((src[i * 3 + r] as number) - mean) / std;
        data[o + planeStep] = ((src[i * 3 + g] as number) - mean) / std;
        data[o + 2 * planeStep] = ((src[i * 3 + b] as number) - mean) / std;
      }
    });
    const dims = spec.layout === 'nhwc' ? [crops.length, size, size, 3] : [crops.length, 3, size, size];
    let out;
    try {
      out = (await model.run({ [inputName]: { data, dims } }))[outputName];
    } catch (err) {
      throw invalidModel(spec.file, `does not take input [${dims.join(', ')}] (${spec.layout}, ${size}x${size}): ${(err as Error).message}`, err);
    }
    if (!out || out.data.length % crops.length !== 0) throw invalidModel(spec.file, `returned no embedding per face`);
    const per = out.data.length / crops.length;
    return crops.map((_, i) => out.data.slice(i * per, (i + 1) * per));
  }

  const blank = { data: new Float32Array(perFace), width: size, height: size, channels: 3 };
  const [probe] = await forward([blank]);
  const dims = (probe as Float32Array).length;
  if (dims < 2) throw invalidModel(spec.file, `returns ${dims} value(s) per face, not an embedding`);

  return {
    dims,
    async embedBatch(crops) {
      const results: Float32Array[] = [];
      for (let start = 0; start < crops.length; start += maxBatch) results.push(...(await forward(crops.slice(start, start + maxBatch))));
      return results;
    },
  };
}
