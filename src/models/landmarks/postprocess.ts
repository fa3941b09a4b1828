/**
 * face-api's FaceLandmark68NetBase.postProcess, then FaceLandmarks' scaling to the crop and the
 * shift into the source image.
 */
import type { Point } from '../../image/types.js';
import { CROP_INPUT_SIZE } from '../common/feature-extractor.js';

/** Number of points the nets predict (dlib's 68-point layout). */
export const LANDMARK_COUNT = 68;

/**
 * Maps one face's 136 raw outputs (relative to the 112x112 centred square input) to 68 points
 * in source pixels: undo the padding, scale to the crop, add the crop's offset.
 *
 * Like face-api, the padding is taken as exactly half the size difference, even when the real
 * pad-to-square split an odd difference one pixel unevenly (off by at most half a source pixel).
 */
export function toSourcePoints(raw: Float32Array, cropWidth: number, cropHeight: number, offset: Point): Point[] {
  const scale = CROP_INPUT_SIZE / Math.max(cropWidth, cropHeight);
  const width = cropWidth * scale;
  const height = cropHeight * scale;
  const padX = width < height ? Math.abs(width - height) / 2 : 0;
  const padY = height < width ? Math.abs(width - height) / 2 : 0;
  const points: Point[] = [];
  for (let i = 0; i < LANDMARK_COUNT; i++) {
    const relX = ((raw[2 * i] as number) * CROP_INPUT_SIZE - padX) / width;
    const relY = ((raw[2 * i + 1] as number) * CROP_INPUT_SIZE - padY) / height;
    points.push({ x: relX * cropWidth + offset.x, y: relY * cropHeight + offset.y });
  }
  return points;
}
