/**
 * The BlazeFace oracle: MediaPipe's own face detection solution (@mediapipe/face_detection, its
 * JS + wasm, browser-only: its graph runs on WebGL) in headless Chromium (/usr/bin/chromium via
 * playwright-core, SwiftShader's WebGL 2). Its graph letterboxes the image on the GPU, runs the
 * TFLite model (CPU inference, as its useCpuInference option allows), decodes with
 * TensorsToDetectionsCalculator and merges with the WEIGHTED NonMaxSuppressionCalculator.
 *
 * Two changes to how the page would load it, both stated here: the files are served from
 * node_modules through a route (no web server), and for the full-range model the solution asks
 * for face_detection_full_range_sparse.tflite, which is answered with
 * face_detection_full_range.tflite, the dense model visage runs (same I/O, 2304 anchors), so
 * both sides run the same network. minDetectionConfidence is not set: setting it replaces the
 * TensorsToDetections options with that one field and the graph aborts (options_.has_num_classes()
 * fails, seen with this 0.4.1657300184 build); the graph's own thresholds apply (0.5 short, 0.6 full).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';

const require = createRequire(import.meta.url);
export const CHROMIUM = '/usr/bin/chromium';
const MP_DIR = path.dirname(require.resolve('@mediapipe/face_detection/package.json'));
const ORIGIN = 'http://mediapipe.test';

/** A face as MediaPipe reports it, in source pixels. */
export interface MediaPipeFace {
  box: { x: number; y: number; width: number; height: number };
  keypoints: { x: number; y: number }[];
}

export interface MediaPipeReference {
  detect(file: string, model: 'short' | 'full'): Promise<MediaPipeFace[]>;
  close(): Promise<void>;
}

export const mediaPipeAvailable = (): boolean => existsSync(CHROMIUM);

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.jpg': 'image/jpeg', '.html': 'text/html' };

export async function loadMediaPipeReference(): Promise<MediaPipeReference> {
  const { chromium } = await import('playwright-core');
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--disable-quic', '--no-first-run', '--disable-background-networking'],
  });
  const images = new Map<string, string>();
  const pages = new Map<string, Promise<Page>>();

  async function open(model: 'short' | 'full'): Promise<Page> {
    const page = await browser.newPage();
    await page.route(`${ORIGIN}/**`, async (route) => {
      const name = decodeURIComponent(new URL(route.request().url()).pathname.slice(1));
      let file: string | undefined;
      if (name === 'index.html') return route.fulfill({ body: '<html><body><script src="/mp/face_detection.js"></script></body></html>', contentType: 'text/html' });
      if (name.startsWith('mp/')) file = path.join(MP_DIR, name.slice(3).replace('face_detection_full_range_sparse.tflite', 'face_detection_full_range.tflite'));
      if (name.startsWith('img/')) file = images.get(name.slice(4));
      if (!file) return route.fulfill({ status: 404 });
      return route.fulfill({ body: await readFile(file), contentType: TYPES[path.extname(file)] ?? 'application/octet-stream' });
    });
    await page.goto(`${ORIGIN}/index.html`);
    // A string, not a function: the test runner's transpiler would add helpers the page lacks.
    await page.evaluate(`(async () => {
      const fd = new window.FaceDetection({ locateFile: (f) => '/mp/' + f });
      fd.setOptions({ model: '${model}', useCpuInference: true, selfieMode: false });
      let last = null;
      fd.onResults((r) => { last = r.detections; });
      await fd.initialize();
      window.detectFaces = async (url) => {
        const img = new Image();
        img.src = url;
        await img.decode();
        last = null;
        await fd.send({ image: img });
        const w = img.naturalWidth, h = img.naturalHeight;
        return (last ?? []).map((d) => ({
          box: { x: (d.boundingBox.xCenter - d.boundingBox.width / 2) * w, y: (d.boundingBox.yCenter - d.boundingBox.height / 2) * h, width: d.boundingBox.width * w, height: d.boundingBox.height * h },
          keypoints: d.landmarks.map((p) => ({ x: p.x * w, y: p.y * h })),
        }));
      };
    })()`);
    return page;
  }

  return {
    async detect(file, model) {
      let page = pages.get(model);
      if (!page) {
        page = open(model);
        pages.set(model, page);
      }
      const key = `${images.size}${path.extname(file)}`;
      images.set(key, file);
      return (await page).evaluate(`window.detectFaces('/img/${key}')`) as Promise<MediaPipeFace[]>;
    },
    close: () => browser.close(),
  };
}
