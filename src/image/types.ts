/** Decoded pixels: 8-bit RGB, interleaved, row-major, no padding (length = width * height * 3). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A box in source-image pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}
