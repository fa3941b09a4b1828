/**
 * Reads a TFLite flatbuffer into plain data: tensors (with their constant values), operators by
 * name with their options, and the graph's inputs and outputs. Only the first subgraph is read
 * (the models visage runs have one). The bindings are generated from TensorFlow's schema
 * (schema.generated.ts); a file they cannot make sense of is an INVALID_MODEL error, never a
 * half-read graph.
 */
import * as flatbuffers from 'flatbuffers';
import { VisageError } from '../../errors.js';
import * as fb from './schema.generated.js';

export type TfliteType = 'float32' | 'float16' | 'int32' | 'uint8' | 'int64' | 'string' | 'bool' | 'int16' | 'complex64' | 'int8';
const TYPES: Record<number, TfliteType> = {
  [fb.TensorType.FLOAT32]: 'float32',
  [fb.TensorType.FLOAT16]: 'float16',
  [fb.TensorType.INT32]: 'int32',
  [fb.TensorType.UINT8]: 'uint8',
  [fb.TensorType.INT64]: 'int64',
  [fb.TensorType.STRING]: 'string',
  [fb.TensorType.BOOL]: 'bool',
  [fb.TensorType.INT16]: 'int16',
  [fb.TensorType.COMPLEX64]: 'complex64',
  [fb.TensorType.INT8]: 'int8',
};

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  type: TfliteType;
  /** The constant's bytes (little-endian, row-major), or null for an activation. */
  data: Uint8Array | null;
  /** Where those bytes sit in the file (so weights can be replaced in place), or null. */
  offset: number | null;
  /** Affine quantisation (real = scale * (q - zeroPoint)), per tensor or per channel. */
  quantization: { scale: number[]; zeroPoint: number[]; axis: number } | null;
}

export interface TfliteOperator {
  index: number;
  /** The builtin operator's name, e.g. 'CONV_2D'. */
  op: string;
  /** Tensor indices; -1 marks an omitted optional input. */
  inputs: number[];
  outputs: number[];
  /** The raw operator, for its typed options (see `optionsOf`). */
  raw: fb.Operator;
}

export interface TfliteModel {
  /** A label for messages (the file name). */
  name: string;
  tensors: TfliteTensor[];
  operators: TfliteOperator[];
  inputs: number[];
  outputs: number[];
}

function invalid(name: string, why: string, cause?: unknown): VisageError {
  return new VisageError('INVALID_MODEL', `Cannot read TFLite model ${name}: ${why}`, cause === undefined ? undefined : { cause });
}

function ints(array: Int32Array | null): number[] {
  return array ? Array.from(array) : [];
}

/**
 * Parses a .tflite file.
 *
 * @example
 * const model = readTflite(await readFile('net.tflite'), 'net.tflite');
 */
export function readTflite(bytes: Uint8Array, name: string): TfliteModel {
  // The header: a uint32 root offset, then the file identifier "TFL3".
  if (bytes.length < 8) throw invalid(name, `${bytes.length} bytes is too short for a TFLite file`);
  const bb = new flatbuffers.ByteBuffer(bytes);
  if (!fb.Model.bufferHasIdentifier(bb)) throw invalid(name, 'not a TFLite file (no "TFL3" identifier)');
  try {
    return readModel(fb.Model.getRootAsModel(bb), bytes, name);
  } catch (err) {
    if (err instanceof VisageError) throw err;
    // Offsets that point past the end surface as RangeErrors from the flatbuffer reader.
    throw invalid(name, `the file is truncated or corrupt (${(err as Error).message})`, err);
  }
}

