import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../bench/lib/random.js';
import {
  accuracyAt,
  bestThreshold,
  crossValidate,
  fitLogisticScale,
  imageFile,
  meanStd,
  parsePairs,
  rocAuc,
  tarAtFar,
  type Scored,
} from '../../bench/lib/lfw-protocol.js';

const same = (distance: number): Scored => ({ distance, same: true });
const diff = (distance: number): Scored => ({ distance, same: false });

describe('parsePairs', () => {
  const text = ['2\t2', 'Ann\t1\t2', 'Ann\t1\t3', 'Ann\t2\tBob\t1', 'Cy\t4\tBob\t2', 'Dee\t1\t2', 'Eve\t3\t5', 'Dee\t1\tEve\t1', 'Fay\t10\tGus\t2', ''].join('\n');

  it('reads folds of same- then different-person pairs', () => {
    const folds = parsePairs(text);
    assert.equal(folds.length, 2);
    assert.deepEqual(folds[0]?.map((p) => p.same), [true, true, false, false]);
    assert.deepEqual(folds[0]?.[2], { a: { name: 'Ann', index: 2 }, b: { name: 'Bob', index: 1 }, same: false });
    assert.deepEqual(folds[1]?.[1], { a: { name: 'Eve', index: 3 }, b: { name: 'Eve', index: 5 }, same: true });
    assert.equal(imageFile({ name: 'Fay', index: 10 }), 'Fay/Fay_0010.jpg');
  });

  it('refuses a wrong count or a malformed line', () => {
    assert.throws(() => parsePairs(text.replace('2\t2', '3\t2')), /Expected 12 pair lines/);
    assert.throws(() => parsePairs(text.replace('Ann\t1\t3', 'Ann\t1\tBob\t3')), /same-person line in fold 1/);
  });
});

describe('thresholds and accuracy', () => {
  it('picks a threshold between the classes when they separate', () => {
    const scores = [same(0.1), same(0.2), same(0.3), diff(0.5), diff(0.6), diff(0.7)];
    const { threshold, accuracy } = bestThreshold(scores);
    assert.equal(accuracy, 1);
    assert.ok(Math.abs(threshold - 0.4) < 1e-12, `threshold ${threshold}`);
    assert.equal(accuracyAt(scores, threshold), 1);
  });

  it('maximises accuracy over overlapping classes and takes the middle of tied optima', () => {
    // Accuracy sweeping up: 3/6 at 0.05, 4/6 after 0.1, 3/6 after 0.2, 4/6 after 0.3, 5/6 after 0.4, 4/6 after 0.5 ...
    const scores = [same(0.1), diff(0.2), same(0.3), same(0.4), diff(0.5), diff(0.6)];
    const { threshold, accuracy } = bestThreshold(scores);
    assert.equal(accuracy, 5 / 6);
    assert.ok(Math.abs(threshold - 0.45) < 1e-12, `threshold ${threshold}`);
    // Three tied best gaps (0.15, 0.35, 0.55): the median candidate wins.
    const tied = bestThreshold([same(0.1), diff(0.2), same(0.3), diff(0.4), same(0.5), diff(0.6)]);
    assert.equal(tied.accuracy, 4 / 6);
    assert.ok(Math.abs(tied.threshold - 0.35) < 1e-12, `threshold ${tied.threshold}`);
    assert.equal(accuracyAt(scores, 0.25), 3 / 6);
  });

  it('moves pairs at equal distances across the threshold together', () => {
    const { threshold, accuracy } = bestThreshold([same(0.2), same(0.5), diff(0.5), diff(0.5), diff(0.9)]);
    assert.equal(accuracy, 4 / 5);
    assert.ok(threshold > 0.2 && threshold < 0.5, `threshold ${threshold}`);
  });

  it('chooses each fold’s threshold on the other folds only', () => {
    // Folds 1 and 2 separate at 0.5; fold 3 is shifted up and would want 0.8 on its own.
    const folds = [
      [same(0.2), same(0.4), diff(0.6), diff(0.9)],
      [same(0.3), same(0.45), diff(0.55), diff(0.8)],
      [same(0.6), same(0.7), diff(0.9), diff(0.95)],
    ];
    const result = crossValidate(folds);
    // Held fold 3: trained on folds 1–2 → 0.5, which rejects both of its same-person pairs.
    assert.ok(Math.abs((result[2]?.threshold ?? 0) - 0.5) < 1e-12, `threshold ${result[2]?.threshold}`);
    assert.equal(result[2]?.accuracy, 0.5);
    // Held fold 1: trained on folds 2–3 → 0.75 (7 of 8), which accepts its negative at 0.6.
    assert.ok(Math.abs((result[0]?.threshold ?? 0) - 0.75) < 1e-12, `threshold ${result[0]?.threshold}`);
    assert.equal(result[0]?.accuracy, 0.75);
  });

  it('reports the mean and population standard deviation', () => {
    const { mean, std } = meanStd([0.9, 1, 0.8, 1]);
    assert.ok(Math.abs(mean - 0.925) < 1e-12);
    assert.ok(Math.abs(std - Math.sqrt((0.025 ** 2 + 0.075 ** 2 * 2 + 0.125 ** 2) / 4)) < 1e-12);
  });
});

