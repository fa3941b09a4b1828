/**
 * A TensorFlow.js graph model (`model.json`: a GraphDef's nodes in JSON, weights in shards) as an
 * ONNX graph, one handler per TensorFlow op, as the TFLite converter beside it is organised. TF
 * activations are NHWC; inside the ONNX graph 4-d activations are kept NCHW, so every value carries
 * its layout and the layout-sensitive ops (axes, paddings, flattening, constants broadcast against
 * an activation) translate it. Graph inputs and outputs keep TF's own layout and shapes. An op
 * without a handler stops the conversion naming the op and the model: never a silently wrong graph.
 */
import { VisageError } from '../../errors.js';
import { GraphBuilder, type AttributeValue, type Dim } from '../graph.js';
import { NCHW_AXIS, TO_NCHW, TO_NHWC, normaliseAxis, permute, resizeBilinearTo, size, type ConvertedModel, type Layout, type Value } from '../nhwc.js';
import type { TfjsGraphModel, TfjsGraphNode, WeightTensor } from '../weights.js';

export interface TfjsToOnnxOptions {
  /** Name of the dynamic leading dimension of inputs and outputs. Default 'batch'. */
  batch?: string;
  /**
   * Graph outputs, by node name. Default: the model's signature outputs, else every node no other
   * node reads. Name inner nodes to expose intermediate features.
   */
  outputs?: string[];
}

/** Output names are the TF node names they come from. */
export type ConvertedTfjsModel = ConvertedModel;

/** Decoded node attributes (TF.js writes strings base64, integers as decimal strings). */
const attrs = {
  raw(node: TfjsGraphNode, key: string): Record<string, unknown> | undefined {
    return node.attr?.[key] as Record<string, unknown> | undefined;
  },
  str(node: TfjsGraphNode, key: string, fallback = ''): string {
    const s = attrs.raw(node, key)?.s;
    return typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : fallback;
  },
  int(node: TfjsGraphNode, key: string, fallback: number): number {
    const i = attrs.raw(node, key)?.i;
    return i === undefined ? fallback : Number(i);
  },
  float(node: TfjsGraphNode, key: string, fallback: number): number {
    const f = attrs.raw(node, key)?.f;
    return f === undefined ? fallback : Number(f);
  },
  bool(node: TfjsGraphNode, key: string): boolean {
    return attrs.raw(node, key)?.b === true;
  },
  ints(node: TfjsGraphNode, key: string): number[] {
    const list = attrs.raw(node, key)?.list as { i?: (string | number)[] } | undefined;
    return (list?.i ?? []).map(Number);
  },
  strs(node: TfjsGraphNode, key: string): string[] {
    const list = attrs.raw(node, key)?.list as { s?: string[] } | undefined;
    return (list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
  },
};


/** NumPy broadcasting of two TF shapes (-1 is the unknown batch). */
function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let k = 0; k < rank; k++) {
    const x = a[a.length - rank + k] ?? 1;
    const y = b[b.length - rank + k] ?? 1;
    out.push(x === 1 ? y : y === 1 ? x : x === -1 ? y : x);
  }
  return out;
}

/** A node's input name without its output index or control-dependency mark. */
function sourceOf(input: string): { node: string; index: number; control: boolean } {
  const control = input.startsWith('^');
  const [node, index] = (control ? input.slice(1) : input).split(':') as [string, string | undefined];
  return { node, index: index === undefined ? 0 : Number(index), control };
}

class Converter {
  readonly g: GraphBuilder;
  private readonly values = new Map<string, Value>();
  readonly batch: string;

  constructor(readonly model: TfjsGraphModel, options: TfjsToOnnxOptions) {
    this.g = new GraphBuilder(model.name);
    this.batch = options.batch ?? 'batch';
  }

  /** The data inputs of a node (control dependencies dropped). */
  inputs(node: TfjsGraphNode): string[] {
    return (node.input ?? []).filter((i) => !i.startsWith('^'));
  }

