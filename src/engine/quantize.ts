/**
 * int8 for built graphs: rewrites a float ONNX graph so that ONNX Runtime runs its convolutions
 * (and, optionally, Adds of two activations) as QLinearConv / QLinearAdd: uint8 activations,
 * int8 weights, VNNI kernels on CPUs that have them.
 *
 * The rewrite is QDQ. Each quantised tensor gets QuantizeLinear → DequantizeLinear with a range
 * calibrated on real images (calibrationTensors, exposeTensors); weights become int8 behind a
 * DequantizeLinear: exactly, where they already sit on a 256-level grid (face-api's uint8
 * weights; SSD lost 6 instead of 10 of 112 faces on the shipped photos, for about 10% of the
 * speed-up), else symmetric per output channel; biases int32 at the product's scale. ONNX
 * Runtime fuses DQ → Conv (→ Relu/Clip) → Q into one QLinearConv (the Relu/Clip goes when the Q
 * range lies inside it), so the graph has to be optimised at level 'all' (session.ts does).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type ModelProto = onnxProto.onnx.ModelProto;
const DataType = onnx.TensorProto.DataType;

/** Observed range of one activation tensor. */
export interface ActivationRange {
  min: number;
  max: number;
}

/** Ranges by tensor name, as calibration writes them. */
export type ActivationRanges = Record<string, ActivationRange>;

export interface QuantizeOptions {
  /** Convolutions kept in float, by the name of their weight initializer (e.g. output heads). */
  keepFloat?: (weightName: string) => boolean;
  /** Also run Adds of two activations in int8 (dense blocks: every tensor stays uint8). Default false. */
  adds?: boolean;
}

const ACTIVATIONS = new Set(['Relu', 'Clip']);

const ins = (n: NodeProto): string[] => n.input ?? [];
const outs = (n: NodeProto): string[] => n.output ?? [];
const first = (xs: string[]): string => xs[0] as string;

interface Graph {
  model: ModelProto;
  nodes: NodeProto[];
  initializers: TensorProto[];
}

/** Decodes a model with per-channel Mul/Add after convolutions (batch norms) folded into them. */
function decode(bytes: Uint8Array): Graph {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph as onnxProto.onnx.GraphProto;
  const g = { model, nodes: graph.node ?? [], initializers: graph.initializer ?? [] };
  foldChannelAffine(g);
  return g;
}

function encode(g: Graph): Uint8Array {
  const graph = g.model.graph as onnxProto.onnx.GraphProto;
  const used = new Set(g.nodes.flatMap(ins));
  graph.node = g.nodes;
  // Float weights no node reads any more (folded, quantised) are dropped.
  graph.initializer = g.initializers.filter((t) => used.has(t.name as string));
  return onnx.ModelProto.encode(g.model).finish();
}

function consumersOf(nodes: readonly NodeProto[]): Map<string, NodeProto[]> {
  const consumers = new Map<string, NodeProto[]>();
  for (const n of nodes) for (const i of ins(n)) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  return consumers;
}

