/**
 * The face pipeline: detect → landmarks → aligned crops → descriptor / expression / age-gender.
 * Every door (library, CLI, HTTP) goes through this one implementation of `Visage`.
 */
import { VisageError } from '../errors.js';
import { allowDecodeThreads, loadImage, type ImageInput } from '../image/index.js';
import type { Box, Point, RgbImage } from '../image/types.js';
import { METRICS, confidence, distance } from '../match/index.js';
import type { Pixels } from '../image/warp.js';
import { regionToSquareInput, type FloatImage, type ImageRegion } from '../models/common/preprocess.js';
import { CROP_INPUT_SIZE } from '../models/common/feature-extractor.js';
import { iou } from '../models/common/boxes.js';
import { PRECISIONS } from '../models/ssd/index.js';
import { ModelRegistry } from './models.js';
import { ACCURATE_PLANS, clipToImage, detectAccurate, type PassRunners } from './accurate.js';
import { openGallery } from '../gallery/gallery.js';
import type { Gallery, GalleryOptions } from '../gallery/types.js';
import { asPixels, attributeBox, attributeRegion, cropBox, cropRegion, type AlignMode } from './align.js';
import { classifyWithHead } from '../models/expression-head/index.js';
import { type Expressions, meanExpressions, mirrorAveragedExpressions } from '../models/expression/index.js';
import { createRecognizer, type Recognizer } from './recognizers.js';
import { checkPrefetch, pipelined } from './batch.js';
import { checkWorkers, pooled, threadsPerWorker } from './pool.js';
import { assertReal, judgeFaces, spoofSettings } from './spoof.js';
import { analyzeVideo } from '../video/loop.js';
import type { VideoFrameResult, VideoOptions, VideoSource } from '../video/types.js';
import {
  AGE_GENDER_MODELS,
  DEFAULT_EMOTION_MODEL,
  EMOTIONS,
  EMOTION_MODELS,
  type Action,
  type Emotion,
  type AgeGenderModel,
  type AnalysisModels,
  type ClassifierOptions,
  type EmotionModel,
  type AnalyzeOptions,
  type AnalyzeResult,
  type BatchItem,
  type BatchOptions,
  type DetectMode,
  type DetectOptions,
  type DetectResult,
  type DetectedFace,
  type DetectorName,
  type FaceAnalysis,
  type FaceInput,
  type Metric,
  type RepresentOptions,
  type RepresentResult,
  type SpoofOptions,
  type SpoofResult,
  type VerifyOptions,
  type VerifyResult,
  type Visage,
  type VisageOptions,
} from '../types.js';

/** Margin around the image, as a share of its longer side, for the second detection pass. */
const RETRY_MARGIN = 0.25;
/** A face whose longer side is this share of the image's shorter side fills the frame (see findBoxes). */
const LARGE_FACE = 0.4;
/**
 * The same for BlazeFace's boxes in the large-face look, which are tighter than the other
 * detectors' (lfw-dev: at 0.4 it left one subject unfound, at 0.28 none; bench/lfw.ts, README).
 */
const LARGE_BLAZEFACE = 0.7 * LARGE_FACE;
/** Boxes overlapping this much are one face. */
const SAME_FACE_IOU = 0.3;
/** A box this close to the border (share of the image's shorter side) touches it. */
const EDGE = 0.02;

/** The image centred in a black margin of `margin` pixels on every side. */
function withMargin(image: RgbImage, margin: number): RgbImage {
  const width = image.width + 2 * margin;
  const height = image.height + 2 * margin;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < image.height; y++) {
    data.set(image.data.subarray(y * image.width * 3, (y + 1) * image.width * 3), ((y + margin) * width + margin) * 3);
  }
  return { data, width, height };
}

const DETECTORS: readonly DetectorName[] = ['ssd', 'tiny', 'blazeface', 'blazeface-full', 'mtcnn', 'haar', 'none'];
const MODES: readonly DetectMode[] = ['fast', 'accurate'];
const ACTIONS: readonly Action[] = ['emotion', 'age', 'gender', 'spoof'];
/** What analyze estimates where no actions are named (DeepFace's defaults, less race). */
const DEFAULT_ACTIONS: readonly Action[] = ['emotion', 'age', 'gender'];

