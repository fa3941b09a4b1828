/**
 * What the per-network tests share: the shipped sample photos, element-wise comparison, pairing
 * detections with the reference's, and face crops taken as face-api takes them.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Box } from '../../src/image/index.js';
import { iou, type Detection } from '../../src/models/common/boxes.js';
import { clipBox, crop, toFloatImage, toSquareInput, type FloatImage } from '../../src/models/common/preprocess.js';
import { FACEAPI_DEMO_DIR, decodeRgb, type FaceApiReference, type FullFaceJson } from '../reference/faceapi.js';
import type { Tensor } from '../reference/tfjs-wasm.js';

/** The many-faces grid that ships with @vladmandic/human. */
export const HUMAN_SAMPLES = path.resolve(import.meta.dirname, '../../node_modules/@vladmandic/human/assets/samples.jpg');

/** face-api's demo photos sample1..6, then the many-faces grid. */
export const SAMPLE_IMAGES: readonly string[] = [...[1, 2, 3, 4, 5, 6].map((i) => path.join(FACEAPI_DEMO_DIR, `sample${i}.jpg`)), HUMAN_SAMPLES];

/** A photo's file name, for test names and messages. */
export const sampleName = (file: string): string => path.basename(file);

/** Largest element-wise absolute difference; asserts equal lengths. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

/** A TF.js tensor's values, read as float32; the tensor is disposed either way. */
export async function takeData(tensor: Tensor): Promise<Float32Array> {
  try {
    return (await tensor.data()) as Float32Array;
  } finally {
    tensor.dispose();
  }
}

export interface MatchTolerance {
  /** Least IoU between a reference box and the detection paired with it. */
  minIou: number;
  /** Largest score difference within a pair. */
  scoreTolerance: number;
}

export interface Agreement {
  minIou: number;
  maxScoreDiff: number;
}

/**
 * Pairs each reference detection with the unused detection it overlaps most and asserts the same
 * count, the IoU and the score of each pair; `check` asserts more on each pair, right after.
 */
export function assertSameDetections<A extends Detection, E extends Detection>(
  actual: readonly A[],
  expected: readonly E[],
  label: string,
  tolerance: MatchTolerance,
  check?: (found: A, ref: E) => void,
): Agreement {
  assert.equal(actual.length, expected.length, `${label}: ${actual.length} faces, reference ${expected.length}`);
  const unused = new Set(actual.keys());
  const agreement: Agreement = { minIou: 1, maxScoreDiff: 0 };
  for (const ref of expected) {
    let best = -1;
    let bestIou = 0;
    for (const i of unused) {
      const v = iou((actual[i] as A).box, ref.box);
      if (v > bestIou) [best, bestIou] = [i, v];
    }
    assert.ok(bestIou >= tolerance.minIou, `${label}: reference box ${JSON.stringify(ref.box)} best IoU ${bestIou}`);
    unused.delete(best);
    const found = actual[best] as A;
    const scoreDiff = Math.abs(found.score - ref.score);
    assert.ok(scoreDiff <= tolerance.scoreTolerance, `${label}: score ${found.score} vs ${ref.score}`);
    check?.(found, ref);
    agreement.minIou = Math.min(agreement.minIou, bestIou);
    agreement.maxScoreDiff = Math.max(agreement.maxScoreDiff, scoreDiff);
  }
  return agreement;
}

/**
 * Every face face-api's full chain finds on `file`, with the crop of `boxOf(face)` taken as
 * face-api's extractFaceTensors takes it: clipped to the photo, integer corners.
 */
export async function referenceFaceCrops(
  reference: FaceApiReference,
  file: string,
  boxOf: (face: FullFaceJson) => Box,
): Promise<{ face: FullFaceJson; crop: FloatImage }[]> {
  const image = toFloatImage(await decodeRgb(file));
  const faces = await reference.detectAllCached(file);
  return faces.map((face) => ({ face, crop: crop(image, clipBox(boxOf(face), image.width, image.height)) }));
}

/** The crops padded centred to `size` squares (face-api's toBatchTensor(size, true)), as one NHWC batch. */
export function squareBatch(crops: readonly FloatImage[], size: number): { data: Float32Array; dims: number[] } {
  const data = new Float32Array(crops.length * size * size * 3);
  crops.forEach((c, i) => data.set(toSquareInput(c, size, true).input.data, i * size * size * 3));
  return { data, dims: [crops.length, size, size, 3] };
}
