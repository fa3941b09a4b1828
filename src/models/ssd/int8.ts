/**
 * int8 SSD MobileNetV1: the float graph rewritten by engine/quantize.ts with the activation
 * ranges bench/calibrate-int8.ts calibrated (models/int8/ssd_mobilenetv1-ranges.json, shipped).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { quantizeGraph, type ActivationRanges, type QuantizeOptions } from '../../engine/quantize.js';

/** The calibrated ranges (a cache source: recalibrating rebuilds cached int8 graphs). */
export const SSD_INT8_RANGES = fileURLToPath(new URL('../../../models/int8/ssd_mobilenetv1-ranges.json', import.meta.url));

/** The box and class heads stay float: quantised, they lost more faces and ran no faster (bench/int8-ssd.ts). */
export const SSD_INT8_OPTIONS: QuantizeOptions = { keepFloat: (weightName) => weightName.startsWith('Prediction/BoxPredictor') };

/** The float SSD graph rewritten to int8. */
export async function quantizeSsdGraph(graph: Uint8Array): Promise<Uint8Array> {
  const { ranges } = JSON.parse(await readFile(SSD_INT8_RANGES, 'utf8')) as { ranges: ActivationRanges };
  return quantizeGraph(graph, ranges, SSD_INT8_OPTIONS);
}