/** The recogniser where none is named (see the README: the most accurate on LFW). */
const DEFAULT_RECOGNIZER = 'fusion' as const;

function isEmbedding(input: FaceInput): input is { model: string; embedding: number[] } {
  return typeof input === 'object' && input !== null && !Array.isArray(input) && !(input instanceof Uint8Array) && 'embedding' in input;
}

function invalid(expected: string, name: string, value: unknown): VisageError {
  return new VisageError('INVALID_ARGUMENT', `Expected ${expected} for ${name} but received ${JSON.stringify(value)}`);
}

function oneOf<T extends string>(value: T | undefined, allowed: readonly T[], fallback: T, name: string): T {
  const v = value ?? fallback;
  if (!allowed.includes(v)) throw invalid(`one of ${allowed.join(', ')}`, name, value);
  return v;
}

/** A face one detector run found: its box, and the points the detector gives itself (MTCNN's 5, BlazeFace's 6). */
interface Found {
  box: Box;
  score: number;
  landmarks?: Point[];
  keypoints?: Point[];
}

const shift = (points: Point[] | undefined, by: number) => points?.map((p) => ({ x: p.x - by, y: p.y - by }));

/** A decoded image, and the same pixels as every crop reads them. */
interface Decoded {
  image: RgbImage;
  pixels: Pixels;
}

export class VisagePipeline implements Visage {
  private readonly models: ModelRegistry;
  private readonly align: AlignMode;
  private readonly averageMirror: boolean | undefined;
  private readonly recognizer: Recognizer;

  private readonly classifiers: Required<ClassifierOptions>;

  constructor(private readonly options: VisageOptions = {}) {
    this.models = new ModelRegistry(options.threads, oneOf(options.precision, PRECISIONS, 'fp32', 'precision'));
    // Decoding, like the networks, may use the instance's threads.
    allowDecodeThreads(this.models.engine.threads);
    this.classifiers = {
      emotionModel: oneOf(options.emotionModel, EMOTION_MODELS, DEFAULT_EMOTION_MODEL, 'emotionModel'),
      ageGenderModel: oneOf(options.ageGenderModel, AGE_GENDER_MODELS, 'face-api', 'ageGenderModel'),
    };
    this.align = oneOf(options.align, ['chip', 'box', 'rotate'] as const, 'chip', 'align');
    // Undefined: each recogniser's measured default (createRecognizer).
    this.averageMirror = options.averageMirror;
    if (this.averageMirror !== undefined && typeof this.averageMirror !== 'boolean') throw invalid('a boolean', 'averageMirror', options.averageMirror);
    this.recognizer = createRecognizer(options.recognizer ?? DEFAULT_RECOGNIZER, this.models, this.align, this.averageMirror);
  }

  /** The instance's recogniser, or the one a call names. */
  private recognizerFor(options: DetectOptions): Recognizer {
    return options.recognizer === undefined ? this.recognizer : createRecognizer(options.recognizer, this.models, this.align, this.averageMirror);
  }

  private async decode(input: ImageInput): Promise<Decoded> {
    const image = await loadImage(input, this.options.image);
    return { image, pixels: asPixels(image) };
  }

