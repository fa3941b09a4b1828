/**
 * What the emotion classifiers compute for each face of a data set, computed once and cached in a
 * folder (e.g. /tmp): the faces go through the pipeline's path for a face crop (detector 'none':
 * the 68 landmarks on the whole image, then the classifiers' crop of their padded box), and
 * face-api's expression net and human's emotion net run on that crop and on its mirror image.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadImage } from '../../src/image/load.js';
import type { Box, Point } from '../../src/image/types.js';
import type { Pixels } from '../../src/image/warp.js';
import { type FloatImage, mirror, toSquareInput } from '../../src/models/common/preprocess.js';
import { CROP_INPUT_SIZE } from '../../src/models/common/feature-extractor.js';
import { MOBILEFACENET_EXPRESSION_HEAD, MOBILEFACENET_EXPRESSION_TRUNK } from '../../src/models/expression-mobilefacenet/index.js';
import { GRID_LENGTH, FEATURE_LENGTH } from '../../src/models/expression/graph.js';
import { EXPRESSION_LABELS, FINE_TUNED_MANIFEST, type Expressions } from '../../src/models/expression/index.js';
import { GEOMETRY_LENGTH, type HeadParts, landmarkGeometry } from '../../src/models/expression-head/index.js';
import { HUMAN_EMOTION_FEATURES } from '../../src/models/human-emotion/index.js';
import { asPixels, attributeBox, attributeCrop, cropBox } from '../../src/pipeline/align.js';
import type { LandmarksNet } from '../../src/models/landmarks/index.js';
import type { ModelRegistry } from '../../src/pipeline/models.js';
import { EMOTIONS } from '../../src/types.js';
import type { LabelledFace } from './emotion-data.js';

/** Per-view (crop or mirror) arrays, face after face. */
export interface ViewFeatures {
  faLogits: Float32Array; // 7 each, face-api's label order
  faFeatures: Float32Array; // 256
  faGrid: Float32Array; // 2304
  vnLogits: Float32Array; // 7 each, face-api's label order: visage's fine-tuned weights (models/visage-expression)
  huLogits: Float32Array; // 7 each, human's label order (= EMOTIONS)
  huFeatures: Float32Array; // 256
  geometry: Float32Array; // 136
}

export interface FaceSetFeatures {
  faces: LabelledFace[];
  /** Index in EMOTIONS of each face's label. */
  labels: Int32Array;
  crop: ViewFeatures;
  mirror: ViewFeatures;
}

const WIDTHS: Record<keyof ViewFeatures, number> = {
  faLogits: 7,
  faFeatures: FEATURE_LENGTH,
  faGrid: GRID_LENGTH,
  vnLogits: 7,
  huLogits: 7,
  huFeatures: HUMAN_EMOTION_FEATURES,
  geometry: GEOMETRY_LENGTH,
};
const KEYS = Object.keys(WIDTHS) as (keyof ViewFeatures)[];

const emptyView = (n: number): ViewFeatures => Object.fromEntries(KEYS.map((k) => [k, new Float32Array(n * WIDTHS[k])])) as unknown as ViewFeatures;

/**
 * 'pipeline': the classifiers' crop as analyze takes it (clipped to the image); 'clamped': the
 * whole padded landmark box, the parts outside the image filled with the nearest edge pixel
 * (a tight crop such as CK+'s then looks like the looser crops of a photo).
 */
export type CropMode = 'pipeline' | 'clamped';

function clampedCrop(image: Pixels, box: Box): FloatImage {
  const x0 = Math.floor(box.x);
  const y0 = Math.floor(box.y);
  const width = Math.max(1, Math.round(box.width));
  const height = Math.max(1, Math.round(box.height));
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.max(0, y0 + y));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(image.width - 1, Math.max(0, x0 + x));
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = image.data[(sy * image.width + sx) * 3 + c] as number;
    }
  }
  return { data, width, height, channels: 3 };
}

