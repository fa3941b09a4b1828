/**
 * Image input: turn a path, URL, base64 string, data: URI, Buffer or Uint8Array into RGB pixels.
 *
 * The format is always recognised from the bytes (magic numbers), never from a file name, a URL
 * or a Content-Type. Only JPEG, PNG, WebP, GIF, TIFF and AVIF are accepted; anything else sharp
 * could open (SVG, PDF, ...) is refused before sharp sees it.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type SharpOptions } from 'sharp';
import { VisageError } from '../errors.js';
import { downloadBytes, type DownloadOptions } from './download.js';
import type { RgbImage } from './types.js';

export type ImageInput = string | Buffer | Uint8Array;

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';

export interface DecodeOptions {
  /** Largest accepted width * height, checked from the header before decoding. */
  maxPixels?: number;
}

export interface LoadOptions extends DecodeOptions, DownloadOptions {}

export const DEFAULT_MAX_PIXELS = 40_000_000;

/** Transparent pixels are composited onto white, the colour a photo is usually viewed on. */
export const ALPHA_BACKGROUND = Object.freeze({ r: 255, g: 255, b: 255 });

/**
 * Lets sharp run up to `threads` threads per decode, never fewer than it has. On glibc systems
 * sharp keeps to one (its guard against the C library's fragmentation); two decode face-api's
 * 1920-pixel photos 1.3-1.9x faster, with the same peak and service memory (README, Speed and
 * memory). The setting is sharp's and so the process's: a caller's higher one is kept.
 */
export function allowDecodeThreads(threads: number): void {
  if (sharp.concurrency() < threads) sharp.concurrency(threads);
}

/** Recognises a supported image format from its leading bytes, or returns undefined. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const ascii = (start: number, end: number) => Buffer.from(bytes.subarray(start, end)).toString('latin1');
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'tiff';
  // ISO-BMFF: box size, 'ftyp', then the major brand.
  if (ascii(4, 8) === 'ftyp' && ['avif', 'avis'].includes(ascii(8, 12))) return 'avif';
  return undefined;
}

// Standard or URL-safe alphabet, optional padding; whitespace (line wrapping) is removed first.
const BASE64_PATTERN = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Decodes `text` as base64 when it is base64 of a supported image, else returns undefined. */
function decodeBase64Image(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!BASE64_PATTERN.test(compact)) return undefined;
  const bytes = Buffer.from(compact, 'base64'); // Node's decoder accepts both alphabets
  return sniffImageFormat(bytes) ? bytes : undefined;
}

function decodeDataUri(uri: string): Buffer {
  // data:[<media type>][;params];base64,<data> — the media type is ignored, bytes decide.
  const match = /^data:[^,]*;base64,(.*)$/is.exec(uri);
  if (!match) throw new VisageError('INVALID_IMAGE', 'A data: URI must be base64-encoded (data:<type>;base64,<data>)');
  const bytes = decodeBase64Image(match[1] ?? '');
  if (!bytes) throw new VisageError('INVALID_IMAGE', 'The data: URI does not hold a base64-encoded JPEG, PNG, WebP, GIF, TIFF or AVIF image');
  return bytes;
}

async function readImageFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new VisageError('FILE_NOT_FOUND', `No file at ${JSON.stringify(path.slice(0, 200))} (the string is not a URL, data: URI or base64 image either)`, { cause: err });
    }
    throw new VisageError('INVALID_ARGUMENT', `Cannot read ${JSON.stringify(path.slice(0, 200))}: ${code ?? String(err)}`, { cause: err });
  }
}

/** Applies the string rules documented on `loadImageBytes`. */
async function stringInputBytes(input: string, options: DownloadOptions): Promise<Buffer> {
  if (/^data:/i.test(input)) return decodeDataUri(input);
  if (/^https?:\/\//i.test(input)) return downloadBytes(input, options);
  return decodeBase64Image(input) ?? readImageFile(input);
}

function requireImageFormat(bytes: Uint8Array): ImageFormat {
  const format = sniffImageFormat(bytes);
  if (!format) throw new VisageError('INVALID_IMAGE', 'Not a JPEG, PNG, WebP, GIF, TIFF or AVIF image');
  return format;
}

/**
 * Returns the encoded image bytes behind `input`, checked to start with a supported image
 * signature (not decoded). Buffers pass through; a Uint8Array is wrapped without copying.
 * A string is, in this order:
 * 1. starts with `data:` (any case) → a base64 data URI (its media type is ignored);
 * 2. starts with `http://` or `https://` (any case) → a URL, downloaded with `downloadBytes`;
 * 3. only base64 characters (standard or URL-safe, whitespace ignored) that decode to bytes
 *    starting with a supported image signature → base64 (a real file path practically never
 *    satisfies this);
 * 4. anything else → a file path (FILE_NOT_FOUND when there is no such file).
 */
export async function loadImageBytes(input: ImageInput, options: LoadOptions = {}): Promise<Buffer> {
  const bytes =
    typeof input === 'string'
      ? await stringInputBytes(input, options)
      : Buffer.isBuffer(input)
        ? input
        : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  requireImageFormat(bytes);
  return bytes;
}

function resolveMaxPixels(options: DecodeOptions): number {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isSafeInteger(maxPixels) || maxPixels <= 0) {
    throw new VisageError('INVALID_ARGUMENT', `maxPixels must be a positive integer, got ${maxPixels}`);
  }
  return maxPixels;
}

function sharpFailure(err: unknown, maxPixels: number): VisageError {
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(message)) {
    return new VisageError('IMAGE_TOO_LARGE', `The image exceeds the ${maxPixels}-pixel limit`, { cause: err });
  }
  return new VisageError('INVALID_IMAGE', `Cannot decode image: ${message}`, { cause: err });
}

/**
 * Decodes encoded image bytes to 8-bit RGB: EXIF orientation applied, alpha composited onto
 * white (ALPHA_BACKGROUND), grayscale/CMYK converted to RGB, first frame of GIF/TIFF only.
 * The pixel limit is checked from the header before any pixel is decoded.
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<RgbImage> {
  const maxPixels = resolveMaxPixels(options);
  requireImageFormat(bytes);
  // failOn 'error': truncated or corrupt pixel data aborts instead of yielding a grey tail.
  const sharpOptions: SharpOptions = { failOn: 'error', limitInputPixels: maxPixels, pages: 1 };

  let header: Metadata;
  try {
    // Header only; our own check below reports the dimensions, sharp's limit guards the decode.
    header = await sharp(bytes, { ...sharpOptions, limitInputPixels: false }).metadata();
  } catch (err) {
    throw sharpFailure(err, maxPixels);
  }
  const { width, height } = header;
  if (!width || !height) throw new VisageError('INVALID_IMAGE', 'The image header has no dimensions');
  if (width * height > maxPixels) {
    throw new VisageError('IMAGE_TOO_LARGE', `The image is ${width}x${height}, over the ${maxPixels}-pixel limit`);
  }

  try {
    const { data, info } = await sharp(bytes, { ...sharpOptions, autoOrient: true })
      .flatten({ background: ALPHA_BACKGROUND })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`unexpected decoder output (${info.channels} channels, ${data.length} bytes)`);
    }
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (err) {
    throw sharpFailure(err, maxPixels);
  }
}

/** Loads any supported input (strings as documented on `loadImageBytes`) and decodes it to RGB. */
export async function loadImage(input: ImageInput, options: LoadOptions = {}): Promise<RgbImage> {
  return decodeImage(await loadImageBytes(input, options), options);
}
