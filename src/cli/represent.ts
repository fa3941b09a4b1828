/** `visage represent <images…>`: the embedding of every face in each image. */
import type { Command } from 'commander';
import type { RepresentResult } from '../index.js';
import { expandFolders, formatBox, inputLabel, reportBatch, type Settled } from './batch.js';
import type { CommandContext } from './io.js';
import { addDetectOptions, addRecognizerOption, addSpoofOptions, detectOptions, positiveInteger, spoofOptions, withVisage, type DetectFlags, type SpoofFlags } from './options.js';

function workerCount(value: string): number | 'auto' {
  return value === 'auto' ? value : positiveInteger(value);
}

function summary(label: string, result: RepresentResult): string {
  const size = result.faces[0]?.embedding.length ?? 0;
  const lines = [`${label}: ${result.faces.length} embedding${result.faces.length === 1 ? '' : 's'} (${result.model}, ${size}-d, ${result.detector}${result.wholeImage ? ', whole image' : ''})`];
  result.faces.forEach((face, i) => {
    const head = face.embedding.slice(0, 4).map((v) => v.toFixed(4)).join(', ');
    lines.push(`  ${i + 1}. ${formatBox(face.box)}  score ${face.score.toFixed(3)}  [${head}, …]`);
  });
  lines.push('  (use --json for the full vectors)');
  return `${lines.join('\n')}\n`;
}

/** Defines the represent command on `command`. */
export function defineRepresent(command: Command, ctx: CommandContext): void {
  addSpoofOptions(addRecognizerOption(addDetectOptions(command.description('Compute the face embedding of every face in each image').argument('<images...>', 'image paths, folders (every image under them), URLs, base64 strings or data: URIs'))))
    .option('--workers <n|auto>', "worker threads, each with its own networks, sharing --threads; auto (default): one per core for 500 images or more, else this thread (README: memory and speed)", workerCount)
    .addHelpText(
      'after',
      `
Examples:
  $ visage represent face.jpg --json > embedding.json
  $ visage represent crop.png --detector none --json
  $ visage represent a.jpg b.jpg c.jpg --json
  $ visage represent photos/ --json > library.json   (the next image decodes while one is embedded)
  $ visage represent photos/ --json --workers 1 > library.json   (one pipeline, less memory)`,
    )
    .action(async (inputs: string[], _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<DetectFlags & SpoofFlags & { workers?: number | 'auto' }>();
      ctx.finish(
        await withVisage(flags, async (visage) => {
          const files = await expandFolders(inputs);
          async function* settled(): AsyncGenerator<Settled<RepresentResult>> {
            for await (const item of visage.representEach(files, { ...detectOptions(flags), ...spoofOptions(flags), workers: flags.workers })) {
              yield item.error ? { index: item.index, error: item.error } : { index: item.index, outcome: { result: item.result, summary: summary(inputLabel(item.input), item.result) } };
            }
          }
          return reportBatch(ctx.io, files, flags, settled());
        }),
      );
    });
}
