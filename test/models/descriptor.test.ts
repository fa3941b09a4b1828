/**
 * The 128-d face descriptor against face-api (TF.js wasm) on the shipped photos: the network on
 * identical inputs, the input preparation on its own, and the whole crop → descriptor step on
 * the faces face-api itself finds and aligns.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/index.js';
import { toFloatImage, type FloatImage } from '../../src/models/common/preprocess.js';
import {
  DESCRIPTOR_INPUT_SIZE,
  createDescriptorNet,
  descriptorCropBox,
  prepareDescriptorInput,
  type DescriptorNet,
} from '../../src/models/descriptor/index.js';
import { isVisageError } from '../../src/errors.js';
import { faceApiManifest } from '../../src/models/common/packaged.js';
import { loadFaceApiReference, type FaceApiReference, type FullFaceJson } from '../reference/faceapi.js';
import { tf, type Tensor4D } from '../reference/tfjs-wasm.js';
import { SAMPLE_IMAGES, maxAbsDiff, referenceFaceCrops, sampleName, takeData } from './helpers.js';

const RAW_TOLERANCE = 1e-4;
// On 0..255 values. TF.js wasm resizes in float32 arithmetic (scale, coordinates, lerps); the
// shared resizeBilinear works in doubles, so coordinates differ in the 7th digit: up to ~4e-3.
const INPUT_TOLERANCE = 5e-3;
const MIN_COSINE = 0.999;
const BATCH_TOLERANCE = 1e-6;
const INPUT_VALUES = DESCRIPTOR_INPUT_SIZE * DESCRIPTOR_INPUT_SIZE * 3;

interface Face {
  image: string;
  reference: FullFaceJson;
  crop: FloatImage;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

/** face-api's NetInput.toBatchTensor(150, true) for one crop, on TF.js: centred zero padding, resizeBilinear. */
async function referenceInput(face: FloatImage): Promise<Float32Array> {
  const out = tf.tidy(() => {
    let x = tf.tensor4d(face.data, [1, face.height, face.width, 3]);
    const diff = Math.abs(face.height - face.width);
    if (diff > 0) {
      const axis = face.height > face.width ? 2 : 1;
      const after = Math.round(diff * 0.5);
      const zeros = (n: number) => tf.zeros(axis === 2 ? [1, face.height, n, 3] : [1, n, face.width, 3]);
      x = tf.concat([...(diff - after > 0 ? [zeros(diff - after)] : []), x, zeros(after)], axis) as Tensor4D;
    }
    return tf.image.resizeBilinear(x, [DESCRIPTOR_INPUT_SIZE, DESCRIPTOR_INPUT_SIZE], false, false);
  });
  return takeData(out);
}

let reference: FaceApiReference;
let engine: Engine;
let net: DescriptorNet;
const faces: Face[] = [];

before(async () => {
  reference = await loadFaceApiReference();
  engine = new Engine({ threads: 2 });
  // face-api's own (quantised) weights, so both sides compute the same function.
  net = await createDescriptorNet(engine, { weightsPath: faceApiManifest('face_recognition_model') });
  for (const file of SAMPLE_IMAGES) {
    const crops = await referenceFaceCrops(reference, file, (face) => descriptorCropBox(face.landmarks.map(([x, y]) => ({ x, y }))));
    for (const { face, crop } of crops) faces.push({ image: sampleName(file), reference: face, crop });
  }
});

after(async () => {
  reference.dispose();
  await engine.dispose();
});

