/**
 * `visage video <in>`: faces tracked through a video file or URL; the annotated video (boxes in
 * each track's colour, track id and dominant emotion), the track as JSON lines, progress with
 * frames per second on stderr. Outputs are written to temporary files beside their targets and
 * renamed at the end, so a failure never leaves a half-written file.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { annotateFrame, findFfmpeg, VisageError, Mp4Encoder, openVideo, type VideoFrame, type VideoFrameResult, type VideoOptions } from '../index.js';
import { EXIT_FAILURE, type CommandContext } from './io.js';
import { addAnalyzeOptions, addDetectorOptions, loadOptions, positiveInteger, withVisage, type AnalyzeFlags } from './options.js';

interface VideoFlags extends Omit<AnalyzeFlags, 'json'> {
  /** Path of the JSON lines file ('-': stdout). */
  json?: string;
  every?: number;
  analyzeEvery?: number;
  ffmpeg?: string;
  maxFrames?: number;
}

/** A file written under a temporary name and moved into place only by `commit()`. */
class PendingFile {
  readonly temp: string;
  constructor(readonly target: string) {
    const { dir, base } = path.parse(path.resolve(target));
    this.temp = path.join(dir, `.${base}.partial-${process.pid}`);
  }
  async prepare(): Promise<void> {
    await mkdir(path.dirname(this.temp), { recursive: true });
  }
  commit(): Promise<void> {
    return rename(this.temp, this.target);
  }
  discard(): Promise<void> {
    return rm(this.temp, { force: true });
  }
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

/** The flags the shared helpers read (this command's --json names a file, not a switch). */
const commonFlags = (flags: VideoFlags) => ({ threads: flags.threads, allowPrivateUrls: flags.allowPrivateUrls, emotionModel: flags.emotionModel, ageGenderModel: flags.ageGenderModel });

/** Writes with backpressure. */
async function writeLine(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
}

/** Defines the video command on `command`. */
export function defineVideo(command: Command, ctx: CommandContext): void {
  addAnalyzeOptions(
    addDetectorOptions(command.description('Track the faces through a video; write it annotated, and the track as JSON lines').argument('<video>', 'a video file path or an http(s) URL')),
  )
    .option('-o, --out <file.mp4>', 'write the video with each face boxed, its track id and dominant emotion (H.264 MP4)')
    .option('--json <file.jsonl>', "write one JSON result per frame to this file ('-': stdout)")
    .option('--every <n>', 'run the detector on every nth frame and track the faces in between (default 1)', positiveInteger)
    .option('--analyze-every <n>', 'frames between two analyses of the same face (default 1)', positiveInteger)
    .option('--max-frames <n>', 'stop after this many frames', positiveInteger)
    .option('--ffmpeg <path>', 'the ffmpeg executable (default: VISAGE_FFMPEG, then ffmpeg on PATH; ffprobe is looked for beside it)')
    .option('--threads <n>', 'threads ONNX Runtime uses per operator (default: all cores)', positiveInteger)
    .option('--allow-private-urls', 'let a video URL reach loopback and private addresses')
    .addHelpText(
      'after',
      `
--actions defaults to none here (boxes and track ids only).

Examples:
  $ visage video clip.mp4 --out annotated.mp4 --actions emotion
  $ visage video clip.mp4 --json track.jsonl --detector tiny --every 3
  $ visage video https://example.com/clip.mp4 --json - --max-frames 100`,
    )
    .action(async (input: string, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<VideoFlags>();
      ctx.finish(await withVisage(commonFlags(flags), (visage) => runVideo(ctx, input, flags, (source, options) => visage.video(source, options))));
    });
}

async function runVideo(
  ctx: CommandContext,
  input: string,
  flags: VideoFlags,
  video: (source: AsyncIterable<VideoFrame>, options: VideoOptions) => AsyncIterable<VideoFrameResult>,
): Promise<number> {
  const { io } = ctx;
  const options: VideoOptions = {
    detector: flags.detector,
    minScore: flags.minScore,
    actions: flags.actions,
    every: flags.every,
    analyzeEvery: flags.analyzeEvery,
  };
  const ffmpeg = flags.ffmpeg;
  // The tools are needed for the output even where the input is a stream of frames.
  const tools = flags.out === undefined ? undefined : await findFfmpeg(ffmpeg);
  const opened = await openVideo(input, { ffmpeg, maxFrames: flags.maxFrames, image: loadOptions(commonFlags(flags)) });
  const info = opened.info;
  const outFile = flags.out === undefined ? undefined : new PendingFile(flags.out);
  const jsonFile = flags.json === undefined || flags.json === '-' ? undefined : new PendingFile(flags.json);
  let encoder: Mp4Encoder | undefined;
  let lines: WriteStream | undefined;
  // Frames handed to the loop, kept by index until their result comes back to be drawn.
  const kept = new Map<number, VideoFrame>();
  async function* remembered(): AsyncGenerator<VideoFrame> {
    let index = 0;
    for await (const frame of opened.frames) {
      if (outFile) kept.set(index, frame);
      index++;
      yield frame;
    }
  }
  const started = performance.now();
  let frames = 0;
  let lastReport = 0;
  const tracks = new Set<number>();
  const total = info?.frames;
  const report = (final: boolean) => {
    const seconds = (performance.now() - started) / 1000;
    const fps = seconds > 0 ? frames / seconds : 0;
    const share = total ? ` / ${total} (${Math.min(100, (frames / total) * 100).toFixed(0)}%)` : '';
    io.err(`\rvisage video: frame ${frames}${share}, ${fps.toFixed(1)} fps${final ? '\n' : ''}`);
  };
  let done = false;
  // Ctrl-C or a stop signal ends the loop; the temporary files are removed below, as on any failure.
  let interrupted = false;
  const interrupt = () => void (interrupted = true);
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    await outFile?.prepare();
    await jsonFile?.prepare();
    if (jsonFile) lines = createWriteStream(jsonFile.temp, { flags: 'wx' });
    for await (const result of video(remembered(), options)) {
      if (outFile && tools) {
        const frame = kept.get(result.index);
        kept.delete(result.index);
        if (!frame) throw new Error(`frame ${result.index} was not kept for drawing`);
        encoder ??= new Mp4Encoder(tools, outFile.temp, frame, info?.fps ?? 25);
        annotateFrame(frame, result);
        await encoder.write(frame);
      }
      const line = `${JSON.stringify(result)}\n`;
      if (lines) await writeLine(lines, line);
      else if (flags.json === '-') io.out(line);
      for (const face of result.faces) tracks.add(face.trackId);
      frames++;
      if (performance.now() - lastReport > 500) {
        lastReport = performance.now();
        report(false);
      }
      if (interrupted) break;
    }
    report(true);
    if (interrupted) {
      io.err('visage video: interrupted; no output written\n');
      return EXIT_FAILURE;
    }
    if (frames === 0) throw new VisageError('INVALID_VIDEO', `${JSON.stringify(path.basename(input))} holds no frames`);
    await encoder?.finish();
    if (lines) await closeStream(lines);
    await outFile?.commit();
    await jsonFile?.commit();
    done = true;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    if (!done) {
      await encoder?.abort();
      if (lines) await closeStream(lines).catch(() => undefined);
      await outFile?.discard();
      await jsonFile?.discard();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  // With --json -, stdout holds only the JSON lines.
  if (flags.json !== '-') {
    io.out(`${input}: ${frames} frames, ${tracks.size} track${tracks.size === 1 ? '' : 's'}, ${(frames / seconds).toFixed(1)} fps${flags.out ? `\n  video: ${flags.out}` : ''}${flags.json ? `\n  track: ${flags.json}` : ''}\n`);
  }
  return 0;
}
