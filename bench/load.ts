/**
 * Load run on loopback: the service with the real library, several concurrent clients, a fixed
 * number of requests per route (autocannon), resident memory sampled throughout.
 *
 *   node --import tsx bench/load.ts [--requests 2000] [--connections 8] [--detected 200]
 *
 * Requests carry single-face crops of a shipped photo inline (base64 / data URI), so the run
 * measures the service and the networks, not a download. The main runs skip detection (the
 * DeepFace `skip` backend: the crop is the face); `--detected N` adds a shorter run of each route
 * with the default detector. Memory must not keep growing: the report compares RSS over the
 * first and last quarters of each run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createVisage } from '../src/index.js';
import { buildServer } from '../src/server/index.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
type Autocannon = (options: {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  connections: number;
  amount: number;
  timeout: number;
}) => Promise<AutocannonResult>;
// autocannon ships no type declarations; this is the slice of its API used here.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    connections: { type: 'string', default: '8' },
    detected: { type: 'string', default: '200' },
  },
});
const REQUESTS = Number(args.requests);
const CONNECTIONS = Number(args.connections);
const DETECTED = Number(args.detected);

const MB = 1024 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Samples RSS every 100 ms until stopped. */
function sampleMemory(): () => number[] {
  const samples: number[] = [process.memoryUsage().rss];
  const timer = setInterval(() => samples.push(process.memoryUsage().rss), 100);
  return () => {
    clearInterval(timer);
    samples.push(process.memoryUsage().rss);
    return samples;
  };
}

interface Row {
  name: string;
  requests: number;
  result: AutocannonResult;
  rss: number[];
}

const photo = 'node_modules/@vladmandic/face-api/demo/sample1.jpg';
const visage = await createVisage();
const { faces } = await visage.detect(photo);
const face = [...faces].sort((p, q) => q.score - p.score)[0];
if (!face) throw new Error(`no face in ${photo}`);
const { box } = face;
const region = {
  left: Math.max(0, Math.round(box.x - box.width * 0.4)),
  top: Math.max(0, Math.round(box.y - box.height * 0.4)),
  width: Math.round(box.width * 1.8),
  height: Math.round(box.height * 1.8),
};
const crop = await sharp(photo).extract(region).jpeg().toBuffer();
const mirror = await sharp(photo).extract(region).flop().jpeg().toBuffer();

const store = await mkdtemp(path.join(tmpdir(), 'visage-load-'));
const app = await buildServer({ visage, store });
await app.listen({ host: '127.0.0.1', port: 0 });
const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

const scenarios = (detect: boolean) => [
  {
    name: `/verify${detect ? ' (ssd)' : ' (skip)'}`,
    path: '/verify',
    body: { img1: crop.toString('base64'), img2: mirror.toString('base64'), ...(detect ? {} : { detector_backend: 'skip' }) },
  },
  {
    name: `/api/analyze/emotion${detect ? ' (ssd)' : ' (whole)'}`,
    path: '/api/analyze/emotion',
    body: { image_url: `data:image/jpeg;base64,${crop.toString('base64')}`, face_detection: detect },
  },
];

async function load(pathname: string, body: object, amount: number): Promise<AutocannonResult> {
  return autocannon({
    url: `${origin}${pathname}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    connections: CONNECTIONS,
    amount,
    timeout: 60,
  });
}

const rows: Row[] = [];
try {
  for (const [detect, amount] of [[false, REQUESTS], [true, DETECTED]] as const) {
    if (amount <= 0) continue;
    for (const scenario of scenarios(detect)) {
      await load(scenario.path, scenario.body, CONNECTIONS * 4); // warm-up: models loaded, pools filled
      const stop = sampleMemory();
      const result = await load(scenario.path, scenario.body, amount);
      rows.push({ name: scenario.name, requests: amount, result, rss: stop() });
      process.stderr.write(`${scenario.name}: done\n`);
    }
  }
} finally {
  await app.close();
  await visage.close();
  await rm(store, { recursive: true, force: true });
}

const header = ['route', 'requests', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'RSS first¼ MB', 'RSS last¼ MB', 'RSS max MB'];
const table = rows.map(({ name, requests, result, rss }) => {
  const quarter = Math.max(1, Math.floor(rss.length / 4));
  return [
    name,
    String(requests),
    String(CONNECTIONS),
    (result.requests.total / result.duration).toFixed(1),
    String(result.latency.p50),
    String(result.latency.p99),
    String(result.errors + result.timeouts),
    String(result.non2xx),
    (median(rss.slice(0, quarter)) / MB).toFixed(0),
    (median(rss.slice(-quarter)) / MB).toFixed(0),
    (Math.max(...rss) / MB).toFixed(0),
  ];
});
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
console.log(`visage load run — loopback, ${CONNECTIONS} concurrent clients, Node ${process.version}, single-face crop ${region.width}x${region.height}`);
console.log(line(header));
for (const row of table) console.log(line(row));
const failed = rows.some(({ result }) => result.errors + result.timeouts + result.non2xx > 0);
if (failed) {
  console.error('load run: some requests failed');
  process.exitCode = 1;
}
