/**
 * The live WebSocket route against the real pipeline: results with track ids for JPEG frames,
 * the newest frame winning over a burst (frames dropped, never queued), the token in the first
 * message, and the limits on frame size and connections per client. The page is served without
 * the token; the routes it calls need it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import WebSocket from 'ws';
import { createVisage, type Visage, type VideoFrameResult } from '../../src/index.js';
import { startService, type Service } from './fixtures.js';

const TOKEN = 'live-secret';

type Message = Partial<VideoFrameResult> & { error?: string; ready?: boolean; received?: number; dropped?: number };

/** A client that records every message and how the socket closed. */
function connect(url: string): { ws: WebSocket; messages: Message[]; closed: Promise<number>; next: (pred: (m: Message) => boolean) => Promise<Message> } {
  const ws = new WebSocket(url);
  const messages: Message[] = [];
  const waiters: { pred: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as Message;
    messages.push(m);
    for (const w of waiters.filter((x) => x.pred(m))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('error', () => undefined);
  const next = (pred: (m: Message) => boolean) => {
    const seen = messages.find(pred);
    return seen ? Promise.resolve(seen) : new Promise<Message>((resolve) => waiters.push({ pred, resolve }));
  };
  return { ws, messages, closed, next };
}

describe('live WebSocket route', () => {
  let visage: Visage;
  let service: Service;
  let url: string;
  let frame: Buffer;

  before(async () => {
    visage = await createVisage({ threads: 2 });
    service = await startService({ visage, token: TOKEN, live: { maxPerClient: 2, maxFrameBytes: 300_000 } });
    url = `${service.origin.replace('http', 'ws')}/api/live?detector=tiny`;
    frame = await sharp('node_modules/@vladmandic/face-api/demo/sample1.jpg').resize(640).jpeg({ quality: 80 }).toBuffer();
  });
  after(async () => {
    await service.close();
    await visage.close();
  });

  it('the page is public, the routes it calls need the token', async () => {
    const page = await service.request('/');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>visage<\/title>/);
    assert.equal((await service.request('/web/app.js')).status, 200);
    assert.equal((await service.request('/api/detect', { json: { img: frame.toString('base64') } })).status, 401);
  });

  it('without the token message, or with a wrong one, the socket closes with 4401', async () => {
    const wrong = connect(url);
    await new Promise((r) => wrong.ws.once('open', r));
    wrong.ws.send(JSON.stringify({ token: 'nope' }));
    assert.equal(await wrong.closed, 4401);
    const silent = connect(url);
    await new Promise((r) => silent.ws.once('open', r));
    silent.ws.send(frame);
    assert.equal(await silent.closed, 4401);
  });

  it('a burst of frames: the newest wins, the rest are dropped; results carry track ids on the faces', async () => {
    const client = connect(url);
    await new Promise((r) => client.ws.once('open', r));
    client.ws.send(JSON.stringify({ token: TOKEN }));
    await client.next((m) => m.ready === true);
    for (let i = 0; i < 12; i++) client.ws.send(frame);
    const first = await client.next((m) => m.faces !== undefined);
    assert.ok((first.faces?.length ?? 0) >= 2, `faces: ${first.faces?.length}`);
    assert.ok(first.faces?.every((f) => Number.isInteger(f.trackId) && f.dominantEmotion !== undefined));
    // Wait until the burst is settled: one more frame after it gets its answer.
    await new Promise((r) => setTimeout(r, 300));
    client.ws.send(frame);
    const last = await client.next((m) => m.received === 13 && m.faces !== undefined);
    const results = client.messages.filter((m) => m.faces !== undefined);
    assert.ok(results.length < 13, `analysed ${results.length} of 13`);
    assert.equal((last.dropped ?? 0) + results.length, 13, 'every frame is either answered or dropped');
    // The same faces keep their ids from frame to frame.
    assert.deepEqual(last.faces?.map((f) => f.trackId).sort(), first.faces?.map((f) => f.trackId).sort());
    client.ws.close();
  });

  it('limits: an oversized frame closes the socket (1009); a third connection from one client is refused (1008)', async () => {
    const big = connect(url);
    await new Promise((r) => big.ws.once('open', r));
    big.ws.send(JSON.stringify({ token: TOKEN }));
    await big.next((m) => m.ready === true);
    big.ws.send(Buffer.alloc(400_000, 1));
    assert.equal(await big.closed, 1009);

    const a = connect(url);
    const b = connect(url);
    await Promise.all([a, b].map((c) => new Promise((r) => c.ws.once('open', r))));
    const c = connect(url);
    assert.equal(await c.closed, 1008);
    assert.match(c.messages[0]?.error ?? '', /Too many live connections/);
    a.ws.close();
    b.ws.close();
    await Promise.all([a.closed, b.closed]);
  });
});
