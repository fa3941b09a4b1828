import { faceApiManifest, positiveInteger } from '../common/packaged.js';
import { faceApiWeightFiles, readFaceApiWeights, type Engine, type Model } from '../../engine/index.js';
import { VisageError } from '../../errors.js';
import type { RgbImage } from '../../image/types.js';
import { toFaceApiPlacement, type Detection } from '../common/boxes.js';
import { rgbSquareBatch } from '../common/preprocess.js';
import { TINY_GRAPH_VERSION, TINY_IO, buildTinyGraph } from './graph.js';
import { toTinyDetections } from './postprocess.js';
import type { TinyDetector, TinyDetectorOptions, TinyOptions, TinyRawOutput } from './types.js';

/** face-api's TinyFaceDetectorOptions defaults; face-api keeps every face NMS leaves. */
export const TINY_DEFAULTS = Object.freeze({ inputSize: 416, minScore: 0.5, maxResults: Number.POSITIVE_INFINITY });

function checkInputSize(inputSize: number): void {
  if (!Number.isInteger(inputSize) || inputSize < 32 || inputSize % 32 !== 0) {
    throw new VisageError('INVALID_ARGUMENT', `Expected a positive multiple of 32 for inputSize but received ${inputSize}`);
  }
}

function resolveOptions(options: TinyOptions = {}): Required<TinyOptions> {
  const inputSize = options.inputSize ?? TINY_DEFAULTS.inputSize;
  const minScore = options.minScore ?? TINY_DEFAULTS.minScore;
  const maxResults = options.maxResults ?? TINY_DEFAULTS.maxResults;
  checkInputSize(inputSize);
  if (!(minScore > 0 && minScore < 1)) {
    throw new VisageError('INVALID_ARGUMENT', `Expected a number in (0, 1) for minScore but received ${minScore}`);
  }
  if (!(maxResults >= 1) || (!Number.isInteger(maxResults) && maxResults !== Number.POSITIVE_INFINITY)) {
    throw new VisageError('INVALID_ARGUMENT', `Expected a positive integer for maxResults but received ${maxResults}`);
  }
  return { inputSize, minScore, maxResults };
}

async function forward(model: Model, nhwc: Float32Array, inputSize: number): Promise<TinyRawOutput> {
  checkInputSize(inputSize);
  const perImage = inputSize * inputSize * 3;
  const n = nhwc.length / perImage;
  if (!Number.isInteger(n) || n < 1) {
    throw new VisageError(
      'INVALID_ARGUMENT',
      `Expected a multiple of ${perImage} values (n x ${inputSize} x ${inputSize} x 3) for Tiny detector input but received ${nhwc.length}`,
    );
  }
  const out = await model.run({ [TINY_IO.input]: { data: nhwc, dims: [n, inputSize, inputSize, 3] } });
  const grid = out[TINY_IO.grid];
  if (!grid) throw new VisageError('MODEL_ERROR', `Tiny face detector returned no ${TINY_IO.grid} output`);
  return { grid: grid.data, dims: grid.dims };
}

/**
 * Loads face-api's Tiny face detector on an engine (compiled once per process). Images are padded
 * to a square at the bottom or right and resized to `inputSize`, as face-api does.
 *
 * @example
 * const tiny = await createTinyDetector(new Engine({ threads: 2 }));
 * const faces = await tiny.detect(image, { inputSize: 320 }); // [{ box: {x, y, width, height}, score }]
 */
export async function createTinyDetector(engine: Engine, options: TinyDetectorOptions = {}): Promise<TinyDetector> {
  const weightsPath = options.weightsPath ?? faceApiManifest('tiny_face_detector_model');
  const maxBatch = positiveInteger(options.maxBatch ?? 8, 'maxBatch');
  const model = await engine.load(`tiny:${weightsPath}`, async () => buildTinyGraph(await readFaceApiWeights(weightsPath)), {
    sources: await faceApiWeightFiles(weightsPath),
    version: TINY_GRAPH_VERSION,
  });

  async function detectBatch(images: readonly RgbImage[], opts?: TinyOptions): Promise<Detection[][]> {
    const { inputSize, minScore, maxResults } = resolveOptions(opts);
    const results: Detection[][] = [];
    for (let start = 0; start < images.length; start += maxBatch) {
      const chunk = images.slice(start, start + maxBatch);
      const { batch, paddings } = rgbSquareBatch(chunk, inputSize);
      const { grid, dims } = await forward(model, batch, inputSize);
      const cells = dims[1] as number;
      const perGrid = grid.length / chunk.length;
      paddings.forEach((padding, i) => {
        const source = chunk[i] as RgbImage;
        const detections = toTinyDetections(grid.subarray(i * perGrid, (i + 1) * perGrid), cells, padding, minScore, maxResults);
        results.push(detections.map((d) => ({ ...d, box: toFaceApiPlacement(d.box, source, inputSize) })));
      });
    }
    return results;
  }

  return {
    async detect(image, opts) {
      const [detections] = await detectBatch([image], opts);
      return detections as Detection[];
    },
    detectBatch,
    forwardRaw: (nhwc, inputSize = TINY_DEFAULTS.inputSize) => forward(model, nhwc, inputSize),
  };
}
