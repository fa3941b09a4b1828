/**
 * human's liveness net (`@vladmandic/human/models/liveness.json`, MIT): a small CNN on a 32x32
 * RGB face crop (0..1) with a softmax of 2; human reports the first as a face's `live` score.
 */
import type { Engine } from '../../engine/index.js';
import { createRealnessNet, humanModel, type RealnessNet } from '../common/human.js';
import { FACE_BATCH } from '../common/packaged.js';
import type { HumanRealnessOptions } from '../human-antispoof/index.js';

/** Side of the liveness net's input. */
export const LIVENESS_SIZE = 32;

/**
 * Loads human's liveness net (compiled to ONNX once per process).
 *
 * @example
 * const net = await createHumanLivenessNet(new Engine({ threads: 2 }));
 * const [live] = await net.realScores([faceCrop]);
 */
export function createHumanLivenessNet(engine: Engine, options: HumanRealnessOptions = {}): Promise<RealnessNet> {
  return createRealnessNet(engine, options.modelPath ?? humanModel('liveness'), LIVENESS_SIZE, (v) => v[0] as number, options.maxBatch ?? FACE_BATCH);
}