describe('ROC AUC', () => {
  it('is 1 for separated classes, 0 for reversed, 0.5 for all tied', () => {
    assert.equal(rocAuc([same(0.1), same(0.2), diff(0.3)]), 1);
    assert.equal(rocAuc([diff(0.1), same(0.2), same(0.3)]), 0);
    assert.equal(rocAuc([same(0.5), diff(0.5), same(0.5), diff(0.5)]), 0.5);
  });

  it('counts correctly ordered pairs (Mann–Whitney) with ties as halves', () => {
    // Positives 0.1, 0.4, 0.6; negatives 0.4, 0.5. Ordered: (0.1<0.4) (0.1<0.5) (0.4=0.4: ½) (0.4<0.5) → 3.5 of 6.
    assert.equal(rocAuc([same(0.1), same(0.4), same(0.6), diff(0.4), diff(0.5)]), 3.5 / 6);
  });

  it('matches a brute-force count on a random set', () => {
    const next = mulberry32(7);
    const scores = Array.from({ length: 300 }, (_, i) => ({ distance: Math.round(next() * 50) / 50 + (i % 2 ? 0.1 : 0), same: i % 2 === 0 }));
    let wins = 0;
    let n = 0;
    for (const p of scores.filter((s) => s.same)) {
      for (const q of scores.filter((s) => !s.same)) {
        wins += p.distance < q.distance ? 1 : p.distance === q.distance ? 0.5 : 0;
        n++;
      }
    }
    assert.ok(Math.abs(rocAuc(scores) - wins / n) < 1e-12);
  });
});

describe('TAR at FAR', () => {
  const positives = Array.from({ length: 10 }, (_, i) => same(0.05 * (i + 1))); // 0.05 .. 0.5
  const negatives = Array.from({ length: 100 }, (_, i) => diff(0.2 + 0.01 * i)); // 0.2 .. 1.19

  it('admits at most floor(FAR × negatives) false accepts', () => {
    // FAR 1e-2 of 100 negatives: one allowed (0.2), so accept below 0.21: positives 0.05 .. 0.2.
    const at1 = tarAtFar([...positives, ...negatives], 1e-2);
    assert.equal(at1.falseAccepts, 1);
    assert.equal(at1.tar, 4 / 10);
    // FAR 1e-3 of 100 negatives: none allowed, accept below 0.2 → 0.05 .. 0.15.
    const at0 = tarAtFar([...positives, ...negatives], 1e-3);
    assert.equal(at0.falseAccepts, 0);
    assert.equal(at0.tar, 3 / 10);
  });

  it('reaches 1 when every positive is closer than every negative', () => {
    assert.equal(tarAtFar([same(0.1), same(0.2), diff(0.3), diff(0.4)], 1e-3).tar, 1);
  });
});

describe('fitLogisticScale', () => {
  it('recovers the scale of pairs drawn from that logistic model', () => {
    const next = mulberry32(42);
    const threshold = 0.5;
    const scale = 0.05;
    const scores: Scored[] = Array.from({ length: 20000 }, () => {
      const d = next(); // distances uniform on [0, 1]
      const pSame = 1 / (1 + Math.exp((d - threshold) / scale));
      return { distance: d, same: next() < pSame };
    });
    const fitted = fitLogisticScale(scores, threshold);
    assert.ok(Math.abs(fitted - scale) / scale < 0.1, `fitted ${fitted}`);
  });

  it('gives a larger scale to noisier labels', () => {
    const next = mulberry32(3);
    const make = (flip: number) => Array.from({ length: 4000 }, () => {
      const d = next();
      return { distance: d, same: (d < 0.5) !== next() < flip };
    });
    assert.ok(fitLogisticScale(make(0.3), 0.5) > fitLogisticScale(make(0.05), 0.5));
  });
});
