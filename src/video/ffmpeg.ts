/**
 * ffmpeg as a child process: found on PATH (or given), ffprobe beside it for what a file holds,
 * decoding to PPM frames on a pipe (self-describing RGB, so rotated videos need no guessing), and
 * encoding raw RGB frames to H.264 MP4.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { VisageError } from '../errors.js';
import type { RgbImage } from '../image/types.js';
import type { VideoInfo } from './types.js';

const INSTALL_HINT = 'install it (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg) or give its path with --ffmpeg or VISAGE_FFMPEG';

/** Keeps the end of a child's stderr (its last lines say what went wrong). */
const STDERR_KEEP = 4096;

export interface FfmpegTools {
  ffmpeg: string;
  ffprobe: string;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` on PATH, or undefined. */
async function onPath(name: string): Promise<string | undefined> {
  const suffixes = process.platform === 'win32' ? ['.exe', ''] : [''];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const suffix of suffixes) {
      const file = path.join(dir, name + suffix);
      if (await isExecutable(file)) return file;
    }
  }
  return undefined;
}

/**
 * ffmpeg from `given`, else `VISAGE_FFMPEG`, else PATH; ffprobe beside it, else on PATH.
 * Throws FFMPEG_NOT_FOUND saying how to install it.
 */
export async function findFfmpeg(given?: string): Promise<FfmpegTools> {
  const named = given ?? (process.env.VISAGE_FFMPEG || undefined);
  let ffmpeg: string | undefined;
  if (named !== undefined) {
    if (!(await isExecutable(named))) throw new VisageError('FFMPEG_NOT_FOUND', `No executable ffmpeg at ${JSON.stringify(named)}: ${INSTALL_HINT}`);
    ffmpeg = named;
  } else {
    ffmpeg = await onPath('ffmpeg');
    if (!ffmpeg) throw new VisageError('FFMPEG_NOT_FOUND', `ffmpeg is not on PATH: ${INSTALL_HINT}`);
  }
  const { dir, ext } = path.parse(ffmpeg);
  const beside = path.join(dir, `ffprobe${ext}`);
  const ffprobe = (await isExecutable(beside)) ? beside : await onPath('ffprobe');
  if (!ffprobe) throw new VisageError('FFMPEG_NOT_FOUND', `ffprobe (part of ffmpeg) is not beside ${ffmpeg} nor on PATH: ${INSTALL_HINT}`);
  return { ffmpeg, ffprobe };
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}

/** Runs a child to completion and returns its stdout; rejects with its stderr's last line. */
function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-STDERR_KEEP)));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(lastLine(err) || `exit code ${code}`))));
  });
}

function rate(text: string | undefined): number {
  const [num, den] = (text ?? '').split('/').map(Number);
  const value = den === undefined ? Number(num) : Number(num) / den;
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** Width, height, frame rate and (where stated) frame count of the first video stream. */
export async function probeVideo(tools: FfmpegTools, file: string): Promise<VideoInfo> {
  let json: string;
  try {
    json = await run(tools.ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,avg_frame_rate,r_frame_rate,nb_frames', '-of', 'json', file]);
  } catch (err) {
    throw new VisageError('INVALID_VIDEO', `Cannot read a video from ${JSON.stringify(path.basename(file))}: ${(err as Error).message}`, { cause: err });
  }
  const stream = (JSON.parse(json) as { streams?: { width?: number; height?: number; avg_frame_rate?: string; r_frame_rate?: string; nb_frames?: string }[] }).streams?.[0];
  if (!stream?.width || !stream.height) throw new VisageError('INVALID_VIDEO', `${JSON.stringify(path.basename(file))} holds no video stream`);
  const frames = Number(stream.nb_frames);
  return {
    width: stream.width,
    height: stream.height,
    fps: rate(stream.avg_frame_rate) || rate(stream.r_frame_rate) || 25,
    ...(Number.isInteger(frames) && frames > 0 ? { frames } : {}),
  };
}

/** Reads "P6 <w> <h> 255" headers and their pixels off a byte stream, one frame at a time. */
class PpmReader {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** The next whole frame, or undefined until more bytes arrive. */
  next(): RgbImage | undefined {
    const header = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(this.buffer.subarray(0, 64).toString('latin1'));
    if (!header) {
      if (this.buffer.length >= 64 || (this.buffer.length > 0 && this.buffer[0] !== 0x50)) throw new Error('ffmpeg sent something other than PPM frames');
      return undefined;
    }
    const width = Number(header[1]);
    const height = Number(header[2]);
    if (header[3] !== '255') throw new Error(`PPM with maximum value ${header[3]}`);
    const start = header[0].length;
    const end = start + width * height * 3;
    if (this.buffer.length < end) return undefined;
    // A copy: the frame outlives the chunk it was read from.
    const data = new Uint8Array(this.buffer.subarray(start, end));
    this.buffer = this.buffer.subarray(end);
    return { data, width, height };
  }

  get pending(): number {
    return this.buffer.length;
  }
}

/**
 * Decodes a file's first video stream to RGB frames. Stopping early (break) ends ffmpeg;
 * ffmpeg failing (a corrupt stream) throws INVALID_VIDEO.
 */
export async function* decodeFrames(tools: FfmpegTools, file: string, options: { maxFrames?: number } = {}): AsyncGenerator<RgbImage> {
  // -xerror: a corrupt frame stops the decode (INVALID_VIDEO) instead of yielding garbage, as for images.
  const args = ['-v', 'error', '-nostdin', '-xerror', '-i', file, '-map', '0:v:0', '-an', '-sn', '-dn'];
  if (options.maxFrames !== undefined) args.push('-frames:v', String(options.maxFrames));
  args.push('-f', 'image2pipe', '-c:v', 'ppm', '-pix_fmt', 'rgb24', '-');
  const child = spawn(tools.ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-STDERR_KEEP)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  exited.catch(() => undefined); // awaited below; never an unhandled rejection
  const reader = new PpmReader();
  let finished = false;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      reader.push(chunk);
      for (let frame = reader.next(); frame; frame = reader.next()) yield frame;
    }
    const code = await exited;
    if (code !== 0 || reader.pending > 0) {
      throw new VisageError('INVALID_VIDEO', `ffmpeg could not decode ${JSON.stringify(path.basename(file))}: ${lastLine(stderr) || (reader.pending > 0 ? 'a truncated frame' : `exit code ${code}`)}`);
    }
    finished = true;
  } finally {
    if (!finished && child.exitCode === null) child.kill('SIGKILL');
  }
}

/** H.264 MP4 from raw RGB frames written one at a time; `finish()` waits for ffmpeg to close the file. */
export class Mp4Encoder {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;
  private stderr = '';

  constructor(tools: FfmpegTools, file: string, size: { width: number; height: number }, fps: number) {
    this.child = spawn(
      tools.ffmpeg,
      [
        '-v', 'error', '-nostdin', '-y',
        '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${size.width}x${size.height}`, '-framerate', String(fps), '-i', '-',
        // yuv420p (what every player plays) needs even sides.
        '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-f', 'mp4', file,
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    ) as unknown as ChildProcessWithoutNullStreams;
    this.child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-STDERR_KEEP)));
    this.child.stdin.on('error', () => undefined); // reported through the exit code
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', resolve);
    });
    this.exited.catch(() => undefined);
  }

  /** Writes one frame, waiting while ffmpeg's pipe is full. */
  async write(frame: RgbImage): Promise<void> {
    if (!this.child.stdin.write(frame.data)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          this.child.off('close', onClose);
          resolve();
        };
        const onClose = () => {
          this.child.stdin.off('drain', onDrain);
          reject(new VisageError('FFMPEG_FAILED', `ffmpeg stopped encoding: ${lastLine(this.stderr)}`));
        };
        this.child.stdin.once('drain', onDrain);
        this.child.once('close', onClose);
      });
    }
  }

  async finish(): Promise<void> {
    this.child.stdin.end();
    const code = await this.exited;
    if (code !== 0) throw new VisageError('FFMPEG_FAILED', `ffmpeg could not encode the video: ${lastLine(this.stderr) || `exit code ${code}`}`);
  }

  /** Stops ffmpeg without finishing the file (the caller deletes it). */
  async abort(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    await this.exited.catch(() => undefined);
  }
}
