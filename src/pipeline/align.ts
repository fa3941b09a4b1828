/**
 * Face crops for the crop networks, taken as the reference (face-api) takes them:
 * - the descriptor gets the dlib-style box around eyes and mouth (`align({useDlibAlignment})`);
 * - expression and age/gender get the landmarks' bounding box padded by 20% (`alignedRect`).
 * With `rotate`, the descriptor crop is instead warped by a similarity transform that also levels
 * the eyes (same centre and size), for faces that are tilted in the picture.
 */
import type { Box, Point, RgbImage } from '../image/types.js';
import { warpSimilarity, type Pixels, type Similarity } from '../image/warp.js';
import { clipBox, type FloatImage } from '../models/common/preprocess.js';
import { descriptorCropBox } from '../models/descriptor/index.js';

export type AlignMode = 'box' | 'rotate';

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
 * The decoded image as the crop functions read it. Crops come straight from the 8-bit pixels
 * (the same values as from a float copy), so a photo is never converted to float as a whole:
 * for 1920x1280 that copy is 29 MB made and collected per image.
 */
export function asPixels(image: RgbImage): Pixels {
  return { data: image.data, width: image.width, height: image.height, channels: 3 };
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

/**
 * The descriptor's input crop. 'box' reproduces the reference exactly; 'rotate' samples the
 * same square turned so that the eyes are level.
 */
export function descriptorCrop(image: Pixels, landmarks: readonly Point[], mode: AlignMode): FloatImage | null {
  const box = descriptorBox(landmarks);
  if (mode === 'box') return cropBox(image, box);
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