function readModel(model: fb.Model, bytes: Uint8Array, name: string): TfliteModel {
  if (model.subgraphsLength() < 1) throw invalid(name, 'it has no subgraph');
  const graph = model.subgraphs(0);
  if (!graph) throw invalid(name, 'its first subgraph is missing');
  const opNames: string[] = [];
  for (let i = 0; i < model.operatorCodesLength(); i++) {
    const code = model.operatorCodes(i);
    if (!code) throw invalid(name, `operator code ${i} is missing`);
    const builtin = code.builtinCode();
    // Ops numbered 127 and above (and custom ops) are outside the schema visage reads.
    opNames.push(builtin === fb.BuiltinOperator.CUSTOM ? `CUSTOM:${code.customCode() ?? '?'}` : (fb.BuiltinOperator[builtin] ?? `BUILTIN_${builtin}`));
  }

  const tensors: TfliteTensor[] = [];
  for (let i = 0; i < graph.tensorsLength(); i++) {
    const t = graph.tensors(i);
    if (!t) throw invalid(name, `tensor ${i} is missing`);
    const type = TYPES[t.type()];
    if (!type) throw invalid(name, `tensor ${i} has an unknown element type ${t.type()}`);
    const buffer = model.buffers(t.buffer());
    const raw = buffer?.dataArray() ?? null;
    // A copy, aligned, so typed views of any element size can be taken of it.
    const data = raw && raw.length > 0 ? new Uint8Array(raw) : null;
    // The reader's view points into the file's bytes: its position is the constant's offset.
    const at = data && raw ? raw.byteOffset - bytes.byteOffset : null;
    const q = t.quantization();
    const scale = q?.scaleArray();
    const quantization =
      q && scale && scale.length > 0
        ? { scale: Array.from(scale), zeroPoint: Array.from({ length: q.zeroPointLength() }, (_, k) => Number(q.zeroPoint(k) ?? 0n)), axis: q.quantizedDimension() }
        : null;
    tensors.push({ index: i, name: t.name() ?? `tensor_${i}`, shape: ints(t.shapeArray()), type, data, offset: at, quantization });
  }

  const operators: TfliteOperator[] = [];
  for (let i = 0; i < graph.operatorsLength(); i++) {
    const raw = graph.operators(i);
    if (!raw) throw invalid(name, `operator ${i} is missing`);
    const op = opNames[raw.opcodeIndex()];
    if (op === undefined) throw invalid(name, `operator ${i} names opcode ${raw.opcodeIndex()} of ${opNames.length}`);
    const inputs = ints(raw.inputsArray());
    const outputs = ints(raw.outputsArray());
    for (const t of [...inputs, ...outputs]) {
      if (t < -1 || t >= tensors.length) throw invalid(name, `operator ${i} (${op}) refers to tensor ${t} of ${tensors.length}`);
    }
    operators.push({ index: i, op, inputs, outputs, raw });
  }
  const inputs = ints(graph.inputsArray());
  const outputs = ints(graph.outputsArray());
  if (inputs.length === 0 || outputs.length === 0) throw invalid(name, 'the graph declares no inputs or no outputs');
  if (bytes.length <= 0) throw invalid(name, 'the file is empty');
  return { name, tensors, operators, inputs, outputs };
}

/** An operator's typed options, checked to be the kind asked for. */
export function optionsOf<T>(op: TfliteOperator, kind: fb.BuiltinOptions, make: new () => T): T | null {
  if (op.raw.builtinOptionsType() === fb.BuiltinOptions.NONE) return null;
  if (op.raw.builtinOptionsType() !== kind) {
    throw new VisageError('INVALID_MODEL', `Operator ${op.index} (${op.op}) carries ${fb.BuiltinOptions[op.raw.builtinOptionsType()]} options, not ${fb.BuiltinOptions[kind]}`);
  }
  return op.raw.builtinOptions(new make()) as T | null;
}

/**
 * A field of an options table by its slot, for fields newer than the schema the bindings were
 * generated from (the table's vtable still says whether the field is there).
 */
export function optionalBoolField(table: { bb: flatbuffers.ByteBuffer | null; bb_pos: number }, slot: number): boolean {
  const bb = table.bb;
  if (!bb) return false;
  const offset = bb.__offset(table.bb_pos, 4 + 2 * slot);
  return offset ? bb.readInt8(table.bb_pos + offset) !== 0 : false;
}
