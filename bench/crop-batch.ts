/**
 * Faces per network call for the crop networks outside face-api's four (bench/face-batch.ts has
 * those): MobileFaceNet, FaceRes, human's emotion, liveness and antispoof, each created at
 * maxBatch 32, 16 and 8 on one engine, timed on the same 71 crops (the face count of the largest
 * shipped group photo), interleaved; the median of `runs` per setting. Timing does not depend on
 * the pixels, so the crops are a fixed pattern.
 *
 *   node --import tsx bench/crop-batch.ts [runs, default 5]
 */
import { Engine } from '../src/engine/index.js';
import type { FloatImage } from '../src/models/common/preprocess.js';
import { createEmbedderNet } from '../src/models/embedder/index.js';
import { mobileFaceNetSpec } from '../src/models/mobilefacenet/index.js';
import { createFaceResNet } from '../src/models/faceres/index.js';
import { createHumanEmotionNet } from '../src/models/human-emotion/index.js';
import { createHumanLivenessNet } from '../src/models/human-liveness/index.js';
import { createHumanAntispoofNet } from '../src/models/human-antispoof/index.js';

const runs = Number(process.argv[2] ?? 5);
const FACES = 71;
const BATCHES = [32, 16, 8];
const crops = (size: number): FloatImage[] =>
  Array.from({ length: FACES }, (_, k) => {
    const data = new Float32Array(size * size * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + k * 13) % 256;
    return { data, width: size, height: size, channels: 3 };
  });

type Run = (faces: FloatImage[]) => Promise<unknown>;
const engine = new Engine({ threads: 2 });
const networks: Record<string, { size: number; make: (maxBatch: number) => Promise<Run> }> = {
  mobilefacenet: { size: 112, make: async (maxBatch) => { const n = await createEmbedderNet(engine, { ...mobileFaceNetSpec(), maxBatch }); return (c) => n.embedBatch(c); } },
  faceres: { size: 160, make: async (maxBatch) => { const n = await createFaceResNet(engine, { maxBatch }); return (c) => n.predictBatch(c); } },
  'human emotion': { size: 160, make: async (maxBatch) => { const n = await createHumanEmotionNet(engine, { maxBatch }); return (c) => n.predictBatch(c); } },
  liveness: { size: 160, make: async (maxBatch) => { const n = await createHumanLivenessNet(engine, { maxBatch }); return (c) => n.realScores(c); } },
  antispoof: { size: 160, make: async (maxBatch) => { const n = await createHumanAntispoofNet(engine, { maxBatch }); return (c) => n.realScores(c); } },
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

console.log(`| network | ${BATCHES.map((b) => `maxBatch ${b}, ms for ${FACES} faces`).join(' | ')} |`);
console.log(`|---|${BATCHES.map(() => '---').join('|')}|`);
for (const [name, { size, make }] of Object.entries(networks)) {
  const input = crops(size);
  const variants = await Promise.all(BATCHES.map(make));
  const times: number[][] = BATCHES.map(() => []);
  for (let r = 0; r <= runs; r++) {
    for (const [i, run] of variants.entries()) {
      const start = performance.now();
      await run(input);
      if (r > 0) times[i]!.push(performance.now() - start); // the first round warms up
    }
  }
  console.log(`| ${name} | ${times.map((t) => median(t).toFixed(0)).join(' | ')} |`);
}
await engine.dispose();
