/**
 * Classic Viola-Jones face detection with OpenCV's own CascadeClassifier (OpenCV 4.12.0 wasm,
 * `@techstark/opencv-js`) and the stock `haarcascade_frontalface_default.xml` (shipped in the
 * `opencv.js` package). Pipeline, as in the OpenCV tutorials: RGB -> cvtColor(RGB2GRAY) ->
 * detectMultiScale(gray, faces, scaleFactor, minNeighbors, 0, minSize, maxSize). No histogram
 * equalisation, no resizing.
 *
 * Scores: a Haar cascade has no calibrated confidence, so every detection has `score: 1`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Box, RgbImage } from '../../image/types.js';
import { VisageError } from '../../errors.js';
import { loadOpenCv, type CvCascadeClassifier, type CvMat, type CvRectVector, type OpenCv } from './opencv.js';

export interface HaarOptions {
  /** Image pyramid step, > 1. Default 1.1. */
  scaleFactor?: number;
  /** How many overlapping raw hits a face needs to be kept, integer >= 0. Default 5. */
  minNeighbors?: number;
  /** Smallest face searched for: a minSize x minSize square, integer >= 1. Default 30. */
  minSize?: number;
  /** Largest face searched for: a maxSize x maxSize square, integer >= minSize. Default: no limit. */
  maxSize?: number;
}

export const HAAR_DEFAULTS: Readonly<{ scaleFactor: number; minNeighbors: number; minSize: number; maxSize: number | undefined }> =
  Object.freeze({ scaleFactor: 1.1, minNeighbors: 5, minSize: 30, maxSize: undefined });

export interface HaarDetection {
  box: Box;
  /** Always 1: Haar cascades produce no calibrated score. */
  score: number;
}

export interface HaarDetector {
  /** Synchronous; boxes are in source pixels, in OpenCV's output order. */
  detect(image: RgbImage, options?: HaarOptions): HaarDetection[];
  /** Frees the classifier. Idempotent; `detect` afterwards throws. */
  dispose(): void;
}

const CASCADE_FS_DIR = '/visage';
const CASCADE_FS_PATH = `${CASCADE_FS_DIR}/haarcascade_frontalface_default.xml`;

/** Loads OpenCV (once per process) and a fresh classifier for the frontal-face cascade. */
export async function createHaarDetector(): Promise<HaarDetector> {
  const { cv } = await loadOpenCv(); // unbox after the await: cv is a thenable
  ensureCascadeFile(cv);
  let classifier: CvCascadeClassifier | undefined = new cv.CascadeClassifier();
  let loaded = false;
  try {
    loaded = classifier.load(CASCADE_FS_PATH) && !classifier.empty();
  } finally {
    if (!loaded) classifier.delete();
  }
  if (!loaded) throw new VisageError('MODEL_ERROR', `OpenCV could not load the Haar cascade ${CASCADE_FS_PATH}`);

  return {
    detect(image: RgbImage, options?: HaarOptions): HaarDetection[] {
      if (!classifier) throw new VisageError('MODEL_ERROR', 'The Haar detector has been disposed');
      return detectWith(cv, classifier, image, resolveHaarOptions(options));
    },
    dispose(): void {
      classifier?.delete();
      classifier = undefined;
    },
  };
}

/** Writes the cascade XML into OpenCV's in-memory FS once per process. */
function ensureCascadeFile(cv: OpenCv): void {
  if (cv.FS.analyzePath(CASCADE_FS_PATH).exists) return;
  let xml: Buffer;
  try {
    const require = createRequire(import.meta.url);
    xml = readFileSync(require.resolve('opencv.js/tests/haarcascade_frontalface_default.xml'));
  } catch (err) {
    throw new VisageError('MODEL_ERROR', `Could not read haarcascade_frontalface_default.xml from the opencv.js package: ${String(err)}`, { cause: err });
  }
  if (!cv.FS.analyzePath(CASCADE_FS_DIR).exists) cv.FS.mkdir(CASCADE_FS_DIR);
  cv.FS.writeFile(CASCADE_FS_PATH, new Uint8Array(xml.buffer, xml.byteOffset, xml.byteLength));
}

interface ResolvedHaarOptions {
  scaleFactor: number;
  minNeighbors: number;
  minSize: number;
  maxSize: number | undefined;
}

