/**
 * Frames per second of `visage.video()` on a 640x480 H.264 file: detection + emotion on every
 * frame, and with tracking (detector every Nth frame, emotion per track every Nth frame), per
 * detector, with the time split by stage (decode, detect, landmark-following, emotion) so a
 * missed aim says where the time goes. Medians over runs; the file is decoded once before to warm
 * the page cache, and every model is warmed before timing.
 *
 *   node --import tsx bench/video.ts [--video clip.mp4] [--runs 3] [--every 5] [--detectors tiny,ssd] [--threads 2]
 *
 * Without --video, the clip is made from face-api's sample1.jpg (three real faces): a 640x480
 * window panning across the photo scaled to 960 wide, 150 frames at 25 fps.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createVisage, openVideo, type DetectorName, type VideoOptions } from '../src/index.js';
import type { VisagePipeline } from '../src/pipeline/visage.js';
import { analyzeVideo, type FramePipeline } from '../src/video/loop.js';

const { values } = parseArgs({
  options: {
    video: { type: 'string' },
    runs: { type: 'string', default: '3' },
    every: { type: 'string', default: '5' },
    detectors: { type: 'string', default: 'tiny,ssd' },
    threads: { type: 'string', default: '2' },
  },
});
const runs = Number(values.runs);
const every = Number(values.every);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const dir = await mkdtemp(path.join(os.tmpdir(), 'visage-bench-video-'));
let clip = values.video;
if (!clip) {
  clip = path.join(dir, 'pan.mp4');
  const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-framerate', '25', '-i', 'node_modules/@vladmandic/face-api/demo/sample1.jpg', '-frames:v', '150',
    '-vf', "scale=960:-2,crop=640:480:'min(320,t*53)':'(ih-480)/2',format=yuv420p", '-c:v', 'libx264', '-preset', 'ultrafast', clip]);
  if (made.status !== 0) throw new Error(`ffmpeg: ${made.stderr}`);
}

// Stage times, through a pipeline that times each entry the loop calls.
const stages = { decode: 0, detect: 0, follow: 0, emotion: 0 };
const visage = (await createVisage({ threads: Number(values.threads) })) as VisagePipeline;
const timed = (name: keyof typeof stages, fn: (...args: never[]) => Promise<unknown>) =>
  async (...args: never[]) => {
    const t = performance.now();
    try {
      return await fn(...args);
    } finally {
      stages[name] += performance.now() - t;
    }
  };
const pipeline = {
  detectPixels: timed('detect', visage.detectPixels.bind(visage) as never),
  landmarksIn: timed('follow', visage.landmarksIn.bind(visage) as never),
  analyzePixels: timed('emotion', visage.analyzePixels.bind(visage) as never),
} as unknown as FramePipeline;

async function decodeOnly(): Promise<{ frames: number; ms: number }> {
  const t = performance.now();
  let frames = 0;
  for await (const f of (await openVideo(clip as string)).frames) frames += f.width > 0 ? 1 : 0;
  return { frames, ms: performance.now() - t };
}

async function measure(options: VideoOptions): Promise<{ fps: number; faces: number; split: typeof stages }> {
  const fpss: number[] = [];
  let faces = 0;
  let split = { ...stages };
  for (let r = 0; r < runs; r++) {
    for (const k of Object.keys(stages) as (keyof typeof stages)[]) stages[k] = 0;
    const t = performance.now();
    let frames = 0;
    faces = 0;
    for await (const result of analyzeVideo(pipeline, clip as string, options)) {
      frames++;
      faces += result.faces.length;
    }
    const ms = performance.now() - t;
    fpss.push((frames * 1000) / ms);
    if (r === 0 || fpss.at(-1) === median(fpss)) split = { ...stages, decode: ms - stages.detect - stages.follow - stages.emotion };
    faces /= frames;
  }
  return { fps: median(fpss), faces, split };
}

const decoded = await decodeOnly(); // warms the page cache
const decode = await decodeOnly();
console.log(`clip: ${clip}, ${decode.frames} frames 640x480; uptime load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; threads ${values.threads}; runs ${runs}`);
console.log(`decode only (ffmpeg → RGB on a pipe): ${((decode.frames * 1000) / decode.ms).toFixed(0)} fps (${decoded.frames} frames)`);
console.log('| detector | mode | fps (median) | faces/frame | time per frame: loop overhead + decode / detect / follow / emotion (ms) |');
console.log('|---|---|---|---|---|');
for (const detector of values.detectors.split(',') as DetectorName[]) {
  await measure({ detector, actions: ['emotion'], maxFrames: 10 }); // warm every model
  const modes: [string, VideoOptions][] = [
    ['detect + emotion every frame', { detector, actions: ['emotion'] }],
    [`detect every ${every}, emotion per track every ${every}`, { detector, actions: ['emotion'], every, analyzeEvery: every }],
  ];
  for (const [mode, options] of modes) {
    const { fps, faces, split } = await measure(options);
    const per = (ms: number) => (ms / decode.frames).toFixed(1);
    console.log(`| ${detector} | ${mode} | ${fps.toFixed(1)} | ${faces.toFixed(2)} | ${per(split.decode)} / ${per(split.detect)} / ${per(split.follow)} / ${per(split.emotion)} |`);
  }
}
await visage.close();
await rm(dir, { recursive: true, force: true });