/** The float data of an initializer written as raw data (how GraphBuilder writes them). */
function floatData(t: TensorProto): Float32Array {
  const raw = t.rawData;
  if (t.dataType !== DataType.FLOAT || !raw?.length) throw new Error(`Initializer ${t.name} is not raw float32`);
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

function tensor(name: string, dataType: number, dims: number[], data: Float32Array | Int8Array | Uint8Array | Int32Array): TensorProto {
  return onnx.TensorProto.create({ name, dataType, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
}

const axis0 = onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 });

/**
 * Folds Conv → Mul(c) → Add(c) (constants of shape [C, 1, 1]) into the convolution's weights and
 * bias. ONNX Runtime does the same for float graphs; for int8 it has to happen before weights are
 * quantised, or the convolution's result would be quantised before its scale is applied.
 */
function foldChannelAffine(g: Graph): void {
  const inits = new Map(g.initializers.map((t) => [t.name as string, t]));
  const consumers = consumersOf(g.nodes);
  const outputs = new Set((g.model.graph?.output ?? []).map((o) => o.name));
  const removed = new Set<NodeProto>();
  const only = (name: string) => {
    const next = consumers.get(name) ?? [];
    return next.length === 1 && !outputs.has(name) ? next[0] : undefined;
  };
  const perChannel = (node: NodeProto | undefined, op: string, channels: number): Float32Array | undefined => {
    const c = node?.opType === op ? inits.get(ins(node)[1] as string) : undefined;
    if (!c || (c.dims ?? []).map(Number).join() !== `${channels},1,1` || c.dataType !== DataType.FLOAT) return undefined;
    return floatData(c);
  };
  for (const conv of g.nodes) {
    const w = conv.opType === 'Conv' ? inits.get(ins(conv)[1] as string) : undefined;
    if (!w) continue;
    const dims = (w.dims ?? []).map(Number);
    const channels = dims[0] as number;
    let last = first(outs(conv));
    const mul = only(last);
    const scale = perChannel(mul, 'Mul', channels);
    if (scale) last = first(outs(mul as NodeProto));
    const add = only(last);
    const shift = perChannel(add, 'Add', channels);
    if (shift) last = first(outs(add as NodeProto));
    if (!scale && !shift) continue;
    const weights = floatData(w);
    const per = weights.length / channels;
    const biasName = ins(conv)[2];
    const bias = biasName ? floatData(inits.get(biasName) as TensorProto) : new Float32Array(channels);
    const nw = new Float32Array(weights.length);
    const nb = new Float32Array(channels);
    for (let o = 0; o < channels; o++) {
      const s = scale ? (scale[o] as number) : 1;
      for (let k = 0; k < per; k++) nw[o * per + k] = (weights[o * per + k] as number) * s;
      nb[o] = (bias[o] as number) * s + (shift ? (shift[o] as number) : 0);
    }
    const wName = `${w.name}__folded`;
    const bName = `${w.name}__folded_bias`;
    g.initializers.push(tensor(wName, DataType.FLOAT, dims, nw), tensor(bName, DataType.FLOAT, [channels], nb));
    conv.input = [first(ins(conv)), wName, bName];
    conv.output = [last];
    if (scale) removed.add(mul as NodeProto);
    if (shift) removed.add(add as NodeProto);
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
}

interface Site {
  node: NodeProto;
  /** Float activations the node reads (a Conv's data input, both inputs of an Add). */
  inputs: string[];
  /** The tensor its result reaches the rest of the graph as (after a following Relu/Clip). */
  output: string;
}

/** The nodes that can run in int8: convolutions with constant weights, and Adds of two activations. */
function sites(g: Graph, options: QuantizeOptions): Site[] {
  const consumers = consumersOf(g.nodes);
  const constants = new Set(g.initializers.map((t) => t.name));
  const found: Site[] = [];
  for (const node of g.nodes) {
    let inputs: string[];
    const [x, w] = ins(node);
    if (node.opType === 'Conv' && constants.has(w) && !options.keepFloat?.(w as string)) inputs = [x as string];
    else if (options.adds && node.opType === 'Add' && ins(node).every((i) => !constants.has(i))) inputs = ins(node);
    else continue;
    const out = first(outs(node));
    const next = consumers.get(out) ?? [];
    const act = next.length === 1 && ACTIVATIONS.has(next[0]?.opType ?? '') ? next[0] : undefined;
    found.push({ node, inputs, output: act ? first(outs(act)) : out });
  }
  return found;
}

/**
 * Names of the float tensors calibration has to observe for quantizeGraph with the same options:
 * each int8 node's inputs and (activated) result, named as in the exposeTensors graph.
 */
export function calibrationTensors(bytes: Uint8Array, options: QuantizeOptions = {}): string[] {
  return [...new Set(sites(decode(bytes), options).flatMap((s) => [...s.inputs, s.output]))];
}

/** The graph (batch norms folded, as quantizeGraph sees it) with extra tensors exposed as outputs, for calibration runs. */
export function exposeTensors(bytes: Uint8Array, names: readonly string[]): Uint8Array {
  const g = decode(bytes);
  const outputs = (g.model.graph as onnxProto.onnx.GraphProto).output;
  const present = new Set(outputs.map((o) => o.name));
  for (const name of names) if (!present.has(name)) outputs.push(onnx.ValueInfoProto.create({ name }));
  return encode(g);
}

/** uint8 scale and zero point for a range, widened to hold 0 (padding is the real 0). */
export function uint8Params(range: ActivationRange): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, range.min);
  const hi = Math.max(0, range.max);
  if (!(hi > lo) || !Number.isFinite(hi - lo)) throw new Error(`Cannot quantise the activation range [${range.min}, ${range.max}]`);
  const scale = (hi - lo) / 255;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

/** int8 weights symmetric per output channel (dim 0): values and one scale per channel. */
function int8PerChannel(data: Float32Array, channels: number): { q: Int8Array; scales: Float32Array } {
  const per = data.length / channels;
  const scales = new Float32Array(channels);
  const q = new Int8Array(data.length);
  for (let o = 0; o < channels; o++) {
    let m = 0;
    for (let k = 0; k < per; k++) m = Math.max(m, Math.abs(data[o * per + k] as number));
    const s = m > 0 ? m / 127 : 1;
    scales[o] = s;
    for (let k = 0; k < per; k++) q[o * per + k] = Math.round((data[o * per + k] as number) / s);
  }
  return { q, scales };
}

/**
 * The weights as int8 with one scale and zero point for the tensor, when they already sit exactly
 * on a 256-level grid (face-api ships its weights as uint8 with a scale and an integer zero point):
 * then int8 loses nothing.
 */
function int8Grid(data: Float32Array): { q: Int8Array; scale: number; zeroPoint: number } | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = (max - min) / 255;
  if (!(scale > 0)) return undefined;
  const zp = Math.round(-min / scale);
  const q = new Int8Array(data.length);
  for (let k = 0; k < data.length; k++) {
    const u = (data[k] as number) / scale + zp;
    if (Math.abs(u - Math.round(u)) > 1e-2) return undefined;
    q[k] = Math.round(u) - 128;
  }
  return { q, scale, zeroPoint: zp - 128 };
}

