/**
 * Calibrates the activation ranges that int8 SSD MobileNetV1 runs with (engine/quantize.ts) and
 * writes them to models/int8/ssd_mobilenetv1-ranges.json (shipped): min/max of every tensor
 * quantizeGraph quantises, over the photos npm packages ship (face-api's demo sample1..6 and
 * @vladmandic/human's assets/*.jpg), run as the detector runs them (padded, 512x512).
 *
 *   node --import tsx bench/calibrate-int8.ts
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { readFaceApiWeights } from '../src/engine/index.js';
import { calibrationTensors, exposeTensors, type ActivationRanges } from '../src/engine/quantize.js';
import { loadImage } from '../src/image/index.js';
import { faceApiManifest } from '../src/models/common/packaged.js';
import { rgbSquareBatch } from '../src/models/common/preprocess.js';
import { SSD_INPUT_SIZE, SSD_IO, buildSsdGraph, manifestAnchors } from '../src/models/ssd/graph.js';
import { SSD_INT8_OPTIONS, SSD_INT8_RANGES } from '../src/models/ssd/int8.js';
import { shippedPhotos } from './lib/shipped-photos.js';

const images = await shippedPhotos();

const weights = await readFaceApiWeights(faceApiManifest('ssd_mobilenetv1_model'));
const graph = buildSsdGraph(weights);
const names = calibrationTensors(graph, SSD_INT8_OPTIONS);
const session = await ort.InferenceSession.create(exposeTensors(graph, names), { graphOptimizationLevel: 'basic' });
const anchors = manifestAnchors(weights);
const anchorDims = [anchors.centre.length / 2, 2];

const ranges: ActivationRanges = {};
for (const file of images) {
  const { batch } = rgbSquareBatch([await loadImage(file)], SSD_INPUT_SIZE);
  const out = await session.run({
    [SSD_IO.input]: new ort.Tensor('float32', batch, [1, SSD_INPUT_SIZE, SSD_INPUT_SIZE, 3]),
    [SSD_IO.anchorCentre]: new ort.Tensor('float32', anchors.centre, anchorDims),
    [SSD_IO.anchorSize]: new ort.Tensor('float32', anchors.size, anchorDims),
  });
  for (const name of names) {
    let min = Infinity;
    let max = -Infinity;
    for (const v of (out[name] as ort.Tensor).data as Float32Array) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const r = ranges[name];
    ranges[name] = r ? { min: Math.min(r.min, min), max: Math.max(r.max, max) } : { min, max };
  }
}
const made = 'node --import tsx bench/calibrate-int8.ts';
await writeFile(SSD_INT8_RANGES, `${JSON.stringify({ made, images: images.map((f) => path.basename(f)), ranges }, null, 1)}\n`);
console.log(`${names.length} tensors over ${images.length} photos → ${path.relative(process.cwd(), SSD_INT8_RANGES)}`);
