/**
 * Input preparation for the descriptor, as face-api's FaceRecognitionNet does it: the face crop is
 * padded to a square with the image centred (toBatchTensor(150, true)), then resized to 150x150
 * with TF bilinear semantics. Normalisation happens inside the graph.
 */
import { asRegion, cropSquareBatch, regionToSquareInput, type CropSource, type FloatImage, type ImageRegion } from '../common/preprocess.js';
import type { Box, Point, RgbImage } from '../../image/types.js';
import { VisageError } from '../../errors.js';
import { DESCRIPTOR_INPUT_SIZE } from './graph.js';

/** A face crop: 8-bit RGB, a float image with values 0..255, or a region of a decoded image. */
export type FaceCrop = FloatImage | RgbImage | ImageRegion;

/** A face crop as a crop source for the square input (8-bit RGB is read in place, as a whole-image region). */
function asCropSource(crop: FaceCrop): CropSource {
  if ('channels' in crop || 'box' in crop) return crop;
  return { image: { ...crop, channels: 3 }, box: { x: 0, y: 0, width: crop.width, height: crop.height } };
}

/**
 * Turns a face crop into the network's 150x150x3 input (values still 0..255).
 *
 * @example
 * const input = prepareDescriptorInput(crop(image, clipBox(box, image.width, image.height)));
 * input.width; // 150
 */
export function prepareDescriptorInput(face: FaceCrop): FloatImage {
  return regionToSquareInput(asRegion(asCropSource(face)), DESCRIPTOR_INPUT_SIZE, true).input;
}

/** Face crops as one NHWC batch of the network's inputs, written in place. */
export function descriptorInputBatch(faces: readonly FaceCrop[]): Float32Array {
  return cropSquareBatch(faces.map(asCropSource), DESCRIPTOR_INPUT_SIZE);
}

/** face-api's dlib-style alignment constants: face centre at (0.5, 0.43) of a box 1/0.45 eye-mouth wide. */
const ALIGN_REL_X = 0.5;
const ALIGN_REL_Y = 0.43;
const ALIGN_REL_SCALE = 0.45;

function centre(points: readonly Point[]): Point {
  let x = 0;
  let y = 0;
  for (const p of points) {
    x += p.x;
    y += p.y;
  }
  return { x: x / points.length, y: y / points.length };
}

/**
 * The integer box face-api crops for the descriptor (`landmarks.align(null, { useDlibAlignment:
 * true })`), from 68 landmarks in source pixels. Not the `alignedRect` face-api reports, which the
 * expression and age/gender nets use. Clip it with `clipBox` before cropping; face-api's extra
 * clamp to the landmark crop's size never binds, since the box is smaller than the face crop.
 *
 * @example
 * const box = clipBox(descriptorCropBox(landmarks), image.width, image.height);
 * const descriptor = await net.describe(crop(image, box));
 */
export function descriptorCropBox(landmarks: readonly Point[]): Box {
  if (landmarks.length !== 68) {
    throw new VisageError('INVALID_ARGUMENT', `Expected 68 landmarks for descriptorCropBox but received ${landmarks.length}`);
  }
  const leftEye = centre(landmarks.slice(36, 42));
  const rightEye = centre(landmarks.slice(42, 48));
  const mouth = centre(landmarks.slice(48, 68));
  // sqrt of squares, as face-api's Point.magnitude (Math.hypot can differ in the last bit).
  const toMouth = (p: Point) => Math.sqrt((mouth.x - p.x) ** 2 + (mouth.y - p.y) ** 2);
  const size = Math.floor((toMouth(leftEye) + toMouth(rightEye)) / 2 / ALIGN_REL_SCALE);
  const ref = centre([leftEye, rightEye, mouth]);
  return {
    x: Math.floor(Math.max(0, ref.x - ALIGN_REL_X * size)),
    y: Math.floor(Math.max(0, ref.y - ALIGN_REL_Y * size)),
    width: size,
    height: size,
  };
}
