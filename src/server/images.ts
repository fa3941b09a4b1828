/**
 * Images as clients send them, turned into bytes before anything reaches the library.
 *
 * The library takes file paths too; a client must never be able to name one. So a string from a
 * request is only ever an http(s) URL, a data: URI or base64, and the library receives bytes.
 */
import { VisageError } from '../errors.js';
import { loadImageBytes, type DownloadOptions } from '../image/index.js';

/** What a request field may hold: text (URL, data URI, base64) or an uploaded file's bytes. */
export type RequestImage = string | Buffer;

// Standard or URL-safe base64, optional padding, line breaks allowed.
const BASE64 = /^[A-Za-z0-9+/_\-\s]+={0,2}\s*$/;

/**
 * The encoded image bytes behind a request field: uploads pass through, URLs are downloaded
 * within `download`'s bounds (and its private-address guard), data URIs and base64 decoded.
 * Anything else is INVALID_IMAGE — never a file path.
 */
export async function requestImageBytes(value: RequestImage, download: DownloadOptions): Promise<Buffer> {
  if (Buffer.isBuffer(value)) return loadImageBytes(value);
  const text = value.trim();
  if (/^(https?:\/\/|data:)/i.test(text)) return loadImageBytes(text, download);
  if (text.length > 0 && BASE64.test(text)) {
    const compact = text.replace(/\s+/g, '');
    return loadImageBytes(Buffer.from(compact, /[-_]/.test(compact) ? 'base64url' : 'base64'));
  }
  throw new VisageError('INVALID_IMAGE', 'Expected an image as an http(s) URL, a data: URI, base64 or a file upload');
}
