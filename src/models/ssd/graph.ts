/**
 * face-api's SSD MobileNetV1 face detector as an ONNX graph: MobileNetV1 backbone (depthwise +
 * pointwise convolutions, batch norm folded, ReLU6), six box predictor heads, and the box decoding
 * against anchors given as inputs (the manifest's at 512, generated at smaller input sides) — all
 * in the graph, so one run gives decoded boxes.
 */
import { GraphBuilder } from '../../engine/graph.js';
import { batchNorm, conv2d, depthwiseConv2d, nchwToNhwc, nhwcToNchw, relu6, sigmoid } from '../../engine/layers.js';
import { weight, type WeightMap } from '../../engine/weights.js';

/** The builder's version, part of the disk-cache key: bump it whenever the graph it emits changes. */
export const SSD_GRAPH_VERSION = 3;

/** Side of the square input the network was trained on, and runs on by default. */
export const SSD_INPUT_SIZE = 512;
/** Anchors over all six feature maps (32², 16², 8², 4², 2², 1² cells with 3 or 6 anchors each). */
export const SSD_ANCHORS = 5118;

/** Cell size in input pixels of the six feature maps (conv 11, conv 13, then four stride-2 layers). */
const FEATURE_STRIDES = [16, 32, 64, 128, 256, 512] as const;
/** The anchor generator's scales per feature map (TF's SSD: 0.2 to 0.95, then 1 for the interpolated one). */
const ANCHOR_SCALES = [0.2, 0.35, 0.5, 0.65, 0.8, 0.95, 1] as const;

/** Feature map side at an input side: 'same' padding rounds each stride-2 layer up. */
const gridSide = (inputSize: number, stride: number) => Math.ceil(inputSize / stride);

/** Anchors at an input side (a multiple of 32 up to 512). */
export function ssdAnchorCount(inputSize: number): number {
  return FEATURE_STRIDES.reduce((n, stride, k) => n + gridSide(inputSize, stride) ** 2 * (k === 0 ? 3 : 6), 0);
}

/**
 * Anchor centres and sizes, (y, x) per anchor, relative to the square input, for the network
 * run at `inputSize`. The network is convolutional, so a face of a given size in input pixels
 * excites the same feature map at any input side: each anchor keeps its size in pixels (its
 * 512-input size times 512 / inputSize), and the cell centres follow the smaller grids. This is
 * TF's multiple-grid generator (at 512 it gives the manifest's anchors to within 1e-4 in size;
 * the manifest's own are used there).
 */
export function ssdAnchors(inputSize: number): { centre: Float32Array; size: Float32Array } {
  const count = ssdAnchorCount(inputSize);
  const centre = new Float32Array(count * 2);
  const size = new Float32Array(count * 2);
  const k = SSD_INPUT_SIZE / inputSize;
  let i = 0;
  FEATURE_STRIDES.forEach((stride, layer) => {
    const s = ANCHOR_SCALES[layer] as number;
    // (scale, aspect ratio w/h) per cell, in the manifest's order.
    const shapes: [number, number][] =
      layer === 0
        ? [[0.1, 1], [0.2, 2], [0.2, 0.5]]
        : [[s, 1], [Math.sqrt(s * (ANCHOR_SCALES[layer + 1] as number)), 1], [s, 2], [s, 0.5], [s, 3], [s, 1 / 3]];
    const g = gridSide(inputSize, stride);
    for (let y = 0; y < g; y++) {
      for (let x = 0; x < g; x++) {
        for (const [scale, ratio] of shapes) {
          centre[i * 2] = (y + 0.5) / g;
          centre[i * 2 + 1] = (x + 0.5) / g;
          size[i * 2] = (scale / Math.sqrt(ratio)) * k;
          size[i * 2 + 1] = scale * Math.sqrt(ratio) * k;
          i++;
        }
      }
    }
  });
  return { centre, size };
}