/** Log-probabilities in EXPRESSION_LABELS order: logits up to a constant, which softmax ignores. */
const logitsOf = (e: Expressions) => Float32Array.from(EXPRESSION_LABELS, (l) => Math.log(Math.max(e[l], 1e-30)));

/** One face's view as the head's input parts. */
export function headParts(view: ViewFeatures, i: number): HeadParts {
  const row = (k: keyof ViewFeatures) => view[k].subarray(i * WIDTHS[k], (i + 1) * WIDTHS[k]);
  return { grid: row('faGrid'), features: row('faFeatures'), logits: row('faLogits'), geometry: row('geometry') };
}

export function row(view: ViewFeatures, key: keyof ViewFeatures, i: number): Float32Array {
  return view[key].subarray(i * WIDTHS[key], (i + 1) * WIDTHS[key]);
}

/**
 * The pipeline's path for a face crop (detector 'none'): the whole image is the face; its 68
 * landmarks, then the classifiers' crop of their padded box (or the clamped box, see CropMode).
 */
export async function faceCrops(landmarksNet: LandmarksNet, faces: readonly LabelledFace[], cropMode: CropMode = 'pipeline'): Promise<{ points: Point[][]; crops: FloatImage[] }> {
  const images = await Promise.all(faces.map((f) => loadImage(f.file)));
  const pixels = images.map(asPixels);
  const whole = images.map((im) => ({ x: 0, y: 0, width: im.width, height: im.height }));
  const points: Point[][] = await landmarksNet.predictBatch(
    whole.map((box, i) => cropBox(pixels[i]!, box)!),
    whole.map(() => ({ x: 0, y: 0 })),
  );
  const crops = points.map((landmarks, i) => {
    const crop = cropMode === 'pipeline' ? attributeCrop(pixels[i]!, { box: whole[i]!, landmarks }) : clampedCrop(pixels[i]!, attributeBox(landmarks));
    if (!crop) throw new Error(`${faces[i]!.file}: no crop`);
    return crop;
  });
  return { points, crops };
}

