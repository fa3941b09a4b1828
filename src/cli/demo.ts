/**
 * `visage demo`: verify and analyze on a photo that ships with the dependencies
 * (`@vladmandic/face-api/demo/sample1.jpg`, a group photo), writing the pictures.
 *
 * The verify pairs have known answers: a face against its own mirror image (Same Person) and
 * two different people of the group (Different Person).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Command } from 'commander';
import sharp from 'sharp';
import { decodeImage, renderAnalysis, renderDetections, renderVerification, VisageError, type Box, type RgbImage } from '../index.js';
import { percent } from './batch.js';
import type { CommandContext } from './io.js';
import { verdictLine } from './verify.js';
import { positiveInteger, withVisage, writePicture } from './options.js';

const SAMPLE = '@vladmandic/face-api/demo/sample1.jpg';

/** The face with a margin of 40% of its size on each side, clipped to the image, as a PNG. */
async function faceCrop(image: RgbImage, box: Box, mirror = false): Promise<Buffer> {
  const left = Math.max(0, Math.round(box.x - box.width * 0.4));
  const top = Math.max(0, Math.round(box.y - box.height * 0.4));
  const region = { left, top, width: Math.min(image.width - left, Math.round(box.width * 1.8)), height: Math.min(image.height - top, Math.round(box.height * 1.8)) };
  const crop = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).extract(region);
  return (mirror ? crop.flop() : crop).png().toBuffer();
}

interface DemoFlags {
  outDir: string;
  threads?: number;
  verbose?: boolean;
}

/** Defines the demo command on `command`. */
export function defineDemo(command: Command, ctx: CommandContext): void {
  command
    .description('Run verify and analyze on a sample photo shipped with the dependencies and write the pictures')
    .option('--out-dir <dir>', 'folder for the pictures (created if missing)', 'visage-demo')
    .option('--threads <n>', 'threads ONNX Runtime uses per operator (default: all cores)', positiveInteger)
    .addHelpText(
      'after',
      `
Writes detect.png, verify-same.png, verify-different.png and analyze.png.

Examples:
  $ visage demo
  $ visage demo --out-dir /tmp/visage-demo`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<DemoFlags>();
      const io = ctx.io;
      const photoPath = createRequire(import.meta.url).resolve(SAMPLE);
      const photo = await readFile(photoPath);
      const image = await decodeImage(photo);
      const out = (name: string) => path.resolve(flags.outDir, name);
      io.out(`visage demo: ${photoPath}\n`);

      await withVisage(flags, async (visage) => {
        const detected = await visage.detect(photo);
        if (detected.faces.length < 2) throw new VisageError('NO_FACE', `Expected at least two faces in ${photoPath}, found ${detected.faces.length}`);
        await writePicture(out('detect.png'), await renderDetections(image, detected.faces));
        io.out(`  detect.png            ${detected.faces.length} faces (${detected.detector})\n`);

        // The two most confident faces: the first against its mirror, then against the second.
        const [first, second] = [...detected.faces].sort((p, q) => q.score - p.score) as [(typeof detected.faces)[0], (typeof detected.faces)[0]];
        const [faceA, faceAMirror, faceB] = await Promise.all([faceCrop(image, first.box), faceCrop(image, first.box, true), faceCrop(image, second.box)]);
        const [cropA, cropAMirror, cropB] = await Promise.all([decodeImage(faceA), decodeImage(faceAMirror), decodeImage(faceB)]);

        const same = await visage.verify(faceA, faceAMirror);
        await writePicture(out('verify-same.png'), await renderVerification(same, cropA, cropAMirror));
        io.out(`  verify-same.png       a face vs its mirror image → ${verdictLine(same)}\n`);

        const different = await visage.verify(faceA, faceB);
        await writePicture(out('verify-different.png'), await renderVerification(different, cropA, cropB));
        io.out(`  verify-different.png  two people of the group → ${verdictLine(different)}\n`);

        const analysis = await visage.analyze(photo);
        await writePicture(out('analyze.png'), await renderAnalysis(analysis, image));
        const emotions = analysis.faces.map((f, i) => `${i + 1}. ${f.dominantEmotion ?? '?'} ${f.emotion && f.dominantEmotion ? percent(f.emotion[f.dominantEmotion]) : ''}`.trim());
        io.out(`  analyze.png           ${analysis.faces.length} faces: ${emotions.join(', ')}\n`);
      });
      io.out(`Wrote 4 pictures to ${path.resolve(flags.outDir)}\n`);
      ctx.finish(0);
    });
}
