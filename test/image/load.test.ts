import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { allowDecodeThreads, decodeImage, loadImage, loadImageBytes, sniffImageFormat, type RgbImage } from '../../src/image/index.js';
import { LOCAL, SAMPLE, SAMPLE_PATH, rejectsWith } from './helpers.js';
import { startServer, type TestServer } from './server.js';

function assertSamePixels(actual: RgbImage, expected: RgbImage, label: string): void {
  assert.equal(actual.width, expected.width, `${label}: width`);
  assert.equal(actual.height, expected.height, `${label}: height`);
  assert.ok(Buffer.from(actual.data).equals(Buffer.from(expected.data)), `${label}: pixels differ`);
}

function meanAbsDiff(a: RgbImage, b: RgbImage): number {
  assert.equal(a.data.length, b.data.length);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}

/** A PNG whose IHDR claims width x height (valid CRC), with a token IDAT: almost no pixel data. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typeAndData));
    return Buffer.concat([length, typeAndData, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour, deflate, no filter, no interlace
  return Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(1))), chunk('IEND', Buffer.alloc(0))]);
}

describe('loadImage input kinds', () => {
  let server: TestServer;
  let reference: RgbImage;

  before(async () => {
    server = await startServer({
      '/photo': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(SAMPLE), // type is ignored
      '/text': (_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end('just some text'),
    });
    reference = await loadImage(SAMPLE);
  });
  after(() => server.close());

  it('decodes a JPEG Buffer to interleaved RGB', () => {
    assert.equal(reference.width, 1920);
    assert.equal(reference.height, 1280);
    assert.equal(reference.data.length, 1920 * 1280 * 3);
    assert.ok(reference.data instanceof Uint8Array);
  });

  it('gives identical pixels for a path, URL, Uint8Array, base64 and data URI', async () => {
    const base64 = SAMPLE.toString('base64');
    // A Uint8Array that is a window into a larger buffer, not at offset 0.
    const padded = new Uint8Array(SAMPLE.length + 16);
    padded.set(SAMPLE, 7);
    const inputs: Record<string, string | Uint8Array> = {
      path: SAMPLE_PATH,
      url: `${server.origin}/photo`,
      uint8array: padded.subarray(7, 7 + SAMPLE.length),
      base64,
      'base64 wrapped at 76 columns': base64.replace(/.{76}/g, '$&\n'),
      base64url: SAMPLE.toString('base64url'),
      'data URI': `data:image/jpeg;base64,${base64}`,
      'data URI with wrong media type': `data:text/plain;charset=utf-8;base64,${base64}`,
    };
    for (const [label, input] of Object.entries(inputs)) {
      assertSamePixels(await loadImage(input, LOCAL), reference, label);
    }
  });

  it('loadImageBytes returns the encoded bytes for every input kind', async () => {
    assert.ok((await loadImageBytes(`${server.origin}/photo`, LOCAL)).equals(SAMPLE));
    assert.ok((await loadImageBytes(SAMPLE.toString('base64'))).equals(SAMPLE));
    assert.ok((await loadImageBytes(SAMPLE_PATH)).equals(SAMPLE));
    assert.equal(sniffImageFormat(await loadImageBytes(`data:;base64,${SAMPLE.toString('base64')}`)), 'jpeg');
  });

  it('rejects bad URL content and keeps the server usable', async () => {
    await assert.rejects(loadImage(`${server.origin}/text`, LOCAL), rejectsWith('INVALID_IMAGE'));
    await assert.rejects(loadImage(`${server.origin}/nope`, LOCAL), rejectsWith('DOWNLOAD_FAILED', /HTTP 404/));
    await assert.rejects(loadImage(`${server.origin}/photo`), rejectsWith('BLOCKED_ADDRESS'));
    assertSamePixels(await loadImage(`${server.origin}/photo`, LOCAL), reference, 'after failures');
  });
});

describe('loadImage formats', () => {
  let base: RgbImage; // a 240x160 raw RGB rendition of the sample photo
  const encode = () => sharp(Buffer.from(base.data), { raw: { width: base.width, height: base.height, channels: 3 } });

  before(async () => {
    const { data, info } = await sharp(SAMPLE).resize(240).raw().toBuffer({ resolveWithObject: true });
    base = { data, width: info.width, height: info.height };
  });

  it('decodes lossless PNG, TIFF and WebP to the exact pixels', async () => {
    const encoded = {
      png: await encode().png().toBuffer(),
      tiff: await encode().tiff({ compression: 'lzw' }).toBuffer(),
      webp: await encode().webp({ lossless: true }).toBuffer(),
      'png 16-bit': await encode().toColourspace('rgb16').png().toBuffer(),
    };
    for (const [label, bytes] of Object.entries(encoded)) assertSamePixels(await loadImage(bytes), base, label);
  });

  it('decodes lossy JPEG, AVIF, GIF and CMYK JPEG close to the source', async () => {
    // [encoded, largest mean absolute difference]; CMYK goes through an ICC round trip.
    const encoded: Record<string, [Buffer, number]> = {
      jpeg: [await encode().jpeg({ quality: 95 }).toBuffer(), 4],
      avif: [await encode().avif({ quality: 80, effort: 0 }).toBuffer(), 6],
      gif: [await encode().gif().toBuffer(), 8],
      'cmyk jpeg': [await encode().toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer(), 16],
    };
    for (const [label, [bytes, tolerance]] of Object.entries(encoded)) {
      const image = await loadImage(bytes);
      assert.equal(image.width, base.width, label);
      assert.equal(image.height, base.height, label);
      const difference = meanAbsDiff(image, base);
      assert.ok(difference < tolerance, `${label}: mean difference ${difference}`);
    }
    assert.equal(sniffImageFormat(encoded.avif![0]), 'avif');
  });

  it('takes the first frame of an animated GIF', async () => {
    const frame = (colour: number[]) => Buffer.alloc(16 * 16 * 3).map((_, i) => colour[i % 3]!);
    const gif = await sharp(Buffer.concat([frame([255, 0, 0]), frame([0, 0, 255])]), {
      raw: { width: 16, height: 32, channels: 3, pageHeight: 16 },
    })
      .gif()
      .toBuffer();
    assert.equal((await sharp(gif).metadata()).pages, 2);
    const image = await loadImage(gif);
    assert.equal(image.height, 16);
    assert.deepEqual([...image.data.subarray(0, 3)], [255, 0, 0]);
  });

  it('expands grayscale to RGB with equal channels', async () => {
    const image = await loadImage(await encode().grayscale().png().toBuffer());
    assert.equal(image.data.length, base.width * base.height * 3);
    for (let i = 0; i < image.data.length; i += 3) {
      assert.ok(image.data[i] === image.data[i + 1] && image.data[i] === image.data[i + 2], `pixel ${i / 3}`);
    }
  });

  it('flattens alpha onto white', async () => {
    // Opaque red, fully transparent black, half-transparent black.
    const rgba = Buffer.from([255, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 128]);
    const image = await loadImage(await sharp(rgba, { raw: { width: 3, height: 1, channels: 4 } }).png().toBuffer());
    const pixels = [...image.data];
    assert.deepEqual(pixels.slice(0, 6), [255, 0, 0, 255, 255, 255]);
    for (const value of pixels.slice(6)) assert.ok(Math.abs(value - 127) <= 1, `half alpha gave ${value}`);
  });

  it('applies EXIF orientation (6 = rotate 90° clockwise)', async () => {
    const rotated = await loadImage(await encode().withMetadata({ orientation: 6 }).png().toBuffer());
    assert.equal(rotated.width, base.height);
    assert.equal(rotated.height, base.width);
    const { data } = await encode().rotate(90).raw().toBuffer({ resolveWithObject: true });
    assertSamePixels(rotated, { data, width: base.height, height: base.width }, 'orientation 6');

    const photo = await loadImage(await sharp(SAMPLE).withMetadata({ orientation: 8 }).jpeg().toBuffer());
    assert.deepEqual([photo.width, photo.height], [1280, 1920]);
  });
});

describe('loadImage bad input', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'visage-image-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects a text file, text bytes, empty input and SVG as INVALID_IMAGE', async () => {
    const textFile = join(dir, 'notes.jpg'); // the name says JPEG, the bytes do not
    writeFileSync(textFile, 'hello, this is not an image\n');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    for (const input of [textFile, Buffer.from('hello'), new Uint8Array(0), svg]) {
      await assert.rejects(loadImage(input), rejectsWith('INVALID_IMAGE'));
    }
  });

  it('rejects a truncated JPEG as INVALID_IMAGE', async () => {
    for (const fraction of [0.3, 0.9, 0.99]) {
      const truncated = SAMPLE.subarray(0, Math.floor(SAMPLE.length * fraction));
      await assert.rejects(loadImage(truncated), rejectsWith('INVALID_IMAGE'), `cut at ${fraction}`);
    }
  });

  it('rejects a PNG claiming 100000x100000 pixels from its header alone', async () => {
    const started = Date.now();
    await assert.rejects(loadImage(pngHeaderOnly(100_000, 100_000)), rejectsWith('IMAGE_TOO_LARGE', /100000x100000/));
    assert.ok(Date.now() - started < 1000);
  });

  it('honours maxPixels and validates it', async () => {
    await assert.rejects(loadImage(SAMPLE, { maxPixels: 1_000_000 }), rejectsWith('IMAGE_TOO_LARGE', /1920x1280/));
    assert.equal((await loadImage(SAMPLE, { maxPixels: 1920 * 1280 })).width, 1920);
    await assert.rejects(decodeImage(SAMPLE, { maxPixels: 0 }), rejectsWith('INVALID_ARGUMENT'));
  });

  it('reports a missing file (or unrecognised string) as FILE_NOT_FOUND', async () => {
    await assert.rejects(loadImage(join(dir, 'missing.jpg')), rejectsWith('FILE_NOT_FOUND'));
    await assert.rejects(loadImage('aGVsbG8gd29ybGQ='), rejectsWith('FILE_NOT_FOUND')); // base64 of text, not an image
  });

  it('rejects data URIs that are not base64 images', async () => {
    await assert.rejects(loadImage('data:image/png,%89PNG'), rejectsWith('INVALID_IMAGE', /base64/));
    await assert.rejects(loadImage(`data:image/png;base64,${Buffer.from('text').toString('base64')}`), rejectsWith('INVALID_IMAGE'));
  });
});

describe('allowDecodeThreads', () => {
  it('decodes the same pixels on one thread and on two', async () => {
    const before = sharp.concurrency();
    try {
      sharp.concurrency(1);
      const one = await decodeImage(SAMPLE);
      allowDecodeThreads(2);
      assert.equal(sharp.concurrency(), 2);
      const two = await decodeImage(SAMPLE);
      assert.deepEqual([two.width, two.height], [one.width, one.height]);
      assert.ok(Buffer.from(two.data).equals(Buffer.from(one.data)));
    } finally {
      sharp.concurrency(before);
    }
  });
});