  /**
   * Boxes from the chosen detector. SSD, Tiny and MTCNN miss faces that fill the frame (a tight
   * portrait such as LFW's: face-api's own SSD scores many below 0.1), so where they find
   * nothing, they look once more at the image set in a black margin; and where no face they found
   * fills the frame, BlazeFace short range, a selfie model made for such faces, looks for one
   * that does, then MTCNN (LFW: every subject found, where SSD had found only a partial face at
   * the edge or nothing). OpenCV's cascade took that look until 2026-12-05: the same accuracy,
   * but its wasm build held ~90 MB per process and took 0.7-1.1 s to load (README, Speed and
   * memory). BlazeFace full range takes the same looks, as SSD and Tiny do.
   */
  private async findBoxes(image: RgbImage, detector: DetectorName, options: DetectOptions): Promise<Found[]> {
    const found = await this.runDetector(image, detector, options);
    // BlazeFace short range is a selfie model, made for faces that fill the frame: it takes no
    // second look. On lfw-dev's portraits it finds every subject itself, the margin pass (which
    // shrinks faces, out of its range) found none it had missed, and the large-face look would
    // run wherever no face is large (most video frames) for nothing (bench/blazeface.ts, README).
    if (detector === 'none' || detector === 'haar' || detector === 'blazeface') return found;
    let faces = found;
    if (faces.length === 0) {
      const margin = Math.round(Math.max(image.width, image.height) * RETRY_MARGIN);
      faces = (await this.runDetector(withMargin(image, margin), detector, options)).map((f) => ({
        ...f,
        box: { ...f.box, x: f.box.x - margin, y: f.box.y - margin },
        ...(f.landmarks ? { landmarks: shift(f.landmarks, margin) } : {}),
        ...(f.keypoints ? { keypoints: shift(f.keypoints, margin) } : {}),
      }));
    }
    const minSize = Math.round(LARGE_FACE * Math.min(image.width, image.height));
    const edge = EDGE * Math.min(image.width, image.height);
    // A large box touching the border is often the partial face of a bystander taken instead of
    // the subject (LFW: Nelson_Mandela_0001, Joseph_Biden_0002): it does not end the search.
    const fillsFrame = (box: Box) =>
      Math.max(box.width, box.height) >= minSize &&
      box.x > edge && box.y > edge && box.x + box.width < image.width - edge && box.y + box.height < image.height - edge;
    if (minSize < 1 || faces.some((f) => fillsFrame(f.box))) return faces;
    const isNew = (box: Box) => faces.every((f) => iou(f.box, box) < SAME_FACE_IOU);
    const minBlazeFace = LARGE_BLAZEFACE * Math.min(image.width, image.height);
    // Its 6 keypoints are dropped: the 68 landmarks align better.
    const large = (await (await this.models.blazeface()).detect(image))
      .filter((f) => Math.max(f.box.width, f.box.height) >= minBlazeFace && isNew(f.box))
      .map((f) => ({ box: f.box, score: f.score }));
    if (large.length > 0 || detector === 'mtcnn') return [...faces, ...large];
    // Where BlazeFace finds none either, MTCNN's frame-filling faces.
    // Its pyramid starts at that size, so this costs little; its 5 points are dropped, as the 68
    // landmarks align better.
    const mtcnn = (await (await this.models.mtcnn()).detect(image, { ...options.mtcnn, minFaceSize: minSize })).filter((m) => fillsFrame(m.box) && isNew(m.box));
    return [...faces, ...mtcnn.map((m) => ({ box: m.box, score: m.score }))];
  }

  /** Runs the accurate mode's extra passes (see accurate.ts) with this instance's models. */
  passRunners(detector: DetectorName, options: DetectOptions): PassRunners {
    return {
      ssd: async (tiles, minScore) => (await this.models.ssd()).detectBatch(tiles, { minScore: options.minScore ?? minScore }),
      // Its 6 keypoints are dropped: its faces get the 68 landmarks like the others.
      'blazeface-full': async (tiles, minScore) =>
        (await (await this.models.blazefaceFull()).detectBatch(tiles, { minScore: options.minScore ?? minScore })).map((faces) => faces.map((f) => ({ box: f.box, score: f.score }))),
      mtcnn: async (image, minFaceSize) => {
        const faces = await this.runDetector(image, 'mtcnn', { ...options, mtcnn: { ...options.mtcnn, minFaceSize } });
        // Beside another detector, MTCNN's faces get the 68 landmarks like the others.
        return detector === 'mtcnn' ? faces : faces.map((f) => ({ box: f.box, score: f.score }));
      },
    };
  }

