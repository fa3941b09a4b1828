/**
 * The BlazeFace detectors from the command line: `--detector blazeface|blazeface-full` on detect
 * and video, faces with MediaPipe's 6 keypoints in the JSON.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import type { DetectResult } from '../../src/index.js';

const SAMPLE = 'node_modules/@vladmandic/face-api/demo/sample1.jpg';

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

describe('visage CLI with BlazeFace', () => {
  for (const detector of ['blazeface', 'blazeface-full']) {
    it(`detect --detector ${detector} --json: the photo's three faces, each with 68 landmarks and 6 keypoints`, async () => {
      const { code, stdout, stderr } = await run('detect', SAMPLE, '--detector', detector, '--json');
      assert.equal(code, 0, stderr);
      const result = JSON.parse(stdout) as DetectResult;
      assert.equal(result.detector, detector);
      assert.equal(result.faces.length, 3);
      for (const face of result.faces) {
        assert.equal(face.landmarks.length, 68);
        assert.equal(face.keypoints?.length, 6);
      }
    });
  }

  it('video --detector blazeface: every frame of a 640x480 clip of the photo has its three faces', { skip: spawnSync('ffmpeg', ['-version']).status === 0 ? false : 'ffmpeg is not installed' }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'visage-blazeface-'));
    try {
      const clip = path.join(dir, 'clip.mp4');
      const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-i', SAMPLE, '-frames:v', '5', '-r', '25', '-vf', 'scale=640:-2,pad=640:480:0:(oh-ih)/2,format=yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', clip]);
      assert.equal(made.status, 0, String(made.stderr));
      const { code, stdout, stderr } = await run('video', clip, '--detector', 'blazeface', '--json', '-');
      assert.equal(code, 0, stderr);
      const frames = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { faces: unknown[] });
      assert.equal(frames.length, 5);
      for (const f of frames) assert.equal(f.faces.length, 3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
