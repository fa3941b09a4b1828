/**
 * Face crops for the crop networks.
 * - 'chip' (the descriptor's default): dlib's face chip, the crop the descriptor was trained on
 *   (face-api's ResNet is dlib's dlib_face_recognition_resnet_model_v1): a similarity transform
 *   taking the landmarks onto dlib's mean face shape, 150x150 with padding 0.25.
 * - 'box': the square face-api itself crops around eyes and mouth (`align({useDlibAlignment})`),
 *   reproduced exactly, for agreement with face-api.
 * - 'rotate': that square, turned so that the eyes are level.
 * Expression and age/gender get face-api's `alignedRect`: the landmarks' box padded by 20%.
 */
import type { Box, Point, RgbImage } from '../image/types.js';
import { estimateSimilarity, warpSimilarity, type Pixels, type Similarity } from '../image/warp.js';
import { clipBox, type CropSource, type FloatImage, type ImageRegion } from '../models/common/preprocess.js';
import { descriptorCropBox } from '../models/descriptor/index.js';

export type AlignMode = 'chip' | 'box' | 'rotate';

/**
 * dlib's mean face shape (get_face_chip_details): points 17-67 in [0, 1], as x, y pairs.
 * A fact of dlib's model, not code: the chip is defined by where these points land.
 */
const MEAN_FACE_17_67: readonly (readonly [number, number])[] = [
  [0.000213256, 0.106454], [0.0752622, 0.038915], [0.18113, 0.0187482], [0.29077, 0.0344891], [0.393397, 0.0773906],
  [0.586856, 0.0773906], [0.689483, 0.0344891], [0.799124, 0.0187482], [0.904991, 0.038915], [0.98004, 0.106454],
  [0.490127, 0.203352], [0.490127, 0.307009], [0.490127, 0.409805], [0.490127, 0.515625], [0.36688, 0.587326],
  [0.426036, 0.609345], [0.490127, 0.628106], [0.554217, 0.609345], [0.613373, 0.587326], [0.121737, 0.216423],
  [0.187122, 0.178758], [0.265825, 0.179852], [0.334606, 0.231733], [0.260918, 0.245099], [0.182743, 0.244077],
  [0.645647, 0.231733], [0.714428, 0.179852], [0.793132, 0.178758], [0.858516, 0.216423], [0.79751, 0.244077],
  [0.719335, 0.245099], [0.254149, 0.780233], [0.340985, 0.745405], [0.428858, 0.727388], [0.490127, 0.742578],
  [0.551395, 0.727388], [0.639268, 0.745405], [0.726104, 0.780233], [0.642159, 0.864805], [0.556721, 0.902192],
  [0.490127, 0.909281], [0.423532, 0.902192], [0.338094, 0.864805], [0.290379, 0.784792], [0.428096, 0.778746],
  [0.490127, 0.785343], [0.552157, 0.778746], [0.689874, 0.784792], [0.553364, 0.824182], [0.490127, 0.831803],
  [0.42689, 0.824182],
];
const meanFace = (i: number): Point => {
  const [x, y] = MEAN_FACE_17_67[i - 17] as readonly [number, number];
  return { x, y };
};
/** dlib uses points 27-54 and 60-64: no jaw, no eyebrows, no lower lip. */
const CHIP_POINTS = Array.from({ length: 68 }, (_, i) => i).filter((i) => i >= 27 && !(i >= 55 && i <= 59) && !(i >= 65));
/** The dlib face recognition chip: 150x150, padding 0.25 (dnn_face_recognition_ex). */
export const CHIP_SIZE = 150;
const CHIP_PADDING = 0.25;
const toChip = (p: Point): Point => ({
  x: ((CHIP_PADDING + p.x) / (2 * CHIP_PADDING + 1)) * CHIP_SIZE,
  y: ((CHIP_PADDING + p.y) / (2 * CHIP_PADDING + 1)) * CHIP_SIZE,
});

/** Chip-space targets and the matching image points: 68 landmarks, or MTCNN's 5 mapped onto the same mean face. */
function chipCorrespondence(landmarks: readonly Point[]): { chip: Point[]; image: Point[] } {
  if (landmarks.length === 68) {
    return { chip: CHIP_POINTS.map((i) => toChip(meanFace(i))), image: CHIP_POINTS.map((i) => landmarks[i] as Point) };
  }
  // MTCNN: eye centres, nose tip, mouth corners ↔ the same places on the mean face.
  const eye = (from: number) => mean([36, 37, 38, 39, 40, 41].map((i) => meanFace(i + from)));
  const chip = [eye(0), eye(6), meanFace(30), meanFace(48), meanFace(54)].map(toChip);
  return { chip, image: [...landmarks] };
}

