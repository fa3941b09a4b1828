/**
 * What the detectors' second look for a frame-filling face cost while OpenCV's cascade took it
 * (src/pipeline/visage.ts, findBoxes; BlazeFace short range has since 2026-12-05): the cascade
 * with minSize at 40% of the image's shorter side, against a full cascade scan at its default
 * minSize, on the photos shipped in face-api and human. Median of 5.
 *
 *   node --import tsx bench/cascade-look.ts
 */
import { loadImage } from '../src/image/index.js';
import { createHaarDetector } from '../src/models/haar/index.js';
import { SAMPLE_IMAGES } from '../test/models/helpers.js';

const RUNS = 5;
const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1] as number;
const haar = await createHaarDetector();
console.log('| photo | size | large-face look ms | full scan ms |');
console.log('|---|---|---|---|');
for (const file of SAMPLE_IMAGES) {
  const image = await loadImage(file);
  const minSize = Math.round(0.4 * Math.min(image.width, image.height));
  const time = (work: () => unknown) => median(Array.from({ length: RUNS }, () => {
    const started = performance.now();
    work();
    return performance.now() - started;
  }));
  haar.detect(image, { minSize });
  const look = time(() => haar.detect(image, { minSize }));
  const full = time(() => haar.detect(image));
  console.log(`| ${file.split('/').pop()} | ${image.width}x${image.height} | ${look.toFixed(1)} | ${full.toFixed(0)} |`);
}
haar.dispose();
