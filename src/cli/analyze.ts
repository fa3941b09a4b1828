/** `visage analyze <images…>`: emotion, age and gender of every face, optionally as a picture. */
import type { Command } from 'commander';
import { decodeImage, loadImageBytes, renderAnalysis, type AnalyzeOptions, type AnalyzeResult, type FaceAnalysis } from '../index.js';
import { expandFolders, formatBox, percent, runBatch } from './batch.js';
import type { CommandContext } from './io.js';
import { addAnalyzeOptions, addDetectOptions, addSpoofOptions, detectOptions, loadOptions, pictureFile, spoofOptions, withVisage, writePicture, type AnalyzeFlags } from './options.js';

/** The attributes of one face on one line: `happy 97.1%, age 31.2, woman 95.0%`. */
export function faceLine(face: FaceAnalysis): string {
  const parts: string[] = [];
  if (face.emotion && face.dominantEmotion) parts.push(`${face.dominantEmotion} ${percent(face.emotion[face.dominantEmotion])}`);
  if (face.age !== undefined) parts.push(`age ${face.age.toFixed(1)}`);
  if (face.gender && face.dominantGender) parts.push(`${face.dominantGender} ${percent(face.gender[face.dominantGender])}`);
  if (face.spoof) parts.push(`${face.spoof.isReal ? 'real' : 'SPOOF'} (real ${percent(face.spoof.real)}, ${face.spoof.model})`);
  return parts.join(', ');
}

function summary(label: string, result: AnalyzeResult, picture: string | undefined): string {
  const lines = [`${label}: ${result.faces.length} face${result.faces.length === 1 ? '' : 's'} (${result.detector}${result.wholeImage ? ', whole image' : ''})`];
  result.faces.forEach((face, i) => lines.push(`  ${i + 1}. ${formatBox(face.box)}  ${faceLine(face)}`));
  if (picture) lines.push(`  picture: ${picture}`);
  return `${lines.join('\n')}\n`;
}

/** Defines the analyze command on `command`. */
export function defineAnalyze(command: Command, ctx: CommandContext): void {
  addSpoofOptions(addAnalyzeOptions(addDetectOptions(command.description('Estimate emotion, age and gender (and, asked, whether it is real) of every face in each image').argument('<images...>', 'image paths, folders (every image under them), URLs, base64 strings or data: URIs'))))
    .option('-o, --out <file.png>', 'write a picture with each face boxed and its emotion scores beside it (several images: file-1.png, …)')
    .addHelpText(
      'after',
      `
Examples:
  $ visage analyze photo.jpg
  $ visage analyze photo.jpg --actions emotion --json
  $ visage analyze photo.jpg --actions spoof,emotion
  $ visage analyze photo.jpg --out emotions.png
  $ visage analyze photo.jpg --emotion-model human --age-gender-model faceres
  $ visage analyze crop.png --detector none`,
    )
    .action(async (given: string[], _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<AnalyzeFlags>();
      const load = loadOptions(flags);
      const options: AnalyzeOptions = { ...detectOptions(flags), ...spoofOptions(flags), actions: flags.actions };
      ctx.finish(
        await withVisage(flags, async (visage) => {
          const inputs = await expandFolders(given);
          return runBatch(ctx.io, inputs, flags, async (input, index, label) => {
            const bytes = await loadImageBytes(input, load);
            const result = await visage.analyze(bytes, options);
            const picture = flags.out === undefined ? undefined : pictureFile(flags.out, index, inputs.length);
            if (picture) await writePicture(picture, await renderAnalysis(result, await decodeImage(bytes, load)));
            return { result, summary: summary(label, result, picture) };
          });
        }),
      );
    });
}