  /** Boxes (and MTCNN's 5 points, BlazeFace's 6) from one detector run. */
  private async runDetector(image: RgbImage, detector: DetectorName, options: DetectOptions): Promise<Found[]> {
    const minScore = options.minScore;
    switch (detector) {
      case 'ssd':
        // A thumbnail or face crop runs at 256, not enlarged to 512 (accurate mode's tiles keep 512).
        return (await this.models.ssd()).detect(image, { inputSize: 'fit', ...(minScore === undefined ? {} : { minScore }) });
      case 'tiny':
        return (await this.models.tiny()).detect(image, {
          ...(minScore === undefined ? {} : { minScore }),
          ...(options.tinyInputSize === undefined ? {} : { inputSize: options.tinyInputSize }),
        });
      case 'blazeface':
      case 'blazeface-full': {
        const blazeface = await (detector === 'blazeface' ? this.models.blazeface() : this.models.blazefaceFull());
        return blazeface.detect(image, minScore === undefined ? {} : { minScore });
      }
      case 'mtcnn': {
        const faces = await (await this.models.mtcnn()).detect(image, options.mtcnn);
        return faces.filter((f) => minScore === undefined || f.score >= minScore).map((f) => ({ box: f.box, score: f.score, landmarks: [...f.landmarks] }));
      }
      case 'haar':
        return (await this.models.haar()).detect(image, options.haar);
      case 'none':
        return [];
    }
  }

  /** Faces with landmarks: 68 points from the landmark net, or MTCNN's own 5. */
  private async findFaces(decoded: Decoded, options: DetectOptions, needFace: boolean): Promise<{ detector: DetectorName; faces: DetectedFace[]; wholeImage: boolean }> {
    const detector = oneOf(options.detector, DETECTORS, 'ssd', 'detector');
    const mode = oneOf(options.mode, MODES, 'fast', 'mode');
    const { image, pixels } = decoded;
    const boxes = await this.findBoxes(image, detector, options);
    const plan = mode === 'accurate' && detector !== 'none' && detector !== 'haar' ? ACCURATE_PLANS[detector] : undefined;
    const merged = plan ? await detectAccurate(image, boxes, plan, this.passRunners(detector, options)) : boxes;
    // Boxes never leave the image, in any mode (the margin pass and the detectors' regressions can).
    const found = merged.flatMap((f) => {
      const box = clipToImage(f.box, image.width, image.height);
      return box ? [{ ...f, box }] : [];
    });
    let wholeImage = false;
    if (found.length === 0 && (detector === 'none' || options.allowNoFace)) {
      found.push({ box: { x: 0, y: 0, width: image.width, height: image.height }, score: detector === 'none' ? 1 : 0 });
      wholeImage = true;
    }
    if (found.length === 0 && needFace) {
      throw new VisageError('NO_FACE', `No face found by the ${detector} detector (pass allowNoFace to use the whole image)`);
    }
    // Landmarks for every face that lacks them, in one batched call.
    const needLandmarks = found.map((f, i) => ({ f, i, crop: f.landmarks ? null : cropRegion(pixels, f.box) })).filter((x) => x.crop);
    const points = needLandmarks.length
      ? await (await this.models.landmarks()).predictBatch(
          needLandmarks.map((x) => x.crop as ImageRegion),
          // face-api shifts the crop's landmarks by the unrounded detection corner.
          needLandmarks.map((x) => ({ x: x.f.box.x, y: x.f.box.y })),
        )
      : [];
    const landmarksOf = new Map(needLandmarks.map((x, k) => [x.i, points[k] as Point[]]));
    const faces = found.map((f, i) => ({ box: f.box, score: f.score, landmarks: f.landmarks ?? landmarksOf.get(i) ?? [], ...(f.keypoints ? { keypoints: f.keypoints } : {}) }));
    return { detector, faces, wholeImage };
  }

  /**
   * Finds the faces in an image.
   *
   * @example
   * const { faces } = await visage.detect('photo.jpg', { detector: 'mtcnn' });
   */
  async detect(input: ImageInput, options: DetectOptions = {}): Promise<DetectResult> {
    const decoded = await this.decode(input);
    const { detector, faces, wholeImage } = await this.findFaces(decoded, options, false);
    return {
      width: decoded.image.width,
      height: decoded.image.height,
      detector,
      wholeImage,
      faces,
    };
  }

  /** DeepFace's anti_spoofing: every face found must be judged real, else SPOOF_DETECTED naming `where`. */
  // Returns each face's judgement where it judged, so analyze's 'spoof' action reuses it.
  private async checkReal(decoded: Decoded, faces: readonly DetectedFace[], options: SpoofOptions, where: string): Promise<(SpoofResult | null)[] | undefined> {
    if (options.antiSpoofing === undefined || options.antiSpoofing === false) return undefined;
    if (options.antiSpoofing !== true) throw invalid('a boolean', 'antiSpoofing', options.antiSpoofing);
    const settings = spoofSettings(options);
    const judged = await judgeFaces(this.models, decoded.pixels, faces, settings);
    assertReal(judged, faces, where, settings);
    return judged;
  }

