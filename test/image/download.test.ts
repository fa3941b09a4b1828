import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { downloadBytes, isPublicAddress } from '../../src/image/index.js';
import { LOCAL, SAMPLE, rejectsWith } from './helpers.js';
import { startServer, type TestServer } from './server.js';

describe('downloadBytes', () => {
  let server: TestServer;
  let url: (path: string) => string;

  before(async () => {
    server = await startServer({
      '/sample.jpg': (_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(SAMPLE),
      '/redirect': (_req, res) => res.writeHead(302, { location: '/hop2' }).end(),
      '/hop2': (_req, res) => res.writeHead(301, { location: `${server.origin}/sample.jpg` }).end(),
      '/loop': (_req, res) => res.writeHead(302, { location: '/loop' }).end(),
      '/error': (_req, res) => res.writeHead(500).end('boom'),
      '/hang': () => {}, // accepts the request, never answers
      '/slow-body': (_req, res) => {
        res.writeHead(200, { 'content-type': 'image/jpeg' });
        res.write(SAMPLE.subarray(0, 100)); // then stalls
      },
      '/big-declared': (_req, res) => res.writeHead(200, { 'content-length': 5000 }).end(Buffer.alloc(5000)),
      '/big-chunked': (_req, res) => {
        res.writeHead(200); // no Content-Length: chunked transfer encoding
        for (let i = 0; i < 10; i++) res.write(Buffer.alloc(500));
        res.end();
      },
    });
    url = (path) => `${server.origin}${path}`;
  });
  after(() => server.close());

  it('downloads the exact bytes', async () => {
    const bytes = await downloadBytes(url('/sample.jpg'), LOCAL);
    assert.ok(bytes.equals(SAMPLE));
  });

  it('follows relative and absolute redirects', async () => {
    const bytes = await downloadBytes(url('/redirect'), LOCAL);
    assert.ok(bytes.equals(SAMPLE));
  });

  it('reports a non-2xx status with the status code', async () => {
    await assert.rejects(downloadBytes(url('/missing'), LOCAL), rejectsWith('DOWNLOAD_FAILED', /HTTP 404/));
    await assert.rejects(downloadBytes(url('/error'), LOCAL), rejectsWith('DOWNLOAD_FAILED', /HTTP 500/));
  });

  it('times out on a server that never answers, and on a stalled body', async () => {
    const started = Date.now();
    await assert.rejects(downloadBytes(url('/hang'), { ...LOCAL, timeoutMs: 300 }), rejectsWith('DOWNLOAD_FAILED', /timed out/));
    await assert.rejects(downloadBytes(url('/slow-body'), { ...LOCAL, timeoutMs: 300 }), rejectsWith('DOWNLOAD_FAILED', /timed out/));
    assert.ok(Date.now() - started < 2000);
  });

  it('rejects a body over the size limit, with or without Content-Length', async () => {
    const limit = { ...LOCAL, maxBytes: 1000 };
    await assert.rejects(downloadBytes(url('/big-declared'), limit), rejectsWith('DOWNLOAD_FAILED', /1000-byte limit/));
    await assert.rejects(downloadBytes(url('/big-chunked'), limit), rejectsWith('DOWNLOAD_FAILED', /1000-byte limit/));
    // Exactly at the limit is fine.
    assert.equal((await downloadBytes(url('/big-chunked'), { ...LOCAL, maxBytes: 5000 })).length, 5000);
  });

  it('stops after maxRedirects', async () => {
    const before = server.hits.get('/loop') ?? 0;
    await assert.rejects(downloadBytes(url('/loop'), LOCAL), rejectsWith('DOWNLOAD_FAILED', /Too many redirects/));
    assert.equal((server.hits.get('/loop') ?? 0) - before, 6); // the first request + 5 redirects
    await assert.rejects(downloadBytes(url('/redirect'), { ...LOCAL, maxRedirects: 1 }), rejectsWith('DOWNLOAD_FAILED', /Too many redirects/));
  });

  it('refuses loopback by default, by name and by literal, without connecting', async () => {
    const hitsBefore = server.hits.get('/sample.jpg') ?? 0;
    for (const host of ['localhost', '127.0.0.1', '[::1]', '[::ffff:127.0.0.1]', '2130706433', '0.0.0.0']) {
      await assert.rejects(downloadBytes(`http://${host}:${server.port}/sample.jpg`), rejectsWith('BLOCKED_ADDRESS'), host);
    }
    assert.equal(server.hits.get('/sample.jpg') ?? 0, hitsBefore);
  });

  it('rejects other protocols, malformed URLs and refused connections', async () => {
    await assert.rejects(downloadBytes('file:///etc/passwd'), rejectsWith('DOWNLOAD_FAILED', /Unsupported protocol/));
    await assert.rejects(downloadBytes('ftp://example.com/a.jpg'), rejectsWith('DOWNLOAD_FAILED', /Unsupported protocol/));
    await assert.rejects(downloadBytes('http://'), rejectsWith('DOWNLOAD_FAILED', /Not a valid URL/));
    const closed = await startServer({});
    await closed.close();
    await assert.rejects(downloadBytes(`${closed.origin}/`, LOCAL), rejectsWith('DOWNLOAD_FAILED', /ECONNREFUSED/));
  });

  it('still serves after all the failures and leaves no connection open', async () => {
    assert.ok((await downloadBytes(url('/sample.jpg'), LOCAL)).equals(SAMPLE));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(server.openConnections(), 0);
  });
});

describe('isPublicAddress', () => {
  it('accepts global unicast only', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) assert.equal(isPublicAddress(address), true, address);
    const blocked = [
      '127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
      '224.0.0.1', '255.255.255.255', '::1', '::', 'fd00::1', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1',
      '::ffff:10.0.0.1', '64:ff9b::7f00:1', 'not-an-ip',
    ];
    for (const address of blocked) assert.equal(isPublicAddress(address), false, address);
  });
});
