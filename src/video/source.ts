/**
 * Frame sources: a video file or URL decoded by ffmpeg, or frames the caller already has.
 * Every source becomes an async iterable of `VideoFrame`s with a time; stopping early cleans up
 * (ffmpeg ended, a downloaded file deleted).
 */
import { randomBytes } from 'node:crypto';
import { rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { VisageError } from '../errors.js';
import { downloadBytes, type LoadOptions } from '../image/index.js';
import { decodeFrames, findFfmpeg, probeVideo, type FfmpegTools } from './ffmpeg.js';
import type { VideoFrame, VideoInfo, VideoSource } from './types.js';

/** Largest video downloaded from a URL unless `maxBytes` says otherwise. */
export const DEFAULT_VIDEO_MAX_BYTES = 200 * 1024 * 1024;
/** Time for a video download unless `timeoutMs` says otherwise. */
export const DEFAULT_VIDEO_TIMEOUT_MS = 60_000;

export interface OpenedVideo {
  /** Known up front for files and URLs; undefined for frame streams. */
  info?: VideoInfo;
  frames: AsyncIterable<VideoFrame>;
}

export interface OpenOptions {
  ffmpeg?: string;
  maxFrames?: number;
  /** Download bounds for URLs. */
  image?: LoadOptions;
}

async function requireFile(file: string): Promise<void> {
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new VisageError('INVALID_VIDEO', `${JSON.stringify(file)} is not a file`);
    size = info.size;
  } catch (err) {
    if (err instanceof VisageError) throw err;
    throw new VisageError('FILE_NOT_FOUND', `No video file at ${JSON.stringify(file.slice(0, 200))}`, { cause: err });
  }
  if (size === 0) throw new VisageError('INVALID_VIDEO', `${JSON.stringify(path.basename(file))} is empty`);
}

async function* fileFrames(tools: FfmpegTools, file: string, info: VideoInfo, maxFrames: number | undefined, cleanup?: () => Promise<void>): AsyncGenerator<VideoFrame> {
  try {
    let index = 0;
    for await (const frame of decodeFrames(tools, file, maxFrames === undefined ? {} : { maxFrames })) {
      yield { ...frame, timeMs: (index++ * 1000) / info.fps };
    }
  } finally {
    await cleanup?.();
  }
}

/** Frames the caller gives, checked to be RGB of the size they claim. */
async function* givenFrames(frames: Iterable<VideoFrame> | AsyncIterable<VideoFrame>, maxFrames: number | undefined): AsyncGenerator<VideoFrame> {
  let index = 0;
  for await (const frame of frames) {
    if (maxFrames !== undefined && index >= maxFrames) return;
    const ok = frame && Number.isInteger(frame.width) && Number.isInteger(frame.height) && frame.width > 0 && frame.height > 0 && frame.data instanceof Uint8Array && frame.data.length === frame.width * frame.height * 3;
    if (!ok) throw new VisageError('INVALID_ARGUMENT', `Expected frame ${index} as { data: Uint8Array of width * height * 3 RGB bytes, width, height }`);
    index++;
    yield frame;
  }
}

/**
 * Opens a video file, an http(s) URL (downloaded within bounds into a temporary file, deleted
 * when the frames end) or a stream of frames.
 *
 * Throws FILE_NOT_FOUND, INVALID_VIDEO (empty, corrupt, no video stream), FFMPEG_NOT_FOUND,
 * DOWNLOAD_FAILED or BLOCKED_ADDRESS before the first frame, where it can tell.
 */
export async function openVideo(source: VideoSource, options: OpenOptions = {}): Promise<OpenedVideo> {
  if (typeof source !== 'string') {
    if (source == null || (typeof (source as AsyncIterable<VideoFrame>)[Symbol.asyncIterator] !== 'function' && typeof (source as Iterable<VideoFrame>)[Symbol.iterator] !== 'function')) {
      throw new VisageError('INVALID_ARGUMENT', 'Expected a video as a file path, an http(s) URL or an iterable of frames');
    }
    return { frames: givenFrames(source, options.maxFrames) };
  }
  if (/^https?:\/\//i.test(source)) {
    const tools = await findFfmpeg(options.ffmpeg);
    const bytes = await downloadBytes(source, {
      ...options.image,
      maxBytes: options.image?.maxBytes ?? DEFAULT_VIDEO_MAX_BYTES,
      timeoutMs: options.image?.timeoutMs ?? DEFAULT_VIDEO_TIMEOUT_MS,
    });
    if (bytes.length === 0) throw new VisageError('INVALID_VIDEO', 'The URL gave an empty body');
    const file = path.join(tmpdir(), `visage-video-${process.pid}-${randomBytes(6).toString('hex')}`);
    await writeFile(file, bytes, { mode: 0o600 });
    const remove = () => rm(file, { force: true });
    try {
      const info = await probeVideo(tools, file);
      return { info, frames: fileFrames(tools, file, info, options.maxFrames, remove) };
    } catch (err) {
      await remove();
      throw err;
    }
  }
  await requireFile(source);
  const tools = await findFfmpeg(options.ffmpeg);
  const info = await probeVideo(tools, source);
  return { info, frames: fileFrames(tools, source, info, options.maxFrames) };
}
