/**
 * Keeps a face's identity across frames: detections are matched to tracks by IoU (greedily,
 * best overlap first), then by centre distance for what IoU leaves (a face that moved more than
 * its box overlaps); unmatched detections start tracks, and a track that misses `maxMissed`
 * detection rounds in a row ends. Between detections, `follow` moves a box with its landmarks.
 */
import type { Box, Point } from '../image/types.js';
import { iou } from '../models/common/boxes.js';

export interface Detection {
  box: Box;
  score: number;
  landmarks: Point[];
}

export interface Track extends Detection {
  id: number;
  /** Detection rounds missed in a row (0: seen at the last one). */
  missed: number;
  /** Frame index of the last analysis, and its result. */
  analysedAt?: number;
  analysis?: object;
}

export interface TrackerOptions {
  /** Lowest IoU for a detection to continue a track (default 0.3). */
  minIou?: number;
  /** Detection rounds a track may miss before it ends (default 2). */
  maxMissed?: number;
}

const centre = (b: Box): Point => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 });

/** Centre distance as a share of the track box's larger side; a face that moves further is a new face. */
const MAX_CENTRE_SHIFT = 0.6;
/** Sizes of one face in consecutive detections differ by less than this factor. */
const MAX_SIZE_RATIO = 1.6;

export class FaceTracker {
  private readonly minIou: number;
  private readonly maxMissed: number;
  private nextId = 1;
  private tracks: Track[] = [];

  constructor(options: TrackerOptions = {}) {
    this.minIou = options.minIou ?? 0.3;
    this.maxMissed = options.maxMissed ?? 2;
  }

  /** Tracks seen at the last detection (or followed since). */
  get active(): Track[] {
    return this.tracks.filter((t) => t.missed === 0);
  }

  /** Matches one frame's detections to the tracks; returns the tracks seen in this frame. */
  update(detections: readonly Detection[]): Track[] {
    const pairs: { t: number; d: number; iou: number }[] = [];
    this.tracks.forEach((track, t) =>
      detections.forEach((det, d) => {
        const overlap = iou(track.box, det.box);
        if (overlap >= this.minIou) pairs.push({ t, d, iou: overlap });
      }),
    );
    pairs.sort((p, q) => q.iou - p.iou);
    const trackOf = new Map<number, number>();
    const usedTracks = new Set<number>();
    const claim = (t: number, d: number) => {
      trackOf.set(d, t);
      usedTracks.add(t);
    };
    for (const p of pairs) if (!trackOf.has(p.d) && !usedTracks.has(p.t)) claim(p.t, p.d);

    // What overlap leaves: nearest centres, when close and of a similar size.
    const near: { t: number; d: number; shift: number }[] = [];
    this.tracks.forEach((track, t) => {
      if (usedTracks.has(t)) return;
      const side = Math.max(track.box.width, track.box.height);
      detections.forEach((det, d) => {
        if (trackOf.has(d)) return;
        const a = centre(track.box);
        const b = centre(det.box);
        const shift = Math.hypot(a.x - b.x, a.y - b.y) / side;
        const ratio = Math.max(det.box.width / track.box.width, track.box.width / det.box.width);
        if (shift <= MAX_CENTRE_SHIFT && ratio <= MAX_SIZE_RATIO) near.push({ t, d, shift });
      });
    });
    near.sort((p, q) => p.shift - q.shift);
    for (const p of near) if (!trackOf.has(p.d) && !usedTracks.has(p.t)) claim(p.t, p.d);

    const seen: Track[] = [];
    detections.forEach((det, d) => {
      const t = trackOf.get(d);
      const track = t === undefined ? undefined : this.tracks[t];
      if (track) {
        Object.assign(track, { box: det.box, score: det.score, landmarks: det.landmarks, missed: 0 });
        seen.push(track);
      } else {
        const fresh: Track = { ...det, id: this.nextId++, missed: 0 };
        this.tracks.push(fresh);
        seen.push(fresh);
      }
    });
    const kept: Track[] = [];
    for (const [t, track] of this.tracks.entries()) {
      if (!usedTracks.has(t) && !seen.includes(track)) track.missed++;
      if (track.missed <= this.maxMissed) kept.push(track);
    }
    this.tracks = kept;
    return seen;
  }
}

const mean = (pts: readonly Point[]): Point => ({
  x: pts.reduce((s, p) => s + p.x, 0) / pts.length,
  y: pts.reduce((s, p) => s + p.y, 0) / pts.length,
});
/** Root-mean-square distance of the points from their centre: the face's size in points. */
const spread = (pts: readonly Point[], c: Point): number => Math.sqrt(pts.reduce((s, p) => s + (p.x - c.x) ** 2 + (p.y - c.y) ** 2, 0) / pts.length);

/**
 * The box moved and scaled as the landmarks moved from `before` to `after` (the same points,
 * found in consecutive frames inside the same box). Unchanged where either set is unusable.
 */
export function followBox(box: Box, before: readonly Point[], after: readonly Point[]): Box {
  if (before.length === 0 || before.length !== after.length) return box;
  const c0 = mean(before);
  const c1 = mean(after);
  const s0 = spread(before, c0);
  const s1 = spread(after, c1);
  const scale = s0 > 0 && s1 > 0 ? Math.min(1.25, Math.max(0.8, s1 / s0)) : 1;
  const c = centre(box);
  const width = box.width * scale;
  const height = box.height * scale;
  return { x: c.x + (c1.x - c0.x) - width / 2, y: c.y + (c1.y - c0.y) - height / 2, width, height };
}