/** Graph input and output names. */
export const SSD_IO = {
  input: 'input',
  /** Raw box encodings [N, 5118, 4]: (ty, tx, th, tw) per anchor. */
  boxEncodings: 'box_encodings',
  /** Raw class logits [N, 5118, 3]: background, face, and an unused class. */
  classLogits: 'class_logits',
  /** Decoded boxes [N, 5118, 4]: (ymin, xmin, ymax, xmax) relative to the square input. */
  boxes: 'boxes',
  /** Face scores [N, 5118]: sigmoid of the face logit. */
  scores: 'scores',
  /** Inputs [A, 2]: anchor centres and sizes (y, x) for the input side (manifestAnchors, ssdAnchors). */
  anchorCentre: 'anchor_centre',
  anchorSize: 'anchor_size',
} as const;

/** TF's batch-norm epsilon as face-api writes it (float32 0.001). */
const BN_EPSILON = 0.0010000000474974513;

/** Depthwise stride per MobileNetV1 block 1..13 (face-api's getStridesForLayerIdx). */
const STRIDE_2_BLOCKS = new Set([2, 4, 6, 12]);

/**
 * Conv with 'same' padding, bias-like offset, ReLU6 (face-api's pointwiseConvLayer); `divisor`
 * divides the filter, folding an input scale into it.
 */
function pointwise(g: GraphBuilder, x: string, w: WeightMap, prefix: string, stride: number, divisor = 1): string {
  const filter = weight(w, `${prefix}/weights`);
  const scaled = divisor === 1 ? filter : { ...filter, data: filter.data.map((v) => v / divisor) };
  const y = conv2d(g, x, scaled, weight(w, `${prefix}/convolution_bn_offset`), { stride });
  return relu6(g, y);
}

function depthwise(g: GraphBuilder, x: string, w: WeightMap, idx: number): string {
  const prefix = `MobilenetV1/Conv2d_${idx}_depthwise`;
  const y = depthwiseConv2d(g, x, weight(w, `${prefix}/depthwise_weights`), undefined, {
    stride: STRIDE_2_BLOCKS.has(idx) ? 2 : 1,
  });
  const bn = batchNorm(g, y, {
    mean: weight(w, `${prefix}/BatchNorm/moving_mean`),
    variance: weight(w, `${prefix}/BatchNorm/moving_variance`),
    scale: weight(w, `${prefix}/BatchNorm/gamma`),
    offset: weight(w, `${prefix}/BatchNorm/beta`),
    epsilon: BN_EPSILON,
  });
  return relu6(g, bn);
}

/** One box predictor head: 1x1 convs read back in NHWC order, so anchors come cell by cell. */
function head(g: GraphBuilder, x: string, w: WeightMap, idx: number): { box: string; cls: string } {
  const run = (name: string, width: number) => {
    const prefix = `Prediction/BoxPredictor_${idx}/${name}`;
    const y = conv2d(g, x, weight(w, `${prefix}/weights`), weight(w, `${prefix}/biases`));
    return g.node('Reshape', [nchwToNhwc(g, y), g.ints('head_shape', [0, -1, width])]);
  };
  return { box: run('BoxEncodingPredictor', 4), cls: run('ClassPredictor', 3) };
}

/** The manifest's anchors (`Output/extra_dim`, (ymin, xmin, ymax, xmax)) as centres and sizes (y, x): the anchors at 512. */
export function manifestAnchors(w: WeightMap): { centre: Float32Array; size: Float32Array } {
  const anchors = weight(w, 'Output/extra_dim');
  if (anchors.shape.join() !== `1,${SSD_ANCHORS},4`) {
    throw new Error(`Output/extra_dim: expected [1, ${SSD_ANCHORS}, 4], got [${anchors.shape.join(', ')}]`);
  }
  const a = anchors.data;
  const centre = new Float32Array(SSD_ANCHORS * 2);
  const size = new Float32Array(SSD_ANCHORS * 2);
  for (let i = 0; i < SSD_ANCHORS; i++) {
    for (let k = 0; k < 2; k++) {
      const lo = a[i * 4 + k] as number;
      const s = Math.fround((a[i * 4 + k + 2] as number) - lo);
      size[i * 2 + k] = s;
      centre[i * 2 + k] = lo + s / 2;
    }
  }
  return { centre, size };
}

