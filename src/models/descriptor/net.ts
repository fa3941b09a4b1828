import { FACE_BATCH, dlibModel, positiveInteger } from '../common/packaged.js';
import { faceApiWeightFiles, readFaceApiWeights, type Engine, type Model } from '../../engine/index.js';
import { VisageError } from '../../errors.js';
import {
  DESCRIPTOR_GRAPH_VERSION,
  DESCRIPTOR_INPUT_NAME,
  DESCRIPTOR_INPUT_SIZE,
  DESCRIPTOR_OUTPUT_NAME,
  DESCRIPTOR_SIZE,
  buildDescriptorGraph,
} from './graph.js';
import { readDlibDescriptorWeights } from './dlib-weights.js';
import { descriptorInputBatch, type FaceCrop } from './preprocess.js';
import type { DescriptorNet, DescriptorOptions } from './types.js';

const INPUT_VALUES = DESCRIPTOR_INPUT_SIZE * DESCRIPTOR_INPUT_SIZE * 3;

async function forward(model: Model, nhwc: Float32Array): Promise<Float32Array> {
  const n = nhwc.length / INPUT_VALUES;
  if (!Number.isInteger(n) || n < 1) {
    throw new VisageError(
      'INVALID_ARGUMENT',
      `Expected a multiple of ${INPUT_VALUES} values (n x 150 x 150 x 3) for descriptor input but received ${nhwc.length}`,
    );
  }
  const out = await model.run({ [DESCRIPTOR_INPUT_NAME]: { data: nhwc, dims: [n, DESCRIPTOR_INPUT_SIZE, DESCRIPTOR_INPUT_SIZE, 3] } });
  const descriptors = out[DESCRIPTOR_OUTPUT_NAME];
  if (!descriptors) throw new VisageError('MODEL_ERROR', `Descriptor network returned no ${DESCRIPTOR_OUTPUT_NAME} output`);
  return descriptors.data;
}

/**
 * Loads the 128-d face descriptor network on an engine (compiled once per process).
 *
 * @example
 * const net = await createDescriptorNet(new Engine({ threads: 2 }));
 * const descriptor = await net.describe(faceCrop); // Float32Array(128)
 */
export async function createDescriptorNet(engine: Engine, options: DescriptorOptions = {}): Promise<DescriptorNet> {
  const weightsPath = options.weightsPath ?? dlibModel('dlib_face_recognition_resnet_model_v1');
  const maxBatch = positiveInteger(options.maxBatch ?? FACE_BATCH, 'maxBatch');
  // Each source with its own input scaling: dlib's file as dlib runs it, face-api's as face-api does.
  const model = await engine.load(`descriptor:${weightsPath}`, async () =>
    weightsPath.endsWith('.dat')
      ? buildDescriptorGraph(await readDlibDescriptorWeights(weightsPath), 256)
      : buildDescriptorGraph(await readFaceApiWeights(weightsPath), 255),
    { sources: weightsPath.endsWith('.dat') ? [weightsPath] : await faceApiWeightFiles(weightsPath), version: DESCRIPTOR_GRAPH_VERSION },
  );

  async function describeBatch(faces: readonly FaceCrop[]): Promise<Float32Array[]> {
    const results: Float32Array[] = [];
    for (let start = 0; start < faces.length; start += maxBatch) {
      const chunk = faces.slice(start, start + maxBatch);
      const out = await forward(model, descriptorInputBatch(chunk));
      for (let i = 0; i < chunk.length; i++) results.push(out.slice(i * DESCRIPTOR_SIZE, (i + 1) * DESCRIPTOR_SIZE));
    }
    return results;
  }

  return {
    async describe(face) {
      const [descriptor] = await describeBatch([face]);
      return descriptor as Float32Array;
    },
    describeBatch,
    forwardRaw: (nhwc) => forward(model, nhwc),
  };
}
