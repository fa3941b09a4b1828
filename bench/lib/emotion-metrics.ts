/** Accuracy, per-class recall and the confusion matrix of a classifier's probabilities. */
import { EMOTIONS, type Emotion } from '../../src/types.js';

export interface Scores {
  n: number;
  accuracy: number;
  /** Recall per class of `classes`. */
  recall: Record<string, number>;
  /** confusion[true][predicted], counts, over `classes`. */
  confusion: number[][];
  classes: readonly Emotion[];
}

/**
 * Scores probabilities (EMOTIONS order, one Float32Array per face) against labels (index in
 * EMOTIONS), the prediction being the most probable of `classes` (CK+: its six, no neutral).
 */
export function score(probabilities: readonly Float32Array[], labels: Int32Array, classes: readonly Emotion[] = EMOTIONS): Scores {
  const index = classes.map((c) => EMOTIONS.indexOf(c));
  const confusion = classes.map(() => classes.map(() => 0));
  let correct = 0;
  probabilities.forEach((p, i) => {
    const truth = index.indexOf(labels[i] as number);
    if (truth < 0) throw new Error(`label ${EMOTIONS[labels[i] as number]} is not among ${classes.join(', ')}`);
    let best = 0;
    for (let k = 1; k < index.length; k++) if ((p[index[k] as number] as number) > (p[index[best] as number] as number)) best = k;
    (confusion[truth] as number[])[best]! += 1;
    if (best === truth) correct++;
  });
  const recall = Object.fromEntries(classes.map((c, k) => {
    const row = confusion[k] as number[];
    const total = row.reduce((a, b) => a + b, 0);
    return [c, total ? (row[k] as number) / total : NaN];
  }));
  return { n: probabilities.length, accuracy: correct / probabilities.length, recall, confusion, classes };
}

const pct = (v: number) => (100 * v).toFixed(1);

/** One line: accuracy, then each class's recall. */
export function summary(s: Scores): string {
  return `${pct(s.accuracy)}% (n ${s.n}) | ${s.classes.map((c) => `${c} ${pct(s.recall[c] as number)}`).join(', ')}`;
}

/** The confusion matrix as text, rows true, columns predicted. */
export function confusionText(s: Scores): string {
  const w = 9;
  const head = ['true\\pred', ...s.classes].map((c) => c.padStart(w)).join('');
  const rows = s.confusion.map((row, k) => [s.classes[k] as string, ...row.map(String)].map((c) => c.padStart(w)).join(''));
  return [head, ...rows].join('\n');
}
