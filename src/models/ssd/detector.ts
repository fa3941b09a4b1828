import { faceApiManifest, positiveInteger } from '../common/packaged.js';
import { faceApiWeightFiles, readFaceApiWeights, type Engine, type Model, type Tensor } from '../../engine/index.js';
import { VisageError } from '../../errors.js';
import type { RgbImage } from '../../image/types.js';
import { toFaceApiPlacement, type Detection } from '../common/boxes.js';
import { rgbSquareBatch } from '../common/preprocess.js';
import { SSD_INPUT_SIZE, SSD_GRAPH_VERSION, SSD_IO, buildSsdGraph, manifestAnchors, ssdAnchorCount, ssdAnchors } from './graph.js';
import { toSsdDetections } from './postprocess.js';
import { SSD_INT8_RANGES, quantizeSsdGraph } from './int8.js';
import { PRECISIONS, type SsdDetector, type SsdDetectorOptions, type SsdOptions, type SsdRawOutput } from './types.js';

/** face-api's SsdMobilenetv1Options defaults. */
export const SSD_DEFAULTS = Object.freeze({ minScore: 0.5, maxResults: 100 });

/** The input side 'fit' picks for images no larger than it. */
export const SSD_SMALL_INPUT_SIZE = 256;

/** The input side for images (one batch shares one): see SsdOptions.inputSize. */
function inputSizeFor(images: readonly RgbImage[], option: SsdOptions['inputSize']): number {
  if (option === 'fit') return images.every((im) => Math.max(im.width, im.height) <= SSD_SMALL_INPUT_SIZE) ? SSD_SMALL_INPUT_SIZE : SSD_INPUT_SIZE;
  return checkedSize(option ?? SSD_INPUT_SIZE);
}

function checkedSize(size: number): number {
  if (!Number.isInteger(size) || size % 32 !== 0 || size < 128 || size > SSD_INPUT_SIZE) {
    throw new VisageError('INVALID_ARGUMENT', `Expected 'fit' or a multiple of 32 from 128 to ${SSD_INPUT_SIZE} for inputSize but received ${JSON.stringify(size)}`);
  }
  return size;
}

/** The anchor inputs for each input side: the manifest's at 512, generated at the others. */
type AnchorFeeds = (size: number) => Record<string, Tensor>;
function anchorFeeds(at512: { centre: Float32Array; size: Float32Array }): AnchorFeeds {
  const feeds = new Map<number, Record<string, Tensor>>();
  return (size) => {
    let f = feeds.get(size);
    if (!f) {
      const { centre, size: sizes } = size === SSD_INPUT_SIZE ? at512 : ssdAnchors(size);
      const dims = [centre.length / 2, 2];
      f = { [SSD_IO.anchorCentre]: { data: centre, dims }, [SSD_IO.anchorSize]: { data: sizes, dims } };
      feeds.set(size, f);
    }
    return f;
  };
}

function resolveOptions(options: SsdOptions = {}): Required<Omit<SsdOptions, 'inputSize'>> {
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

async function forward(model: Model, anchors: AnchorFeeds, nhwc: Float32Array, size = SSD_INPUT_SIZE): Promise<SsdRawOutput> {
  checkedSize(size);
  const values = size * size * 3;
  const n = nhwc.length / values;
  if (!Number.isInteger(n) || n < 1) {
    throw new VisageError(
      'INVALID_ARGUMENT',
      `Expected a multiple of ${values} values (n x ${size} x ${size} x 3) for SSD input but received ${nhwc.length}`,
    );
  }
  const out = await model.run({ [SSD_IO.input]: { data: nhwc, dims: [n, size, size, 3] }, ...anchors(size) });
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
  const precision = options.precision ?? 'fp32';
  if (!PRECISIONS.includes(precision)) {
    throw new VisageError('INVALID_ARGUMENT', `Expected ${PRECISIONS.map((p) => `'${p}'`).join(' or ')} for precision but received ${JSON.stringify(precision)}`);
  }
  const int8 = precision === 'int8';
  const model = await engine.load(
    `ssd${int8 ? '-int8' : ''}:${weightsPath}`,
    async () => {
      const graph = buildSsdGraph(await readFaceApiWeights(weightsPath));
      return int8 ? quantizeSsdGraph(graph) : graph;
    },
    // The int8 graph also depends on the calibrated ranges.
    { sources: [...(await faceApiWeightFiles(weightsPath)), ...(int8 ? [SSD_INT8_RANGES] : [])], version: SSD_GRAPH_VERSION, ...(int8 ? { options: { precision } } : {}) },
  );
  // The anchors alone are read from the weights (the graph itself may come from the disk cache).
  const anchors = anchorFeeds(manifestAnchors(await readFaceApiWeights(weightsPath, ['Output/extra_dim'])));

  async function detectBatch(images: readonly RgbImage[], opts?: SsdOptions): Promise<Detection[][]> {
    const { minScore, maxResults } = resolveOptions(opts);
    const results: Detection[][] = [];
    for (let start = 0; start < images.length; start += maxBatch) {
      const chunk = images.slice(start, start + maxBatch);
      const size = inputSizeFor(chunk, opts?.inputSize);
      const count = ssdAnchorCount(size);
      const { batch, paddings } = rgbSquareBatch(chunk, size);
      const { boxes, scores } = await forward(model, anchors, batch, size);
      paddings.forEach((padding, i) => {
        const detections = toSsdDetections(
          boxes.subarray(i * count * 4, (i + 1) * count * 4),
          scores.subarray(i * count, (i + 1) * count),
          padding,
          minScore,
          maxResults,
        );
        const source = chunk[i] as RgbImage;
        results.push(detections.map((d) => ({ ...d, box: toFaceApiPlacement(d.box, source, size) })));
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
    forwardRaw: (nhwc, size) => forward(model, anchors, nhwc, size),
  };
}
