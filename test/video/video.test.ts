/**
 * Video end to end on a clip made from shipped photos (three faces gliding across the frame):
 * faces per frame, stable track ids, boxes that follow the faces between detections, the
 * annotated MP4 and the JSON lines from the CLI, and typed errors with nothing left behind.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { createVisage, openVideo, type Box, type Visage, type VideoFrame, type VideoFrameResult, type VideoOptions } from '../../src/index.js';
import { rejectsWith } from '../image/helpers.js';
import { startServer, type TestServer } from '../image/server.js';
import { hasFfmpeg, makeFacesVideo, probe, tileBox } from './helpers.js';

const FRAMES = 20;
const skip = hasFfmpeg() ? false : 'ffmpeg is not installed (.ci/run installs it)';

const inside = (box: Box, tile: Box) => {
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  return cx > tile.x && cx < tile.x + tile.width && cy > tile.y && cy < tile.y + tile.height;
};

async function collect(iterable: AsyncIterable<VideoFrameResult>): Promise<VideoFrameResult[]> {
  const out: VideoFrameResult[] = [];
  for await (const r of iterable) out.push(r);
  return out;
}

/** Which of the three tiles each track sits in, frame by frame; fails where a face is outside every tile. */
function tilesOfTracks(results: readonly VideoFrameResult[]): Map<number, Set<number>> {
  const tiles = new Map<number, Set<number>>();
  for (const r of results) {
    for (const face of r.faces) {
      const tile = [0, 1, 2].find((t) => inside(face.box, tileBox(t, r.index)));
      assert.ok(tile !== undefined, `frame ${r.index}: track ${face.trackId} at ${JSON.stringify(face.box)} is on no face`);
      const set = tiles.get(face.trackId) ?? new Set<number>();
      set.add(tile);
      tiles.set(face.trackId, set);
    }
  }
  return tiles;
}

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

