/**
 * BlazeFace, MediaPipe's face detector, from the TFLite files @mediapipe/face_detection ships
 * (Apache-2.0; fp16 weights), converted to ONNX by the engine's TFLite converter.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { readTflite, tfliteToOnnx, type Engine, type Model } from '../../engine/index.js';
import { VisageError } from '../../errors.js';
import type { RgbImage } from '../../image/types.js';
import { positiveInteger } from '../common/packaged.js';
import { BLAZEFACE_CONFIGS, blazeFaceAnchors, type Anchor, type BlazeFaceConfig, type BlazeFaceVariant } from './anchors.js';
import { BLAZEFACE_COORDS, decodeBlazeFace, weightedNms } from './decode.js';
import { blazeFaceInput, toSourceBox, toSourcePoint, type Letterbox } from './preprocess.js';
import type { BlazeFaceDetection, BlazeFaceDetector, BlazeFaceDetectorOptions, BlazeFaceOptions, BlazeFaceRawOutput } from './types.js';

const require = createRequire(import.meta.url);

/** MediaPipe's defaults (its solution API's min_detection_confidence is 0.5 for both models). */
export const BLAZEFACE_DEFAULTS = Object.freeze({ minScore: 0.5, maxResults: Number.POSITIVE_INFINITY });

/** A BlazeFace file shipped in @mediapipe/face_detection. */
export function blazeFaceFile(variant: BlazeFaceVariant): string {
  return path.join(path.dirname(require.resolve('@mediapipe/face_detection/package.json')), BLAZEFACE_CONFIGS[variant].file);
}

export function resolveBlazeFaceOptions(options: BlazeFaceOptions = {}): Required<BlazeFaceOptions> {
  const minScore = options.minScore ?? BLAZEFACE_DEFAULTS.minScore;
  const maxResults = options.maxResults ?? BLAZEFACE_DEFAULTS.maxResults;
  if (!(minScore > 0 && minScore < 1)) {
    throw new VisageError('INVALID_ARGUMENT', `Expected a number in (0, 1) for minScore but received ${minScore}`);
  }
  if (!(maxResults >= 1) || (!Number.isInteger(maxResults) && maxResults !== Number.POSITIVE_INFINITY)) {
    throw new VisageError('INVALID_ARGUMENT', `Expected a positive integer for maxResults but received ${maxResults}`);
  }
  return { minScore, maxResults };
}

const anchorCache = new Map<BlazeFaceConfig, Anchor[]>();

/**
 * One image's faces from the raw outputs: decoded, merged by weighted NMS, mapped out of the
 * letterbox to source pixels, boxes clipped to the image (a box left empty is dropped).
 */
export function toBlazeFaceDetections(
  regressors: ArrayLike<number>,
  scores: ArrayLike<number>,
  config: BlazeFaceConfig,
  letterbox: Letterbox,
  image: { width: number; height: number },
  options: Required<BlazeFaceOptions>,
): BlazeFaceDetection[] {
  let anchors = anchorCache.get(config);
  if (!anchors) anchorCache.set(config, (anchors = blazeFaceAnchors(config)));
  const faces = weightedNms(decodeBlazeFace(regressors, scores, anchors, config.inputSize, options.minScore), undefined, options.maxResults);
  return faces
    .map((f) => ({ box: toSourceBox(f.box, letterbox, image), score: f.score, keypoints: f.keypoints.map((p) => toSourcePoint(p, letterbox)) }))
    .filter((f) => f.box.width > 0 && f.box.height > 0);
}

/**
 * Loads BlazeFace on an engine (compiled once per process).
 *
 * @example
 * const blazeface = await createBlazeFaceDetector(new Engine({ threads: 2 }), { variant: 'short' });
 * const faces = await blazeface.detect(image); // [{ box, score, keypoints: 6 points }]
 */
export async function createBlazeFaceDetector(engine: Engine, options: BlazeFaceDetectorOptions = {}): Promise<BlazeFaceDetector> {
  const variant = options.variant ?? 'short';
  const config = BLAZEFACE_CONFIGS[variant];
  if (!config) throw new VisageError('INVALID_ARGUMENT', `Expected 'short' or 'full' for variant but received ${JSON.stringify(variant)}`);
  const file = options.file ?? blazeFaceFile(variant);
  const maxBatch = positiveInteger(options.maxBatch ?? 8, 'maxBatch');
  const anchors = config.anchors;
  const model: Model = await engine.load(`blazeface:${path.resolve(file)}`, async () => {
    const converted = tfliteToOnnx(readTflite(new Uint8Array(await readFile(file)), path.basename(file)), { batch: 'batch' });
    const [regressors, scores] = converted.outputs;
    if (converted.inputs.length !== 1 || regressors?.shape[1] !== anchors || regressors.shape[2] !== BLAZEFACE_COORDS || scores?.shape[1] !== anchors) {
      throw new VisageError('INVALID_MODEL', `${path.basename(file)} is not BlazeFace ${variant} range: expected one input and outputs [n, ${anchors}, 16], [n, ${anchors}, 1]`);
    }
    return converted.bytes;
  });
  // The converted graph keeps the TFLite file's names and order: input, then regressors and scores.
  const names = { input: model.inputNames[0] as string, regressors: model.outputNames[0] as string, scores: model.outputNames[1] as string };
  const { inputSize } = config;
  const perImage = inputSize * inputSize * 3;

  async function forwardRaw(nhwc: Float32Array): Promise<BlazeFaceRawOutput> {
    const n = nhwc.length / perImage;
    if (!Number.isInteger(n) || n < 1) {
      throw new VisageError('INVALID_ARGUMENT', `Expected a multiple of ${perImage} values (n x ${inputSize} x ${inputSize} x 3) for BlazeFace input but received ${nhwc.length}`);
    }
    const out = await model.run({ [names.input]: { data: nhwc, dims: [n, inputSize, inputSize, 3] } });
    const regressors = out[names.regressors];
    const scores = out[names.scores];
    if (!regressors || !scores) throw new VisageError('MODEL_ERROR', 'BlazeFace returned no regressors or scores');
    return { regressors: regressors.data, scores: scores.data, anchors: anchors };
  }

  async function detectBatch(images: readonly RgbImage[], opts?: BlazeFaceOptions): Promise<BlazeFaceDetection[][]> {
    const { minScore, maxResults } = resolveBlazeFaceOptions(opts);
    const results: BlazeFaceDetection[][] = [];
    for (let start = 0; start < images.length; start += maxBatch) {
      const chunk = images.slice(start, start + maxBatch);
      const batch = new Float32Array(chunk.length * perImage);
      const letterboxes = chunk.map((image, i) => blazeFaceInput(image, inputSize, batch, i * perImage).letterbox);
      const raw = await forwardRaw(batch);
      chunk.forEach((image, i) => {
        const n = anchors;
        const regressors = raw.regressors.subarray(i * n * BLAZEFACE_COORDS, (i + 1) * n * BLAZEFACE_COORDS);
        results.push(toBlazeFaceDetections(regressors, raw.scores.subarray(i * n, (i + 1) * n), config, letterboxes[i] as Letterbox, image, { minScore, maxResults }));
      });
    }
    return results;
  }

  return {
    variant,
    inputSize,
    async detect(image, opts) {
      const [faces] = await detectBatch([image], opts);
      return faces as BlazeFaceDetection[];
    },
    detectBatch,
    forwardRaw,
  };
}
