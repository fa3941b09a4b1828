/**
 * Anti-spoofing through the library and the service, on the photos face-api ships (real photos):
 * the default model judges their faces real; verify, represent and analyze with antiSpoofing pass
 * on them; and where a face falls below the threshold, SPOOF_DETECTED names the image and face
 * with the same score analyze reports, and the service answers 400 with those details.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { createVisage, isVisageError, type Visage } from '../../src/index.js';
import { DEFAULT_SPOOF_MODEL, dtnReal } from '../../src/pipeline/spoof.js';
import { FACEAPI_DEMO_DIR } from '../reference/faceapi.js';
import { startService, type Service } from '../server/fixtures.js';

const photo = (n: number) => path.join(FACEAPI_DEMO_DIR, `sample${n}.jpg`);

describe('spoof scores', () => {
  it("maps the DTN's spoof score to real: 1 at 0, 0.5 at its authors' 0.2, 0 at 1, decreasing", () => {
    assert.equal(dtnReal(0), 1);
    assert.equal(dtnReal(0.2), 0.5);
    assert.equal(dtnReal(1), 0);
    assert.equal(dtnReal(1.3), 0);
    for (let s = 0; s < 1; s += 0.05) assert.ok(dtnReal(s + 0.05) < dtnReal(s), `at ${s}`);
  });
});

describe('anti-spoofing on the shipped photos', () => {
  let visage: Visage;
  let service: Service;
  before(async () => {
    visage = await createVisage({ threads: 1 });
    service = await startService({ visage });
  });
  after(async () => {
    await service?.close();
    await visage?.close();
  });

  it('the default model judges every face of the six photos real', async () => {
    for (const n of [1, 2, 3, 4, 5, 6]) {
      const { faces } = await visage.analyze(photo(n), { actions: ['spoof'] });
      assert.ok(faces.length >= 3, `sample${n}: ${faces.length} faces`);
      for (const [i, face] of faces.entries()) {
        assert.ok(face.spoof, `sample${n} face ${i} has a spoof judgement`);
        assert.equal(face.spoof.model, DEFAULT_SPOOF_MODEL);
        assert.ok(face.spoof.real >= 0 && face.spoof.real <= 1);
        assert.equal(face.spoof.isReal, true, `sample${n} face ${i}: real ${face.spoof.real}`);
        assert.equal(face.emotion, undefined, 'only the asked action');
      }
    }
  });

  it('verify, represent and analyze with antiSpoofing pass on real photos', async () => {
    const result = await visage.verify(photo(1), photo(2), { antiSpoofing: true });
    assert.equal(typeof result.verified, 'boolean');
    assert.ok((await visage.represent(photo(3), { antiSpoofing: true })).faces.length >= 3);
    assert.ok((await visage.analyze(photo(4), { antiSpoofing: true, actions: ['age'] })).faces.every((f) => f.age !== undefined));
    // With both, the check's judgements are the spoof action's: each face keeps its own.
    const alone = await visage.analyze(photo(5), { actions: ['spoof'] });
    const both = await visage.analyze(photo(5), { actions: ['spoof'], antiSpoofing: true });
    assert.deepEqual(both.faces.map((f) => f.spoof), alone.faces.map((f) => f.spoof));
  });

  it('SPOOF_DETECTED names the image (a or b), the face and its score, where a threshold sits between them', async () => {
    const lowest = async (n: number) => {
      const { faces } = await visage.analyze(photo(n), { actions: ['spoof'], spoofModel: 'antispoof' });
      return faces.map((f, i) => ({ i, real: (f.spoof as { real: number }).real })).reduce((p, q) => (q.real < p.real ? q : p));
    };
    const [low1, low2] = await Promise.all([lowest(1), lowest(2)]);
    assert.notEqual(low1.real, low2.real);
    // The threshold passes every face of one image and fails the other's lowest.
    const threshold = (low1.real + low2.real) / 2;
    const [failing, low] = low1.real < low2.real ? (['image a', low1] as const) : (['image b', low2] as const);
    await assert.rejects(visage.verify(photo(1), photo(2), { antiSpoofing: true, spoofModel: 'antispoof', spoofThreshold: threshold }), (err: unknown) => {
      assert.ok(isVisageError(err, 'SPOOF_DETECTED'), String(err));
      assert.equal(err.status, 400);
      assert.equal(err.details?.image, failing);
      assert.equal(err.details?.model, 'antispoof');
      assert.ok(Math.abs((err.details?.real as number) - low.real) < 1e-6, `${String(err.details?.real)} vs ${low.real}`);
      assert.match(err.message, new RegExp(`Spoof detected in ${failing}: face \\d+`));
      return true;
    });
    // The same through DeepFace's route: 400 and the details.
    const response = await service.request('/verify', { json: { img1: readFileSync(photo(1)).toString('base64'), img2: readFileSync(photo(2)).toString('base64'), anti_spoofing: true, spoof_model: 'antispoof', spoof_threshold: threshold } });
    const body = (await response.json()) as { error: string; details?: { image: string; real: number } };
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.match(body.error, /^Spoof detected in image [ab]/);
    assert.equal(body.details?.image, failing);
    // Without anti_spoofing the same request verifies.
    const plain = await service.request('/verify', { json: { img1: readFileSync(photo(1)).toString('base64'), img2: readFileSync(photo(2)).toString('base64'), spoof_threshold: threshold } });
    assert.equal(plain.status, 200);
  });

  it('the service: /analyze with the spoof action reports is_real and antispoof_score; anti_spoofing fails a photo at threshold 1', async () => {
    const img = readFileSync(photo(1)).toString('base64');
    const ok = await service.request('/analyze', { json: { img, actions: ['spoof'] } });
    const body = (await ok.json()) as { results: { is_real: boolean; antispoof_score: number; antispoof_model: string }[] };
    assert.equal(ok.status, 200, JSON.stringify(body));
    assert.ok(body.results.length >= 3 && body.results.every((r) => r.is_real === true && r.antispoof_score >= 0.5 && r.antispoof_model === DEFAULT_SPOOF_MODEL));
    const refused = await service.request('/represent', { json: { img, anti_spoofing: true, spoof_threshold: 1 } });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: string }).error, /^Spoof detected in the image/);
  });

  it('refuses an unknown spoof model or a threshold outside [0, 1]', async () => {
    await assert.rejects(visage.analyze(photo(1), { actions: ['spoof'], spoofModel: 'mirror' as never }), (err: unknown) => isVisageError(err, 'INVALID_ARGUMENT'));
    await assert.rejects(visage.verify(photo(1), photo(2), { antiSpoofing: true, spoofThreshold: 2 }), (err: unknown) => isVisageError(err, 'INVALID_ARGUMENT'));
  });

  it('the CLI: analyze --actions spoof prints the verdict; --anti-spoofing at threshold 1 fails with SPOOF_DETECTED (exit 1); a bad --spoof-model exits 2', async () => {
    const run = async (...argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await main(argv, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
      return { code, stdout, stderr };
    };
    const analysed = await run('analyze', photo(1), '--actions', 'spoof', '--threads', '1');
    assert.equal(analysed.code, 0, analysed.stderr);
    assert.match(analysed.stdout, new RegExp(`real \\(real \\d+\\.\\d%, ${DEFAULT_SPOOF_MODEL}\\)`));
    const refused = await run('verify', photo(1), photo(2), '--anti-spoofing', '--spoof-threshold', '1', '--threads', '1');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Spoof detected in image a.*\[SPOOF_DETECTED\]/);
    const usage = await run('represent', photo(1), '--spoof-model', 'mirror');
    assert.equal(usage.code, 2);
  });
});