/** Features of `faces`, read from `cacheDir/<name>-<hash>` or computed (and written there). */
export async function faceSetFeatures(models: ModelRegistry, faces: LabelledFace[], cacheDir: string, name: string, log: (s: string) => void, cropMode: CropMode = 'pipeline'): Promise<FaceSetFeatures> {
  const hash = createHash('sha256').update(faces.map((f) => `${f.file}\t${f.label}`).join('\n')).update(`v2${cropMode === 'pipeline' ? '' : cropMode}`).update(readFileSync(FINE_TUNED_MANIFEST.replace(/-weights_manifest\.json$/, '.bin'))).digest('hex').slice(0, 12);
  const dir = path.join(cacheDir, `${name}-${hash}`);
  const labels = Int32Array.from(faces, (f) => EMOTIONS.indexOf(f.label));
  const read = (view: string): ViewFeatures =>
    Object.fromEntries(KEYS.map((k) => [k, new Float32Array(new Uint8Array(readFileSync(path.join(dir, `${view}.${k}.f32`))).buffer)])) as unknown as ViewFeatures;
  if (existsSync(path.join(dir, 'done'))) return { faces, labels, crop: read('crop'), mirror: read('mirror') };

  const n = faces.length;
  const views = { crop: emptyView(n), mirror: emptyView(n) };
  const [landmarksNet, expression, fineTuned, human] = await Promise.all([models.landmarks(), models.expression(), models.expressionFineTuned(), models.humanEmotion()]);
  const batch = 64;
  const started = Date.now();
  for (let start = 0; start < n; start += batch) {
    const chunk = faces.slice(start, start + batch);
    const { points, crops } = await faceCrops(landmarksNet, chunk, cropMode);
    const both = [...crops, ...crops.map(mirror)];
    const [fa, vn, hu] = await Promise.all([expression.describeBatch(both), fineTuned.predictBatch(both), human.predictBatch(both)]);
    chunk.forEach((_, k) => {
      const i = start + k;
      for (const [v, view] of [[0, views.crop], [1, views.mirror]] as const) {
        const d = fa[v * chunk.length + k]!;
        const h = hu[v * chunk.length + k]!;
        view.faLogits.set(d.logits, i * 7);
        view.faFeatures.set(d.features, i * FEATURE_LENGTH);
        view.faGrid.set(d.grid, i * GRID_LENGTH);
        view.vnLogits.set(logitsOf(vn[v * chunk.length + k]!), i * 7);
        view.huLogits.set(h.logits, i * 7);
        view.huFeatures.set(h.features, i * HUMAN_EMOTION_FEATURES);
        view.geometry.set(landmarkGeometry(points[k]!, attributeBox(points[k]!), v === 1), i * GEOMETRY_LENGTH);
      }
    });
    if ((start / batch) % 20 === 0) log(`${name}: ${start + chunk.length}/${n} faces, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  mkdirSync(dir, { recursive: true });
  for (const [view, data] of Object.entries(views)) {
    for (const k of KEYS) writeFileSync(path.join(dir, `${view}.${k}.f32`), new Uint8Array(data[k].buffer));
  }
  writeFileSync(path.join(dir, 'done'), '');
  return { faces, labels, crop: views.crop, mirror: views.mirror };
}

/**
 * visage-mobilefacenet's logits (face-api's label order) of the crop and mirror image of every
 * face, cached apart from the other features (`cacheDir/<name>-mobilefacenet-<hash>`, keyed by
 * its weights), so a new version of its weights recomputes only them.
 */
export async function mobileFaceNetLogits(models: ModelRegistry, faces: LabelledFace[], cacheDir: string, name: string, log: (s: string) => void, cropMode: CropMode = 'pipeline'): Promise<{ crop: Float32Array; mirror: Float32Array }> {
  const hash = createHash('sha256').update(faces.map((f) => `${f.file}\t${f.label}`).join('\n')).update(`v2${cropMode === 'pipeline' ? '' : cropMode}`);
  for (const manifest of [MOBILEFACENET_EXPRESSION_TRUNK, MOBILEFACENET_EXPRESSION_HEAD]) hash.update(readFileSync(manifest.replace(/-weights_manifest\.json$/, '.bin')));
  const dir = path.join(cacheDir, `${name}-mobilefacenet-${hash.digest('hex').slice(0, 12)}`);
  const read = (view: string) => new Float32Array(new Uint8Array(readFileSync(path.join(dir, `${view}.f32`))).buffer);
  if (existsSync(path.join(dir, 'done'))) return { crop: read('crop'), mirror: read('mirror') };
  const [landmarksNet, net] = await Promise.all([models.landmarks(), models.expressionMobileFaceNet()]);
  const out = { crop: new Float32Array(faces.length * 7), mirror: new Float32Array(faces.length * 7) };
  const batch = 64;
  const started = Date.now();
  for (let start = 0; start < faces.length; start += batch) {
    const chunk = faces.slice(start, start + batch);
    const { crops } = await faceCrops(landmarksNet, chunk, cropMode);
    // The pipeline's input for it: the 112 square face-api's nets take, and that square mirrored (not
    // the square of the mirrored crop: centring puts an odd padding pixel on the other side).
    const squares = crops.map((c) => toSquareInput(c, CROP_INPUT_SIZE, true).input);
    const logits = await net.logitsBatch([...squares, ...squares.map(mirror)]);
    chunk.forEach((_, k) => {
      out.crop.set(logits[k]!, (start + k) * 7);
      out.mirror.set(logits[chunk.length + k]!, (start + k) * 7);
    });
    if ((start / batch) % 20 === 0) log(`${name} (visage-mobilefacenet): ${start + chunk.length}/${faces.length} faces, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'crop.f32'), new Uint8Array(out.crop.buffer));
  writeFileSync(path.join(dir, 'mirror.f32'), new Uint8Array(out.mirror.buffer));
  writeFileSync(path.join(dir, 'done'), '');
  return out;
}