const mean = (pts: readonly Point[]): Point => ({
  x: pts.reduce((s, p) => s + p.x, 0) / pts.length,
  y: pts.reduce((s, p) => s + p.y, 0) / pts.length,
});

/** Eye centres and mouth centre from 68 points, or from MTCNN's 5 (eyes, nose, mouth corners). */
export function referencePoints(landmarks: readonly Point[]): { leftEye: Point; rightEye: Point; mouth: Point } {
  if (landmarks.length === 68) {
    return { leftEye: mean(landmarks.slice(36, 42)), rightEye: mean(landmarks.slice(42, 48)), mouth: mean(landmarks.slice(48, 68)) };
  }
  if (landmarks.length === 5) {
    const [leftEye, rightEye, , mouthLeft, mouthRight] = landmarks as [Point, Point, Point, Point, Point];
    return { leftEye, rightEye, mouth: mean([mouthLeft, mouthRight]) };
  }
  throw new Error(`Expected 68 or 5 landmarks but received ${landmarks.length}`);
}

/** face-api's dlib-style descriptor box, from 68 points or (by the same rule) from 5. */
export function descriptorBox(landmarks: readonly Point[]): Box {
  if (landmarks.length === 68) return descriptorCropBox(landmarks);
  const { leftEye, rightEye, mouth } = referencePoints(landmarks);
  // Same constants as face-api: centre at (0.5, 0.43) of a box 1/0.45 eye-to-mouth distances wide.
  const toMouth = (p: Point) => Math.hypot(mouth.x - p.x, mouth.y - p.y);
  const size = Math.floor((toMouth(leftEye) + toMouth(rightEye)) / 2 / 0.45);
  const ref = mean([leftEye, rightEye, mouth]);
  return { x: Math.floor(Math.max(0, ref.x - 0.5 * size)), y: Math.floor(Math.max(0, ref.y - 0.43 * size)), width: size, height: size };
}

/** face-api's `alignedRect`: the landmarks' bounding box, padded by 20% of its size. */
export function attributeBox(landmarks: readonly Point[]): Box {
  const xs = landmarks.map((p) => p.x);
  const ys = landmarks.map((p) => p.y);
  const minX = Math.min(...xs);
  const minY = Math.min(...ys);
  const width = Math.max(0, ...xs) - minX;
  const height = Math.max(0, ...ys) - minY;
  return { x: minX - width * 0.1, y: minY - height * 0.1, width: width * 1.2, height: height * 1.2 };
}

/**
 * The crop the attribute classifiers (expression, age/gender) read: face-api classifies the
 * landmarks' padded bounding box (its alignedRect), whole-image faces included; MTCNN's 5 points
 * do not outline the face, so its detection box is used as it is.
 */
export function attributeCrop(image: Pixels, face: { box: Box; landmarks: readonly Point[] }): FloatImage | null {
  return cropBox(image, attributeCropBox(face));
}

/** attributeCrop's box as a region of the image, not copied (for the face-api crop networks). */
export function attributeRegion(image: Pixels, face: { box: Box; landmarks: readonly Point[] }): ImageRegion | null {
  return cropRegion(image, attributeCropBox(face));
}

const attributeCropBox = (face: { box: Box; landmarks: readonly Point[] }): Box => (face.landmarks.length === 68 ? attributeBox(face.landmarks) : face.box);

/**
 * The decoded image as the crop functions read it. Crops come straight from the 8-bit pixels
 * (the same values as from a float copy), so a photo is never converted to float as a whole:
 * for 1920x1280 that copy is 29 MB made and collected per image.
 */
export function asPixels(image: RgbImage): Pixels {
  return { data: image.data, width: image.width, height: image.height, channels: 3 };
}

/**
 * The integer box the reference crops (clipped to the image, floored) as a region of the image,
 * not copied: the face-api crop networks read it in place. Null when nothing is left.
 */
export function cropRegion(image: Pixels, box: Box): ImageRegion | null {
  const clipped = clipBox(box, image.width, image.height);
  return clipped.width > 0 && clipped.height > 0 ? { image, box: clipped } : null;
}