describe('prepareDescriptorInput', () => {
  test('pads a tall crop centred, with the odd column after the image, as face-api does', () => {
    const face: FloatImage = { data: new Float32Array(101 * 150 * 3).fill(200), width: 101, height: 150, channels: 3 };
    const input = prepareDescriptorInput(face);
    assert.equal(input.width, 150);
    assert.equal(input.height, 150);
    // 49 columns of padding: round(24.5) = 25 after, 24 before.
    const at = (x: number) => input.data[(75 * 150 + x) * 3] as number;
    assert.deepEqual([at(23), at(24), at(124), at(125)], [0, 200, 200, 0]);
  });

  test('takes 8-bit RGB and float crops alike', () => {
    const rgb = { data: Uint8Array.from({ length: 40 * 30 * 3 }, (_, i) => i % 251), width: 40, height: 30 };
    assert.deepEqual(prepareDescriptorInput(rgb).data, prepareDescriptorInput(toFloatImage(rgb)).data);
  });

  test('rejects an empty crop', () => {
    const empty: FloatImage = { data: new Float32Array(0), width: 0, height: 10, channels: 3 };
    assert.throws(() => prepareDescriptorInput(empty), (err) => isVisageError(err, 'INVALID_ARGUMENT'));
  });

  test('matches face-api pad-to-square + resizeBilinear on the real face crops', async (t) => {
    let worst = 0;
    for (const face of faces) {
      const diff = maxAbsDiff(prepareDescriptorInput(face.crop).data, await referenceInput(face.crop));
      worst = Math.max(worst, diff);
      assert.ok(diff <= INPUT_TOLERANCE, `${face.image} ${face.crop.width}x${face.crop.height}: input differs by ${diff}`);
    }
    t.diagnostic(`${faces.length} crops, max abs diff of prepared input (0..255): ${worst}`);
  });
});

describe('descriptorCropBox', () => {
  test('places the eye-mouth centre at (0.5, 0.43) of a box 1/0.45 eye-mouth distances wide', () => {
    const landmarks = Array.from({ length: 68 }, (_, i) => {
      if (i >= 36 && i < 42) return { x: 40, y: 50 };
      if (i >= 42 && i < 48) return { x: 60, y: 50 };
      if (i >= 48) return { x: 50, y: 80 };
      return { x: 0, y: 0 };
    });
    // Eye-mouth distance sqrt(10^2 + 30^2) = 31.62 → size floor(70.27) = 70; centre (50, 60).
    assert.deepEqual(descriptorCropBox(landmarks), { x: 15, y: 29, width: 70, height: 70 });
  });
});

describe('descriptor network', () => {
  test('raw forward agrees with face-api on identical 150x150 inputs', async (t) => {
    assert.ok(faces.length >= 20, `expected the photos to give at least 20 faces, got ${faces.length}`);
    for (const image of new Set(faces.map((f) => f.image))) {
      const group = faces.filter((f) => f.image === image);
      const batch = new Float32Array(group.length * INPUT_VALUES);
      group.forEach((f, i) => batch.set(prepareDescriptorInput(f.crop).data, i * INPUT_VALUES));
      const expected = await reference.faceRecognitionNet(batch, [group.length, DESCRIPTOR_INPUT_SIZE, DESCRIPTOR_INPUT_SIZE, 3]);
      const diff = maxAbsDiff(await net.forwardRaw(batch), expected.data);
      t.diagnostic(`${image}: ${group.length} faces, max abs diff ${diff.toExponential(2)}`);
      assert.ok(diff <= RAW_TOLERANCE, `${image}: raw forward differs by ${diff}`);
    }
  });

  test('descriptors from face-api-aligned crops match face-api full-chain descriptors', async (t) => {
    let minCosine = 1;
    for (const face of faces) {
      const similarity = cosine(await net.describe(face.crop), face.reference.descriptor);
      minCosine = Math.min(minCosine, similarity);
      assert.ok(similarity >= MIN_COSINE, `${face.image}: cosine ${similarity}`);
    }
    t.diagnostic(`${faces.length} faces, min cosine ${minCosine}`);
  });

  test('a batch gives the same descriptors as one face at a time', async (t) => {
    const crops = faces.map((f) => f.crop);
    const single = await Promise.all(crops.map((c) => net.describe(c)));
    const chunked = await createDescriptorNet(engine, { weightsPath: faceApiManifest('face_recognition_model'), maxBatch: 8 });
    for (const batched of [await net.describeBatch(crops), await chunked.describeBatch(crops)]) {
      assert.equal(batched.length, single.length);
      const diff = Math.max(...batched.map((d, i) => maxAbsDiff(d, single[i] as Float32Array)));
      t.diagnostic(`batch of ${crops.length} vs single: max abs diff ${diff}`);
      assert.ok(diff <= BATCH_TOLERANCE, `batch differs from single by ${diff}`);
    }
  });

  test('rejects a raw input that is not a whole number of 150x150x3 images', async () => {
    await assert.rejects(net.forwardRaw(new Float32Array(INPUT_VALUES + 1)), (err) => isVisageError(err, 'INVALID_ARGUMENT'));
  });
});
