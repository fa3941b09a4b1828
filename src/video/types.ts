/**
 * The video contract: sources, options and per-frame results of `visage.video()`.
 * Results are plain, JSON-serialisable data, like every other visage result.
 */
import type { LoadOptions } from '../image/index.js';
import type { Box, Point, RgbImage } from '../image/types.js';
import type { Action, AnalysisModels, DetectOptions, Emotion } from '../types.js';

/** One decoded frame: 8-bit RGB pixels, and its time in milliseconds where the source knows it. */
export interface VideoFrame extends RgbImage {
  timeMs?: number;
}

/**
 * A video: a file path, an http(s) URL (downloaded within the download bounds first), or a
 * stream of already-decoded frames (any iterable or async iterable).
 */
export type VideoSource = string | Iterable<VideoFrame> | AsyncIterable<VideoFrame>;

export interface VideoOptions extends Omit<DetectOptions, 'allowNoFace'> {
  /** Run the detector on every Nth frame and track the faces in between (default 1: every frame). */
  every?: number;
  /** Attributes estimated per track (default none: boxes, landmarks and track ids only). */
  actions?: Action[];
  /** Frames between two analyses of the same track (default 1: every frame); a new track is analysed at once. */
  analyzeEvery?: number;
  /** Detection rounds a track may miss before it ends (default 2). */
  maxMissed?: number;
  /** Lowest IoU of a detection with a track's box for them to be one face (default 0.3). */
  minIou?: number;
  /** ffmpeg's path; default `VISAGE_FFMPEG`, then `ffmpeg` on PATH. ffprobe is looked for beside it. */
  ffmpeg?: string;
  /** Stop after this many frames (default: all). */
  maxFrames?: number;
  /** Limits for a video given as a URL (download size and time, private addresses); maxBytes defaults to 200 MB. */
  image?: LoadOptions;
}

export interface TrackedFace {
  /** Stable across frames for as long as the face is followed; never reused within one video. */
  trackId: number;
  box: Box;
  /** The detector's score at the track's last detection. */
  score: number;
  /** 68 points (5 for mtcnn on detection frames), in frame pixels. */
  landmarks: Point[];
  emotion?: Record<Emotion, number>;
  dominantEmotion?: Emotion;
  age?: number;
  gender?: { woman: number; man: number };
  dominantGender?: 'woman' | 'man';
  /** The classifiers that produced emotion and age/gender (the instance's emotionModel / ageGenderModel). */
  models?: AnalysisModels;
}

export interface VideoFrameResult {
  /** 0-based frame number. */
  index: number;
  /** The frame's time: from the source's frame rate, or as given with the frame. */
  timeMs: number;
  width: number;
  height: number;
  /** True where the detector ran on this frame; false where the boxes were tracked. */
  detected: boolean;
  faces: TrackedFace[];
}

/** What `openVideo` knows of a file before the first frame. */
export interface VideoInfo {
  width: number;
  height: number;
  /** Frames per second (the stream's average rate). */
  fps: number;
  /** Frame count where the container states it, else undefined. */
  frames?: number;
}
