/**
 * @vladmandic/face-api 1.7.15 as a test oracle, on the TensorFlow.js wasm backend in Node.
 *
 * Loading: face-api's Node entry for wasm (dist/face-api.node-wasm.js) does
 * `require('@tensorflow/tfjs')` (the union package, not installed; its node entry needs
 * tfjs-node) and `require('@tensorflow/tfjs-backend-wasm')`. face-api only uses tfjs-core ops
 * from it, so `@tensorflow/tfjs` is redirected, for that one require, to a plain object holding
 * tfjs-core's exports (see installTfjsShim). Because face-api reads every op through that object
 * at call time, the SSD raw forward can also capture the head outputs before decoding.
 *
 * Weights: node_modules/@vladmandic/face-api/model, read from disk by face-api's loadFromDisk.
 */
import { readdirSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { cachedAnswer } from './answer-cache.js';
import {
  type RawArray,
  type Tensor,
  type Tensor3D,
  type Tensor4D,
  backendInfo,
  imageToTensor,
  initTfWasm,
  ms,
  nhwcTensor,
  requireCjs,
  tf,
  toFloat32,
  toRaw,
} from './tfjs-wasm.js';

export { backendInfo, decodeRgb, imageToTensor, type RawArray, type RgbImage } from './tfjs-wasm.js';

export const FACEAPI_MODEL_DIR = path.join(path.dirname(requireCjs.resolve('@vladmandic/face-api/package.json')), 'model');
export const FACEAPI_DEMO_DIR = path.join(path.dirname(requireCjs.resolve('@vladmandic/face-api/package.json')), 'demo');

// ---------------------------------------------------------------------------------------------
// Minimal local typing of the parts of face-api used here (the package's own .d.ts pulls in
// its bundled tfjs types, which would clash with ours).

interface FaBox { x: number; y: number; width: number; height: number }
interface FaPoint { x: number; y: number }
interface FaDetection { score: number; box: FaBox; imageWidth: number; imageHeight: number }
interface FaFullResult {
  detection: FaDetection;
  landmarks: { positions: FaPoint[] };
  unshiftedLandmarks: { positions: FaPoint[] };
  alignedRect: FaDetection;
  descriptor: Float32Array;
  expressions: Record<string, number>;
  age: number;
  gender: string;
  genderProbability: number;
}
interface FaTask<T> extends PromiseLike<T> {
  withFaceLandmarks(useTiny?: boolean): FaTask<unknown>;
  withFaceDescriptors(): FaTask<unknown>;
  withFaceExpressions(): FaTask<unknown>;
  withAgeAndGender(): FaTask<unknown>;
}
interface FaNetInput { readonly inputSize?: number }
interface FaNet {
  loadFromDisk(dir: string): Promise<void>;
  dispose(throwOnRedispose?: boolean): void;
  readonly isLoaded: boolean;
}
interface FaSsd extends FaNet {
  readonly params: { output_layer: { extra_dim: Tensor } } | undefined;
  forwardInput(input: FaNetInput): { boxes: Tensor[]; scores: Tensor[] };
  locateFaces(input: Tensor, options: object): Promise<FaDetection[]>;
}
interface FaTiny extends FaNet {
  forwardInput(input: FaNetInput, inputSize: number): Tensor4D;
  locateFaces(input: Tensor, options: object): Promise<FaDetection[]>;
}
interface FaProcessor extends FaNet {
  runNet(input: FaNetInput): Tensor;
  forwardInput(input: FaNetInput): Tensor;
}
interface FaAgeGender extends FaNet {
  runNet(input: FaNetInput): { age: Tensor; gender: Tensor };
  forwardInput(input: FaNetInput): { age: Tensor; gender: Tensor };
}
interface FaceApiModule {
  version: string;
  nets: {
    ssdMobilenetv1: FaSsd;
    tinyFaceDetector: FaTiny;
    faceLandmark68Net: FaProcessor;
    faceLandmark68TinyNet: FaProcessor;
    faceRecognitionNet: FaProcessor;
    faceExpressionNet: FaProcessor;
    ageGenderNet: FaAgeGender;
  };
  NetInput: new (inputs: Tensor3D[], treatAsBatchInput?: boolean) => FaNetInput;
  FaceExpressionNet: new () => FaProcessor;
  SsdMobilenetv1Options: new (o: { minConfidence?: number; maxResults?: number }) => object;
  TinyFaceDetectorOptions: new (o: { inputSize?: number; scoreThreshold?: number }) => object;
  detectAllFaces(input: Tensor, options: object): FaTask<FaDetection[]>;
}

// ---------------------------------------------------------------------------------------------
// Loading

type Mutable = Record<string, unknown>;
/** Mutable stand-in for '@tensorflow/tfjs' that face-api reads every op through. */
const tfShim: Mutable = { ...(tf as unknown as Mutable) };
let faceapiModule: FaceApiModule | undefined;

interface ModuleInternals {
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
}

function loadFaceApiModule(): FaceApiModule {
  if (faceapiModule) return faceapiModule;
  const shimId = path.join(import.meta.dirname, '__tfjs_shim__.cjs');
  const shimModule = new Module(shimId);
  shimModule.exports = tfShim;
  shimModule.loaded = true;
  requireCjs.cache[shimId] = shimModule;
  const internals = Module as unknown as ModuleInternals;
  const original = internals._resolveFilename;
  internals._resolveFilename = function (request, ...rest) {
    if (request === '@tensorflow/tfjs') return shimId;
    return original.call(this, request, ...rest);
  };
  try {
    faceapiModule = requireCjs('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApiModule;
  } finally {
    internals._resolveFilename = original;
  }
  return faceapiModule;
}

// ---------------------------------------------------------------------------------------------
// Public API

export interface DetectionJson {
  score: number;
  /** Source pixels. */
  box: FaBox;
}

export interface FullFaceJson extends DetectionJson {
  /** Box the landmarks re-derive (used for the descriptor/expression/age crops), source pixels. */
  alignedBox: FaBox;
  /** 68 points [x, y] in source pixels. */
  landmarks: [number, number][];
  descriptor: number[];
  expressions: Record<string, number>;
  age: number;
  gender: string;
  genderProbability: number;
}

export interface SsdRawOutput {
  /** Head output before decoding, [n, 5118, 4] (ty, tx, th, tw box encodings). */
  boxEncodings: RawArray;
  /** Head output before sigmoid, [n, 5118, 3] (class logits; face-api uses class 1). */
  classLogits: RawArray;
  /** face-api's decoded boxes [n, 5118, 4] = (ymin, xmin, ymax, xmax), 0..1 of the 512 input. */
  boxes: RawArray;
  /** face-api's scores [n, 5118] = sigmoid(classLogits[..., 1]). */
  scores: RawArray;
}

export type InputImage = string | Tensor3D;

export interface FaceApiReference {
  version: string;
  backend: ReturnType<typeof backendInfo>;
  /** Milliseconds spent in loadFaceApiReference (wasm start + all seven nets). */
  loadMs: number;
  imageToTensor(file: string, autoOrient?: boolean): Promise<Tensor3D>;

  // Raw forwards. `data` is an NHWC float32 batch [n, size, size, 3] of RGB values 0..255
  // (exactly what face-api's toBatchTensor yields; every net normalises internally).
  /** size 512; net computes x/127.5 - 1. */
  ssdMobilenetv1(data: Float32Array, shape: readonly number[]): Promise<SsdRawOutput>;
  /** SSD anchors from the manifest (`Output/extra_dim`), [1, 5118, 4] = (ymin, xmin, ymax, xmax). */
  ssdAnchors(): Promise<RawArray>;
  /** size = inputSize (multiple of 32, e.g. 416); net computes (x - [117.001, 114.697, 97.404]) / 255.
   * Output [n, s/32, s/32, 25]: 5 anchors x (tx, ty, tw, th, objectness logit); one class, no class scores. */
  tinyFaceDetector(data: Float32Array, shape: readonly number[]): Promise<RawArray>;
  /** size 112; (x - [122.782, 117.001, 104.298]) / 255. Output [n, 136] fc output = (x0, y0, x1, ...)
   * as fractions of the 112 input (face-api's postProcess is the identity for a square input). */
  faceLandmark68Net(data: Float32Array, shape: readonly number[]): Promise<RawArray>;
  /** Same contract as faceLandmark68Net, tiny variant. */
  faceLandmark68TinyNet(data: Float32Array, shape: readonly number[]): Promise<RawArray>;
  /** size 150; (x - [122.782, 117.001, 104.298]) / 255. Output [n, 128] descriptors (not normalised). */
  faceRecognitionNet(data: Float32Array, shape: readonly number[]): Promise<RawArray>;
  /** size 112; same normalisation as landmarks (own feature extractor). logits [n, 7], probabilities = softmax.
   * Order: neutral, happy, sad, angry, fearful, disgusted, surprised. */
  faceExpressionNet(data: Float32Array, shape: readonly number[]): Promise<{ logits: RawArray; probabilities: RawArray }>;
  /** The same forward by a second FaceExpressionNet loaded (loadFromDisk) with other weights in face-api's format from `dir`. */
  faceExpressionNetWith(dir: string, data: Float32Array, shape: readonly number[]): Promise<{ logits: RawArray; probabilities: RawArray }>;
  /** size 112; same normalisation. age [n] (years), genderLogits [n, 2], genderProbabilities = softmax
   * ([male, female]). */
  ageGenderNet(data: Float32Array, shape: readonly number[]): Promise<{ age: RawArray; genderLogits: RawArray; genderProbabilities: RawArray }>;

  // High-level (image path or an int32/float32 [h, w, 3] tensor of 0..255 RGB).
  detectSsd(input: InputImage, options?: { minConfidence?: number; maxResults?: number }): Promise<DetectionJson[]>;
  detectTiny(input: InputImage, options?: { inputSize?: number; scoreThreshold?: number }): Promise<DetectionJson[]>;
  /** detectAllFaces(...).withFaceLandmarks().withFaceDescriptors().withFaceExpressions().withAgeAndGender() */
  detectAll(
    input: InputImage,
    options?: {
      detector?: 'ssd' | 'tiny';
      minConfidence?: number;
      maxResults?: number;
      inputSize?: number;
      scoreThreshold?: number;
      tinyLandmarks?: boolean;
    },
  ): Promise<FullFaceJson[]>;
  /**
   * detectAll on an image file, its answer kept on disk (answer-cache.ts) for later calls and test
   * files: the full chain takes seconds a photo, and several test files read the same photos.
   */
  detectAllCached(file: string, options?: Parameters<FaceApiReference['detectAll']>[1]): Promise<FullFaceJson[]>;
  /** Number of live tfjs tensors (leak check). */
  numTensors(): number;
  dispose(): void;
}

/** This wrapper's own source: a change to it makes cached answers stale. */
const WRAPPER_SOURCES = ['faceapi.ts', 'tfjs-wasm.ts'].map((name) => path.join(import.meta.dirname, name));

function boxJson(b: FaBox): FaBox {
  return { x: b.x, y: b.y, width: b.width, height: b.height };
}

function detectionJson(d: FaDetection): DetectionJson {
  return { score: d.score, box: boxJson(d.box) };
}

function batchInput(data: Float32Array, shape: readonly number[], what: string, size?: number): { netInput: FaNetInput; tensors: Tensor[] } {
  const [, h, w] = shape;
  if (h !== w) throw new Error(`${what}: expected a square input, got ${h}x${w}`);
  if (size !== undefined && h !== size) throw new Error(`${what}: expected ${size}x${size} input, got ${h}x${w} (face-api would resize it)`);
  const batch = nhwcTensor(data, shape, what);
  const images = tf.unstack(batch) as Tensor3D[];
  batch.dispose();
  return { netInput: new (loadFaceApiModule().NetInput)(images, true), tensors: images };
}

async function withImage<T>(input: InputImage, fn: (t: Tensor3D) => Promise<T>): Promise<T> {
  const t = typeof input === 'string' ? await imageToTensor(input) : input;
  try {
    return await fn(t);
  } finally {
    if (typeof input === 'string') t.dispose();
  }
}

function isShape(shape: unknown, ...dims: number[]): boolean {
  return Array.isArray(shape) && shape.length === dims.length && dims.every((d, i) => shape[i] === d);
}

/**
 * Run face-api's SSD forwardInput while intercepting, inside its outputLayer, the two head
 * tensors: `reshape(boxPredictions [n,5118,1,4], [-1, 4])` and `slice(classPredictions [n,5118,3], [0,0,1], ...)`.
 */
function ssdForwardCapturing(net: FaSsd, netInput: FaNetInput): { boxes: Tensor[]; scores: Tensor[]; boxEnc?: Tensor; classLogits?: Tensor } {
  const origReshape = tfShim.reshape as (x: Tensor, shape: number[]) => Tensor;
  const origSlice = tfShim.slice as (x: Tensor, begin: number[], size: number[]) => Tensor;
  let boxEnc: Tensor | undefined;
  let classLogits: Tensor | undefined;
  tfShim.reshape = ((x: Tensor, shape: number[]) => {
    if (!boxEnc && x instanceof tf.Tensor && x.rank === 4 && x.shape[2] === 1 && x.shape[3] === 4 && isShape(shape, -1, 4)) {
      boxEnc = tf.keep(origReshape(x, [x.shape[0]!, x.shape[1]!, 4]));
    }
    return origReshape(x, shape);
  }) as Tf['reshape'];
  tfShim.slice = ((x: Tensor, begin: number[], size: number[]) => {
    if (!classLogits && x instanceof tf.Tensor && x.rank === 3 && x.shape[2] === 3 && isShape(begin, 0, 0, 1)) {
      classLogits = tf.keep(tf.clone(x));
    }
    return origSlice(x, begin, size);
  }) as Tf['slice'];
  try {
    const out = net.forwardInput(netInput);
    return { ...out, boxEnc, classLogits };
  } finally {
    tfShim.reshape = origReshape;
    tfShim.slice = origSlice;
  }
}
type Tf = typeof tf;

async function expressionForward(net: FaProcessor, data: Float32Array, shape: readonly number[]): Promise<{ logits: RawArray; probabilities: RawArray }> {
  const { netInput, tensors } = batchInput(data, shape, 'faceExpressionNet', 112);
  try {
    const logits = net.runNet(netInput);
    const probs = tf.softmax(logits);
    try {
      return { logits: await toRaw(logits), probabilities: await toRaw(probs) };
    } finally {
      tf.dispose([logits, probs]);
    }
  } finally {
    tf.dispose(tensors);
  }
}

export async function loadFaceApiReference(modelDir: string = FACEAPI_MODEL_DIR): Promise<FaceApiReference> {
  const t0 = performance.now();
  await initTfWasm();
  const faceapi = loadFaceApiModule();
  const { nets } = faceapi;
  const all: FaNet[] = [
    nets.ssdMobilenetv1,
    nets.tinyFaceDetector,
    nets.faceLandmark68Net,
    nets.faceLandmark68TinyNet,
    nets.faceRecognitionNet,
    nets.faceExpressionNet,
    nets.ageGenderNet,
  ];
  for (const net of all) if (!net.isLoaded) await net.loadFromDisk(modelDir);
  /** Expression nets with other weights, by folder. */
  const others = new Map<string, FaProcessor>();
  const loadMs = ms(t0);

  const processor = (net: FaProcessor, size: number, what: string) =>
    async (data: Float32Array, shape: readonly number[]): Promise<RawArray> => {
      const { netInput, tensors } = batchInput(data, shape, what, size);
      try {
        const out = net.runNet(netInput);
        try { return await toRaw(out); } finally { out.dispose(); }
      } finally {
        tf.dispose(tensors);
      }
    };

  const reference: FaceApiReference = {
    version: faceapi.version,
    backend: backendInfo(),
    loadMs,
    imageToTensor,

    async ssdMobilenetv1(data, shape) {
      const { netInput, tensors } = batchInput(data, shape, 'ssdMobilenetv1', 512);
      const out = ssdForwardCapturing(nets.ssdMobilenetv1, netInput);
      try {
        if (!out.boxEnc || !out.classLogits) throw new Error('ssdMobilenetv1: could not capture the head outputs (face-api internals changed?)');
        const boxes = tf.stack(out.boxes);
        const scores = tf.stack(out.scores);
        try {
          return {
            boxEncodings: await toRaw(out.boxEnc),
            classLogits: await toRaw(out.classLogits),
            boxes: await toRaw(boxes),
            scores: await toRaw(scores),
          };
        } finally {
          tf.dispose([boxes, scores]);
        }
      } finally {
        tf.dispose([...tensors, ...out.boxes, ...out.scores, ...(out.boxEnc ? [out.boxEnc] : []), ...(out.classLogits ? [out.classLogits] : [])]);
      }
    },

    async ssdAnchors() {
      const anchors = nets.ssdMobilenetv1.params?.output_layer.extra_dim;
      if (!anchors) throw new Error('ssdAnchors: SSD not loaded');
      return toRaw(anchors);
    },

    async tinyFaceDetector(data, shape) {
      const size = shape[1] ?? 0;
      if (size % 32 !== 0) throw new Error(`tinyFaceDetector: input size must be a multiple of 32, got ${size}`);
      const { netInput, tensors } = batchInput(data, shape, 'tinyFaceDetector');
      try {
        const out = nets.tinyFaceDetector.forwardInput(netInput, size);
        try { return await toRaw(out); } finally { out.dispose(); }
      } finally {
        tf.dispose(tensors);
      }
    },

    faceLandmark68Net: processor(nets.faceLandmark68Net, 112, 'faceLandmark68Net'),
    faceLandmark68TinyNet: processor(nets.faceLandmark68TinyNet, 112, 'faceLandmark68TinyNet'),
    faceRecognitionNet: async (data, shape) => {
      // FaceRecognitionNet has no runNet: forwardInput is the raw 128-d output.
      const { netInput, tensors } = batchInput(data, shape, 'faceRecognitionNet', 150);
      try {
        const out = nets.faceRecognitionNet.forwardInput(netInput);
        try { return await toRaw(out); } finally { out.dispose(); }
      } finally {
        tf.dispose(tensors);
      }
    },

    faceExpressionNet: (data, shape) => expressionForward(nets.faceExpressionNet, data, shape),

    async faceExpressionNetWith(dir, data, shape) {
      let net = others.get(dir);
      if (!net) {
        net = new faceapi.FaceExpressionNet();
        await net.loadFromDisk(dir);
        others.set(dir, net);
      }
      return expressionForward(net, data, shape);
    },

    async ageGenderNet(data, shape) {
      const { netInput, tensors } = batchInput(data, shape, 'ageGenderNet', 112);
      try {
        const { age, gender } = nets.ageGenderNet.runNet(netInput);
        const probs = tf.softmax(gender);
        try {
          return { age: await toRaw(age), genderLogits: await toRaw(gender), genderProbabilities: await toRaw(probs) };
        } finally {
          tf.dispose([age, gender, probs]);
        }
      } finally {
        tf.dispose(tensors);
      }
    },

    detectSsd(input, options = {}) {
      const opts = new faceapi.SsdMobilenetv1Options({ minConfidence: options.minConfidence ?? 0.5, maxResults: options.maxResults ?? 100 });
      return withImage(input, async (t) => (await nets.ssdMobilenetv1.locateFaces(t, opts)).map(detectionJson));
    },

    detectTiny(input, options = {}) {
      const opts = new faceapi.TinyFaceDetectorOptions({ inputSize: options.inputSize ?? 416, scoreThreshold: options.scoreThreshold ?? 0.5 });
      return withImage(input, async (t) => (await nets.tinyFaceDetector.locateFaces(t, opts)).map(detectionJson));
    },

    detectAll(input, options = {}) {
      const opts = options.detector === 'tiny'
        ? new faceapi.TinyFaceDetectorOptions({ inputSize: options.inputSize ?? 416, scoreThreshold: options.scoreThreshold ?? 0.5 })
        : new faceapi.SsdMobilenetv1Options({ minConfidence: options.minConfidence ?? 0.5, maxResults: options.maxResults ?? 100 });
      return withImage(input, async (t) => {
        const results = (await faceapi
          .detectAllFaces(t, opts)
          .withFaceLandmarks(options.tinyLandmarks ?? false)
          .withFaceDescriptors()
          .withFaceExpressions()
          .withAgeAndGender()) as unknown as FaFullResult[];
        return results.map((r) => ({
          ...detectionJson(r.detection),
          alignedBox: boxJson(r.alignedRect.box),
          landmarks: r.landmarks.positions.map((p): [number, number] => [p.x, p.y]),
          descriptor: Array.from(r.descriptor),
          expressions: { ...r.expressions },
          age: r.age,
          gender: r.gender,
          genderProbability: r.genderProbability,
        }));
      });
    },

    detectAllCached(file, options = {}) {
      const sources = [file, ...readdirSync(modelDir).sort().map((name) => path.join(modelDir, name)), ...WRAPPER_SOURCES];
      return cachedAnswer('faceapi-detectAll', sources, { version: faceapi.version, backend: backendInfo(), options }, () => reference.detectAll(file, options));
    },

    numTensors: () => tf.memory().numTensors,

    dispose() {
      for (const net of [...all, ...others.values()]) if (net.isLoaded) net.dispose(false);
    },
  };
  return reference;
}

/** Float32Array view of any tensor (re-exported for oracle tests). */
export { toFloat32 };
