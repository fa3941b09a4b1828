/**
 * Options shared by the commands, parsed and checked by commander (a bad value is a usage error,
 * exit 2), then handed to the library as they are: defaults stay the library's.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  DEFAULT_EMOTION_MODEL,
  createVisage,
  type Action,
  type AgeGenderModel,
  type DetectMode,
  type DetectOptions,
  type EmotionModel,
  type DetectorName,
  type LoadOptions,
  type Metric,
  type OnnxRecognizer,
  PRECISIONS,
  type Precision,
  type RecognizerName,
  type RecognizerOption,
  type SpoofModel,
  type SpoofOptions,
  type Visage,
} from '../index.js';

// Records keyed by the library's unions, so the type checker flags a name added there but not here.
const DETECTORS: Record<DetectorName, true> = { ssd: true, tiny: true, blazeface: true, 'blazeface-full': true, mtcnn: true, haar: true, none: true };
const MODES: Record<DetectMode, true> = { fast: true, accurate: true };
const METRICS: Record<Metric, true> = { euclidean: true, euclidean_l2: true, cosine: true };
const ACTIONS: Record<Action, true> = { emotion: true, age: true, gender: true, spoof: true };
const RECOGNIZERS: Record<RecognizerName, true> = { dlib: true, mobilefacenet: true, fusion: true };
const EMOTION_MODELS: Record<EmotionModel, true> = { 'face-api': true, human: true, visage: true, 'visage-net': true, 'visage-mobilefacenet': true, 'visage-ensemble': true };
const AGE_GENDER_MODELS: Record<AgeGenderModel, true> = { 'face-api': true, faceres: true };

/**
 * A built-in recogniser's name, or a JSON file describing the user's own ONNX model (the
 * library's OnnxRecognizer; its `onnx` path is relative to the JSON file). The library checks the
 * fields when it loads the model.
 */
export function recognizerOption(value: string): RecognizerOption {
  if (value in RECOGNIZERS) return value as RecognizerName;
  if (!value.toLowerCase().endsWith('.json')) {
    throw new InvalidArgumentError(`Expected one of ${Object.keys(RECOGNIZERS).join(', ')}, or a .json file describing an ONNX recogniser.`);
  }
  let spec: unknown;
  try {
    spec = JSON.parse(readFileSync(value, 'utf8'));
  } catch (err) {
    throw new InvalidArgumentError(`Could not read ${value}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof spec !== 'object' || spec === null || typeof (spec as { onnx?: unknown }).onnx !== 'string') {
    throw new InvalidArgumentError(`${value} must hold an object with "onnx" (the model file) and "inputSize".`);
  }
  const onnx = path.resolve(path.dirname(value), (spec as OnnxRecognizer).onnx);
  return { ...(spec as OnnxRecognizer), onnx };
}

function numberIn(min: number, max: number, name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected a number from ${min} to ${max} for ${name}.`);
    }
    return n;
  };
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('Expected a whole number of at least 1.');
  return n;
}

function actionList(value: string): Action[] {
  const actions = value.split(',').map((a) => a.trim());
  const unknown = actions.filter((a) => !(a in ACTIONS));
  if (unknown.length > 0 || actions.length === 0) {
    throw new InvalidArgumentError(`Expected a comma-separated list of ${Object.keys(ACTIONS).join(', ')}.`);
  }
  return actions as Action[];
}

/** Flags every image command has. */
export interface CommonFlags {
  /** Global: stack traces with errors. */
  verbose?: boolean;
  json?: boolean;
  threads?: number;
  /** SSD's arithmetic (createVisage's precision). */
  precision?: Precision;
  allowPrivateUrls?: boolean;
  recognizer?: RecognizerOption;
  /** The classifiers analyze uses (instance defaults: they also apply to video). */
  emotionModel?: EmotionModel;
  ageGenderModel?: AgeGenderModel;
}

/** Flags of the commands that find faces. */
export interface DetectFlags extends CommonFlags {
  detector?: DetectorName;
  mode?: DetectMode;
  minScore?: number;
  allowNoFace?: boolean;
  out?: string;
}

export interface VerifyFlags extends DetectFlags, SpoofFlags {
  metric?: Metric;
  threshold?: number;
}

/** Flags of the commands that can check faces are real (DeepFace's anti_spoofing). */
export interface SpoofFlags {
  antiSpoofing?: boolean;
  spoofModel?: SpoofModel;
  spoofThreshold?: number;
}

export interface AnalyzeFlags extends DetectFlags, SpoofFlags {
  actions?: Action[];
}

/** --precision: createVisage's precision (SSD's arithmetic). */
export function precisionOption(): Option {
  return new Option('--precision <p>', "SSD's arithmetic: int8 is about twice as fast on CPUs with VNNI, scores a few hundredths lower (default: fp32)").choices(PRECISIONS);
}

