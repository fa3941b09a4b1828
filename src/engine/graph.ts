/**
 * A small builder for ONNX graphs, held in memory and serialised with onnx-proto.
 * Networks are defined in TypeScript from their weights; nothing is read from .onnx files.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Opset and IR version that ONNX Runtime 1.30 runs these graphs well with (ENGINE-NOTES). */
export const OPSET = 17;
const IR_VERSION = 8;

export type ElementType = 'float32' | 'uint8' | 'int64' | 'int32';
/** A dimension: a fixed size, or a name for a dynamic one (for example 'batch'). */
export type Dim = number | string;
export type AttributeValue = number | string | number[] | { float: number } | { floats: number[] };

const ELEMENT_TYPES: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  uint8: onnx.TensorProto.DataType.UINT8,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
};

/** Values for a constant tensor, in row-major order. */
export type ConstantData = Float32Array | Uint8Array | Int32Array | BigInt64Array;

function elementTypeOf(data: ConstantData): ElementType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int32Array) return 'int32';
  return 'int64';
}

function valueInfo(name: string, type: ElementType, dims: Dim[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPES[type],
        shape: {
          dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  });
}

/**
 * Integers are written as INT(S); `{float}`/`{floats}` force FLOAT(S), since a JS number alone
 * cannot say whether 1 is meant as an integer or a float attribute.
 */
function attribute(name: string, value: AttributeValue) {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') {
    return onnx.AttributeProto.create({ name, type: A.STRING, s: new TextEncoder().encode(value) });
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`Attribute ${name}: use {float: ${value}} for a float`);
    return onnx.AttributeProto.create({ name, type: A.INT, i: value });
  }
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: A.INTS, ints: value });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: A.FLOAT, f: value.float });
  return onnx.AttributeProto.create({ name, type: A.FLOATS, floats: value.floats });
}

export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh value name, unique in this graph. */
  fresh(hint: string): string {
    let name = hint;
    while (this.names.has(name)) name = `${hint}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  input(name: string, dims: Dim[], type: ElementType = 'float32'): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Marks `value` as a graph output named `name` (an Identity node renames it where needed). */
  output(value: string, name: string, dims?: Dim[], type: ElementType = 'float32'): string {
    const outName = value === name ? value : this.node('Identity', [value], {}, name);
    this.outputs.push(
      dims ? valueInfo(outName, type, dims) : onnx.ValueInfoProto.create({ name: outName }),
    );
    return outName;
  }

  /** A constant tensor stored as an initializer. */
  constant(hint: string, data: ConstantData, dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw new Error(`Constant ${hint}: ${data.length} values do not fill dims [${dims.join(', ')}]`);
    }
    const name = this.fresh(hint);
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: ELEMENT_TYPES[elementTypeOf(data)],
        rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      }),
    );
    return name;
  }

  /** An int64 vector constant (shapes, axes, pads). */
  ints(hint: string, values: number[]): string {
    return this.constant(hint, BigInt64Array.from(values.map(BigInt)), [values.length]);
  }

  /** A float32 scalar-like constant of the given dims (default a scalar). */
  scalar(hint: string, value: number, dims: number[] = []): string {
    return this.constant(hint, Float32Array.of(value), dims);
  }

  /** Adds a node with one output and returns its name. */
  node(op: string, inputs: string[], attrs: Record<string, AttributeValue> = {}, outputHint?: string): string {
    const [out] = this.nodeMulti(op, inputs, 1, attrs, outputHint);
    return out as string;
  }

  /** Adds a node with `count` outputs and returns their names. */
  nodeMulti(
    op: string,
    inputs: string[],
    count: number,
    attrs: Record<string, AttributeValue> = {},
    outputHint?: string,
  ): string[] {
    const base = outputHint ?? op.toLowerCase();
    const outputs = Array.from({ length: count }, (_, i) => this.fresh(count === 1 ? base : `${base}_${i}`));
    this.nodes.push(
      onnx.NodeProto.create({
        opType: op,
        name: this.fresh(`${base}_node`),
        input: inputs,
        output: outputs,
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return outputs;
  }

  /** Serialises the graph to ONNX model bytes. */
  toBytes(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'visage',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
