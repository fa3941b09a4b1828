/**
 * Input preparation for the descriptor, as face-api's FaceRecognitionNet does it: the face crop is
 * padded to a square with the image centred (toBatchTensor(150, true)), then resized to 150x150
 * with TF bilinear semantics. Normalisation happens inside the graph.
 */
import { toFloatImage, toSquareInput, type FloatImage } from '../common/preprocess.js';
import type { RgbImage } from '../../image/types.js';
import { VisageError } from '../../errors.js';
import { DESCRIPTOR_INPUT_SIZE } from './graph.js';

/** A face crop: 8-bit RGB or a float image with values 0..255. */
export type FaceCrop = FloatImage | RgbImage;

function asFloatImage(crop: FaceCrop): FloatImage {
  if ('channels' in crop) {
    if (crop.channels !== 3) throw new VisageError('INVALID_ARGUMENT', `Expected 3 channels for face crop but received ${crop.channels}`);
    return crop;
  }
  return toFloatImage(crop);
}

/**
 * Turns a face crop into the network's 150x150x3 input (values still 0..255).
 *
 * @example
 * const input = prepareDescriptorInput(crop(image, clipBox(box, image.width, image.height)));
 * input.width; // 150
 */
export function prepareDescriptorInput(face: FaceCrop): FloatImage {
  const image = asFloatImage(face);
  if (image.width < 1 || image.height < 1) {
    throw new VisageError('INVALID_ARGUMENT', `Expected a non-empty face crop but received ${image.width}x${image.height}`);
  }
  return toSquareInput(image, DESCRIPTOR_INPUT_SIZE, true).input;
}