/** Adds --detector, --min-score, --mode, --allow-no-face, --json, --threads, --precision and --allow-private-urls. */
export function addDetectOptions(command: Command): Command {
  return addDetectorOptions(command)
    .addOption(new Option('--mode <mode>', "'accurate' also finds small faces (group photos), several times slower (default: fast)").choices(Object.keys(MODES)))
    .option('--allow-no-face', 'where no face is found, use the whole image instead of failing with NO_FACE')
    .option('--json', 'print the result as JSON on stdout')
    .option('--threads <n>', 'threads ONNX Runtime uses per operator (default: all cores)', positiveInteger)
    .addOption(precisionOption())
    .option('--allow-private-urls', 'let image URLs reach loopback and private addresses');
}

/** Adds --detector and --min-score. */
export function addDetectorOptions(command: Command): Command {
  return command
    .addOption(
      new Option('-d, --detector <name>', "face detector; 'none' takes the whole image as the face (default: ssd)").choices(Object.keys(DETECTORS)),
    )
    .option('--min-score <score>', 'minimum detection score, 0 to 1 (default: the detector\'s own)', numberIn(0, 1, '--min-score'));
}

/** Adds --recognizer. */
export function addRecognizerOption(command: Command): Command {
  return command.option(
    '-r, --recognizer <name|file.json>',
    `face recogniser: ${Object.keys(RECOGNIZERS).join(', ')} (default: fusion), or a JSON file describing your own ONNX model (see the README)`,
    recognizerOption,
  );
}

/** Adds --metric and --threshold. */
export function addVerifyOptions(command: Command): Command {
  return command
    .addOption(new Option('-m, --metric <metric>', 'distance metric (default: euclidean)').choices(Object.keys(METRICS)))
    .option('-t, --threshold <distance>', 'decision threshold (default: the one calibrated on LFW for the metric)', numberIn(0, Number.MAX_VALUE, '--threshold'));
}

/** Adds --actions, --emotion-model and --age-gender-model. */
export function addAnalyzeOptions(command: Command): Command {
  return command
    .option('-a, --actions <list>', `what to estimate, comma-separated: ${Object.keys(ACTIONS).join(',')} (default: emotion,age,gender)`, actionList)
    .addOption(new Option('--emotion-model <name>', `emotion classifier: face-api's expression net, human's FER2013 net, visage's head over face-api's features, face-api's net fine-tuned by visage, MobileFaceNet fine-tuned by visage, or the mean of those two (default: ${DEFAULT_EMOTION_MODEL})`).choices(Object.keys(EMOTION_MODELS)))
    .addOption(new Option('--age-gender-model <name>', "age/gender estimator: face-api's net or human's FaceRes (default: face-api)").choices(Object.keys(AGE_GENDER_MODELS)));
}

const SPOOF_MODELS: Record<SpoofModel, true> = { dtn: true, antispoof: true, liveness: true, ensemble: true };

/** Adds --anti-spoofing, --spoof-model and --spoof-threshold. */
export function addSpoofOptions(command: Command): Command {
  return command
    .option('--anti-spoofing', 'fail with SPOOF_DETECTED where a face is judged not real (a print or a screen)')
    .addOption(new Option('--spoof-model <name>', 'anti-spoofing model (default: see the README)').choices(Object.keys(SPOOF_MODELS)))
    .option('--spoof-threshold <real>', 'a face is real when its real score reaches this, 0 to 1 (default 0.5)', numberIn(0, 1, '--spoof-threshold'));
}

/** The library's spoof options from the flags; omitted flags stay undefined. */
export function spoofOptions(flags: SpoofFlags): SpoofOptions {
  return { antiSpoofing: flags.antiSpoofing, spoofModel: flags.spoofModel, spoofThreshold: flags.spoofThreshold };
}

/** The library's detect options from the flags; an omitted flag stays undefined (the library's default). */
export function detectOptions(flags: DetectFlags): DetectOptions {
  return { detector: flags.detector, mode: flags.mode, minScore: flags.minScore, allowNoFace: flags.allowNoFace };
}

/** Image loading limits as the flags set them; the same for the CLI's own reads and the library's. */
export function loadOptions(flags: CommonFlags): LoadOptions {
  return flags.allowPrivateUrls ? { allowPrivateAddresses: true } : {};
}

/** Runs `work` with a visage instance made from the flags, and closes the instance afterwards. */
export async function withVisage<T>(flags: CommonFlags, work: (visage: Visage) => Promise<T>): Promise<T> {
  const visage = await createVisage({
    image: loadOptions(flags),
    threads: flags.threads,
    precision: flags.precision,
    recognizer: flags.recognizer,
    emotionModel: flags.emotionModel,
    ageGenderModel: flags.ageGenderModel,
  });
  try {
    return await work(visage);
  } finally {
    await visage.close();
  }
}

/** Writes a picture, creating its folder when needed. */
export async function writePicture(file: string, png: Buffer): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, png);
}

/**
 * The file for the picture of input `index` (0-based) of `count`: `file` itself for a single
 * input, else `name-<index+1>.png` beside it.
 */
export function pictureFile(file: string, index: number, count: number): string {
  if (count === 1) return file;
  const { dir, name, ext } = path.parse(file);
  return path.join(dir, `${name}-${index + 1}${ext || '.png'}`);
}