  private async embed(decoded: Decoded, options: RepresentOptions, recognizer: Recognizer, where = 'the image'): Promise<RepresentResult> {
    const { detector, faces, wholeImage } = await this.findFaces(decoded, options, true);
    await this.checkReal(decoded, faces, options, where);
    const embeddings = await recognizer.embed(decoded.pixels, faces);
    const usable = faces.map((f, i) => ({ f, e: embeddings[i] })).filter((x): x is { f: DetectedFace; e: Float32Array } => x.e !== null && x.e !== undefined);
    if (usable.length === 0) throw new VisageError('NO_FACE', 'No face crop could be taken from the image');
    return {
      model: recognizer.model,
      detector,
      wholeImage,
      faces: usable.map((x) => ({ box: x.f.box, score: x.f.score, embedding: Array.from(x.e) })),
    };
  }

  /**
   * An embedding per face in the image.
   *
   * @example
   * const { faces: [face] } = await visage.represent(buffer);
   */
  async represent(input: ImageInput, options: RepresentOptions = {}): Promise<RepresentResult> {
    return this.embed(await this.decode(input), options, this.recognizerFor(options));
  }

  /**
   * represent for many images, the next ones decoding while this one is embedded.
   *
   * @example
   * for await (const item of visage.representEach(files)) console.log(item.input, item.error?.code ?? item.result.faces.length);
   */
  representEach<I extends ImageInput>(inputs: Iterable<I> | AsyncIterable<I>, options: RepresentOptions & BatchOptions = {}): AsyncIterableIterator<BatchItem<I, RepresentResult>> {
    // Options are checked before the first image, so a bad one fails the call, not every image.
    const prefetch = checkPrefetch(options.prefetch);
    const workers = checkWorkers(options.workers, inputs, this.models.engine.threads);
    const recognizer = this.recognizerFor(options);
    if (options.antiSpoofing) spoofSettings(options);
    if (workers > 1) {
      const { workers: _, ...call } = options;
      const threads = threadsPerWorker(this.models.engine.threads, workers);
      return pooled(inputs, { options: { ...this.options, threads }, call: { ...call, prefetch } }, workers);
    }
    return pipelined(inputs, (input) => this.decode(input), (decoded) => this.embed(decoded, options, recognizer), prefetch);
  }

  /** representEach collected, in input order. */
  async representMany<I extends ImageInput>(inputs: Iterable<I> | AsyncIterable<I>, options: RepresentOptions & BatchOptions = {}): Promise<BatchItem<I, RepresentResult>[]> {
    const items: BatchItem<I, RepresentResult>[] = [];
    for await (const item of this.representEach(inputs, options)) items.push(item);
    return items;
  }

  private async embeddingsOf(input: FaceInput, options: RepresentOptions, recognizer: Recognizer, where: string): Promise<{ box: Box | null; embedding: number[] }[]> {
    const given = Array.isArray(input) ? { embedding: input, model: null } : isEmbedding(input) ? input : null;
    if (given) {
      const { embedding, model } = given;
      if (!Array.isArray(embedding) || embedding.length === 0 || !embedding.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw invalid('an array of finite numbers', 'embedding', '[…]');
      }
      if (model !== null && model !== recognizer.model) {
        throw new VisageError('MODEL_MISMATCH', `An embedding of model ${model} cannot be compared with the ${recognizer.model} recogniser's`);
      }
      return [{ box: null, embedding }];
    }
    return (await this.embed(await this.decode(input as ImageInput), options, recognizer, where)).faces;
  }

