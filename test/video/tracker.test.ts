/** The tracker on synthetic boxes: overlap and centre matching, track ends and new ids, box following. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaceTracker, followBox } from '../../src/video/tracker.js';
import { GLYPH_ROWS } from '../../src/video/annotate.js';

const face = (x: number, y: number, side = 100) => ({ box: { x, y, width: side, height: side }, score: 0.9, landmarks: [] });

describe('FaceTracker', () => {
  it('keeps ids by overlap, whatever order the detector lists the faces in', () => {
    const tracker = new FaceTracker();
    const ids0 = tracker.update([face(0, 0), face(300, 0)]).map((t) => t.id);
    const ids1 = tracker.update([face(310, 5), face(10, 5)]).map((t) => t.id);
    assert.deepEqual(ids0, [1, 2]);
    assert.deepEqual(ids1, [2, 1]);
  });

  it('a face that moved past any overlap is matched by its centre; one too far is a new face', () => {
    const tracker = new FaceTracker();
    tracker.update([face(0, 0)]);
    assert.deepEqual(tracker.update([face(55, 0)]).map((t) => t.id), [1]); // IoU 0.29, centre moved 0.55 sides
    assert.deepEqual(tracker.update([face(200, 0)]).map((t) => t.id), [2]);
  });

  it('a track survives maxMissed missed detections, then ends; its id is never reused', () => {
    const tracker = new FaceTracker({ maxMissed: 1 });
    tracker.update([face(0, 0)]);
    assert.deepEqual(tracker.update([]), []);
    assert.deepEqual(tracker.update([face(5, 0)]).map((t) => t.id), [1]);
    tracker.update([]);
    tracker.update([]);
    assert.deepEqual(tracker.update([face(5, 0)]).map((t) => t.id), [2]);
  });

  it('followBox moves and scales a box with its landmarks, and keeps it where they are unusable', () => {
    const box = { x: 10, y: 20, width: 100, height: 120 };
    const before = [{ x: 40, y: 60 }, { x: 80, y: 60 }, { x: 60, y: 100 }];
    const cy = 220 / 3; // the points' centre is (60, 220 / 3)
    const after = before.map((p) => ({ x: (p.x - 60) * 1.1 + 60 + 7, y: (p.y - cy) * 1.1 + cy - 3 }));
    const moved = followBox(box, before, after);
    assert.ok(Math.abs(moved.width - 110) < 1e-6 && Math.abs(moved.height - 132) < 1e-6);
    assert.ok(Math.abs(moved.x + moved.width / 2 - 67) < 1e-6 && Math.abs(moved.y + moved.height / 2 - 77) < 1e-6);
    assert.deepEqual(followBox(box, [], after), box);
  });
});

it('every glyph of the annotation font is 5x7', () => {
  for (const [ch, rows] of Object.entries(GLYPH_ROWS)) {
    assert.equal(rows.length, 7, ch);
    assert.ok(rows.every((r) => r.length === 5), ch);
  }
  assert.ok('#0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('').every((ch) => GLYPH_ROWS[ch]?.some((r) => r.includes(true))));
});
