/**
 * BlazeFace's two variants as MediaPipe's face_detection graphs configure them, and the SSD
 * anchors its SsdAnchorsCalculator makes from those options. The numbers were read from the
 * graph configs compiled into @mediapipe/face_detection's own wasm (FaceDetectionShortRange,
 * FaceDetectionFullRange and their shared FaceDetection subgraph).
 */

export type BlazeFaceVariant = 'short' | 'full';

export interface BlazeFaceConfig {
  /** The .tflite file in @mediapipe/face_detection. */
  file: string;
  /** Side of the square network input (also MediaPipe's x/y/w/h scale). */
  inputSize: number;
  /** Strides of the SSD layers; layers sharing a stride share one feature map. */
  strides: readonly number[];
  /** MediaPipe's interpolated_scale_aspect_ratio: where > 0, one more anchor per layer. */
  interpolatedScaleAspectRatio: number;
  /** Anchors the network predicts for (a check on the generated list). */
  anchors: number;
}

export const BLAZEFACE_CONFIGS: Readonly<Record<BlazeFaceVariant, BlazeFaceConfig>> = Object.freeze({
  short: { file: 'face_detection_short_range.tflite', inputSize: 128, strides: [8, 16, 16, 16], interpolatedScaleAspectRatio: 1, anchors: 896 },
  full: { file: 'face_detection_full_range.tflite', inputSize: 192, strides: [4], interpolatedScaleAspectRatio: 0, anchors: 2304 },
});

/** Both graphs: anchor offsets 0.5, one aspect ratio (1.0), fixed anchor size. */
const ANCHOR_OFFSET = 0.5;
const ASPECT_RATIOS = [1];

/** An anchor's centre, relative to the network input (0..1); with fixed anchor size, w = h = 1. */
export interface Anchor {
  x: number;
  y: number;
}

/**
 * SsdAnchorsCalculator with fixed_anchor_size: for each run of layers sharing a stride, a feature
 * map of ceil(input / stride) cells, each holding one anchor per aspect ratio per layer (plus the
 * interpolated one where configured), centred at (cell + offset) / map size. With a fixed size
 * the scales only decide how many anchors a cell holds.
 */
export function blazeFaceAnchors(config: BlazeFaceConfig): Anchor[] {
  const { strides, inputSize, interpolatedScaleAspectRatio } = config;
  const anchors: Anchor[] = [];
  let layer = 0;
  while (layer < strides.length) {
    let perCell = 0;
    let last = layer;
    while (last < strides.length && strides[last] === strides[layer]) {
      perCell += ASPECT_RATIOS.length + (interpolatedScaleAspectRatio > 0 ? 1 : 0);
      last++;
    }
    const stride = strides[layer] as number;
    const cells = Math.ceil(inputSize / stride);
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        for (let k = 0; k < perCell; k++) anchors.push({ x: (x + ANCHOR_OFFSET) / cells, y: (y + ANCHOR_OFFSET) / cells });
      }
    }
    layer = last;
  }
  return anchors;
}
