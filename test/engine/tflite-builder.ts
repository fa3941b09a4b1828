/**
 * Builds small TFLite files for the reader's tests, with the flatbuffers builder and the same
 * generated bindings the reader uses, so each op can be run by LiteRT (the oracle) and by visage.
 */
import * as flatbuffers from 'flatbuffers';
import * as fb from '../../src/engine/tflite/schema.generated.js';

export interface TestTensor {
  shape: number[];
  type?: 'float32' | 'int32' | 'float16';
  /** float16 constants are given as their IEEE half-precision bits (see `float16Bits`). */
  data?: Float32Array | Int32Array | Uint16Array;
}

export interface TestOp {
  op: keyof typeof fb.BuiltinOperator;
  inputs: number[];
  outputs: number[];
  options?: (b: flatbuffers.Builder) => { type: fb.BuiltinOptions; offset: flatbuffers.Offset };
}

const TYPE = { float32: fb.TensorType.FLOAT32, int32: fb.TensorType.INT32, float16: fb.TensorType.FLOAT16 };

export function buildTflite(tensors: TestTensor[], ops: TestOp[], inputs: number[], outputs: number[]): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  // Buffer 0 is the empty one by convention; each constant gets its own.
  const bufferOffsets = [fb.Buffer.createBuffer(b, 0)];
  const tensorBuffers = tensors.map((t) => {
    if (!t.data) return 0;
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    b.startVector(1, bytes.length, 16);
    for (let i = bytes.length - 1; i >= 0; i--) b.addInt8(bytes[i] as number);
    bufferOffsets.push(fb.Buffer.createBuffer(b, b.endVector()));
    return bufferOffsets.length - 1;
  });
  const tensorOffsets = tensors.map((t, i) => {
    const name = b.createString(`t${i}`);
    const shape = fb.Tensor.createShapeVector(b, t.shape);
    fb.Tensor.startTensor(b);
    fb.Tensor.addShape(b, shape);
    fb.Tensor.addType(b, TYPE[t.type ?? 'float32']);
    fb.Tensor.addBuffer(b, tensorBuffers[i] as number);
    fb.Tensor.addName(b, name);
    return fb.Tensor.endTensor(b);
  });
  const codes = [...new Set(ops.map((o) => o.op))];
  const opOffsets = ops.map((o) => {
    const options = o.options?.(b);
    const ins = fb.Operator.createInputsVector(b, o.inputs);
    const outs = fb.Operator.createOutputsVector(b, o.outputs);
    fb.Operator.startOperator(b);
    fb.Operator.addOpcodeIndex(b, codes.indexOf(o.op));
    fb.Operator.addInputs(b, ins);
    fb.Operator.addOutputs(b, outs);
    if (options) {
      fb.Operator.addBuiltinOptionsType(b, options.type);
      fb.Operator.addBuiltinOptions(b, options.offset);
    }
    return fb.Operator.endOperator(b);
  });
  const subgraph = fb.SubGraph.createSubGraph(
    b,
    fb.SubGraph.createTensorsVector(b, tensorOffsets),
    fb.SubGraph.createInputsVector(b, inputs),
    fb.SubGraph.createOutputsVector(b, outputs),
    fb.SubGraph.createOperatorsVector(b, opOffsets),
    b.createString('test'),
  );
  const codeOffsets = codes.map((c) => fb.OperatorCode.createOperatorCode(b, fb.BuiltinOperator[c], 0, 1));
  const model = fb.Model.createModel(
    b,
    3,
    fb.Model.createOperatorCodesVector(b, codeOffsets),
    fb.Model.createSubgraphsVector(b, [subgraph]),
    b.createString('visage test'),
    fb.Model.createBuffersVector(b, bufferOffsets),
    0,
    0,
  );
  fb.Model.finishModelBuffer(b, model);
  return b.asUint8Array().slice();
}

/** Deterministic values in [-1, 1). */
export function values(n: number, seed = 1): Float32Array {
  let s = seed * 2654435761;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 1073741824 - 1;
  });
}

/** IEEE half-precision bits of each value (round to nearest; the test values are normal numbers in [-1, 1)). */
export function float16Bits(values: Float32Array): Uint16Array {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  return Uint16Array.from(values, (v) => {
    f32[0] = v;
    const bits = u32[0] as number;
    const sign = (bits >>> 16) & 0x8000;
    const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
    if (exponent <= 0) return sign; // too small for a normal half: zero
    const mantissa = (bits & 0x7fffff) + 0x1000; // round to nearest
    return sign | ((exponent << 10) + (mantissa >>> 13));
  });
}
