/**
 * Start-up time: a fresh process's first `createVisage` + first `verify` of two shipped photos
 * (face-api's demo sample1.jpg and sample2.jpg), with the compiled-graph cache off (every network
 * built from its npm weights), cold (an empty cache folder, filled by the run) and warm (a filled
 * folder). Runs interleave the three so machine load hits them alike; medians are reported.
 *
 *   node --import tsx bench/start.ts [--runs 5] [--threads N]
 *
 * "in process" is createVisage + verify as timed inside the child; "process" is the child's wall
 * time from spawn to exit (Node and tsx start-up, imports, and exit included).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' }, threads: { type: 'string' }, child: { type: 'boolean' } } });
const demoDir = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
const [photoA, photoB] = ['sample1.jpg', 'sample2.jpg'].map((f) => path.join(demoDir, f)) as [string, string];

if (args.child) {
  const { createVisage } = await import('../src/index.js');
  const t0 = performance.now();
  const visage = await createVisage(args.threads === undefined ? {} : { threads: Number(args.threads) });
  const result = await visage.verify(photoA, photoB);
  const ms = performance.now() - t0;
  await visage.close();
  console.log(JSON.stringify({ ms, verified: result.verified }));
} else {
  const runs = Number(args.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('Expected a positive integer for --runs');
  const run = promisify(execFile);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'visage-start-'));
  const warmDir = path.join(scratch, 'warm');
  const child = async (env: NodeJS.ProcessEnv) => {
    const t0 = performance.now();
    const extra = args.threads === undefined ? [] : ['--threads', args.threads];
    const { stdout } = await run(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', ...extra], { env: { ...process.env, ...env } });
    return { inProcess: (JSON.parse(stdout) as { ms: number }).ms, process: performance.now() - t0 };
  };
  await child({ VISAGE_CACHE_DIR: warmDir }); // fills the warm folder
  const modes = {
    off: () => child({ VISAGE_CACHE: 'off' }),
    cold: async () => {
      const dir = await mkdtemp(path.join(scratch, 'cold-'));
      try {
        return await child({ VISAGE_CACHE_DIR: dir });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    warm: () => child({ VISAGE_CACHE_DIR: warmDir }),
  };
  const samples: Record<string, { inProcess: number[]; process: number[] }> = {};
  for (let i = 0; i < runs; i++) {
    for (const [name, fn] of Object.entries(modes)) {
      const s = await fn();
      const entry = (samples[name] ??= { inProcess: [], process: [] });
      entry.inProcess.push(s.inProcess);
      entry.process.push(s.process);
    }
  }
  await rm(scratch, { recursive: true, force: true });
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
  console.log(`${runs} fresh processes per mode, ${os.availableParallelism()} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('| cache | createVisage + first verify, s | whole process, s |');
  console.log('|---|---|---|');
  for (const [name, s] of Object.entries(samples)) {
    console.log(`| ${name} | ${(median(s.inProcess) / 1000).toFixed(2)} | ${(median(s.process) / 1000).toFixed(2)} |`);
  }
}