  inputName(node: TfjsGraphNode, k: number): string {
    const name = this.inputs(node)[k];
    if (name === undefined) throw new Error(`input ${k} is missing`);
    const { node: source, index } = sourceOf(name);
    if (index !== 0) throw new Error(`input ${name} reads output ${index} of a node; only single-output nodes are supported`);
    return source;
  }

  /** The weight a Const node holds, or null if the input is an activation. */
  constantOf(node: TfjsGraphNode, k: number): WeightTensor | null {
    const source = this.inputName(node, k);
    if (this.values.has(source)) return null;
    return this.model.weights.get(source) ?? null;
  }

  requireConstant(node: TfjsGraphNode, k: number, what: string): WeightTensor {
    const c = this.constantOf(node, k);
    if (!c) throw new Error(`its ${what} (input ${k}) must be a constant from the weights`);
    return c;
  }

  value(node: TfjsGraphNode, k: number): Value {
    const source = this.inputName(node, k);
    const v = this.values.get(source);
    if (v) return v;
    const w = this.model.weights.get(source);
    if (!w) throw new Error(`input ${source} is neither produced by an earlier node nor a weight (missing from the weights manifest?)`);
    const data = w.data instanceof Float32Array ? w.data : Float32Array.from(w.data);
    const constant: Value = { name: this.g.constant(source, data, w.shape), shape: w.shape, layout: 'plain' };
    this.values.set(source, constant);
    return constant;
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  get(name: string): Value | undefined {
    return this.values.get(name);
  }

  set(node: TfjsGraphNode, name: string, shape: number[], layout: Layout): void {
    this.values.set(node.name, { name, shape, layout });
  }

  /** The value in NCHW (4-d activations) or as it is. */
  nchw(v: Value): string {
    if (v.layout === 'nchw' || v.shape.length !== 4) return v.name;
    return this.g.node('Transpose', [v.name], { perm: TO_NCHW });
  }

  /** The value in TF's own layout. */
  plain(v: Value): string {
    if (v.layout === 'plain') return v.name;
    return this.g.node('Transpose', [v.name], { perm: TO_NHWC });
  }

  clip(x: string, min: number, max: number): string {
    return this.g.node('Clip', [x, this.g.scalar('clip_min', min), this.g.scalar('clip_max', max)]);
  }

  /** A constant laid out to broadcast against a 4-d NCHW activation as it did against NHWC. */
  broadcastConstant(hint: string, w: WeightTensor): string {
    if (w.shape.length > 4) throw new Error(`a constant of rank ${w.shape.length} cannot broadcast against a 4-d activation`);
    const rank4 = [...new Array<number>(4 - w.shape.length).fill(1), ...w.shape];
    const data = w.data instanceof Float32Array ? w.data : Float32Array.from(w.data);
    const p = permute(data, rank4, TO_NCHW);
    return this.g.constant(hint, p.data, p.shape);
  }

  /** Inputs of an elementwise op in one layout: NCHW where a 4-d activation is, else plain. */
  elementwise(node: TfjsGraphNode): { names: string[]; layout: Layout; shape: number[] } {
    const count = this.inputs(node).length;
    const operands = Array.from({ length: count }, (_, k) => ({ k, constant: this.constantOf(node, k) }));
    const activations = operands.filter((o) => !o.constant).map((o) => this.value(node, o.k));
    const layout: Layout = activations.some((v) => v.layout === 'nchw') && activations.every((v) => v.shape.length === 4) ? 'nchw' : 'plain';
    let shape: number[] = [];
    const names = operands.map(({ k, constant }) => {
      if (constant) {
        shape = broadcastShapes(shape, constant.shape);
        return layout === 'nchw' ? this.broadcastConstant(this.inputName(node, k), constant) : this.value(node, k).name;
      }
      const v = this.value(node, k);
      shape = broadcastShapes(shape, v.shape);
      return layout === 'nchw' ? this.nchw(v) : this.plain(v);
    });
    return { names, layout, shape };
  }

  /** An activation applied after a fused op; `extra` reads the fused op's extra inputs (PReLU's alpha). */
  activation(x: string, op: string, node: TfjsGraphNode, extra: (k: number) => WeightTensor, shape: readonly number[]): string {
    switch (op) {
      case 'Relu': return this.g.node('Relu', [x]);
      case 'Relu6': return this.clip(x, 0, 6);
      case 'Elu': return this.g.node('Elu', [x]);
      case 'Sigmoid': return this.g.node('Sigmoid', [x]);
      case 'Tanh': return this.g.node('Tanh', [x]);
      case 'LeakyRelu': return this.g.node('LeakyRelu', [x], { alpha: { float: attrs.float(node, 'leakyrelu_alpha', 0.2) } });
      case 'Prelu': {
        const alpha = extra(0);
        const slope = shape.length === 4 ? this.broadcastConstant('prelu_alpha', alpha) : this.g.constant('prelu_alpha', Float32Array.from(alpha.data), alpha.shape);
        return this.g.node('PRelu', [x, slope]);
      }
      default: throw new Error(`fused activation ${op} is not supported`);
    }
  }
}

type Handler = (c: Converter, node: TfjsGraphNode) => void;

/** TF's padding attribute as ONNX attributes; 'SAME' puts the odd pixel after (ONNX SAME_UPPER). */
function padAttrs(node: TfjsGraphNode): Record<string, AttributeValue> {
  const padding = attrs.str(node, 'padding', 'VALID');
  if (padding === 'SAME') return { auto_pad: 'SAME_UPPER' };
  if (padding === 'VALID') return { pads: [0, 0, 0, 0] };
  if (padding === 'EXPLICIT') {
    // [before, after] per NHWC axis; ONNX wants [top, left, bottom, right].
    const p = attrs.ints(node, 'explicit_paddings');
    if (p.length !== 8) throw new Error(`explicit_paddings has ${p.length} values, expected 8`);
    return { pads: [p[2], p[4], p[3], p[5]] as number[] };
  }
  throw new Error(`padding ${padding} is not supported`);
}

/** Output size of a window op along one axis, as TF computes it. */
function windowOut(node: TfjsGraphNode, input: number, k: number, stride: number, dilation: number, axis: 1 | 2): number {
  if (input < 0) return -1;
  const padding = attrs.str(node, 'padding', 'VALID');
  const effective = (k - 1) * dilation + 1;
  if (padding === 'SAME') return Math.ceil(input / stride);
  const p = padding === 'EXPLICIT' ? attrs.ints(node, 'explicit_paddings') : [];
  const pad = (p[axis * 2] ?? 0) + (p[axis * 2 + 1] ?? 0);
  return Math.floor((input + pad - effective) / stride) + 1;
}

function requireNhwc(node: TfjsGraphNode): void {
  const format = attrs.str(node, 'data_format', 'NHWC');
  if (format !== 'NHWC') throw new Error(`data_format ${format} is not supported (only NHWC)`);
}

/** Conv2D / DepthwiseConv2dNative and their fused forms (bias, then an activation). */
function conv(depthwise: boolean, fused: boolean): Handler {
  return (c, node) => {
    requireNhwc(node);
    const x = c.value(node, 0);
    if (x.shape.length !== 4) throw new Error(`expected a 4-d input, got [${x.shape.join(', ')}]`);
    const filter = c.requireConstant(node, 1, 'filter');
    const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
    const strides = attrs.ints(node, 'strides');
    const dilations = attrs.ints(node, 'dilations');
    const stride = [strides[1] ?? 1, strides[2] ?? 1] as [number, number];
    const dilation = [dilations[1] ?? 1, dilations[2] ?? 1] as [number, number];
    const data = filter.data instanceof Float32Array ? filter.data : Float32Array.from(filter.data);
    // TF filters are [h, w, in, out] → ONNX [out, in, h, w]; depthwise [h, w, C, m] → [C * m, 1, h, w].
    const w = depthwise
      ? { data: permute(data, [kh, kw, cin * cout], [2, 0, 1]).data, shape: [cin * cout, 1, kh, kw] }
      : permute(data, filter.shape, [3, 2, 0, 1]);
    const channels = depthwise ? cin * cout : cout;
    const inputs = [c.nchw(x), c.g.constant(`${node.name}/filter`, w.data, w.shape)];
    const ops = fused ? attrs.strs(node, 'fused_ops') : [];
    const extra = (k: number) => c.requireConstant(node, 2 + k, 'fused argument');
    let next = 0;
    if (ops[0] === 'BiasAdd') {
      const bias = extra(next++);
      inputs.push(c.g.constant(`${node.name}/bias`, Float32Array.from(bias.data), [channels]));
      ops.shift();
    } else if (ops.length > 0) {
      throw new Error(`fused ops [${ops.join(', ')}] are not supported (expected BiasAdd first)`);
    }
    const [, h, wIn] = x.shape as [number, number, number, number];
    const shape = [x.shape[0] as number, windowOut(node, h, kh, stride[0], dilation[0], 1), windowOut(node, wIn, kw, stride[1], dilation[1], 2), channels];
    let y = c.g.node('Conv', inputs, { kernel_shape: [kh, kw], strides: stride, dilations: dilation, group: depthwise ? cin : 1, ...padAttrs(node) });
    for (const op of ops) y = c.activation(y, op, node, (k) => extra(next + k), shape);
    c.set(node, y, shape, 'nchw');
  };
}

function pool(onnxOp: 'MaxPool' | 'AveragePool'): Handler {
  return (c, node) => {
    requireNhwc(node);
    const x = c.value(node, 0);
    const ksize = attrs.ints(node, 'ksize');
    const strides = attrs.ints(node, 'strides');
    const k = [ksize[1] ?? 1, ksize[2] ?? 1] as [number, number];
    const s = [strides[1] ?? 1, strides[2] ?? 1] as [number, number];
    const y = c.g.node(onnxOp, [c.nchw(x)], { kernel_shape: k, strides: s, ...padAttrs(node) });
    const [n, h, w, ch] = x.shape as [number, number, number, number];
    c.set(node, y, [n, windowOut(node, h, k[0], s[0], 1, 1), windowOut(node, w, k[1], s[1], 1, 2), ch], 'nchw');
  };
}

/** MatMul and _FusedMatMul (bias, then an activation) of a 2-d activation and a constant. */
function matmul(fused: boolean): Handler {
  return (c, node) => {
    const x = c.value(node, 0);
    if (x.shape.length !== 2) throw new Error(`expected a 2-d input, got [${x.shape.join(', ')}]`);
    if (attrs.bool(node, 'transpose_a')) throw new Error('transpose_a is not supported');
    const b = c.requireConstant(node, 1, 'weights');
    const transB = attrs.bool(node, 'transpose_b');
    const units = (transB ? b.shape[0] : b.shape[1]) as number;
    const inputs = [c.plain(x), c.g.constant(`${node.name}/weights`, Float32Array.from(b.data), b.shape)];
    const ops = fused ? attrs.strs(node, 'fused_ops') : [];
    const extra = (k: number) => c.requireConstant(node, 2 + k, 'fused argument');
    let next = 0;
    if (ops[0] === 'BiasAdd') {
      inputs.push(c.g.constant(`${node.name}/bias`, Float32Array.from(extra(next++).data), [units]));
      ops.shift();
    } else if (ops.length > 0) {
      throw new Error(`fused ops [${ops.join(', ')}] are not supported (expected BiasAdd first)`);
    }
    const shape = [x.shape[0] as number, units];
    let y = c.g.node('Gemm', inputs, { transB: transB ? 1 : 0 });
    for (const op of ops) y = c.activation(y, op, node, (k) => extra(next + k), shape);
    c.set(node, y, shape, 'plain');
  };
}

function binary(onnxOp: string): Handler {
  return (c, node) => {
    const { names, layout, shape } = c.elementwise(node);
    c.set(node, c.g.node(onnxOp, names), shape, layout);
  };
}

/** An elementwise op of one input: layout and shape pass through. */
function unary(build: (c: Converter, x: string, node: TfjsGraphNode, v: Value) => string): Handler {
  return (c, node) => {
    const x = c.value(node, 0);
    c.set(node, build(c, x.name, node, x), x.shape, x.layout);
  };
}

/** A reshape target with the batch copied from the input (ONNX 0) where TF wrote -1 for it. */
function reshapeTarget(from: readonly number[], to: readonly number[]): number[] {
  const target = [...to];
  if (from[0] === -1 && target.length > 0 && (target[0] === -1 || target[0] === from[0])) {
    target[0] = target.slice(1).includes(-1) ? 0 : -1;
  }
  return target;
}

const HANDLERS: Record<string, Handler> = {
  Conv2D: conv(false, false),
  _FusedConv2D: conv(false, true),
  DepthwiseConv2dNative: conv(true, false),
  FusedDepthwiseConv2dNative: conv(true, true),
  MatMul: matmul(false),
  _FusedMatMul: matmul(true),
  MaxPool: pool('MaxPool'),
  AvgPool: pool('AveragePool'),
  Add: binary('Add'),
  AddV2: binary('Add'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  RealDiv: binary('Div'),
  Maximum: binary('Max'),
  Minimum: binary('Min'),
  BiasAdd: binary('Add'),
  Prelu: binary('PRelu'),
  Relu: unary((c, x) => c.g.node('Relu', [x])),
  Relu6: unary((c, x) => c.clip(x, 0, 6)),
  Elu: unary((c, x) => c.g.node('Elu', [x])),
  Sigmoid: unary((c, x) => c.g.node('Sigmoid', [x])),
  Tanh: unary((c, x) => c.g.node('Tanh', [x])),
  Abs: unary((c, x) => c.g.node('Abs', [x])),
  Neg: unary((c, x) => c.g.node('Neg', [x])),
  Exp: unary((c, x) => c.g.node('Exp', [x])),
  Sqrt: unary((c, x) => c.g.node('Sqrt', [x])),
  Rsqrt: unary((c, x) => c.g.node('Reciprocal', [c.g.node('Sqrt', [x])])),
  Square: unary((c, x) => c.g.node('Mul', [x, x])),
  LeakyRelu: unary((c, x, node) => c.g.node('LeakyRelu', [x], { alpha: { float: attrs.float(node, 'alpha', 0.2) } })),
  Identity: unary((_c, x) => x),
  Softmax: (c, node) => {
    const x = c.value(node, 0);
    c.set(node, c.g.node('Softmax', [c.plain(x)], { axis: -1 }), x.shape, 'plain');
  },
  Reshape: (c, node) => {
    const x = c.value(node, 0);
    const to = Array.from(c.requireConstant(node, 1, 'shape').data);
    const y = c.g.node('Reshape', [c.plain(x), c.g.ints('shape', reshapeTarget(x.shape, to))]);
    const known = size(x.shape.map((d) => (d < 0 ? 1 : d)));
    const free = size(to.filter((d) => d !== -1));
    c.set(node, y, to.map((d, k) => (d !== -1 ? d : k === 0 && x.shape[0] === -1 ? -1 : known / free)), 'plain');
  },
  Squeeze: (c, node) => {
    const x = c.value(node, 0);
    const rank = x.shape.length;
    const dims = attrs.ints(node, 'squeeze_dims').map((a) => normaliseAxis(a, rank));
    const drop = dims.length > 0 ? dims : x.shape.map((d, k) => (d === 1 ? k : -1)).filter((k) => k >= 0);
    const shape = x.shape.filter((_, k) => !drop.includes(k));
    c.set(node, c.g.node('Squeeze', [c.plain(x), c.g.ints('axes', drop)]), shape, 'plain');
  },
  Mean: (c, node) => {
    const x = c.value(node, 0);
    const keep = attrs.bool(node, 'keep_dims');
    const rank = x.shape.length;
    const axes = Array.from(c.requireConstant(node, 1, 'axes').data).map((a) => normaliseAxis(a, rank));
    // With the dims kept, NCHW stays NCHW; without, the result is read in TF's order.
    const nchw = keep && x.layout === 'nchw';
    const y = c.g.node('ReduceMean', [nchw ? x.name : c.plain(x)], { axes: nchw ? axes.map((a) => NCHW_AXIS[a] as number) : axes, keepdims: keep ? 1 : 0 });
    const shape = keep ? x.shape.map((d, k) => (axes.includes(k) ? 1 : d)) : x.shape.filter((_, k) => !axes.includes(k));
    c.set(node, y, shape, nchw ? 'nchw' : 'plain');
  },
  ConcatV2: (c, node) => {
    const count = c.inputs(node).length - 1;
    const parts = Array.from({ length: count }, (_, k) => c.value(node, k));
    const rank = (parts[0] as Value).shape.length;
    const axis = normaliseAxis(Number(c.requireConstant(node, count, 'axis').data[0]), rank);
    const nchw = rank === 4 && parts.every((p) => p.layout === 'nchw');
    const y = c.g.node('Concat', parts.map((p) => (nchw ? p.name : c.plain(p))), { axis: nchw ? (NCHW_AXIS[axis] as number) : axis });
    const shape = (parts[0] as Value).shape.map((d, k) => (k === axis ? parts.reduce((s, p) => s + (p.shape[k] as number), 0) : d));
    c.set(node, y, shape, nchw ? 'nchw' : 'plain');
  },
  Pad: (c, node) => pad(c, node),
  PadV2: (c, node) => pad(c, node),
  ResizeBilinear: (c, node) => {
    const x = c.value(node, 0);
    const [newH, newW] = Array.from(c.requireConstant(node, 1, 'size').data) as [number, number];
    const [n, , , ch] = x.shape as [number, number, number, number];
    const mode = attrs.bool(node, 'align_corners') ? 'align_corners' : attrs.bool(node, 'half_pixel_centers') ? 'half_pixel' : 'asymmetric';
    const y = resizeBilinearTo(c.g, c.nchw(x), newH, newW, mode);
    c.set(node, y, [n, newH, newW, ch], 'nchw');
  },
};

function pad(c: Converter, node: TfjsGraphNode): void {
  const x = c.value(node, 0);
  const pads = c.requireConstant(node, 1, 'paddings').data;
  const rank = x.shape.length;
  const order = x.layout === 'nchw' ? [0, 3, 1, 2] : Array.from({ length: rank }, (_, k) => k);
  const before = order.map((a) => pads[a * 2] as number);
  const after = order.map((a) => pads[a * 2 + 1] as number);
  const inputs = [x.name, c.g.ints('pads', [...before, ...after])];
  if (node.op === 'PadV2') inputs.push(c.g.scalar('pad_value', Number(c.requireConstant(node, 2, 'constant value').data[0])));
  const shape = x.shape.map((d, k) => (d < 0 ? d : d + (pads[k * 2] as number) + (pads[k * 2 + 1] as number)));
  c.set(node, c.g.node('Pad', inputs), shape, x.layout);
}

/** The TF.js graph ops visage converts, for documentation and tests. */
export const SUPPORTED_TFJS_OPS: readonly string[] = ['Const', 'Placeholder', 'NoOp', ...Object.keys(HANDLERS)].sort();

/** Nodes in an order where every input comes before its reader (GraphDefs are usually, not always, sorted). */
function topologicalOrder(nodes: readonly TfjsGraphNode[], modelName: string): TfjsGraphNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const order: TfjsGraphNode[] = [];
  const visit = (start: TfjsGraphNode) => {
    const stack: { node: TfjsGraphNode; next: number }[] = [{ node: start, next: 0 }];
    state.set(start.name, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { node: TfjsGraphNode; next: number };
      const inputs = top.node.input ?? [];
      if (top.next < inputs.length) {
        const source = byName.get(sourceOf(inputs[top.next++] as string).node);
        if (!source) continue;
        const s = state.get(source.name);
        if (s === 'visiting') throw new VisageError('INVALID_MODEL', `TF.js model ${modelName}: node ${source.name} is part of a cycle`);
        if (s === undefined) {
          state.set(source.name, 'visiting');
          stack.push({ node: source, next: 0 });
        }
      } else {
        state.set(top.node.name, 'done');
        order.push(top.node);
        stack.pop();
      }
    }
  };
  for (const node of nodes) if (!state.has(node.name)) visit(node);
  return order;
}

/**
 * Converts a read TF.js graph model into ONNX bytes.
 *
 * @example
 * const { bytes, outputs } = tfjsToOnnx(await readTfjsGraphModel('antispoof.json'));
 */
export function tfjsToOnnx(model: TfjsGraphModel, options: TfjsToOnnxOptions = {}): ConvertedTfjsModel {
  const fail = (message: string, cause?: unknown) =>
    new VisageError('INVALID_MODEL', `TF.js model ${model.name}: ${message}`, cause === undefined ? undefined : { cause });
  const c = new Converter(model, options);
  const nodes = topologicalOrder(model.nodes, model.name);
  // Every op is checked before any is converted, so the error names the first unknown op.
  for (const node of nodes) {
    if (!SUPPORTED_TFJS_OPS.includes(node.op)) {
      throw fail(`node ${node.name} is op ${node.op}, which visage cannot convert (supported: ${SUPPORTED_TFJS_OPS.join(', ')})`);
    }
  }
  const inputs: { name: string; shape: Dim[] }[] = [];
  for (const node of nodes) {
    if (node.op === 'Const' || node.op === 'NoOp') {
      if (node.op === 'Const' && !model.weights.has(node.name)) {
        // A constant without stored values would be read as garbage or not at all.
        const used = nodes.some((n) => (n.input ?? []).some((i) => sourceOf(i).node === node.name && !sourceOf(i).control));
        if (used) throw fail(`constant ${node.name} has no values in the weights manifest`);
      }
      continue;
    }
    if (node.op === 'Placeholder') {
      const shapeAttr = attrs.raw(node, 'shape')?.shape as { dim?: { size?: string }[] } | undefined;
      const tfShape = (shapeAttr?.dim ?? []).map((d) => Number(d.size ?? -1));
      if (tfShape.length === 0) throw fail(`input ${node.name} has no shape`);
      if (tfShape.slice(1).some((d) => d < 0)) throw fail(`input ${node.name} has shape [${tfShape.join(', ')}]; only the batch may be dynamic`);
      const shape: Dim[] = tfShape.map((d, k) => (k === 0 ? c.batch : d));
      c.g.input(node.name, shape);
      c.set(node, node.name, [-1, ...tfShape.slice(1)], 'plain');
      inputs.push({ name: node.name, shape });
      continue;
    }
    try {
      (HANDLERS[node.op] as Handler)(c, node);
    } catch (err) {
      if (err instanceof VisageError) throw err;
      throw fail(`node ${node.name} (${node.op}): ${(err as Error).message}`, err);
    }
  }
  const consumed = new Set(nodes.flatMap((n) => (n.input ?? []).map((i) => sourceOf(i).node)));
  const wanted = options.outputs ?? model.outputs ?? nodes.filter((n) => !consumed.has(n.name) && c.has(n.name)).map((n) => n.name);
  const outputs = wanted.map((name) => {
    const v = c.get(name);
    if (!v) throw fail(`output ${name} is not a node the graph computes`);
    const shape: Dim[] = v.shape.map((d, k) => (k === 0 && d === -1 ? c.batch : d));
    return { name: c.g.output(c.plain(v), name, shape), shape };
  });
  return { bytes: c.g.toBytes(), inputs, outputs };
}
