/**
 * The gallery commands: index a folder (identity = sub-folder) with a corrupt file in it, index
 * again (all skipped), resume a killed run without duplicates, find people, list and remove.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { main } from '../../src/cli/main.js';
import type { GalleryInfo, SearchResult } from '../../src/index.js';

const SAMPLE = 'node_modules/@vladmandic/face-api/demo/sample1.jpg';
// sample1's three faces, with a margin (x, y, width, height).
const PEOPLE: [string, number, number, number, number][] = [
  ['anna', 300, 230, 400, 480],
  ['bea', 730, 300, 400, 470],
  ['cleo', 1380, 80, 400, 480],
];

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

describe('visage index / find / gallery', () => {
  let dir: string;
  let people: string;
  let store: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'visage-cli-gallery-'));
    people = path.join(dir, 'people');
    store = path.join(dir, 'galleries.sqlite');
    const { width = 0, height = 0 } = await sharp(SAMPLE).metadata();
    for (const [name, x, y, w, h] of PEOPLE) {
      await mkdir(path.join(people, name), { recursive: true });
      const region = { left: x, top: y, width: Math.min(w, width - x), height: Math.min(h, height - y) };
      await writeFile(path.join(people, name, 'one.jpg'), await sharp(SAMPLE).extract(region).jpeg({ quality: 92 }).toBuffer());
      await writeFile(path.join(people, name, 'two.png'), await sharp(SAMPLE).extract(region).flop().resize(300).png().toBuffer());
    }
    // A truncated JPEG among good photos.
    const good = await readFile(path.join(people, 'bea', 'one.jpg'));
    await writeFile(path.join(people, 'bea', 'broken.jpg'), good.subarray(0, 200));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('indexes every photo, reports the corrupt one and goes on; a second run skips them all', async () => {
    const first = await run('index', people, '--gallery', 'team', '--store', store, '--json');
    assert.equal(first.code, 1, first.stderr);
    const summary = JSON.parse(first.stdout) as { images: number; facesAdded: number; imagesAdded: number; skipped: number; failed: { file: string; code: string }[] };
    assert.equal(summary.images, 7);
    assert.equal(summary.imagesAdded, 6);
    assert.equal(summary.facesAdded, 6);
    assert.equal(summary.skipped, 0);
    assert.deepEqual(
      summary.failed.map((f) => [f.file, f.code]),
      [[path.join('bea', 'broken.jpg'), 'INVALID_IMAGE']],
    );
    assert.match(first.stderr, /\[1\/7\] anna[/\\]one\.jpg: 1 face added as anna/);
    assert.match(first.stderr, /broken\.jpg: failed: .*\[INVALID_IMAGE\]/);

    const second = await run('index', people, '--gallery', 'team', '--store', store);
    assert.equal(second.code, 1);
    assert.match(second.stdout, /0 faces added from 0 images, 6 skipped \(already indexed\), 1 failed/);

    const list = await run('gallery', 'list', '--store', store, '--json');
    assert.equal(list.code, 0, list.stderr);
    const [team] = JSON.parse(list.stdout) as GalleryInfo[];
    assert.deepEqual(team, { name: 'team', model: 'fusion-dlib-mobilefacenet', dimension: 320, faces: 6, identities: 3 });
  });

  it('find names each face of the group photo, and draws them beside their matches', async () => {
    const picture = path.join(dir, 'who.png');
    const { code, stdout, stderr } = await run('find', SAMPLE, '--gallery', 'team', '--store', store, '--k', '2', '--json', '--out', picture);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout) as SearchResult;
    const named = result.faces.map((f) => [Math.round((f.box?.x ?? 0) / 100), f.identity]).sort((a, b) => Number(a[0]) - Number(b[0]));
    assert.deepEqual(
      named.map((n) => n[1]),
      ['anna', 'bea', 'cleo'],
    );
    for (const face of result.faces) {
      assert.equal(face.matches.length, 2);
      // Both enrolled photos of the person come first.
      assert.ok(face.matches.every((m) => m.identity === face.identity && m.verified));
    }
    const meta = await sharp(picture).metadata();
    assert.equal(meta.format, 'png');
    assert.ok((meta.width ?? 0) >= 3 * 150 && (meta.height ?? 0) >= 3 * 150, `${meta.width}x${meta.height}`);

    const text = await run('find', SAMPLE, '--gallery', 'team', '--store', store, '--k', '1');
    assert.match(text.stdout, /: anna\n/);
  });

  it('a killed index run resumes without duplicates', async () => {
    const cli = path.resolve('src/cli/run.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'index', people, '--gallery', 'killed', '--store', store], { stdio: ['ignore', 'ignore', 'pipe'] });
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        // Killed mid-run: after the second photo, while the third is under way.
        if (/\[2\/7\].*added/.test(seen)) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    assert.match(seen, /\[2\/7\]/);
    assert.doesNotMatch(seen, /\[7\/7\]/, 'killed before the end');
    const resumed = await run('index', people, '--gallery', 'killed', '--store', store, '--json');
    const summary = JSON.parse(resumed.stdout) as { facesAdded: number; skipped: number };
    assert.ok(summary.skipped >= 2, `skipped ${summary.skipped}`);
    assert.equal(summary.facesAdded + summary.skipped, 6);
    const identities = JSON.parse((await run('gallery', 'list', 'killed', '--store', store, '--json')).stdout) as { identity: string; faces: number }[];
    assert.deepEqual(identities, [
      { identity: 'anna', faces: 2 },
      { identity: 'bea', faces: 2 },
      { identity: 'cleo', faces: 2 },
    ]);
  });

  it('gallery remove drops an identity, then the whole gallery; a missing gallery is GALLERY_NOT_FOUND', async () => {
    const removed = await run('gallery', 'remove', 'killed', 'bea', '--store', store);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /removed 2 faces from gallery killed/);
    assert.match((await run('gallery', 'list', 'killed', '--store', store)).stdout, /^anna: 2 faces\ncleo: 2 faces\n$/);
    assert.equal((await run('gallery', 'remove', 'killed', '--store', store)).code, 0);
    const missing = await run('gallery', 'remove', 'killed', '--store', store);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\[GALLERY_NOT_FOUND\]/);
    const { stdout } = await run('gallery', 'list', '--store', store);
    assert.equal(stdout, 'team: 3 identities, 6 faces (fusion-dlib-mobilefacenet, 320-d)\n');
  });
});
