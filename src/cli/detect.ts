/** `visage detect <images…>`: the faces in each image, optionally outlined in a picture. */
import type { Command } from 'commander';
import { decodeImage, loadImageBytes, renderDetections, type DetectResult } from '../index.js';
import { expandFolders, formatBox, runBatch } from './batch.js';
import type { CommandContext } from './io.js';
import { addDetectOptions, detectOptions, loadOptions, pictureFile, withVisage, writePicture, type DetectFlags } from './options.js';

function summary(label: string, result: DetectResult, picture: string | undefined): string {
  const count = `${result.faces.length} face${result.faces.length === 1 ? '' : 's'}`;
  const lines = [`${label}: ${count} (${result.detector}, ${result.width}x${result.height}${result.wholeImage ? ', whole image' : ''})`];
  result.faces.forEach((face, i) => lines.push(`  ${i + 1}. ${formatBox(face.box)}  score ${face.score.toFixed(3)}  ${face.landmarks.length} landmarks`));
  if (picture) lines.push(`  picture: ${picture}`);
  return `${lines.join('\n')}\n`;
}

/** Defines the detect command on `command`. */
export function defineDetect(command: Command, ctx: CommandContext): void {
  addDetectOptions(command.description('Find the faces in each image').argument('<images...>', 'image paths, folders (every image under them), URLs, base64 strings or data: URIs'))
    .option('-o, --out <file.png>', 'write a picture with each face outlined in magenta (several images: file-1.png, file-2.png, …)')
    .addHelpText(
      'after',
      `
Examples:
  $ visage detect photo.jpg
  $ visage detect photo.jpg --detector mtcnn --json
  $ visage detect photo.jpg --out faces.png
  $ visage detect *.jpg --min-score 0.7 --json > faces.json`,
    )
    .action(async (given: string[], _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<DetectFlags>();
      const load = loadOptions(flags);
      ctx.finish(
        await withVisage(flags, async (visage) => {
          const inputs = await expandFolders(given);
          return runBatch(ctx.io, inputs, flags, async (input, index, label) => {
            const bytes = await loadImageBytes(input, load);
            const result = await visage.detect(bytes, detectOptions(flags));
            const picture = flags.out === undefined ? undefined : pictureFile(flags.out, index, inputs.length);
            if (picture) await writePicture(picture, await renderDetections(await decodeImage(bytes, load), result.faces));
            return { result, summary: summary(label, result, picture) };
          });
        }),
      );
    });
}