describe('video', { skip }, () => {
  let dir: string;
  let clip: string;
  let visage: Visage;
  let server: TestServer;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'visage-video-'));
    clip = path.join(dir, 'faces.mp4');
    await makeFacesVideo(clip, FRAMES);
    visage = await createVisage({ threads: 2 });
    const bytes = await readFile(clip);
    server = await startServer({ '/clip.mp4': (_req, res) => void res.writeHead(200, { 'content-type': 'video/mp4' }).end(bytes) });
  });
  after(async () => {
    await visage.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('detecting every frame: three faces in every frame, each track on one face throughout', async () => {
    const results = await collect(visage.video(clip));
    assert.equal(results.length, FRAMES);
    assert.deepEqual(results.map((r) => r.faces.length), Array(FRAMES).fill(3));
    assert.deepEqual(results.map((r) => r.index), [...Array(FRAMES).keys()]);
    assert.ok(results.every((r) => r.detected && r.width === 640 && r.height === 480));
    assert.equal(results[5]?.timeMs, 200); // 25 fps
    const tiles = tilesOfTracks(results);
    assert.deepEqual([...tiles.keys()].sort(), [1, 2, 3], 'three tracks, never a new id');
    assert.ok([...tiles.values()].every((set) => set.size === 1), 'a track never jumps to another face');
  });

  it('detecting every 4th frame (tiny): boxes follow the moving faces in between, ids stay, emotions per track', async () => {
    const results = await collect(visage.video(clip, { detector: 'tiny', every: 4, actions: ['emotion'], analyzeEvery: 5 }));
    assert.deepEqual(results.map((r) => r.detected), results.map((r) => r.index % 4 === 0));
    assert.deepEqual(results.map((r) => r.faces.length), Array(FRAMES).fill(3));
    const tiles = tilesOfTracks(results);
    assert.equal(tiles.size, 3);
    assert.ok([...tiles.values()].every((set) => set.size === 1));
    // The first face moves 6 px a frame: its tracked box moves with it, not stuck at the last detection.
    const first = (r: VideoFrameResult | undefined) => r?.faces.find((f) => inside(f.box, tileBox(0, r.index)))?.box.x ?? NaN;
    assert.ok(first(results[3]) - first(results[0]) > 10, `moved ${first(results[3]) - first(results[0])} px in 3 tracked frames`);
    assert.ok(results.every((r) => r.faces.every((f) => f.dominantEmotion !== undefined && f.emotion !== undefined)));
  });

  it('frames given as an iterable, and a URL, give the same faces as the file', async () => {
    const opened = await openVideo(clip, { maxFrames: 3 });
    const frames: VideoFrame[] = [];
    for await (const f of opened.frames) frames.push(f);
    const options: VideoOptions = { detector: 'tiny', maxFrames: 3 };
    const fromFile = await collect(visage.video(clip, options));
    const fromFrames = await collect(visage.video(frames, options));
    const fromUrl = await collect(visage.video(`${server.origin}/clip.mp4`, { ...options, image: { allowPrivateAddresses: true } }));
    const boxes = (rs: VideoFrameResult[]) => rs.map((r) => r.faces.map((f) => f.box));
    assert.deepEqual(boxes(fromFrames), boxes(fromFile));
    assert.deepEqual(boxes(fromUrl), boxes(fromFile));
  });

  it('CLI: the annotated MP4 has the input frame count, the JSON lines one result per frame, no temporary file remains', async () => {
    const out = path.join(dir, 'cli', 'annotated.mp4');
    const jsonl = path.join(dir, 'cli', 'track.jsonl');
    const { code, stdout, stderr } = await run('video', clip, '--out', out, '--json', jsonl, '--detector', 'tiny', '--every', '4', '--actions', 'emotion');
    assert.equal(code, 0, stderr);
    assert.match(stderr, new RegExp(`frame ${FRAMES} / ${FRAMES} \\(100%\\), [\\d.]+ fps\\n$`));
    assert.match(stdout, new RegExp(`${FRAMES} frames, 3 tracks`));
    assert.deepEqual(probe(out), { frames: FRAMES, codec: 'h264', width: 640, height: 480 });
    const lines = (await readFile(jsonl, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as VideoFrameResult);
    assert.equal(lines.length, FRAMES);
    assert.ok(lines.every((l) => l.faces.length === 3 && l.faces.every((f) => typeof f.dominantEmotion === 'string')));
    assert.deepEqual((await readdir(path.dirname(out))).sort(), ['annotated.mp4', 'track.jsonl']);
  });

  it('typed errors: empty, corrupt and missing files, missing ffmpeg, unreadable and private URLs', async () => {
    const empty = path.join(dir, 'empty.mp4');
    await writeFile(empty, '');
    const junk = path.join(dir, 'junk.mp4');
    await writeFile(junk, Buffer.alloc(5000, 7));
    const drain = (options: VideoOptions, source = clip) => collect(visage.video(source, options));
    await assert.rejects(drain({}, empty), rejectsWith('INVALID_VIDEO', /empty/));
    await assert.rejects(drain({}, junk), rejectsWith('INVALID_VIDEO'));
    await assert.rejects(drain({}, path.join(dir, 'nothing.mp4')), rejectsWith('FILE_NOT_FOUND'));
    await assert.rejects(drain({ ffmpeg: path.join(dir, 'no-ffmpeg') }), rejectsWith('FFMPEG_NOT_FOUND', /apt-get install ffmpeg/));
    const path0 = process.env.PATH;
    process.env.PATH = dir;
    try {
      await assert.rejects(drain({}), rejectsWith('FFMPEG_NOT_FOUND', /not on PATH.*apt-get install ffmpeg/));
    } finally {
      process.env.PATH = path0;
    }
    await assert.rejects(drain({ image: { allowPrivateAddresses: true } }, `${server.origin}/missing.mp4`), rejectsWith('DOWNLOAD_FAILED', /404/));
    await assert.rejects(drain({}, `${server.origin}/clip.mp4`), rejectsWith('BLOCKED_ADDRESS'));
    await assert.rejects(drain({ every: 0 }), rejectsWith('INVALID_ARGUMENT', /every/));
  });

  it('CLI: a video corrupt half-way, a missing ffmpeg and a bad URL fail with their code and leave no output', async () => {
    const bytes = Buffer.from(await readFile(clip));
    for (let i = bytes.length / 2; i < bytes.length / 2 + 4000; i++) bytes[Math.floor(i)] = (i * 7919) % 256;
    const corrupt = path.join(dir, 'corrupt.mp4');
    await writeFile(corrupt, bytes);
    const outDir = path.join(dir, 'failed');
    const cases: [string[], string][] = [
      [[corrupt], 'INVALID_VIDEO'],
      [[clip, '--ffmpeg', path.join(dir, 'no-ffmpeg')], 'FFMPEG_NOT_FOUND'],
      [[`${server.origin}/missing.mp4`, '--allow-private-urls'], 'DOWNLOAD_FAILED'],
    ];
    for (const [args, code] of cases) {
      const result = await run('video', ...args, '--out', path.join(outDir, 'out.mp4'), '--json', path.join(outDir, 'out.jsonl'), '--detector', 'tiny');
      assert.equal(result.code, 1, `${args[0]}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`\\[${code}\\]\\n$`));
      const left = await readdir(outDir).catch(() => []);
      assert.deepEqual(left, [], `${code}: left ${left.join(', ')}`);
    }
  });
});
