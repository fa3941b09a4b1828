/** What every route needs, built once by `buildServer`. */
import type { DownloadOptions } from '../image/index.js';
import type { Visage } from '../types.js';
import type { Limiter } from './limiter.js';
import type { ImageStore } from './store.js';

export interface ServerContext {
  visage: Visage;
  store: ImageStore;
  /** Bounds every library call (analysis, decoding). */
  limiter: Limiter;
  /** Download bounds and the private-address guard for URLs clients send. */
  download: DownloadOptions;
  /** Pixel limit for the images the server decodes itself (checks, pictures). */
  maxPixels: number;
  /** Largest file read from the store, in bytes. */
  maxFileBytes: number;
}