/**
 * face-api's decodeBoxesLayer: centre = t_yx / 10 * anchor size + anchor centre,
 * half size = exp(t_hw / 5) * anchor size / 2; boxes as (ymin, xmin, ymax, xmax).
 */
function decodeBoxes(g: GraphBuilder, encodings: string): string {
  // Anchors are inputs: the manifest's at 512, ssdAnchors' at other sides.
  const anchorCentre = g.input(SSD_IO.anchorCentre, ['anchors', 2]);
  const anchorSize = g.input(SSD_IO.anchorSize, ['anchors', 2]);
  const [t, s] = g.nodeMulti('Split', [encodings, g.ints('split_sizes', [2, 2])], 2, { axis: 2 }) as [string, string];
  const centre = g.node('Add', [g.node('Mul', [g.node('Div', [t, g.scalar('ten', 10)]), anchorSize]), anchorCentre]);
  const half = g.node('Div', [
    g.node('Mul', [g.node('Exp', [g.node('Div', [s, g.scalar('five', 5)])]), anchorSize]),
    g.scalar('two', 2),
  ]);
  return g.node('Concat', [g.node('Sub', [centre, half]), g.node('Add', [centre, half])], { axis: 2 });
}

/**
 * Builds the SSD MobileNetV1 graph from face-api's `ssd_mobilenetv1_model` weights.
 * Input: NHWC float32 [N, S, S, 3] with values 0..255 (the padded, resized image), S 512 or a
 * smaller multiple of 32, and that side's anchors (manifestAnchors at 512, else ssdAnchors).
 */
export function buildSsdGraph(w: WeightMap): Uint8Array {
  const g = new GraphBuilder('ssd_mobilenetv1');
  const input = g.input(SSD_IO.input, ['batch', 'side', 'side', 3]);
  // face-api normalises to -1..1 as x / 127.5 - 1. Here the input is only shifted by 127.5 and
  // the first filter divided by 127.5: the same values up to rounding, one pass over the image
  // instead of two (they were 7% of the forward), and zero padding in the shifted space is still
  // the normalised 0.
  const shifted = g.node('Sub', [input, g.scalar('mid', 127.5)]);

  let x = pointwise(g, nhwcToNchw(g, shifted), w, 'MobilenetV1/Conv2d_0_pointwise', 2, 127.5);
  let conv11 = x;
  for (let idx = 1; idx <= 13; idx++) {
    x = pointwise(g, depthwise(g, x, w, idx), w, `MobilenetV1/Conv2d_${idx}_pointwise`, 1);
    if (idx === 11) conv11 = x;
  }

  // Extra feature layers: 1x1 then stride-2 3x3, four times (face-api's predictionLayer).
  const features = [conv11, x];
  let y = x;
  for (let i = 0; i < 8; i++) {
    y = pointwise(g, y, w, `Prediction/Conv2d_${i}_pointwise`, i % 2 === 1 ? 2 : 1);
    if (i % 2 === 1) features.push(y);
  }

  const heads = features.map((f, idx) => head(g, f, w, idx));
  const encodings = g.node('Concat', heads.map((h) => h.box), { axis: 1 });
  const logits = g.node('Concat', heads.map((h) => h.cls), { axis: 1 });

  g.output(encodings, SSD_IO.boxEncodings, ['batch', 'anchors', 4]);
  g.output(logits, SSD_IO.classLogits, ['batch', 'anchors', 3]);
  g.output(decodeBoxes(g, encodings), SSD_IO.boxes, ['batch', 'anchors', 4]);
  const faceLogit = g.node('Gather', [logits, g.ints('face_class', [1])], { axis: 2 });
  const scores = g.node('Squeeze', [sigmoid(g, faceLogit), g.ints('squeeze_axes', [2])]);
  g.output(scores, SSD_IO.scores, ['batch', 'anchors']);
  return g.toBytes();
}
