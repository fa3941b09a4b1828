/**
 * Videos the video tests make from shipped photos: three faces cut from face-api's sample photos,
 * gliding across a grey 640x480 stage on their own paths, encoded by ffmpeg itself (not by the
 * code under test), with where each face is in every frame.
 */
import { spawn, spawnSync } from 'node:child_process';
import sharp from 'sharp';
import type { Box } from '../../src/image/types.js';

const DEMO = 'node_modules/@vladmandic/face-api/demo';
/** Face boxes in the sample photos (found by the tiny detector; each crop is widened around it). */
const FACES: readonly { file: string; box: Box }[] = [
  { file: `${DEMO}/sample2.jpg`, box: { x: 1403, y: 173, width: 277, height: 264 } },
  { file: `${DEMO}/sample5.jpg`, box: { x: 313, y: 897, width: 316, height: 313 } },
  { file: `${DEMO}/sample6.jpg`, box: { x: 1432, y: 314, width: 299, height: 290 } },
];
export const WIDTH = 640;
export const HEIGHT = 480;
/** Side of each pasted face tile. */
const TILE = 150;

export const hasFfmpeg = (): boolean => spawnSync('ffmpeg', ['-version']).status === 0 && spawnSync('ffprobe', ['-version']).status === 0;

async function faceTiles(): Promise<Uint8Array[]> {
  return Promise.all(
    FACES.map(async ({ file, box }) => {
      const side = Math.round(Math.max(box.width, box.height) * 1.6);
      const left = Math.round(box.x + box.width / 2 - side / 2);
      const top = Math.round(box.y + box.height / 2 - side / 2);
      const data = await sharp(file).extract({ left, top, width: side, height: side }).resize(TILE, TILE).removeAlpha().raw().toBuffer();
      return new Uint8Array(data);
    }),
  );
}

/** Where tile `f` sits in frame `i` of `frames`: three separate lanes, each tile moving 4-6 px a frame. */
export function tilePosition(f: number, i: number): { x: number; y: number } {
  const paths = [
    { x: 20 + 6 * i, y: 20 },
    { x: 470 - 5 * i, y: 170 + 1 * i },
    { x: 120 + 4 * i, y: 320 },
  ];
  return paths[f] as { x: number; y: number };
}

export const tileBox = (f: number, i: number): Box => ({ ...tilePosition(f, i), width: TILE, height: TILE });

/** Frame `i`: grey stage, the tiles pasted at their positions. */
function composeFrame(tiles: readonly Uint8Array[], i: number): Buffer {
  const frame = Buffer.alloc(WIDTH * HEIGHT * 3, 128);
  tiles.forEach((tile, f) => {
    const { x, y } = tilePosition(f, i);
    for (let row = 0; row < TILE; row++) {
      frame.set(tile.subarray(row * TILE * 3, (row + 1) * TILE * 3), ((y + row) * WIDTH + x) * 3);
    }
  });
  return frame;
}

/** Writes an H.264 MP4 of `frames` frames at `fps` to `file` with ffmpeg; returns how many faces each frame shows (3). */
export async function makeFacesVideo(file: string, frames: number, fps = 25): Promise<void> {
  const tiles = await faceTiles();
  const child = spawn('ffmpeg', ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${WIDTH}x${HEIGHT}`, '-framerate', String(fps), '-i', '-', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file], {
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const done = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  for (let i = 0; i < frames; i++) {
    if (!child.stdin.write(composeFrame(tiles, i))) await new Promise((r) => child.stdin.once('drain', r));
  }
  child.stdin.end();
  const code = await done;
  if (code !== 0) throw new Error(`ffmpeg exited with ${code}`);
}

/** The number of video frames ffprobe counts by decoding the file, and its codec and size. */
export function probe(file: string): { frames: number; codec: string; width: number; height: number } {
  const out = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,codec_name,width,height', '-of', 'json', file], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`ffprobe failed: ${out.stderr}`);
  const stream = (JSON.parse(out.stdout) as { streams: { nb_read_frames: string; codec_name: string; width: number; height: number }[] }).streams[0];
  if (!stream) throw new Error('no video stream');
  return { frames: Number(stream.nb_read_frames), codec: stream.codec_name, width: stream.width, height: stream.height };
}
