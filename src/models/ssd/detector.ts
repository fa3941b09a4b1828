import { faceApiManifest, positiveInteger } from '../common/packaged.js';
import { faceApiWeightFiles, readFaceApiWeights, type Engine, type Model, type Tensor } from '../../engine/index.js';
import { VisageError } from '../../errors.js';
import type { RgbImage } from '../../image/types.js';
import { toFaceApiPlacement, type Detection } from '../common/boxes.js';
import { rgbSquareBatch } from '../common/preprocess.js';
import { SSD_ANCHORS, SSD_INPUT_SIZE, SSD_GRAPH_VERSION, SSD_IO, buildSsdGraph } from './graph.js';
import { toSsdDetections } from './postprocess.js';
import type { SsdDetector, SsdDetectorOptions, SsdOptions, SsdRawOutput } from './types.js';

const INPUT_VALUES = SSD_INPUT_SIZE * SSD_INPUT_SIZE * 3;

/** face-api's SsdMobilenetv1Options defaults. */
export const SSD_DEFAULTS = Object.freeze({ minScore: 0.5, maxResults: 100 });

function resolveOptions(options: SsdOptions = {}): Required<SsdOptions> {
  const minScore = options.minScore ?? SSD_DEFAULTS.minScore;
  const maxResults = options.maxResults ?? SSD_DEFAULTS.maxResults;
  if (!(minScore > 0 && minScore < 1)) {
    throw new VisageError('INVALID_ARGUMENT', `Expected a number in (0, 1) for minScore but received ${minScore}`);
  }
  if (!Number.isInteger(maxResults) || maxResults < 1) {
    throw new VisageError('INVALID_ARGUMENT', `Expected a positive integer for maxResults but received ${maxResults}`);
  }
  return { minScore, maxResults };
}

function output(out: Record<string, Tensor>, name: string): Float32Array {
  const t = out[name];
  if (!t) throw new VisageError('MODEL_ERROR', `SSD MobileNetV1 returned no ${name} output`);
  return t.data;
}

async function forward(model: Model, nhwc: Float32Array): Promise<SsdRawOutput> {
  const n = nhwc.length / INPUT_VALUES;
  if (!Number.isInteger(n) || n < 1) {
    throw new VisageError(
      'INVALID_ARGUMENT',
      `Expected a multiple of ${INPUT_VALUES} values (n x 512 x 512 x 3) for SSD input but received ${nhwc.length}`,
    );
  }
  const out = await model.run({ [SSD_IO.input]: { data: nhwc, dims: [n, SSD_INPUT_SIZE, SSD_INPUT_SIZE, 3] } });
  return {
    boxEncodings: output(out, SSD_IO.boxEncodings),
    classLogits: output(out, SSD_IO.classLogits),
    boxes: output(out, SSD_IO.boxes),
    scores: output(out, SSD_IO.scores),
  };
}

/**
 * Loads face-api's SSD MobileNetV1 face detector on an engine (compiled once per process).
 * Images are padded to a square at the bottom or right and resized to 512x512, as face-api does.
 *
 * @example
 * const ssd = await createSsdDetector(new Engine({ threads: 2 }));
 * const faces = await ssd.detect(image, { minScore: 0.6 }); // [{ box: {x, y, width, height}, score }]
 */
export async function createSsdDetector(engine: Engine, options: SsdDetectorOptions = {}): Promise<SsdDetector> {
  const weightsPath = options.weightsPath ?? faceApiManifest('ssd_mobilenetv1_model');
  const maxBatch = positiveInteger(options.maxBatch ?? 8, 'maxBatch');
  const model = await engine.load(`ssd:${weightsPath}`, async () => buildSsdGraph(await readFaceApiWeights(weightsPath)), {
    sources: await faceApiWeightFiles(weightsPath),
    version: SSD_GRAPH_VERSION,
  });

  async function detectBatch(images: readonly RgbImage[], opts?: SsdOptions): Promise<Detection[][]> {
    const { minScore, maxResults } = resolveOptions(opts);
    const results: Detection[][] = [];
    for (let start = 0; start < images.length; start += maxBatch) {
      const chunk = images.slice(start, start + maxBatch);
      const { batch, paddings } = rgbSquareBatch(chunk, SSD_INPUT_SIZE);
      const { boxes, scores } = await forward(model, batch);
      paddings.forEach((padding, i) => {
        const detections = toSsdDetections(
          boxes.subarray(i * SSD_ANCHORS * 4, (i + 1) * SSD_ANCHORS * 4),
          scores.subarray(i * SSD_ANCHORS, (i + 1) * SSD_ANCHORS),
          padding,
          minScore,
          maxResults,
        );
        const source = chunk[i] as RgbImage;
        results.push(detections.map((d) => ({ ...d, box: toFaceApiPlacement(d.box, source, SSD_INPUT_SIZE) })));
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
    forwardRaw: (nhwc) => forward(model, nhwc),
  };
}
