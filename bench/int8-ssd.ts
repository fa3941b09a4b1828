/**
 * int8 probe for SSD MobileNetV1 (issue 13): builds the float graph, calibrates activation ranges
 * on the 11 shipped photos at 512 (min/max, or a percentile with PCT=0.9999), rewrites it to QDQ
 * int8 (src/engine/quantize.ts), then compares detections (minScore 0.5) and times the raw
 * forward of both, interleaved, in the same process (2 threads, session options as the engine's).
 *
 *   node --import tsx bench/int8-ssd.ts [heads-fp32|all]     (default: box/class heads kept float)
 *   KEEP='Conv2d_[1-3]_' node --import tsx bench/int8-ssd.ts  (also keep the matching convs float)
 *
 * Calibrating and scoring on the same photos flatters int8 a little; it is a probe, not a ship test.
 */
import ort from 'onnxruntime-node';
import { loadImage, type Box } from '../src/image/index.js';
import { readFaceApiWeights } from '../src/engine/index.js';
import { calibrationTensors, exposeTensors, quantizeGraph, type ActivationRanges } from '../src/engine/quantize.js';
import { buildSsdGraph, manifestAnchors, SSD_IO } from '../src/models/ssd/graph.js';
import { faceApiManifest } from '../src/models/common/packaged.js';
import { rgbSquareBatch } from '../src/models/common/preprocess.js';
import { toSsdDetections } from '../src/models/ssd/postprocess.js';
import { shippedPhotos } from './lib/shipped-photos.js';

const variant = process.argv[2] ?? 'heads-fp32';
const IMAGES = await shippedPhotos();
const w = await readFaceApiWeights(faceApiManifest('ssd_mobilenetv1_model'));
const fp32 = buildSsdGraph(w);
const anchors = manifestAnchors(w);
const keepRe = process.env.KEEP ? new RegExp(process.env.KEEP) : undefined;
const keepFloat = variant === 'all' ? undefined : (n: string) => n.startsWith('Prediction/BoxPredictor') || (keepRe?.test(n) ?? false);
const names = calibrationTensors(fp32, { keepFloat });
console.log('calibration tensors', names.length);
const opts = (level: 'all' | 'disabled' = 'all'): ort.InferenceSession.SessionOptions => ({ graphOptimizationLevel: level, executionMode: 'sequential', intraOpNumThreads: 2, interOpNumThreads: 1, enableCpuMemArena: false, enableMemPattern: false, extra: { session: { intra_op: { allow_spinning: '0' } } } });
const calib = await ort.InferenceSession.create(exposeTensors(fp32, names), { ...opts(), graphOptimizationLevel: 'basic' });
const dims = [anchors.centre.length / 2, 2];
const feedsOf = (data: Float32Array) => ({ [SSD_IO.input]: new ort.Tensor('float32', data, [1, 512, 512, 3]), [SSD_IO.anchorCentre]: new ort.Tensor('float32', anchors.centre, dims), [SSD_IO.anchorSize]: new ort.Tensor('float32', anchors.size, dims) });
const inputs = [];
for (const file of IMAGES) {
  const im = await loadImage(file);
  inputs.push({ file, ...rgbSquareBatch([im], 512) });
}
const ranges: ActivationRanges = {};
const pct = Number(process.env.PCT ?? '1');
for (const { batch } of inputs) {
  const out = await calib.run(feedsOf(batch));
  for (const n of names) {
    const d = out[n]!.data as Float32Array;
    let mn = Infinity, mx = -Infinity;
    if (pct < 1) {
      const s = Float32Array.from(d).sort();
      mn = s[Math.floor((1 - pct) * (s.length - 1))]!; mx = s[Math.floor(pct * (s.length - 1))]!;
    } else for (const v of d) { if (v < mn) mn = v; if (v > mx) mx = v; }
    const r = ranges[n];
    ranges[n] = r ? { min: Math.min(r.min, mn), max: Math.max(r.max, mx) } : { min: mn, max: mx };
  }
}
const int8 = quantizeGraph(fp32, ranges, { keepFloat });
const sf = await ort.InferenceSession.create(fp32, opts());
const si = await ort.InferenceSession.create(int8, { ...opts(), ...(process.env.OPT ? { optimizedModelFilePath: process.env.OPT, logSeverityLevel: 3 as const } : {}) });
const run = async (s: ort.InferenceSession, b: Float32Array) => { const o = await s.run(feedsOf(b)); return { boxes: o[SSD_IO.boxes]!.data as Float32Array, scores: o[SSD_IO.scores]!.data as Float32Array }; };
// quality
const iou = (a: Box, b: Box) => { const x1 = Math.max(a.x, b.x), y1 = Math.max(a.y, b.y), x2 = Math.min(a.x + a.width, b.x + b.width), y2 = Math.min(a.y + a.height, b.y + b.height); const i = Math.max(0, x2 - x1) * Math.max(0, y2 - y1); return i / (a.width * a.height + b.width * b.height - i); };
let sumDs = 0, nm = 0; let nf = 0, ni = 0, minIou = 1, maxDs = 0, lost = 0, gained = 0;
for (const { batch, paddings } of inputs) {
  const a = await run(sf, batch), b = await run(si, batch);
  const da = toSsdDetections(a.boxes, a.scores, paddings[0]!, 0.5, 100), db = toSsdDetections(b.boxes, b.scores, paddings[0]!, 0.5, 100);
  nf += da.length; ni += db.length;
  for (const d of da) { let best = -1, bi = 0; db.forEach((e, k) => { const v = iou(d.box, e.box); if (v > best) { best = v; bi = k; } }); if (best < 0.5) { lost++; continue; } minIou = Math.min(minIou, best); maxDs = Math.max(maxDs, Math.abs(d.score - db[bi]!.score)); sumDs += db[bi]!.score - d.score; nm++; }
  for (const e of db) if (!da.some((d) => iou(d.box, e.box) >= 0.5)) { gained++; }
}
console.log({ variant, pct, fp32Faces: nf, int8Faces: ni, lost, gained, minIou, maxScoreDiff: maxDs, meanScoreDiff: sumDs / nm });
// speed interleaved
const tf: number[] = [], ti: number[] = [];
const b0 = inputs[0]!.batch;
for (let k = 0; k < 3; k++) { await run(sf, b0); await run(si, b0); }
// 40 rounds over the photos, the order of the two sessions alternating each round.
for (let r = 0; r < 40; r++) {
  for (let k = 0; k < 2; k++) {
    const [s, arr] = (k + r) % 2 === 0 ? [sf, tf] : [si, ti];
    const t0 = performance.now();
    await run(s, inputs[r % inputs.length]!.batch);
    arr.push(performance.now() - t0);
  }
}
const med = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1]!;
console.log(`fp32 ${med(tf).toFixed(1)} ms  int8 ${med(ti).toFixed(1)} ms  speed-up ${(med(tf) / med(ti)).toFixed(2)}x`);
