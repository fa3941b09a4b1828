/**
 * The per-frame loop: source → detect (every Nth frame) → track → per-track analyses on their own
 * clock → one result per frame. Boxes between detections follow the faces' landmarks (the
 * landmark net, run inside last frame's box), so a face keeps its box and track while the
 * detector rests.
 */
import { VisageError } from '../errors.js';
import type { Box, Point, RgbImage } from '../image/types.js';
import type { Action, DetectOptions, DetectResult, DetectedFace, FaceAnalysis } from '../types.js';
import { openVideo } from './source.js';
import { FaceTracker, followBox, type Track } from './tracker.js';
import type { TrackedFace, VideoFrameResult, VideoOptions, VideoSource } from './types.js';

/** The pipeline entries the loop needs (VisagePipeline has them), so tests can swap in a fake. */
export interface FramePipeline {
  detectPixels(image: RgbImage, options: DetectOptions): Promise<DetectResult>;
  landmarksIn(image: RgbImage, boxes: readonly Box[]): Promise<Point[][]>;
  analyzePixels(image: RgbImage, faces: readonly DetectedFace[], actions: readonly Action[]): Promise<FaceAnalysis[]>;
}

const ACTIONS: readonly Action[] = ['emotion', 'age', 'gender'];

function integerAtLeast(value: number | undefined, min: number, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new VisageError('INVALID_ARGUMENT', `Expected an integer >= ${min} for ${name} but received ${JSON.stringify(value)}`);
  return v;
}

interface Resolved {
  every: number;
  analyzeEvery: number;
  actions: Action[];
  maxMissed: number;
  minIou: number;
  maxFrames: number | undefined;
  detect: DetectOptions;
}

function resolve(options: VideoOptions): Resolved {
  const actions = options.actions ?? [];
  if (!Array.isArray(actions) || !actions.every((a) => ACTIONS.includes(a))) {
    throw new VisageError('INVALID_ARGUMENT', `Expected a list of ${ACTIONS.join(', ')} for actions but received ${JSON.stringify(actions)}`);
  }
  const minIou = options.minIou ?? 0.3;
  if (typeof minIou !== 'number' || !(minIou > 0 && minIou <= 1)) throw new VisageError('INVALID_ARGUMENT', `Expected a number in (0, 1] for minIou but received ${JSON.stringify(minIou)}`);
  const { every: _e, actions: _a, analyzeEvery: _ae, maxMissed: _m, minIou: _i, ffmpeg: _f, maxFrames: _mf, image: _img, ...detect } = options;
  return {
    every: integerAtLeast(options.every, 1, 1, 'every'),
    analyzeEvery: integerAtLeast(options.analyzeEvery, 1, 1, 'analyzeEvery'),
    actions: [...new Set(actions)],
    maxMissed: integerAtLeast(options.maxMissed, 0, 2, 'maxMissed'),
    minIou,
    maxFrames: options.maxFrames === undefined ? undefined : integerAtLeast(options.maxFrames, 1, 1, 'maxFrames'),
    // Frames without a face are normal in a video: never NO_FACE, never the whole frame as a face.
    detect: { ...detect, allowNoFace: false },
  };
}

function trackedFace(track: Track): TrackedFace {
  return { trackId: track.id, box: track.box, score: track.score, landmarks: track.landmarks, ...(track.analysis as Partial<TrackedFace> | undefined) };
}

/** The analysis fields of a result (what a track carries between its analyses). */
function attributes(analysis: FaceAnalysis): Partial<TrackedFace> {
  const { box: _box, score: _score, ...rest } = analysis;
  return rest;
}

/**
 * Runs the loop over `source`: one result per frame, in order. Options are checked, and a file
 * or URL opened, before the first result; breaking out of the loop stops the decoder.
 */
export async function* analyzeVideo(pipeline: FramePipeline, source: VideoSource, options: VideoOptions = {}): AsyncGenerator<VideoFrameResult> {
  const o = resolve(options);
  const opened = await openVideo(source, { ffmpeg: options.ffmpeg, maxFrames: o.maxFrames, ...(options.image ? { image: options.image } : {}) });
  const tracker = new FaceTracker({ minIou: o.minIou, maxMissed: o.maxMissed });
  const started = performance.now();
  let index = 0;
  for await (const frame of opened.frames) {
    const detected = index % o.every === 0;
    let tracks: Track[];
    if (detected) {
      const { faces } = await pipeline.detectPixels(frame, o.detect);
      tracks = tracker.update(faces);
    } else {
      tracks = tracker.active;
      const points = await pipeline.landmarksIn(frame, tracks.map((t) => t.box));
      tracks.forEach((track, i) => {
        const after = points[i] ?? [];
        if (after.length === 0) return;
        // The previous points were found inside this same box only if they are 68 net points.
        if (track.landmarks.length === after.length) track.box = followBox(track.box, track.landmarks, after);
        track.landmarks = after;
      });
    }
    const due = o.actions.length === 0 ? [] : tracks.filter((t) => t.analysedAt === undefined || index - t.analysedAt >= o.analyzeEvery);
    if (due.length > 0) {
      const faces = due.map((t) => ({ box: t.box, score: t.score, landmarks: t.landmarks }));
      const results = await pipeline.analyzePixels(frame, faces, o.actions);
      due.forEach((track, i) => {
        const face = faces[i];
        const result = results.find((r) => r.box === face?.box);
        track.analysedAt = index;
        if (result) track.analysis = attributes(result);
      });
    }
    yield {
      index,
      timeMs: frame.timeMs ?? performance.now() - started,
      width: frame.width,
      height: frame.height,
      detected,
      faces: tracks.map(trackedFace),
    };
    index++;
  }
}
