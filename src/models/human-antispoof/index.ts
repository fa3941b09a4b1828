/**
 * human's anti-spoofing net (`@vladmandic/human/models/antispoof.json`, MIT): a small CNN on a
 * 128x128 RGB face crop (0..1) with one sigmoid output, the chance the face is real. human
 * reports it as a face's `real` score.
 */
import type { Engine } from '../../engine/index.js';
import { createRealnessNet, humanModel, type RealnessNet } from '../common/human.js';
import { FACE_BATCH } from '../common/packaged.js';

export type { RealnessNet };

/** Side of the antispoof net's input. */
export const ANTISPOOF_SIZE = 128;

export interface HumanRealnessOptions {
  /** A model.json of the same architecture. Default: the one shipped in `@vladmandic/human`. */
  modelPath?: string;
  /** Most faces per network call. Default 32. */
  maxBatch?: number;
}

/**
 * Loads human's antispoof net (compiled to ONNX once per process).
 *
 * @example
 * const net = await createHumanAntispoofNet(new Engine({ threads: 2 }));
 * const [real] = await net.realScores([faceCrop]);
 */
export function createHumanAntispoofNet(engine: Engine, options: HumanRealnessOptions = {}): Promise<RealnessNet> {
  return createRealnessNet(engine, options.modelPath ?? humanModel('antispoof'), ANTISPOOF_SIZE, (v) => v[0] as number, options.maxBatch ?? FACE_BATCH);
}
