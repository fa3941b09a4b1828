/**
 * Lazy, once-per-process loader for the OpenCV wasm build in `@techstark/opencv-js` (OpenCV 4.12.0).
 *
 * How that package signals readiness: `require()` returns the Emscripten Module object
 * synchronously (not a Promise); the wasm is compiled asynchronously afterwards and the
 * runtime calls `Module.onRuntimeInitialized`. The Module also carries the old Emscripten
 * `then(fn)` method, which calls `fn(Module)` (at once if the runtime is already up, otherwise
 * chained onto `onRuntimeInitialized`) and returns the Module itself. That makes the Module a
 * thenable whose `then` never settles a promise properly: `await cv`, or resolving a promise
 * with it, recurses forever (the resolved value is again a thenable). So we call `then` with a
 * callback that resolves with `undefined`, and hand the Module out inside a plain object.
 *
 * Side effects of the Emscripten runtime in Node that we undo: on load it adds
 * `process.on('uncaughtException', rethrow)` and `process.on('unhandledRejection', abort)`,
 * which would turn every unhandled rejection anywhere in the host process into an OpenCV
 * abort. We remove exactly the listeners that appeared while the module was being evaluated.
 */
import { createRequire } from 'node:module';
import { VisageError } from '../../errors.js';

/** The slice of the opencv.js API this module uses (the package's own typings are approximate). */
export interface CvMat {
  data: Uint8Array;
  rows: number;
  cols: number;
  delete(): void;
}

export interface CvRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface CvRectVector {
  size(): number;
  get(i: number): CvRect;
  delete(): void;
}

export interface CvSize {
  width: number;
  height: number;
}

export interface CvCascadeClassifier {
  load(path: string): boolean;
  empty(): boolean;
  detectMultiScale(
    image: CvMat,
    objects: CvRectVector,
    scaleFactor: number,
    minNeighbors: number,
    flags: number,
    minSize: CvSize,
    maxSize: CvSize,
  ): void;
  delete(): void;
}

export interface OpenCv {
  Mat: new (rows?: number, cols?: number, type?: number) => CvMat;
  RectVector: new () => CvRectVector;
  Size: new (width: number, height: number) => CvSize;
  CascadeClassifier: new () => CvCascadeClassifier;
  CV_8UC3: number;
  COLOR_RGB2GRAY: number;
  cvtColor(src: CvMat, dst: CvMat, code: number, dstCn?: number): void;
  FS: {
    mkdir(path: string): void;
    writeFile(path: string, data: Uint8Array | string): void;
    analyzePath(path: string): { exists: boolean };
  };
  getBuildInformation(): string;
}

/** What `require('@techstark/opencv-js')` may hand back, depending on how the build was made. */
type RawModule = Partial<OpenCv> & {
  then?: (cb: (m: unknown) => void) => unknown;
  onRuntimeInitialized?: () => void;
  onAbort?: (what: unknown) => void;
};

const READY_TIMEOUT_MS = 60_000;

/**
 * The ready runtime, boxed. Never pass `cv` itself through a promise (resolve it, return it
 * from an async function or a `then` callback): it is a thenable and that hangs forever.
 */
export interface OpenCvHandle {
  readonly cv: OpenCv;
}

let loading: Promise<OpenCvHandle> | undefined;

/** Resolves once the OpenCV runtime is ready; the first call loads it, later calls share it. */
export function loadOpenCv(): Promise<OpenCvHandle> {
  loading ??= load().catch((err: unknown) => {
    loading = undefined; // allow a later retry
    throw err;
  });
  return loading;
}

async function load(): Promise<OpenCvHandle> {
  const require = createRequire(import.meta.url);
  const emitter: NodeJS.EventEmitter = process; // the untyped overloads: event names as strings
  const events = ['uncaughtException', 'unhandledRejection'];
  const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
  let raw: unknown;
  try {
    raw = require('@techstark/opencv-js');
  } catch (err) {
    throw new VisageError('MODEL_ERROR', `Could not load OpenCV (@techstark/opencv-js): ${String(err)}`, { cause: err });
  } finally {
    for (const e of events) {
      const known = before.get(e);
      for (const l of emitter.listeners(e)) {
        if (!known?.has(l)) emitter.removeListener(e, l as (...args: unknown[]) => void);
      }
    }
  }

  // Some opencv.js builds export a Promise that settles when the
  // runtime is ready; this one exports the Module itself.
  const mod = (raw instanceof Promise ? await raw : raw) as RawModule;
  if (!(raw instanceof Promise)) await whenReady(mod);
  if (typeof mod.CascadeClassifier !== 'function') {
    throw new VisageError('MODEL_ERROR', 'This OpenCV build has no CascadeClassifier');
  }
  return { cv: mod as OpenCv };
}

function whenReady(mod: RawModule): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new VisageError('MODEL_ERROR', `OpenCV runtime not ready after ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    timer.unref();
    const done = (): void => {
      clearTimeout(timer);
      resolve(); // never resolve with the Module: it is a thenable (see above)
    };
    const previousAbort = mod.onAbort;
    mod.onAbort = (what: unknown) => {
      previousAbort?.(what);
      clearTimeout(timer);
      reject(new VisageError('MODEL_ERROR', `OpenCV runtime aborted: ${String(what)}`));
    };
    if (typeof mod.then === 'function') {
      // Calls back at once if the runtime is already up, otherwise chains onRuntimeInitialized.
      mod.then(() => done());
    } else if (typeof mod.Mat === 'function') {
      done();
    } else {
      const previous = mod.onRuntimeInitialized;
      mod.onRuntimeInitialized = () => {
        previous?.();
        done();
      };
    }
  });
}
