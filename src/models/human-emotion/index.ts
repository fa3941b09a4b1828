/**
 * human's emotion net (`@vladmandic/human/models/emotion.json`, MIT; oarriaga's mini-Xception
 * trained on FER2013): a 64x64 grayscale face, 7 classes. Pre-processing as human does it: the
 * RGB face (0..1) resized to 64x64, grayscale with weights 0.2989/0.5870/0.1140, then (g - 0.5) * 2.
 */
import type { Engine, Tensor } from '../../engine/index.js';
import { type HumanNet, humanCropInput, humanModel, loadHumanNet, positiveInteger, runHuman, runHumanBatch } from '../common/human.js';
import { FACE_BATCH } from '../common/packaged.js';
import type { FloatImage } from '../common/preprocess.js';

/** human's labels for the net's outputs, in order (oarriaga's FER2013 order). */
export const HUMAN_EMOTION_LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
export type HumanEmotionLabel = (typeof HUMAN_EMOTION_LABELS)[number];

export const HUMAN_EMOTION_SIZE = 64;
/** Length of the penultimate features (see HumanEmotion.features). */
export const HUMAN_EMOTION_FEATURES = 256;

const PROBABILITIES = 'Identity';
const LOGITS = 'StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean';
/** The last residual sum (8x8x256), before the 3x3 convolution to 7 maps and their global mean. */
const FEATURE_MAP = 'StatefulPartitionedCall/model_1/add_2/add';
const GRAY = [0.2989, 0.587, 0.114] as const;

export interface HumanEmotion {
  /** A probability per label; they sum to 1. */
  probabilities: Record<HumanEmotionLabel, number>;
  /** The pre-softmax scores, in HUMAN_EMOTION_LABELS order. */
  logits: number[];
  /**
   * The penultimate features: the last feature map (8x8x256) averaged over its positions, for a
   * head trained on them. The net's own head is a 3x3 convolution of that map before the mean,
   * so its logits are close to, not exactly, an affine function of these.
   */
  features: Float32Array;
}

export interface HumanEmotionNet {
  predictBatch(faceCrops: readonly FloatImage[]): Promise<HumanEmotion[]>;
  /** The network alone: NHWC [n, 64, 64, 1] (human's normalised grayscale) → probabilities and logits [n, 7], feature map [n, 8, 8, 256]. */
  forwardRaw(nhwcBatch: Tensor): Promise<{ probabilities: Tensor; logits: Tensor; featureMap: Tensor }>;
}

export interface HumanEmotionOptions {
  /** A model.json of the same architecture. Default: the one shipped in `@vladmandic/human`. */
  modelPath?: string;
  /** Most faces per network call. Default 8 (FACE_BATCH). */
  maxBatch?: number;
}

/** A face crop (0..255 RGB) as the net's [1, 64, 64, 1] input. */
export function humanEmotionInput(crop: FloatImage): Tensor {
  const rgb = humanCropInput(crop, HUMAN_EMOTION_SIZE).data;
  const gray = new Float32Array(HUMAN_EMOTION_SIZE * HUMAN_EMOTION_SIZE);
  for (let i = 0; i < gray.length; i++) {
    const g = (rgb[i * 3] as number) * GRAY[0] + (rgb[i * 3 + 1] as number) * GRAY[1] + (rgb[i * 3 + 2] as number) * GRAY[2];
    gray[i] = (g - 0.5) * 2;
  }
  return { data: gray, dims: [1, HUMAN_EMOTION_SIZE, HUMAN_EMOTION_SIZE, 1] };
}

function meanOverPositions(map: Float32Array, channels: number): Float32Array {
  const out = new Float32Array(channels);
  const positions = map.length / channels;
  for (let p = 0; p < positions; p++) for (let c = 0; c < channels; c++) out[c] = (out[c] as number) + (map[p * channels + c] as number);
  return out.map((v) => v / positions);
}

/**
 * Loads human's emotion net (compiled to ONNX once per process).
 *
 * @example
 * const net = await createHumanEmotionNet(new Engine({ threads: 2 }));
 * const [{ probabilities }] = await net.predictBatch([faceCrop]);
 */
export async function createHumanEmotionNet(engine: Engine, options: HumanEmotionOptions = {}): Promise<HumanEmotionNet> {
  const maxBatch = positiveInteger(options.maxBatch ?? FACE_BATCH, 'maxBatch');
  const net: HumanNet = await loadHumanNet(engine, options.modelPath ?? humanModel('emotion'), [PROBABILITIES, LOGITS, FEATURE_MAP]);
  return {
    async predictBatch(faceCrops) {
      const outputs = await runHuman(net, faceCrops.map(humanEmotionInput), maxBatch);
      return outputs.map((o) => {
        const p = (o[PROBABILITIES] as Tensor).data;
        return {
          probabilities: Object.fromEntries(HUMAN_EMOTION_LABELS.map((l, i) => [l, p[i] as number])) as Record<HumanEmotionLabel, number>,
          logits: Array.from((o[LOGITS] as Tensor).data),
          features: meanOverPositions((o[FEATURE_MAP] as Tensor).data, HUMAN_EMOTION_FEATURES),
        };
      });
    },
    async forwardRaw(nhwcBatch) {
      const out = await runHumanBatch(net, nhwcBatch, HUMAN_EMOTION_SIZE, 1);
      return { probabilities: out[PROBABILITIES] as Tensor, logits: out[LOGITS] as Tensor, featureMap: out[FEATURE_MAP] as Tensor };
    },
  };
}
