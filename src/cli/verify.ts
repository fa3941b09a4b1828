/** `visage verify <image1> <image2>`: same person or not, optionally as a side-by-side picture. */
import type { Command } from 'commander';
import { decodeImage, loadImageBytes, renderVerification, type VerifyOptions, type VerifyResult } from '../index.js';
import { formatBox, inputLabel, percent } from './batch.js';
import { toJson, type CommandContext } from './io.js';
import { addDetectOptions, addRecognizerOption, addSpoofOptions, addVerifyOptions, detectOptions, loadOptions, spoofOptions, withVisage, writePicture, type VerifyFlags } from './options.js';

/** One line for people: the verdict, the distance against the threshold, and what decided. */
export function verdictLine(result: VerifyResult): string {
  const verdict = result.verified ? 'Same Person' : 'Different Person';
  const relation = result.verified ? '<=' : '>';
  return `${verdict}: ${result.metric} distance ${result.distance.toFixed(4)} ${relation} threshold ${result.threshold.toFixed(4)} (confidence ${percent(result.confidence)}, ${result.model}, ${result.detector}, ${Math.round(result.timeMs)} ms)`;
}

function summary(labels: [string, string], result: VerifyResult, picture: string | undefined): string {
  const lines = [verdictLine(result)];
  if (result.faces.a) lines.push(`  face in ${labels[0]}: ${formatBox(result.faces.a)}`);
  if (result.faces.b) lines.push(`  face in ${labels[1]}: ${formatBox(result.faces.b)}`);
  if (picture) lines.push(`  picture: ${picture}`);
  return `${lines.join('\n')}\n`;
}

/** Defines the verify command on `command`. */
export function defineVerify(command: Command, ctx: CommandContext): void {
  addSpoofOptions(addRecognizerOption(addVerifyOptions(
    addDetectOptions(
      command
        .description('Tell whether two images show the same person (where an image holds several faces, the closest pair decides)')
        .argument('<image1>', 'first image: path, URL, base64 string or data: URI')
        .argument('<image2>', 'second image'),
    ),
  )))
    .option('-o, --out <file.png>', 'write the two images side by side, labelled "Same Person" or "Different Person"')
    .addHelpText(
      'after',
      `
Examples:
  $ visage verify alice1.jpg alice2.jpg
  $ visage verify a.jpg https://example.com/b.jpg --metric cosine --json
  $ visage verify a.jpg b.jpg --threshold 0.5 --out verdict.png
  $ visage verify a.jpg b.jpg --recognizer dlib
  $ visage verify a.jpg b.jpg --anti-spoofing   # fails with SPOOF_DETECTED on a print or a screen
  $ visage verify a.jpg b.jpg --recognizer ./arcface.json   # {"onnx": "arcface.onnx", "inputSize": 112}`,
    )
    .action(async (first: string, second: string, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<VerifyFlags>();
      const load = loadOptions(flags);
      const options: VerifyOptions = { ...detectOptions(flags), ...spoofOptions(flags), metric: flags.metric, threshold: flags.threshold };
      const [a, b] = await Promise.all([loadImageBytes(first, load), loadImageBytes(second, load)]);
      const result = await withVisage(flags, (visage) => visage.verify(a, b, options));
      if (flags.out) {
        const [imageA, imageB] = await Promise.all([decodeImage(a, load), decodeImage(b, load)]);
        await writePicture(flags.out, await renderVerification(result, imageA, imageB));
      }
      ctx.io.out(flags.json ? toJson(result) : summary([inputLabel(first), inputLabel(second)], result, flags.out));
      ctx.finish(0);
    });
}
