/**
 * The 68-point landmark nets on face crops: one network call for many faces.
 */
import type { Engine, Tensor } from '../../engine/index.js';
import { VisageError } from '../../errors.js';
import type { Point } from '../../image/types.js';
import {
  type FeatureExtractorVariant,
  FACE_BATCH,
  faceApiManifest,
  loadCropModel,
  positiveInteger,
  runCropBatch,
  runCrops,
} from '../common/feature-extractor.js';
import { cropSize, type CropSource } from '../common/preprocess.js';
import { GRAPH_VERSION, LANDMARKS_OUTPUT, build } from './graph.js';
import { toSourcePoints } from './postprocess.js';

export interface LandmarksOptions {
  /** 'full' (face_landmark_68_model, 350 KB) or 'tiny' (face_landmark_68_tiny_model, 75 KB). Default 'full'. */
  variant?: FeatureExtractorVariant;
  /** A face-api weights manifest for that variant. Default: the one shipped in `@vladmandic/face-api`. */
  manifestPath?: string;
  /** Most faces per network call. Default 8 (FACE_BATCH: larger batches run slower per face). */
  maxBatch?: number;
}

export interface LandmarksNet {
  readonly variant: FeatureExtractorVariant;
  /**
   * 68 points of one face crop, in the pixels of the image the crop came from: `offset` is where
   * the crop's top-left corner sits in that image (default 0, 0: crop pixels). face-api passes
   * the detection box's own corner here, not the floored corner its crop really starts at; pass
   * the same to reproduce its points exactly (they differ by under a pixel).
   */
  predict(faceCrop: CropSource, offset?: Point): Promise<Point[]>;
  /** {@link LandmarksNet.predict} for many crops in batched network calls; `offsets[i]` goes with `faceCrops[i]`. */
  predictBatch(faceCrops: readonly CropSource[], offsets?: readonly Point[]): Promise<Point[][]>;
  /** The network alone: NHWC [n, 112, 112, 3] (0..255) → [n, 136], relative to the square input. */
  forwardRaw(nhwcBatch: Tensor): Promise<Tensor>;
}

const MANIFESTS: Record<FeatureExtractorVariant, string> = {
  full: 'face_landmark_68_model',
  tiny: 'face_landmark_68_tiny_model',
};

/**
 * Loads face-api's 68-point landmark net (compiled to ONNX once per process).
 *
 * @example
 * const net = await createLandmarksNet(new Engine({ threads: 2 }));
 * const points = await net.predict(crop(image, box), { x: box.x, y: box.y });
 */
export async function createLandmarksNet(engine: Engine, options: LandmarksOptions = {}): Promise<LandmarksNet> {
  const variant = options.variant ?? 'full';
  if (!(variant in MANIFESTS)) {
    throw new VisageError('INVALID_ARGUMENT', `Expected 'full' or 'tiny' for variant but received ${String(variant)}`);
  }
  const manifestPath = options.manifestPath ?? faceApiManifest(MANIFESTS[variant]);
  const maxBatch = positiveInteger(options.maxBatch ?? FACE_BATCH, 'maxBatch');
  const model = await loadCropModel(engine, `faceapi-landmarks68-${variant}:${manifestPath}`, manifestPath, (w) =>
    build(w, variant),
  GRAPH_VERSION);

  async function predictBatch(faceCrops: readonly CropSource[], offsets?: readonly Point[]): Promise<Point[][]> {
    if (offsets && offsets.length !== faceCrops.length) {
      throw new VisageError(
        'INVALID_ARGUMENT',
        `Expected ${faceCrops.length} offsets (one per crop) for offsets but received ${offsets.length}`,
      );
    }
    const outputs = await runCrops(model, faceCrops, maxBatch);
    return outputs.map((out, i) => {
      const { width, height } = cropSize(faceCrops[i] as CropSource);
      const raw = (out[LANDMARKS_OUTPUT] as Tensor).data;
      return toSourcePoints(raw, width, height, offsets?.[i] ?? { x: 0, y: 0 });
    });
  }

  return {
    variant,
    predictBatch,
    async predict(faceCrop, offset) {
      const [points] = await predictBatch([faceCrop], offset ? [offset] : undefined);
      return points as Point[];
    },
    async forwardRaw(nhwcBatch) {
      return (await runCropBatch(model, nhwcBatch))[LANDMARKS_OUTPUT] as Tensor;
    },
  };
}
