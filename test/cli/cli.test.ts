/**
 * The command line, run in-process through main() with its output captured.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { main } from '../../src/cli/main.js';
import type { AnalyzeResult, DetectResult, VerifyResult } from '../../src/index.js';

const SAMPLE = 'node_modules/@vladmandic/face-api/demo/sample1.jpg';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(...argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);

describe('visage CLI', () => {
  let dir: string;
  let mirrorPath: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'visage-cli-'));
    mirrorPath = path.join(dir, 'mirror.jpg');
    await writeFile(mirrorPath, await sharp(SAMPLE).flop().jpeg({ quality: 95 }).toBuffer());
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--help on the program and on every command, with examples, exit 0', async () => {
    const top = await run('--help');
    assert.equal(top.code, 0);
    for (const command of ['detect', 'represent', 'verify', 'analyze', 'demo', 'serve']) assert.match(top.stdout, new RegExp(`^  ${command} `, 'm'));
    const serve = await run('serve', '--help');
    assert.equal(serve.code, 0, serve.stderr);
    assert.match(serve.stdout, /^Usage: visage serve /);
    assert.match(serve.stdout, /--precision/);
    for (const command of ['detect', 'represent', 'verify', 'analyze', 'demo']) {
      const { code, stdout, stderr } = await run(command, '--help');
      assert.equal(code, 0, stderr);
      assert.match(stdout, new RegExp(`^Usage: visage ${command} `));
      assert.match(stdout, /Examples:\n {2}\$ visage /);
      assert.equal(stderr, '');
    }
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const { code, stdout } = await run('--version');
    assert.equal(code, 0);
    assert.equal(stdout.trim(), version);
  });

  it('verify --json: a photo against its mirror image (as a data: URI) is the same person', async () => {
    const mirrorUri = `data:image/jpeg;base64,${(await readFile(mirrorPath)).toString('base64')}`;
    const { code, stdout, stderr } = await run('verify', SAMPLE, mirrorUri, '--json');
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout) as VerifyResult;
    assert.equal(result.verified, true);
    assert.ok(result.distance < result.threshold);
    assert.equal(result.metric, 'euclidean');
    assert.ok(result.faces.a && result.faces.b);
  });

  it('verify --recognizer: a built-in one by name; a JSON spec whose model path is relative to it; bad values are usage errors', async () => {
    const chosen = await run('verify', SAMPLE, mirrorPath, '--recognizer', 'mobilefacenet', '--json');
    assert.equal(chosen.code, 0, chosen.stderr);
    const result = JSON.parse(chosen.stdout) as VerifyResult;
    assert.equal(result.model, 'mobilefacenet-192');
    assert.equal(result.verified, true);

    const spec = path.join(dir, 'specs', 'mine.json');
    await mkdir(path.dirname(spec), { recursive: true });
    await writeFile(spec, JSON.stringify({ onnx: 'mine.onnx', inputSize: 112 }));
    const missing = await run('verify', SAMPLE, mirrorPath, '--recognizer', spec, '--threshold', '0.5');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /FILE_NOT_FOUND/);
    assert.ok(missing.stderr.includes(path.join(dir, 'specs', 'mine.onnx')), missing.stderr);

    for (const bad of ['vgg-face', path.join(dir, 'absent.json')]) {
      const usage = await run('verify', SAMPLE, mirrorPath, '--recognizer', bad);
      assert.equal(usage.code, 2, `${bad}: ${usage.stderr}`);
      assert.match(usage.stderr, /--recognizer/);
    }
  });

  it('detect --out writes a PNG of the image size with magenta outlines on the detected boxes', async () => {
    const out = path.join(dir, 'faces.png');
    const { code, stdout, stderr } = await run('detect', SAMPLE, '--json', '--out', out);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout) as DetectResult;
    assert.ok(result.faces.length >= 2);
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    assert.equal((await sharp(out).metadata()).format, 'png');
    assert.deepEqual([info.width, info.height], [result.width, result.height]);
    for (const { box } of result.faces) {
      // A pixel on the top edge, a third of the way along.
      const x = Math.round(box.x + box.width / 3);
      const y = Math.round(box.y);
      const o = (y * info.width + x) * info.channels;
      assert.deepEqual([...data.subarray(o, o + 3)], [255, 0, 255], `box ${JSON.stringify(box)}`);
    }
  });

  it('detect --precision int8: the same faces as fp32, with the int8 network\'s scores (the flag reaches the library)', async () => {
    const [fp32, int8] = await Promise.all([run('detect', SAMPLE, '--json'), run('detect', SAMPLE, '--json', '--precision', 'int8')]);
    assert.equal(int8.code, 0, int8.stderr);
    const [a, b] = [fp32, int8].map((r) => (JSON.parse(r.stdout) as DetectResult).faces.map((f) => f.score).sort((x, y) => y - x)) as [number[], number[]];
    assert.equal(b.length, a.length);
    assert.ok(b.some((s, i) => Math.abs(s - (a[i] as number)) > 1e-3), `scores ${b.join(', ')} are fp32's ${a.join(', ')}`);
  });

  it('a missing file: exit 1, one line on stderr with FILE_NOT_FOUND, nothing on stdout', async () => {
    const { code, stdout, stderr } = await run('analyze', path.join(dir, 'nope.jpg'));
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.equal(lines(stderr).length, 1, stderr);
    assert.match(stderr, /^visage: .*nope\.jpg.* \[FILE_NOT_FOUND\]\n$/);
  });

  it('usage errors exit 2 with one line: unknown option, bad value, wrong argument count', async () => {
    for (const argv of [
      ['detect', SAMPLE, '--no-such-option'],
      ['detect', SAMPLE, '--detector', 'retinaface'],
      ['detect', SAMPLE, '--mode', 'precise'],
      ['detect', SAMPLE, '--min-score', '2'],
      ['detect', SAMPLE, '--precision', 'int16'],
      ['analyze', SAMPLE, '--actions', 'emotion,race'],
      ['analyze', SAMPLE, '--emotion-model', 'deepface'],
      ['analyze', SAMPLE, '--age-gender-model', 'ssrnet'],
      ['verify', SAMPLE],
      ['verify', SAMPLE, SAMPLE, SAMPLE],
      ['frobnicate'],
      ['serve', '--port', '70000'],
      ['serve', '--precision', 'int4'],
      ['serve', '--frobnicate'],
    ]) {
      const { code, stdout, stderr } = await run(...argv);
      assert.equal(code, 2, argv.join(' '));
      assert.equal(stdout, '');
      assert.equal(lines(stderr).length, 1, stderr);
      assert.match(stderr, /^visage: .* \[INVALID_ARGUMENT\]\n$/);
    }
  });

  it('analyze --emotion-model human --age-gender-model faceres: each face names the models', async () => {
    const { code, stdout } = await run('analyze', SAMPLE, '--json', '--emotion-model', 'human', '--age-gender-model', 'faceres', '--threads', '1');
    assert.equal(code, 0);
    const result = JSON.parse(stdout) as AnalyzeResult;
    assert.ok(result.faces.length >= 2);
    for (const face of result.faces) {
      assert.deepEqual(face.models, { emotion: 'human', ageGender: 'faceres' });
      assert.ok(face.dominantEmotion && face.age !== undefined && face.dominantGender);
    }
  });

  it('several images: progress on stderr, a failed image reported and skipped, JSON array, exit 1', async () => {
    const missing = path.join(dir, 'missing.jpg');
    const { code, stdout, stderr } = await run('detect', SAMPLE, missing, '--json', '--detector', 'tiny');
    assert.equal(code, 1);
    const entries = JSON.parse(stdout) as { input: string; result?: DetectResult; error?: { code: string; message: string } }[];
    assert.equal(entries.length, 2);
    assert.equal(entries[0]?.input, SAMPLE);
    assert.ok((entries[0]?.result?.faces.length ?? 0) >= 2);
    assert.equal(entries[1]?.input, missing);
    assert.equal(entries[1]?.result, undefined);
    assert.equal(entries[1]?.error?.code, 'FILE_NOT_FOUND');
    assert.match(entries[1]?.error?.message ?? '', /^No file at /);
    assert.deepEqual(
      lines(stderr).map((l) => l.replace(/ \(the string.*$/, '')),
      [`[1/2] ${SAMPLE}`, `[2/2] ${missing}`, `visage: ${missing}: No file at ${JSON.stringify(missing)}`, 'visage: 1 of 2 images failed'],
    );
  });

  it('represent FOLDER --json: every image under the folder, in name order, one JSON array; other files ignored', async () => {
    const library = path.join(dir, 'library');
    await mkdir(path.join(library, 'holiday'), { recursive: true });
    await writeFile(path.join(library, 'a.jpg'), await readFile(SAMPLE));
    await writeFile(path.join(library, 'holiday', 'b.png'), await sharp(mirrorPath).png().toBuffer());
    await writeFile(path.join(library, 'notes.txt'), 'not an image');
    await writeFile(path.join(library, '.hidden.jpg'), 'hidden and broken');
    const { code, stdout, stderr } = await run('represent', library, '--json', '--recognizer', 'mobilefacenet');
    assert.equal(code, 0, stderr);
    const entries = JSON.parse(stdout) as { input: string; result?: { model: string; faces: { embedding: number[] }[] } }[];
    assert.deepEqual(entries.map((e) => e.input), [path.join(library, 'a.jpg'), path.join(library, 'holiday', 'b.png')]);
    for (const e of entries) {
      assert.equal(e.result?.model, 'mobilefacenet-192');
      assert.ok((e.result?.faces.length ?? 0) >= 2);
    }
    assert.deepEqual(lines(stderr), [`[1/2] ${entries[0]?.input}`, `[2/2] ${entries[1]?.input}`]);

    // --workers 2: the same entries, in the same order, from two worker threads.
    const pooled = await run('represent', library, '--json', '--recognizer', 'mobilefacenet', '--workers', '2');
    assert.equal(pooled.code, 0, pooled.stderr);
    const again = JSON.parse(pooled.stdout) as typeof entries;
    assert.deepEqual(again.map((e) => e.input), entries.map((e) => e.input));
    again.forEach((e, i) => {
      const faces = entries[i]?.result?.faces ?? [];
      assert.equal(e.result?.faces.length, faces.length);
      e.result?.faces.forEach((f, k) => assert.ok(f.embedding.every((v, j) => Math.abs(v - (faces[k]?.embedding[j] ?? Number.NaN)) < 1e-4), `${e.input} face ${k}`));
    });
    assert.equal((await run('represent', library, '--workers', '0')).code, 2);

    const empty = path.join(dir, 'empty');
    await mkdir(empty);
    const none = await run('represent', empty, '--json');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /No image files .* in the folder .*\[FILE_NOT_FOUND\]/);
  });

  it('demo --out-dir writes its four pictures and says where; the verdicts are the known ones', async () => {
    const outDir = path.join(dir, 'demo');
    const { code, stdout, stderr } = await run('demo', '--out-dir', outDir);
    assert.equal(code, 0, stderr);
    const files = ['analyze.png', 'detect.png', 'verify-different.png', 'verify-same.png'];
    assert.deepEqual((await readdir(outDir)).sort(), files);
    for (const file of files) assert.equal((await sharp(path.join(outDir, file)).metadata()).format, 'png');
    assert.match(stdout, new RegExp(`Wrote 4 pictures to ${outDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n$`));
    assert.match(stdout, /verify-same\.png .*→ Same Person: /);
    assert.match(stdout, /verify-different\.png .*→ Different Person: /);
  });
});