/** Fills in defaults and validates; throws VisageError('INVALID_ARGUMENT'). */
export function resolveHaarOptions(options: HaarOptions | undefined): ResolvedHaarOptions {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw invalid('an options object', 'options', options);
  }
  const scaleFactor = options?.scaleFactor ?? HAAR_DEFAULTS.scaleFactor;
  const minNeighbors = options?.minNeighbors ?? HAAR_DEFAULTS.minNeighbors;
  const minSize = options?.minSize ?? HAAR_DEFAULTS.minSize;
  const maxSize = options?.maxSize ?? HAAR_DEFAULTS.maxSize;
  if (typeof scaleFactor !== 'number' || !Number.isFinite(scaleFactor) || scaleFactor <= 1) {
    throw invalid('a finite number > 1', 'scaleFactor', scaleFactor);
  }
  if (!Number.isSafeInteger(minNeighbors) || minNeighbors < 0) {
    throw invalid('an integer >= 0', 'minNeighbors', minNeighbors);
  }
  if (!Number.isSafeInteger(minSize) || minSize < 1) {
    throw invalid('an integer >= 1', 'minSize', minSize);
  }
  if (maxSize !== undefined && (!Number.isSafeInteger(maxSize) || maxSize < minSize)) {
    throw invalid(`an integer >= minSize (${minSize})`, 'maxSize', maxSize);
  }
  return { scaleFactor, minNeighbors, minSize, maxSize };
}

function invalid(expected: string, name: string, value: unknown): VisageError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return new VisageError('INVALID_ARGUMENT', `Expected ${expected} for ${name} but received ${shown}`);
}

function validateImage(image: RgbImage): void {
  const { width, height, data } = image ?? ({} as Partial<RgbImage>);
  if (!Number.isSafeInteger(width) || (width as number) < 1 || !Number.isSafeInteger(height) || (height as number) < 1) {
    throw new VisageError('INVALID_IMAGE', `Expected positive integer width and height for image but received ${String(width)}x${String(height)}`);
  }
  const expected = (width as number) * (height as number) * 3;
  if (!(data instanceof Uint8Array) || data.length !== expected) {
    const got = data instanceof Uint8Array ? `${data.length} bytes` : typeof data;
    throw new VisageError('INVALID_IMAGE', `Expected a Uint8Array of ${expected} bytes (RGB) for image.data but received ${got}`);
  }
}

function detectWith(cv: OpenCv, classifier: CvCascadeClassifier, image: RgbImage, opts: ResolvedHaarOptions): HaarDetection[] {
  validateImage(image);
  let rgb: CvMat | undefined;
  let gray: CvMat | undefined;
  let faces: CvRectVector | undefined;
  try {
    rgb = new cv.Mat(image.height, image.width, cv.CV_8UC3);
    rgb.data.set(image.data);
    gray = new cv.Mat();
    cv.cvtColor(rgb, gray, cv.COLOR_RGB2GRAY);
    faces = new cv.RectVector();
    const minSize = new cv.Size(opts.minSize, opts.minSize);
    // Size(0, 0) is OpenCV's "no maximum".
    const maxSize = opts.maxSize === undefined ? new cv.Size(0, 0) : new cv.Size(opts.maxSize, opts.maxSize);
    classifier.detectMultiScale(gray, faces, opts.scaleFactor, opts.minNeighbors, 0, minSize, maxSize);
    const out: HaarDetection[] = [];
    for (let i = 0, n = faces.size(); i < n; i++) {
      const r = faces.get(i);
      out.push({ box: { x: r.x, y: r.y, width: r.width, height: r.height }, score: 1 });
    }
    return out;
  } catch (err) {
    if (err instanceof VisageError) throw err;
    throw new VisageError('MODEL_ERROR', `OpenCV Haar detection failed: ${describeCvError(cv, err)}`, { cause: err });
  } finally {
    faces?.delete();
    gray?.delete();
    rgb?.delete();
  }
}

/** opencv.js throws C++ exceptions as raw pointers (numbers); turn them into text when possible. */
function describeCvError(cv: OpenCv, err: unknown): string {
  if (typeof err === 'number') {
    const fromPtr = (cv as unknown as { exceptionFromPtr?: (p: number) => { msg?: string } }).exceptionFromPtr;
    try {
      const msg = fromPtr?.(err)?.msg;
      if (msg) return msg;
    } catch {
      // fall through
    }
    return `C++ exception at ${err}`;
  }
  return err instanceof Error ? err.message : String(err);
}
