/** ArcFace crops of the faces in face-api's shipped sample photos, found by visage's own detector and landmarks. */
import path from 'node:path';
import { createVisage } from '../../src/index.js';
import { loadImage } from '../../src/image/index.js';
import { arcfaceCrop, asPixels } from '../../src/pipeline/align.js';
import type { FloatImage } from '../../src/models/common/preprocess.js';
import { FACEAPI_DEMO_DIR } from '../reference/faceapi.js';

export async function detectRgbFile(): Promise<FloatImage[]> {
  const visage = await createVisage({ threads: 1 });
  try {
    const crops: FloatImage[] = [];
    for (const name of ['sample1.jpg', 'sample2.jpg', 'sample3.jpg']) {
      const file = path.join(FACEAPI_DEMO_DIR, name);
      const image = await loadImage(file);
      const { faces } = await visage.detect(file);
      for (const f of faces) crops.push(arcfaceCrop(asPixels(image), f.landmarks));
    }
    return crops;
  } finally {
    await visage.close();
  }
}