  /**
   * Same person or not. Where an image holds several faces, the closest pair decides.
   *
   * @example
   * const { verified, distance } = await visage.verify('a.jpg', 'b.jpg', { metric: 'cosine' });
   */
  async verify(a: FaceInput, b: FaceInput, options: VerifyOptions = {}): Promise<VerifyResult> {
    const started = performance.now();
    const metric: Metric = oneOf(options.metric, METRICS, 'euclidean', 'metric');
    const detector = oneOf(options.detector, DETECTORS, 'ssd', 'detector');
    const recognizer = this.recognizerFor(options);
    const calibration = recognizer.calibration(metric);
    const threshold = options.threshold ?? calibration?.threshold;
    if (threshold === undefined) {
      throw new VisageError('INVALID_ARGUMENT', `The ${recognizer.model} recogniser has no threshold for ${metric}: pass threshold, or set one in the recogniser`);
    }
    if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0) throw invalid('a number >= 0', 'threshold', options.threshold);
    if (options.antiSpoofing) spoofSettings(options);
    // Both run at once; where both fail, image a's error is reported (not whichever came first).
    const [ra, rb] = await Promise.allSettled([this.embeddingsOf(a, options, recognizer, 'image a'), this.embeddingsOf(b, options, recognizer, 'image b')]);
    if (ra.status === 'rejected') throw ra.reason;
    if (rb.status === 'rejected') throw rb.reason;
    const [facesA, facesB] = [ra.value, rb.value];
    let best = { distance: Number.POSITIVE_INFINITY, a: null as Box | null, b: null as Box | null };
    for (const fa of facesA) {
      for (const fb of facesB) {
        if (fa.embedding.length !== fb.embedding.length) {
          throw new VisageError('MODEL_MISMATCH', `Embeddings of ${fa.embedding.length} and ${fb.embedding.length} values cannot be compared: they come from different models`);
        }
        const d = distance(fa.embedding, fb.embedding, metric);
        if (d < best.distance) best = { distance: d, a: fa.box, b: fb.box };
      }
    }
    return {
      verified: best.distance <= threshold,
      distance: best.distance,
      threshold,
      metric,
      confidence: confidence(best.distance, { threshold, scale: calibration?.scale ?? Math.max(threshold, 1e-3) / 10 }),
      model: recognizer.model,
      detector,
      faces: { a: best.a, b: best.b },
      timeMs: performance.now() - started,
    };
  }

  /**
   * Emotion, age and gender of every face.
   *
   * @example
   * const { faces } = await visage.analyze('photo.jpg', { actions: ['emotion'] });
   * console.log(faces[0]?.dominantEmotion);
   */
  async analyze(input: ImageInput, options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
    const actions = options.actions ?? DEFAULT_ACTIONS;
    if (!Array.isArray(actions) || actions.length === 0 || !actions.every((a) => ACTIONS.includes(a))) {
      throw invalid(`a non-empty list of ${ACTIONS.join(', ')}`, 'actions', actions);
    }
    const classifiers = this.classifiersFor(options);
    // Bad spoof options fail before any work.
    if (actions.includes('spoof') || options.antiSpoofing === true) spoofSettings(options);
    const decoded = await this.decode(input);
    const { detector, faces, wholeImage } = await this.findFaces(decoded, options, true);
    const judged = await this.checkReal(decoded, faces, options, 'the image');
    return { detector, wholeImage, faces: await this.classify(decoded, faces, actions, classifiers, options, judged) };
  }

  /** The call's classifier choices, the instance's where it names none. */
  private classifiersFor(options: ClassifierOptions): Required<ClassifierOptions> {
    return {
      emotionModel: oneOf(options.emotionModel, EMOTION_MODELS, this.classifiers.emotionModel, 'emotionModel'),
      ageGenderModel: oneOf(options.ageGenderModel, AGE_GENDER_MODELS, this.classifiers.ageGenderModel, 'ageGenderModel'),
    };
  }

  /**
   * Emotion probabilities in EMOTIONS order from the chosen classifier, for faces with these
   * landmarks; `crops` gives their float crops, `faceApiInputs` their 112 squares (each made on demand).
   */
  private async emotions(model: EmotionModel, landmarks: readonly (readonly Point[])[], crops: () => FloatImage[], faceApiInputs: () => FloatImage[]): Promise<Record<Emotion, number>[]> {
    if (model === 'human') {
      // human's labels are visage's, in the same order (checked by a test).
      return (await (await this.models.humanEmotion()).predictBatch(crops())).map((e) => ({ ...e.probabilities }));
    }
    if (model === 'visage') {
      const [net, head] = await Promise.all([this.models.expression(), this.models.expressionHead()]);
      const faceCrops = crops();
      // A head reading geometry needs 68 points; MTCNN's faces carry 5, so the landmark net gives them from the crop.
      const missing = head.blocks.includes('geometry') ? landmarks.flatMap((l, i) => (l.length !== 68 ? [i] : [])) : [];
      const found = missing.length ? await (await this.models.landmarks()).predictBatch(missing.map((i) => faceCrops[i] as FloatImage)) : [];
      const points = new Map(missing.map((i, k) => [i, found[k] as Point[]]));
      const probabilities = await classifyWithHead(net, head, faceCrops.map((crop, i) => {
        const l = points.get(i) ?? (landmarks[i] as Point[]);
        return { crop, landmarks: l, box: attributeBox(l) };
      }));
      return probabilities.map((p) => Object.fromEntries(EMOTIONS.map((k) => [k, p[head.labels.indexOf(k)] as number])) as Record<Emotion, number>);
    }
    let expressions: Expressions[];
    if (model === 'visage-net' || model === 'visage-mobilefacenet') {
      expressions = await mirrorAveragedExpressions(await (model === 'visage-net' ? this.models.expressionFineTuned() : this.models.expressionMobileFaceNet()), faceApiInputs());
    } else if (model === 'visage-ensemble') {
      const [tuned, mobile] = await Promise.all([this.models.expressionFineTuned(), this.models.expressionMobileFaceNet()]);
      const [a, b] = await Promise.all([mirrorAveragedExpressions(tuned, faceApiInputs()), mirrorAveragedExpressions(mobile, faceApiInputs())]);
      // Half each: chosen on the tune part of fer2013-train and CK+ half A (README, Expression).
      expressions = a.map((e, i) => meanExpressions(e, b[i] as Expressions));
    } else {
      expressions = await (await this.models.expression()).predictBatch(faceApiInputs());
    }
    return expressions.map((e) => Object.fromEntries(EMOTIONS.map((k) => [k, e[k]])) as Record<Emotion, number>);
  }

  private async ageGender(model: AgeGenderModel, crops: () => FloatImage[], faceApiInputs: () => FloatImage[]): Promise<{ age: number; gender: { woman: number; man: number } }[]> {
    if (model === 'faceres') return (await (await this.models.faceres()).predictBatch(crops())).map(({ age, gender }) => ({ age, gender }));
    return (await this.models.ageGender()).predictBatch(faceApiInputs());
  }

  /**
   * Emotion, age, gender and (the 'spoof' action) realness of faces already found; `judged`, the
   * anti-spoofing check's judgement of every face where it ran, is used rather than judged again.
   */
  private async classify(decoded: Decoded, faces: readonly DetectedFace[], actions: readonly Action[], classifiers: Required<ClassifierOptions>, spoofOptions: SpoofOptions = {}, judged?: readonly (SpoofResult | null)[]): Promise<FaceAnalysis[]> {
    const regions = faces.map((f) => attributeRegion(decoded.pixels, f));
    const usable = faces.map((f, i) => ({ f, i, region: regions[i] })).filter((x): x is { f: DetectedFace; i: number; region: ImageRegion } => x.region !== null);
    // face-api's expression and age/gender nets take the same 112 square of each crop (a square of
    // that size passes through their own resize unchanged): it is made once for both, straight
    // from the decoded pixels. The other classifiers take float crops, copied only when asked for.
    let squares: FloatImage[] | undefined;
    const faceApiInputs = () => (squares ??= usable.map((x) => regionToSquareInput(x.region, CROP_INPUT_SIZE, true).input));
    let floatCrops: FloatImage[] | undefined;
    const images = () => (floatCrops ??= usable.map((x) => cropBox(x.region.image, x.region.box) as FloatImage));
    const wantEmotion = actions.includes('emotion');
    const wantAgeGender = actions.includes('age') || actions.includes('gender');
    const [expressions, ageGender, spoof] = await Promise.all([
      wantEmotion ? this.emotions(classifiers.emotionModel, usable.map((x) => x.f.landmarks), images, faceApiInputs) : null,
      wantAgeGender ? this.ageGender(classifiers.ageGenderModel, images, faceApiInputs) : null,
      actions.includes('spoof') ? (judged ?? judgeFaces(this.models, decoded.pixels, faces, spoofSettings(spoofOptions))) : null,
    ]);
    const models: AnalysisModels = {
      ...(wantEmotion ? { emotion: classifiers.emotionModel } : {}),
      ...(wantAgeGender ? { ageGender: classifiers.ageGenderModel } : {}),
    };
    const results = usable.map((x, i): FaceAnalysis => {
      const face: FaceAnalysis = { box: x.f.box, score: x.f.score };
      const e = expressions?.[i];
      if (e) {
        face.emotion = e;
        face.dominantEmotion = EMOTIONS.reduce((best, k) => (e[k] > e[best] ? k : best));
      }
      const ag = ageGender?.[i];
      if (ag && actions.includes('age')) face.age = ag.age;
      if (ag && actions.includes('gender')) {
        face.gender = ag.gender;
        face.dominantGender = ag.gender.woman >= ag.gender.man ? 'woman' : 'man';
      }
      const realness = spoof?.[x.i];
      if (realness) face.spoof = realness;
      face.models = { ...models };
      return face;
    });
    return results;
  }

  /**
   * Faces in an already-decoded frame (video): `detect` without the decoding step.
   *
   * @example
   * const { faces } = await pipeline.detectPixels({ data, width, height }, { detector: 'tiny' });
   */
  async detectPixels(image: RgbImage, options: DetectOptions = {}): Promise<DetectResult> {
    const { detector, faces, wholeImage } = await this.findFaces({ image, pixels: asPixels(image) }, options, false);
    return { width: image.width, height: image.height, detector, wholeImage, faces };
  }

  /** The 68 landmarks inside each box of a decoded frame (video tracking between detections); [] where a box leaves the frame. */
  async landmarksIn(image: RgbImage, boxes: readonly Box[]): Promise<Point[][]> {
    const pixels = asPixels(image);
    const crops = boxes.map((box) => cropRegion(pixels, box));
    const usable = boxes.map((box, i) => ({ box, i, crop: crops[i] })).filter((x): x is { box: Box; i: number; crop: ImageRegion } => x.crop != null);
    const points = usable.length ? await (await this.models.landmarks()).predictBatch(usable.map((x) => x.crop), usable.map((x) => ({ x: x.box.x, y: x.box.y }))) : [];
    const byIndex = new Map(usable.map((x, k) => [x.i, points[k] as Point[]]));
    return boxes.map((_, i) => byIndex.get(i) ?? []);
  }

  /** Emotion, age and gender of faces already found in a decoded frame (video: per track, at its own rate). */
  async analyzePixels(image: RgbImage, faces: readonly DetectedFace[], actions: readonly Action[], classifiers: ClassifierOptions = {}): Promise<FaceAnalysis[]> {
    return this.classify({ image, pixels: asPixels(image) }, faces, actions, this.classifiersFor(classifiers));
  }

  /**
   * Per-frame faces of a video file, URL or stream of frames, with a `trackId` kept across frames.
   *
   * @example
   * for await (const frame of visage.video('clip.mp4', { detector: 'tiny', every: 3 })) console.log(frame.faces.length);
   */
  video(source: VideoSource, options: VideoOptions = {}): AsyncIterableIterator<VideoFrameResult> {
    return analyzeVideo(this, source, { ...options, image: { ...this.options.image, ...options.image } });
  }

  /**
   * A gallery for 1:N identification, kept in `options.store` (default: a SQLite file; see
   * GalleryOptions). Close it when done; it does not close this instance.
   *
   * @example
   * const gallery = await visage.gallery('staff');
   * await gallery.add('alice', 'alice.jpg');
   * const { faces } = await gallery.search('door-camera.jpg');
   */
  gallery(name?: string, options?: GalleryOptions): Promise<Gallery> {
    return openGallery(this, this.options.image ?? {}, name, options);
  }

  async close(): Promise<void> {
    await this.models.close();
  }
}

/**
 * Creates a visage instance. Models load lazily, once, on first use; `close()` frees them.
 *
 * @example
 * import { createVisage } from 'visage';
 * const visage = await createVisage({ threads: 2 });
 * const result = await visage.verify('a.jpg', 'b.jpg');
 * await visage.close();
 */
export async function createVisage(options: VisageOptions = {}): Promise<Visage> {
  return new VisagePipeline(options);
}
