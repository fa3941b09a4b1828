/**
 * The web page in real headless Chromium (playwright-core over Debian's /usr/bin/chromium)
 * against the real service: Verify and Analyze give what the library gives for the same photos,
 * Detect draws landmarks, and Live with Chromium's fake camera (a Y4M made from a shipped photo)
 * draws boxes on the faces; its end-to-end frames per second are measured and printed.
 * Screenshots go to test-artifacts/web/ (gitignored).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createVisage, type Visage } from '../../src/index.js';
import { startService, type Service } from '../server/fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const DEMO = path.resolve('node_modules/@vladmandic/face-api/demo');
const ARTIFACTS = path.resolve('test-artifacts/web');
const skip = !existsSync(CHROMIUM) ? 'chromium is not installed (.ci/run installs it)' : spawnSync('ffmpeg', ['-version']).status !== 0 ? 'ffmpeg is not installed' : false;

describe('web page in headless Chromium', { skip }, () => {
  let visage: Visage;
  let service: Service;
  let context: BrowserContext;
  let page: Page;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'visage-web-'));
    await mkdir(ARTIFACTS, { recursive: true });
    // The fake camera plays a yuv420p Y4M (a 4:4:4 source gives a green picture): sample1's three faces, 640x480.
    const camera = path.join(dir, 'cam.y4m');
    const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-i', path.join(DEMO, 'sample1.jpg'), '-t', '1', '-r', '30', '-vf', 'scale=640:-2,pad=640:480:0:(oh-ih)/2,format=yuv420p', camera]);
    assert.equal(made.status, 0, String(made.stderr));
    visage = await createVisage({ threads: 2 });
    service = await startService({ visage });
    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync',
        '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${camera}`,
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${service.origin}/`);
  });
  after(async () => {
    await context?.close();
    await service?.close();
    await visage?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('Verify: two shipped photos → the library\'s verdict and distance, boxes on both', async () => {
    const [a, b] = [path.join(DEMO, 'sample2.jpg'), path.join(DEMO, 'sample1.jpg')];
    const expected = await visage.verify(a, b);
    await page.getByRole('tab', { name: 'Verify' }).click();
    await page.setInputFiles('[data-testid=verify-file-a]', a);
    await page.setInputFiles('[data-testid=verify-file-b]', b);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    const verdict = page.locator('[data-testid=verdict]');
    await verdict.waitFor({ timeout: 30_000 });
    assert.equal(await verdict.textContent(), expected.verified ? 'Same Person' : 'Different Person');
    assert.match((await page.locator('#verify-result').textContent()) ?? '', new RegExp(`distance ${expected.distance.toFixed(4)} · threshold ${expected.threshold.toFixed(4)}`));
    const drawn = await page.$$eval('#panel-verify canvas', (canvases) => canvases.map((c) => (c as HTMLCanvasElement).width));
    assert.ok(drawn.every((w) => w > 0), 'both photos have their overlay');
    await page.screenshot({ path: path.join(ARTIFACTS, 'verify.png'), fullPage: true });
  });

  it('Analyze: the dominant emotion of each face is the library\'s', async () => {
    const photo = path.join(DEMO, 'sample2.jpg');
    const expected = await visage.analyze(photo);
    await page.getByRole('tab', { name: 'Analyze' }).click();
    await page.setInputFiles('[data-testid=analyze-file]', photo);
    await page.getByRole('button', { name: 'Analyze', exact: true }).click();
    await page.locator('[data-testid=dominant-emotion]').first().waitFor({ timeout: 30_000 });
    const shown = await page.locator('[data-testid=dominant-emotion]').allTextContents();
    // The route lists faces largest first.
    const byArea = [...expected.faces].sort((p, q) => q.box.width * q.box.height - p.box.width * p.box.height);
    assert.deepEqual(shown, byArea.map((f) => f.dominantEmotion));
    await page.screenshot({ path: path.join(ARTIFACTS, 'analyze.png'), fullPage: true });
  });

  it('Detect: the chosen detector\'s faces with their 68 landmarks; keyboard moves between tabs', async () => {
    await page.getByRole('tab', { name: 'Analyze' }).focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByRole('tab', { name: 'Detect' }).getAttribute('aria-selected'), 'true');
    await page.setInputFiles('[data-testid=detect-file]', path.join(DEMO, 'sample1.jpg'));
    await page.getByLabel('Detector').first().selectOption('tiny');
    await page.getByRole('button', { name: 'Detect', exact: true }).click();
    const count = page.locator('[data-testid=face-count]');
    await count.waitFor({ timeout: 30_000 });
    const expected = await visage.detect(path.join(DEMO, 'sample1.jpg'), { detector: 'tiny' });
    assert.equal(await count.textContent(), `${expected.faces.length} faces (tiny)`);
    const landmarks = await page.$$eval('#detect-result td:nth-child(4)', (cells) => cells.map((c) => c.textContent));
    assert.deepEqual(landmarks, expected.faces.map(() => '68'));
    await page.screenshot({ path: path.join(ARTIFACTS, 'detect.png'), fullPage: true });
  });

  it('Live: the fake camera\'s faces get boxes and track ids over the video; end-to-end fps measured', async () => {
    await page.getByRole('tab', { name: 'Live' }).click();
    await page.getByRole('button', { name: 'Start camera' }).click();
    await page.waitForFunction(() => (window as unknown as { visageLive: { frames: number } }).visageLive.frames >= 5, undefined, { timeout: 30_000 });
    const t0 = await page.evaluate(() => ({ frames: (window as unknown as { visageLive: { frames: number } }).visageLive.frames, at: performance.now() }));
    await page.waitForTimeout(3000);
    const live = await page.evaluate(() => {
      const stats = (window as unknown as { visageLive: { frames: number; faces: { trackId: number; box: { x: number; y: number; width: number; height: number } }[] } }).visageLive;
      const canvas = document.getElementById('live-canvas') as HTMLCanvasElement;
      const g = canvas.getContext('2d') as CanvasRenderingContext2D;
      // A lit pixel on each box's left edge, half-way down: the box is drawn.
      const edges = stats.faces.map((f) => g.getImageData(Math.round(f.box.x), Math.round(f.box.y + f.box.height / 2), 1, 1).data[3] ?? 0);
      return { frames: stats.frames, at: performance.now(), faces: stats.faces.length, ids: stats.faces.map((f) => f.trackId), edges };
    });
    const fps = ((live.frames - t0.frames) * 1000) / (live.at - t0.at);
    process.stderr.write(`live end-to-end: ${fps.toFixed(1)} fps (${live.frames - t0.frames} frames drawn in ${((live.at - t0.at) / 1000).toFixed(1)} s), ${live.faces} faces, tracks ${live.ids.join(',')}\n`);
    assert.ok(live.faces >= 2, `faces on the live video: ${live.faces}`);
    assert.ok(live.edges.every((alpha) => alpha > 0), 'each face has its box drawn');
    assert.ok(fps > 2, `live fps ${fps}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'live.png'), fullPage: true });
    await page.getByRole('button', { name: 'Stop' }).click();
  });
});
