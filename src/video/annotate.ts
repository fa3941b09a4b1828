/**
 * Draws a frame's faces into its pixels: a box per face in its track's colour, and a label
 * "#<track> <EMOTION>" above it. Text uses a built-in 5x7 pixel font, so annotating a frame costs
 * well under a millisecond and needs no font on the system (an SVG layer per frame would cost
 * more than the analysis).
 */
import type { RgbImage } from '../image/types.js';
import { drawRect, type Rgb } from '../render/index.js';
import type { VideoFrameResult } from './types.js';

/** 5x7 glyphs, one string of 7 rows per character ('#' marks a lit pixel). */
const GLYPHS: Readonly<Record<string, string>> = {
  A: '.###.#...##...#######...##...##...#', B: '####.#...#####.#...##...##...#####.', C: '.####.....#....#....#....#.....####',
  D: '####.#...##...##...##...##...#####.', E: '######....####.#....#....#....#####', F: '######....####.#....#....#....#....',
  G: '.####.....#....#..###...##...#.####', H: '#...##...#######...##...##...##...#', I: '.###...#....#....#....#....#...###.',
  J: '..###...#....#....#....##...#.###..', K: '#...##..#.###..#.#..#..#.#...##...#', L: '#....#....#....#....#....#....#####',
  M: '#...###.###.#.##...##...##...##...#', N: '#...###..##.#.##..###...##...##...#', O: '.###.#...##...##...##...##...#.###.',
  P: '####.#...##...#####.#....#....#....', Q: '.###.#...##...##...##.#.##..#..##.#', R: '####.#...##...#####.#.#..#..#.#...#',
  S: '.#####....#.....###.....#....#####.', T: '#####..#....#....#....#....#....#..', U: '#...##...##...##...##...##...#.###.',
  V: '#...##...##...##...#.#.#..#.#...#..', W: '#...##...##...##.#.##.#.###.###...#', X: '#...#.#.#...#...#.#.#...##...##...#',
  Y: '#...#.#.#...#....#....#....#....#..', Z: '#####....#...#...#...#...#....#####',
  '0': '.###.#...##..###.#.###..##...#.###.', '1': '..#...##....#....#....#....#...###.', '2': '.###.#...#....#...#...#...#...#####',
  '3': '#####....#...#.....#....##...#.###.', '4': '...#...##..#.#.#..#.#####...#....#.', '5': '#####.....####.....#....##...#.###.',
  '6': '..##..#...#....####.#...##...#.###.', '7': '#####....#...#...#...#....#....#...', '8': '.###.#...##...#.###.#...##...#.###.',
  '9': '.###.#...##...#.####....#...#..##..', '#': '.#.#..#.#.#####.#.#.#####.#.#..#.#.', '.': '..............................##...',
  '%': '##...##..#...#...#...#...#..##...##', '-': '...............#####...............', ' ': '.'.repeat(35),
};
export const GLYPH_ROWS: Readonly<Record<string, boolean[][]>> = Object.fromEntries(
  Object.entries(GLYPHS).map(([ch, art]) => [ch, Array.from({ length: 7 }, (_, r) => [...art.slice(r * 5, r * 5 + 5)].map((c) => c === '#'))]),
);

const PALETTE: readonly Rgb[] = [
  [255, 0, 255], [0, 200, 255], [255, 200, 0], [0, 230, 90], [255, 90, 60], [150, 110, 255], [255, 255, 255], [0, 140, 255],
];
export const trackColour = (trackId: number): Rgb => PALETTE[(trackId - 1) % PALETTE.length] as Rgb;

function fillRect(image: RgbImage, x0: number, y0: number, w: number, h: number, colour: Rgb): void {
  for (let y = Math.max(0, y0); y < Math.min(image.height, y0 + h); y++) {
    for (let x = Math.max(0, x0); x < Math.min(image.width, x0 + w); x++) {
      const o = (y * image.width + x) * 3;
      image.data[o] = colour[0];
      image.data[o + 1] = colour[1];
      image.data[o + 2] = colour[2];
    }
  }
}

/** Writes `text` (upper case; unknown characters as spaces) with its top-left at x, y, each font pixel `scale` px. */
export function drawText(image: RgbImage, text: string, x: number, y: number, colour: Rgb, scale = 2): void {
  [...text.toUpperCase()].forEach((ch, i) => {
    const rows = GLYPH_ROWS[ch] ?? GLYPH_ROWS[' '];
    rows?.forEach((row, r) =>
      row.forEach((lit, c) => {
        if (lit) fillRect(image, x + (i * 6 + c) * scale, y + r * scale, scale, scale, colour);
      }),
    );
  });
}

/** The label of a face: "#3 HAPPY". */
export function faceLabel(face: { trackId: number; dominantEmotion?: string }): string {
  return `#${face.trackId}${face.dominantEmotion ? ` ${face.dominantEmotion}` : ''}`;
}

/** Draws every face of `result` into `frame` (in place): box in the track's colour, label above on black. */
export function annotateFrame(frame: RgbImage, result: Pick<VideoFrameResult, 'faces'>): void {
  const scale = Math.max(1, Math.round(Math.min(frame.width, frame.height) / 240));
  for (const face of result.faces) {
    const colour = trackColour(face.trackId);
    drawRect(frame, face.box, colour, Math.max(2, scale));
    const label = faceLabel(face);
    const height = 9 * scale;
    const x = Math.round(face.box.x);
    const y = Math.round(face.box.y) - height >= 0 ? Math.round(face.box.y) - height : Math.round(face.box.y + face.box.height);
    fillRect(frame, x, y, label.length * 6 * scale + 2 * scale, height, [0, 0, 0]);
    drawText(frame, label, x + scale, y + scale, colour, scale);
  }
}
