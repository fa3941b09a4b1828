/**
 * Resident memory of `visage serve` under a long mixed load: the built CLI runs as a process
 * of its own, the harness sends it `--requests` requests (default 1,000) from `--clients`
 * clients at once, rotating through the routes a service gets (DeepFace verify / represent /
 * analyze, the seed's emotion route, gallery enrolment and recognition), on face crops and whole
 * group photos that ship with face-api. The serving process's RSS (VmRSS) and peak (VmHWM) are
 * read from /proc after the warm-up and at every quarter. The server inherits the environment, so
 * allocator settings are measured by setting them on this command (MALLOC_ARENA_MAX=2,
 * LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2).
 *
 *   npm run build && node --import tsx bench/service-rss.ts [--requests 1000] [--clients 2]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({ options: { requests: { type: 'string', default: '1000' }, clients: { type: 'string', default: '2' } } });
const REQUESTS = Number(args.requests);
const CLIENTS = Number(args.clients);
const DEMO = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');

/** Each photo whole, and a square from its upper middle (where its people's faces are). */
const photo = (i: number) => readFile(path.join(DEMO, `sample${i}.jpg`));
const group = await Promise.all([1, 2, 3, 4, 5, 6].map(photo));
const crops = await Promise.all(
  group.map(async (bytes) => {
    const { width = 0, height = 0 } = await sharp(bytes).metadata();
    const side = Math.round(Math.min(width, height) * 0.45);
    return sharp(bytes).extract({ left: Math.round((width - side) / 2), top: Math.round((height - side) / 4), width: side, height: side }).jpeg().toBuffer();
  }),
);
const b64 = (b: Buffer) => b.toString('base64');

/**
 * The k-th request of the mix: [path, JSON body]. Each round of six routes takes the next photo
 * (k % 6 picks the route, so the photo turns with the round); `/represent` and every other
 * `/analyze` and recognition get the whole group photo.
 */
function request(k: number): [string, object] {
  const round = Math.floor(k / 6);
  const g = group[round % group.length] as Buffer;
  const c = crops[round % crops.length] as Buffer;
  const other = group[(round + 1) % group.length] as Buffer;
  switch (k % 6) {
    case 0:
      return ['/verify', { img1: b64(g), img2: b64(other) }];
    case 1:
      return ['/represent', { img: b64(g) }];
    case 2:
      return ['/analyze', { img: b64(round % 2 === 0 ? g : c) }];
    case 3:
      return ['/api/analyze/emotion', { image_url: `data:image/jpeg;base64,${b64(c)}` }];
    case 4:
      return [`/api/v1/recognition/faces?subject=person${round % 50}`, { file: b64(c) }];
    default:
      return ['/api/v1/recognition/recognize', { file: b64(round % 2 === 0 ? g : c) }];
  }
}

const store = await mkdtemp(path.join(tmpdir(), 'visage-rss-'));
const server = spawn(process.execPath, [path.join(ROOT, 'bin/visage.js'), 'serve', '--port', '0', '--store', store], { stdio: ['ignore', 'ignore', 'pipe'] });
const origin = await new Promise<string>((resolve, reject) => {
  let out = '';
  server.stderr.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
    if (match) resolve(match[1] as string);
  });
  server.on('exit', (code) => reject(new Error(`visage serve exited (${code}): ${out}`)));
});

async function memory(): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${server.pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

let next = 0;
/** Answers by route and status. */
const statuses = new Map<string, number>();
async function client(until: number): Promise<void> {
  for (let k = next++; k < until; k = next++) {
    const [route, body] = request(k);
    const res = await fetch(`${origin}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await res.arrayBuffer();
    const key = `${route.split('?')[0]} ${res.status}`;
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
  }
}

const rows: string[] = [];
const started = performance.now();
try {
  // Warm-up: one of each request, so every network of the mix is loaded.
  for (let k = 0; k < 6; k++) {
    next = k;
    await client(k + 1);
  }
  const warm = await memory();
  rows.push(`| after warm-up (6) | ${warm.rss.toFixed(0)} | ${warm.peak.toFixed(0)} |`);
  next = 6;
  for (let quarter = 1; quarter <= 4; quarter++) {
    const until = 6 + Math.round((REQUESTS * quarter) / 4);
    await Promise.all(Array.from({ length: CLIENTS }, () => client(until)));
    const m = await memory();
    rows.push(`| after ${until - 6} | ${m.rss.toFixed(0)} | ${m.peak.toFixed(0)} |`);
    process.stderr.write(`${until - 6} requests, RSS ${m.rss.toFixed(0)} MB, peak ${m.peak.toFixed(0)} MB\n`);
  }
} finally {
  server.kill();
  await rm(store, { recursive: true, force: true });
}
console.log(`visage serve, ${REQUESTS} mixed requests from ${CLIENTS} clients in ${((performance.now() - started) / 1000).toFixed(0)} s; statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`);
console.log('| point | RSS MB | peak RSS MB |\n|---|---|---|');
for (const row of rows) console.log(row);