/** The integer crop the reference takes of `box` (clipped to the image, floored), as floats. */
export function cropBox(image: Pixels, box: Box): FloatImage | null {
  const { x, y, width, height } = clipBox(box, image.width, image.height);
  if (width <= 0 || height <= 0) return null;
  const c = image.channels;
  const out = new Float32Array(width * height * c);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * c;
    out.set(image.data.subarray(from, from + width * c), row * width * c);
  }
  return { data: out, width, height, channels: c };
}

/** The similarity taking chip pixels to image pixels, fitted to the landmarks (least squares). */
export function chipToImage(landmarks: readonly Point[]): Similarity {
  const { chip, image } = chipCorrespondence(landmarks);
  return estimateSimilarity(chip, image);
}

/** Where dlib's mean face puts landmark `i` (17-67) in the chip, in chip pixels. */
export function chipPoint(i: number): Point {
  return toChip(meanFace(i));
}

/**
 * The descriptor's input crop: dlib's face chip ('chip'), face-api's square ('box'), or that
 * square with the eyes levelled ('rotate').
 */
export function descriptorCrop(image: Pixels, landmarks: readonly Point[], mode: AlignMode): CropSource | null {
  if (mode === 'chip') return warpSimilarity(image, chipToImage(landmarks), CHIP_SIZE, CHIP_SIZE);
  const box = descriptorBox(landmarks);
  if (mode === 'box') return cropRegion(image, box);
  const { leftEye, rightEye } = referencePoints(landmarks);
  const angle = Math.atan2(rightEye.y - leftEye.y, rightEye.x - leftEye.x);
  const size = Math.max(1, box.width);
  const centre = { x: box.x + size / 2, y: box.y + size / 2 };
  // Output (u, v) → source: rotate by `angle` about the box centre.
  const a = Math.cos(angle);
  const b = Math.sin(angle);
  const half = size / 2;
  const toSource: Similarity = { a, b, tx: centre.x - (a * half - b * half), ty: centre.y - (b * half + a * half) };
  return warpSimilarity(image, toSource, size, size);
}

/**
 * InsightFace's ArcFace template: where the eye centres, the nose tip and the mouth corners of a
 * 112x112 recognition crop lie (the crop MobileFaceNet and ArcFace models are trained on).
 */
const ARCFACE_TEMPLATE: readonly Point[] = [
  { x: 38.2946, y: 51.6963 }, { x: 73.5318, y: 51.5014 }, { x: 56.0252, y: 71.7366 }, { x: 41.5493, y: 92.3655 }, { x: 70.7299, y: 92.2041 },
];

/** Five points (eyes, nose tip, mouth corners) from the 68 landmarks, or MTCNN's own five. */
export function fivePoints(landmarks: readonly Point[]): Point[] {
  if (landmarks.length === 5) return [...landmarks];
  if (landmarks.length !== 68) throw new Error(`Expected 68 or 5 landmarks but received ${landmarks.length}`);
  return [mean(landmarks.slice(36, 42)), mean(landmarks.slice(42, 48)), landmarks[30] as Point, landmarks[48] as Point, landmarks[54] as Point];
}

/** The ArcFace-aligned crop, `size` pixels square (the template scaled from 112). */
export function arcfaceCrop(image: Pixels, landmarks: readonly Point[], size = 112): FloatImage {
  const k = size / 112;
  const template = ARCFACE_TEMPLATE.map((p) => ({ x: p.x * k, y: p.y * k }));
  return warpSimilarity(image, estimateSimilarity(template, fivePoints(landmarks)), size, size);
}

/** dlib's face chip rendered at `size` pixels instead of 150. */
export function chipCrop(image: Pixels, landmarks: readonly Point[], size: number): FloatImage {
  const t = chipToImage(landmarks);
  const k = CHIP_SIZE / size;
  return warpSimilarity(image, { a: t.a * k, b: t.b * k, tx: t.tx, ty: t.ty }, size, size);
}

/**
 * The detection box made square about its centre and resized to `size` (FaceNet's input as
 * facenet-pytorch crops it from MTCNN's box, kept square so the face is not stretched).
 */
export function squareBoxCrop(image: Pixels, box: Box, size: number): FloatImage {
  const side = Math.max(box.width, box.height);
  const k = side / size;
  return warpSimilarity(image, { a: k, b: 0, tx: box.x + box.width / 2 - side / 2, ty: box.y + box.height / 2 - side / 2 }, size, size);
}
