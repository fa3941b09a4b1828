#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled library (dist/cli/main.js).
//
// On Linux it first starts itself again with MALLOC_MMAP_THRESHOLD_ fixed at 128 KiB. glibc's
// malloc otherwise raises that threshold each time a large block is freed, after which ONNX
// Runtime's activation buffers (megabytes, freed after every run) stay in the process: a
// `visage serve` grew from 460 to 980 MB over 1,000 requests, and stays near 340 MB with it.
// glibc reads the setting only when a process starts, hence the second start (about 40 ms).
// A MALLOC_MMAP_THRESHOLD_ of the user's own is left alone; VISAGE_NO_RELAUNCH=1 skips this.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const relaunch = process.platform === 'linux' && process.env.MALLOC_MMAP_THRESHOLD_ === undefined && process.env.VISAGE_NO_RELAUNCH !== '1';

if (relaunch) {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' },
  });
  // Ctrl-C reaches both processes from the terminal: the child handles it (serve closes
  // cleanly). A signal sent to this process alone (a supervisor's SIGTERM) is passed on.
  const forward = (signal) => () => child.kill(signal);
  const handlers = { SIGINT: () => {}, SIGTERM: forward('SIGTERM'), SIGHUP: forward('SIGHUP') };
  for (const [signal, handler] of Object.entries(handlers)) process.on(signal, handler);
  child.on('error', (err) => {
    console.error(`visage: could not start: ${err.message}`);
    process.exitCode = 1;
  });
  child.on('exit', (code, signal) => {
    for (const [name, handler] of Object.entries(handlers)) process.off(name, handler);
    if (signal) process.kill(process.pid, signal);
    else process.exitCode = code ?? 1;
  });
} else {
  const { main } = await import('../dist/cli/main.js');
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err) => { console.error(`visage: ${err instanceof Error ? err.message : String(err)}`); process.exitCode = 1; },
  );
}
