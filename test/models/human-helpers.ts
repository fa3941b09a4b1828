/**
 * What the oracle tests of human's networks share: face crops taken as visage's pipeline takes
 * them (its detector and landmarks on the shipped photos, the landmarks' padded box, integer
 * corners), and human's own pre-processing in TF.js ops for the reference side.
 */
import { loadImage } from '../../src/image/index.js';
import type { FloatImage } from '../../src/models/common/preprocess.js';
import { asPixels, attributeBox, cropBox } from '../../src/pipeline/align.js';
import { createVisage } from '../../src/pipeline/visage.js';
import { tf, type Tensor } from '../reference/tfjs-wasm.js';
import { SAMPLE_IMAGES, sampleName } from './helpers.js';

export interface SampleFace {
  image: string;
  crop: FloatImage;
}

let cached: Promise<SampleFace[]> | undefined;

/** Every face visage finds on the shipped photos, cropped as the pipeline crops for its classifiers. */
export function pipelineFaceCrops(): Promise<SampleFace[]> {
  cached ??= (async () => {
    const visage = await createVisage({ threads: 1 });
    try {
      const faces: SampleFace[] = [];
      for (const file of SAMPLE_IMAGES) {
        const pixels = asPixels(await loadImage(file));
        const { faces: found } = await visage.detect(file);
        for (const f of found) {
          const crop = cropBox(pixels, f.landmarks.length === 68 ? attributeBox(f.landmarks) : f.box);
          if (crop) faces.push({ image: sampleName(file), crop });
        }
      }
      return faces;
    } finally {
      await visage.close();
    }
  })();
  return cached;
}

/** human's face tensor for a crop: [1, h, w, 3], values 0..1. Caller disposes. */
export function humanFaceTensor(crop: FloatImage): Tensor {
  return tf.tensor4d(crop.data.map((v) => v / 255), [1, crop.height, crop.width, 3], 'float32');
}

/** human's resize of its face tensor to a network's side (tf.image.resizeBilinear, no corner alignment). */
export function humanResize(face: Tensor, size: number): Tensor {
  return tf.image.resizeBilinear(face as never, [size, size], false);
}