/** Integers with their DequantizeLinear scale and zero point: one for the tensor, or one per output channel. */
interface IntConstant {
  q: Int8Array | Int32Array;
  scales: Float32Array;
  zeroPoints: Int8Array | Int32Array;
  perChannel: boolean;
}

/**
 * Rewrites a float graph to QDQ int8 with calibrated activation ranges (every name
 * calibrationTensors gave for the same options must have one).
 */
export function quantizeGraph(bytes: Uint8Array, ranges: ActivationRanges, options: QuantizeOptions = {}): Uint8Array {
  const g = decode(bytes);
  const inits = new Map(g.initializers.map((t) => [t.name as string, t]));
  const chosen = sites(g, options);
  const quantised = new Set(chosen.flatMap((s) => [...s.inputs, s.output]));
  const convs = new Set(chosen.filter((s) => s.node.opType === 'Conv').map((s) => s.node));
  const nodes: NodeProto[] = [];
  let counter = 0;
  const fresh = (hint: string) => `${hint}__q${counter++}`;

  // Per quantised tensor: its scale and zero point, and the QuantizeLinear right after its producer.
  const params = new Map<string, { scale: string; zp: string; value: number; q: string }>();
  const quantize = (name: string) => {
    const range = ranges[name];
    if (!range) throw new Error(`No calibrated range for tensor ${name}`);
    const { scale, zeroPoint } = uint8Params(range);
    const p = { scale: fresh(`${name}_scale`), zp: fresh(`${name}_zp`), value: scale, q: fresh(`${name}_quant`) };
    g.initializers.push(tensor(p.scale, DataType.FLOAT, [], Float32Array.of(scale)), tensor(p.zp, DataType.UINT8, [], Uint8Array.of(zeroPoint)));
    nodes.push(onnx.NodeProto.create({ opType: 'QuantizeLinear', name: fresh('q_node'), input: [name, p.scale, p.zp], output: [p.q] }));
    params.set(name, p);
  };
  // Each consumer reads its own DequantizeLinear (ONNX Runtime fuses node groups, not shared DQs).
  const dequantize = (name: string) => {
    const p = params.get(name);
    if (!p) return name;
    const dq = fresh(`${name}_dequant`);
    nodes.push(onnx.NodeProto.create({ opType: 'DequantizeLinear', name: fresh('dq_node'), input: [p.q, p.scale, p.zp], output: [dq] }));
    return dq;
  };
  /**
   * Integer constants behind a DequantizeLinear, with one scale and zero point for the tensor, or
   * (`perChannel`) one per output channel along axis 0.
   */
  const dequantizeConstant = (name: string, dims: number[], c: IntConstant) => {
    const [qName, sName, zName, out] = ['int', 'scale', 'zp', 'dequant'].map((s) => fresh(`${name}_${s}`)) as [string, string, string, string];
    const type = c.q instanceof Int8Array ? DataType.INT8 : DataType.INT32;
    const paramDims = c.perChannel ? [c.scales.length] : [];
    g.initializers.push(tensor(qName, type, dims, c.q), tensor(sName, DataType.FLOAT, paramDims, c.scales), tensor(zName, type, paramDims, c.zeroPoints));
    nodes.push(onnx.NodeProto.create({ opType: 'DequantizeLinear', name: fresh('dq_node'), input: [qName, sName, zName], output: [out], ...(c.perChannel ? { attribute: [axis0] } : {}) }));
    return out;
  };

  for (const input of g.model.graph?.input ?? []) if (quantised.has(input.name as string)) quantize(input.name as string);
  for (const node of g.nodes) {
    const [x, w, b] = ins(node);
    if (convs.has(node)) {
      const weights = inits.get(w as string) as TensorProto;
      const dims = (weights.dims ?? []).map(Number);
      const channels = dims[0] as number;
      const data = floatData(weights);
      const grid = int8Grid(data);
      const weightsQ: IntConstant = grid
        ? { q: grid.q, scales: Float32Array.of(grid.scale), zeroPoints: Int8Array.of(grid.zeroPoint), perChannel: false }
        : { ...int8PerChannel(data, channels), zeroPoints: new Int8Array(channels), perChannel: true };
      const inputs = [dequantize(x as string), dequantizeConstant(w as string, dims, weightsQ)];
      if (b) {
        // int32 at the scale of the input's times the weights', per output channel.
        const xScale = (params.get(x as string) as { value: number }).value;
        const bScales = (weightsQ.perChannel ? weightsQ.scales : new Float32Array(channels).fill(weightsQ.scales[0] as number)).map((s) => s * xScale);
        const bias = floatData(inits.get(b) as TensorProto);
        const q = Int32Array.from(bias, (v, o) => Math.round(v / (bScales[o] as number)));
        inputs.push(dequantizeConstant(b, [channels], { q, scales: bScales, zeroPoints: new Int32Array(channels), perChannel: true }));
      }
      node.input = inputs;
    } else {
      node.input = ins(node).map(dequantize);
    }
    nodes.push(node);
    for (const o of outs(node)) if (quantised.has(o)) quantize(o);
  }
  g.nodes = nodes;
  return encode(g);
}
