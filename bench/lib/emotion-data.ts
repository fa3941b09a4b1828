/**
 * The emotion data sets of ../shared/datasets/emotion-dev and the one fixed validation split of
 * fer2013-train. Everything that trains or tunes (bench/train-expression-head.ts) takes only
 * `train`; bench/emotion.ts reports on `validation` and on CK+.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { EMOTIONS, type Emotion } from '../../src/types.js';
import { mulberry32 } from './random.js';

export interface LabelledFace {
  file: string;
  label: Emotion;
  /** CK+ only: the subject (S005 …), for subject-disjoint halves. */
  subject?: string;
}

/** The split's seed and share: 20% of each class, drawn by a seeded shuffle of the sorted names. */
export const SPLIT_SEED = 20261204;
export const VALIDATION_SHARE = 0.2;

/** CK+ folder → visage label; contempt, which visage does not report, is left out. */
const CKPLUS_CLASSES: Record<string, Emotion> = {
  anger: 'angry',
  disgust: 'disgust',
  fear: 'fear',
  happy: 'happy',
  sadness: 'sad',
  surprise: 'surprise',
};
/** The six classes CK+ shares with visage (no neutral, no contempt). */
export const CKPLUS_LABELS: readonly Emotion[] = Object.values(CKPLUS_CLASSES);

const sortedFiles = (dir: string) => readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();

/** fer2013-train as { train, validation }: stratified, seeded, the same on every run. */
export function ferSplit(emotionDev: string): { train: LabelledFace[]; validation: LabelledFace[] } {
  const train: LabelledFace[] = [];
  const validation: LabelledFace[] = [];
  for (const label of EMOTIONS) {
    const dir = path.join(emotionDev, 'fer2013-train', label);
    const files = sortedFiles(dir).map((f) => path.join(dir, f));
    const random = mulberry32(SPLIT_SEED + EMOTIONS.indexOf(label));
    // Fisher-Yates with the seeded generator.
    for (let i = files.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [files[i], files[j]] = [files[j] as string, files[i] as string];
    }
    const cut = Math.round(files.length * VALIDATION_SHARE);
    files.forEach((file, i) => (i < cut ? validation : train).push({ file, label }));
  }
  return { train, validation };
}

/** CK+'s faces of the six shared classes, with their subjects. */
export function ckplus(emotionDev: string): LabelledFace[] {
  const faces: LabelledFace[] = [];
  for (const [folder, label] of Object.entries(CKPLUS_CLASSES)) {
    const dir = path.join(emotionDev, 'ckplus48', folder);
    for (const f of sortedFiles(dir)) faces.push({ file: path.join(dir, f), label, subject: f.split('_')[0] as string });
  }
  return faces;
}

/** CK+ subjects split in two halves (alternate subjects in sorted order): A may be tuned on, B is reported. */
export function ckHalves(faces: readonly LabelledFace[]): { a: number[]; b: number[] } {
  const subjects = [...new Set(faces.map((f) => f.subject as string))].sort();
  const inA = new Set(subjects.filter((_, k) => k % 2 === 0));
  const a: number[] = [];
  const b: number[] = [];
  faces.forEach((f, i) => (inA.has(f.subject as string) ? a : b).push(i));
  return { a, b };
}
