/**
 * int8 probe for face-api's crop networks (issue 13): landmarks (68 points, 'full'), expression,
 * age/gender. Faces come from SSD on the 11 shipped photos (crops as the pipeline makes them);
 * ranges are calibrated on them in batches of 8 (min/max), the graph rewritten to QDQ int8
 * (src/engine/quantize.ts; Adds in int8 too except for age/gender, where that was slower), and
 * outputs and the batch-of-8 forward compared with float, interleaved, in the same process.
 *
 *   node --import tsx bench/int8-crops.ts landmarks|expression|agegender
 *
 * Landmark errors are in units of the 112 px square input (so relative to the face crop's side).
 */
import ort from 'onnxruntime-node';
import { loadImage } from '../src/image/index.js';
import { readFaceApiWeights } from '../src/engine/index.js';
import { calibrationTensors, exposeTensors, quantizeGraph, type ActivationRanges } from '../src/engine/quantize.js';
import { faceApiManifest } from '../src/models/common/packaged.js';
import { regionToSquareInput, type ImageRegion } from '../src/models/common/preprocess.js';
import { asPixels, attributeBox, cropRegion } from '../src/pipeline/align.js';
import { ModelRegistry } from '../src/pipeline/models.js';
import { build as buildLandmarks } from '../src/models/landmarks/graph.js';
import { build as buildExpression } from '../src/models/expression/graph.js';
import { build as buildAgeGender } from '../src/models/age-gender/graph.js';
import { shippedPhotos } from './lib/shipped-photos.js';

const which = process.argv[2] ?? 'landmarks';
const IMAGES = await shippedPhotos();
const manifests: Record<string, string> = { landmarks: 'face_landmark_68_model', expression: 'face_expression_model', agegender: 'age_gender_model' };
const w = await readFaceApiWeights(faceApiManifest(manifests[which] as string));
const fp32 = which === 'landmarks' ? buildLandmarks(w, 'full') : which === 'expression' ? buildExpression(w) : buildAgeGender(w);
const reg = new ModelRegistry(2);
const ssd = await reg.ssd();
const lm = await reg.landmarks();
const crops: Float32Array[] = [];
for (const file of IMAGES) {
  const im = await loadImage(file);
  const px = asPixels(im);
  const faces = await ssd.detect(im);
  if (which === 'landmarks') for (const f of faces) crops.push(regionToSquareInput(cropRegion(px, f.box) as ImageRegion, 112, true).input.data);
  else {
    const pts = await lm.predictBatch(faces.map((f) => cropRegion(px, f.box) as ImageRegion), faces.map((f) => ({ x: f.box.x, y: f.box.y })));
    for (const p of pts) crops.push(regionToSquareInput(cropRegion(px, attributeBox(p)) as ImageRegion, 112, true).input.data);
  }
}
const B = 8;
const batches: Float32Array[] = [];
for (let i = 0; i + B <= crops.length; i += B) { const d = new Float32Array(B * 112 * 112 * 3); for (let k = 0; k < B; k++) d.set(crops[i + k] as Float32Array, k * 112 * 112 * 3); batches.push(d); }
const qopts = { adds: which !== 'agegender' };
const names = calibrationTensors(fp32, qopts);
const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', executionMode: 'sequential', intraOpNumThreads: 2, interOpNumThreads: 1, enableCpuMemArena: false, enableMemPattern: false, extra: { session: { intra_op: { allow_spinning: '0' } } } };
const calib = await ort.InferenceSession.create(exposeTensors(fp32, names), { ...opts, graphOptimizationLevel: 'basic' });
const feeds = (d: Float32Array) => ({ input: new ort.Tensor('float32', d, [d.length / (112 * 112 * 3), 112, 112, 3]) });
const ranges: ActivationRanges = {};
for (const b of batches) {
  const out = await calib.run(feeds(b));
  for (const n of names) { const d = out[n]!.data as Float32Array; let mn = Infinity, mx = -Infinity; for (const v of d) { if (v < mn) mn = v; if (v > mx) mx = v; } const r = ranges[n]; ranges[n] = r ? { min: Math.min(r.min, mn), max: Math.max(r.max, mx) } : { min: mn, max: mx }; }
}
const int8 = quantizeGraph(fp32, ranges, qopts);
const sf = await ort.InferenceSession.create(fp32, opts);
const si = await ort.InferenceSession.create(int8, opts);
const outs = async (s: ort.InferenceSession, d: Float32Array) => { const o = await s.run(feeds(d)); return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.data as Float32Array])); };
let maxD = 0, sumD = 0, cnt = 0, agree = 0, items = 0, ageD = 0;
for (const c of crops) {
  const a = await outs(sf, c), b = await outs(si, c);
  if (which === 'landmarks') { const x = a.landmarks!, y = b.landmarks!; for (let k = 0; k < x.length; k += 2) { const d = Math.hypot(x[k]! - y[k]!, x[k + 1]! - y[k + 1]!); maxD = Math.max(maxD, d); sumD += d; cnt++; } }
  else if (which === 'expression') { const x = a.probabilities!, y = b.probabilities!; const am = (v: Float32Array) => v.indexOf(Math.max(...v)); if (am(x) === am(y)) agree++; for (let k = 0; k < x.length; k++) maxD = Math.max(maxD, Math.abs(x[k]! - y[k]!)); }
  else { ageD += Math.abs(a.age![0]! - b.age![0]!); maxD = Math.max(maxD, Math.abs(a.age![0]! - b.age![0]!)); const g = (v: Float32Array) => v[0]! > v[1]!; if (g(a.gender!) === g(b.gender!)) agree++; sumD = Math.max(sumD, Math.abs(a.gender![0]! - b.gender![0]!)); }
  items++;
}
if (which === 'landmarks') console.log(which, { faces: items, meanPointErr: sumD / cnt, maxPointErr: maxD });
else if (which === 'expression') console.log(which, { faces: items, sameTopClass: agree, maxProbabilityDiff: maxD });
else console.log(which, { faces: items, sameGender: agree, maxGenderProbabilityDiff: sumD, meanAgeDiff: ageD / items, maxAgeDiff: maxD });
const tf: number[] = [], ti: number[] = [];
for (let k = 0; k < 3; k++) { await outs(sf, batches[0]!); await outs(si, batches[0]!); }
for (let r = 0; r < 20; r++) for (const [s, arr] of [[sf, tf], [si, ti]] as const) { const t0 = performance.now(); await outs(s, batches[r % batches.length]!); arr.push(performance.now() - t0); }
const med = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1]!;
console.log(`${which} batch ${B}: fp32 ${med(tf).toFixed(2)} ms  int8 ${med(ti).toFixed(2)} ms  speed-up ${(med(tf) / med(ti)).toFixed(2)}x`);
