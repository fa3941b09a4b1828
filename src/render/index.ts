/**
 * Result pictures as PNG. Boxes are drawn into the raw pixels (exact colour and width); text is
 * an SVG layer composited by sharp (librsvg with the system's sans-serif font).
 */
import sharp, { type OverlayOptions, type Sharp } from 'sharp';
import type { Box, RgbImage } from '../image/types.js';
import { EMOTIONS, type AnalyzeResult, type VerifyResult } from '../types.js';

export type Rgb = readonly [number, number, number];
export const MAGENTA: Rgb = [255, 0, 255];
const GREEN: Rgb = [0, 160, 0];
const RED: Rgb = [210, 0, 0];

/** Draws a rectangle outline `thickness` px wide, inside the box, clipped to the image. */
export function drawRect(image: RgbImage, box: Box, color: Rgb = MAGENTA, thickness = 2): void {
  const x0 = Math.max(0, Math.round(box.x));
  const y0 = Math.max(0, Math.round(box.y));
  const x1 = Math.min(image.width, Math.round(box.x + box.width));
  const y1 = Math.min(image.height, Math.round(box.y + box.height));
  const paint = (x: number, y: number) => {
    const o = (y * image.width + x) * 3;
    image.data[o] = color[0];
    image.data[o + 1] = color[1];
    image.data[o + 2] = color[2];
  };
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const onEdge = x - x0 < thickness || x1 - 1 - x < thickness || y - y0 < thickness || y1 - 1 - y < thickness;
      if (onEdge) paint(x, y);
    }
  }
}

function copyImage(image: RgbImage): RgbImage {
  return { data: Uint8Array.from(image.data), width: image.width, height: image.height };
}

function toPng(image: RgbImage): Sharp {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const css = (c: Rgb) => `rgb(${c[0]},${c[1]},${c[2]})`;

interface TextLine {
  x: number;
  y: number;
  text: string;
  size: number;
  color?: Rgb;
  bold?: boolean;
}

function svgText(width: number, height: number, lines: TextLine[], background?: { x: number; y: number; width: number; height: number }[]): Buffer {
  const rects = (background ?? []).map((r) => `<rect x="${r.x}" y="${r.y}" width="${r.width}" height="${r.height}" fill="white" fill-opacity="0.85"/>`);
  const texts = lines.map(
    (l) => `<text x="${l.x}" y="${l.y}" font-family="DejaVu Sans, sans-serif" font-size="${l.size}" ${l.bold ? 'font-weight="bold"' : ''} fill="${css(l.color ?? [0, 0, 0])}">${escapeXml(l.text)}</text>`,
  );
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${rects.join('')}${texts.join('')}</svg>`);
}

/** Each face outlined with a magenta (255, 0, 255) 2 px rectangle. */
export async function renderDetections(image: RgbImage, faces: readonly { box: Box }[]): Promise<Buffer> {
  const canvas = copyImage(image);
  for (const face of faces) drawRect(canvas, face.box);
  return toPng(canvas).png().toBuffer();
}

/** Scales an image to a given height (keeping its aspect) and scales boxes with it. */
async function fitHeight(image: RgbImage, height: number): Promise<{ image: RgbImage; scale: number }> {
  const scale = height / image.height;
  const width = Math.max(1, Math.round(image.width * scale));
  const data = await toPng(image).resize(width, height, { kernel: 'lanczos3' }).raw().toBuffer();
  return { image: { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height }, scale };
}

const scaleBox = (b: Box, s: number): Box => ({ x: b.x * s, y: b.y * s, width: b.width * s, height: b.height * s });

/**
 * The two images side by side at one height, each labelled "Same Person" or "Different Person"
 * with the distance and threshold; the faces that decided are outlined.
 */
export async function renderVerification(result: VerifyResult, a: RgbImage, b: RgbImage, height = 400): Promise<Buffer> {
  const color = result.verified ? GREEN : RED;
  const label = result.verified ? 'Same Person' : 'Different Person';
  const gap = 10;
  const banner = 70;
  const sides = await Promise.all([fitHeight(a, height), fitHeight(b, height)]);
  const boxes = [result.faces.a, result.faces.b];
  sides.forEach((side, i) => {
    const box = boxes[i];
    if (box) drawRect(side.image, scaleBox(box, side.scale), color, 3);
  });
  const [left, right] = sides as [{ image: RgbImage }, { image: RgbImage }];
  const width = left.image.width + gap + right.image.width;
  const total = height + banner;
  const detail = `${result.metric} distance ${result.distance.toFixed(4)} / threshold ${result.threshold.toFixed(4)} — confidence ${(result.confidence * 100).toFixed(1)}%`;
  const lines: TextLine[] = [
    { x: 10, y: height + 30, text: label, size: 24, color, bold: true },
    { x: left.image.width + gap + 10, y: height + 30, text: label, size: 24, color, bold: true },
    { x: 10, y: height + 58, text: detail, size: 16 },
  ];
  return sharp({ create: { width, height: total, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([
      layer(left.image, 0, 0),
      layer(right.image, left.image.width + gap, 0),
      { input: svgText(width, total, lines), left: 0, top: 0 },
    ])
    .png()
    .toBuffer();
}

/** An RGB image as a sharp composite layer at (left, top). */
function layer(image: RgbImage, left: number, top: number): OverlayOptions {
  return {
    input: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length),
    raw: { width: image.width, height: image.height, channels: 3 },
    left,
    top,
  };
}

/**
 * The image with each face boxed and, in a panel to its right, each face's emotion scores
 * (dominant first) and its age and gender where analysed.
 */
export async function renderAnalysis(result: AnalyzeResult, image: RgbImage): Promise<Buffer> {
  const canvas = copyImage(image);
  const lines: TextLine[] = [];
  // Text grows with the picture so it stays readable on large photos.
  const k = Math.max(1, canvas.height / 600);
  const lineHeight = Math.round(18 * k);
  let y = Math.round(24 * k);
  const panelX = canvas.width + Math.round(12 * k);
  result.faces.forEach((face, i) => {
    drawRect(canvas, face.box, MAGENTA, Math.round(2 * k));
    lines.push({ x: panelX, y, text: `Face ${i + 1}`, size: 16 * k, bold: true, color: MAGENTA });
    y += lineHeight;
    if (face.emotion) {
      const ranked = [...EMOTIONS].sort((p, q) => (face.emotion?.[q] ?? 0) - (face.emotion?.[p] ?? 0));
      for (const emotion of ranked) {
        const p = face.emotion[emotion];
        lines.push({ x: panelX + 8 * k, y, text: `${emotion}: ${(p * 100).toFixed(1)}%`, size: 14 * k, bold: emotion === face.dominantEmotion });
        y += lineHeight;
      }
    }
    if (face.age !== undefined) {
      lines.push({ x: panelX + 8 * k, y, text: `age: ${face.age.toFixed(1)}`, size: 14 * k });
      y += lineHeight;
    }
    if (face.gender && face.dominantGender) {
      lines.push({ x: panelX + 8 * k, y, text: `gender: ${face.dominantGender} (${(face.gender[face.dominantGender] * 100).toFixed(1)}%)`, size: 14 * k });
      y += lineHeight;
    }
    // Number the box on the image too, so the panel's "Face N" can be found.
    lines.push({ x: face.box.x + 4, y: Math.max(16, face.box.y - 6), text: String(i + 1), size: 16 * k, bold: true, color: MAGENTA });
    y += lineHeight / 2;
  });
  const panelWidth = Math.round(230 * k);
  const width = canvas.width + panelWidth;
  const height = Math.max(canvas.height, y);
  return sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([
      layer(canvas, 0, 0),
      { input: svgText(width, height, lines), left: 0, top: 0 },
    ])
    .png()
    .toBuffer();
}

/** What `renderSearch` draws for one match: its label and its enrolled face, where stored. */
export interface RenderedMatch {
  identity: string;
  distance: number;
  verified: boolean;
  /** JPEG/PNG bytes of the enrolled face, or null (a grey tile). */
  thumbnail: Buffer | null;
}

/**
 * One row per query face: the face cut from the query image, then its best matches, each
 * labelled with its identity and distance (green within the threshold, red beyond it).
 */
export async function renderSearch(image: RgbImage, faces: readonly { box: Box | null; identity: string | null; matches: readonly RenderedMatch[] }[], tile = 150): Promise<Buffer> {
  const gap = 10;
  const caption = 44;
  const header = 34;
  const columns = 1 + Math.max(1, ...faces.map((f) => f.matches.length));
  const rowHeight = header + tile + caption;
  const width = gap + columns * (tile + gap);
  const height = Math.max(1, faces.length) * rowHeight + gap;
  const layers: OverlayOptions[] = [];
  const lines: TextLine[] = [];
  const background: { x: number; y: number; width: number; height: number }[] = [];
  const source = toPng(image);
  for (const [row, face] of faces.entries()) {
    const top = gap + row * rowHeight;
    lines.push({ x: gap, y: top + 24, text: `Face ${row + 1}: ${face.identity ?? 'not in the gallery'}`, size: 18, bold: true, color: face.identity ? GREEN : RED });
    const b = face.box ?? { x: 0, y: 0, width: image.width, height: image.height };
    const margin = 0.2 * Math.max(b.width, b.height);
    const left = Math.max(0, Math.floor(b.x - margin));
    const upper = Math.max(0, Math.floor(b.y - margin));
    const cut = {
      left,
      top: upper,
      width: Math.max(1, Math.min(image.width - left, Math.ceil(b.width + 2 * margin))),
      height: Math.max(1, Math.min(image.height - upper, Math.ceil(b.height + 2 * margin))),
    };
    layers.push({ input: await source.clone().extract(cut).resize(tile, tile, { fit: 'cover' }).png().toBuffer(), left: gap, top: top + header });
    lines.push({ x: gap, y: top + header + tile + 18, text: 'query', size: 14 });
    for (const [i, match] of face.matches.entries()) {
      const x = gap + (i + 1) * (tile + gap);
      const picture = match.thumbnail
        ? await sharp(match.thumbnail).resize(tile, tile, { fit: 'cover' }).png().toBuffer()
        : await sharp({ create: { width: tile, height: tile, channels: 3, background: { r: 200, g: 200, b: 200 } } }).png().toBuffer();
      layers.push({ input: picture, left: x, top: top + header });
      const color = match.verified ? GREEN : RED;
      const name = match.identity.length > 18 ? `${match.identity.slice(0, 17)}…` : match.identity;
      lines.push({ x, y: top + header + tile + 18, text: name, size: 14, bold: true, color });
      lines.push({ x, y: top + header + tile + 36, text: `distance ${match.distance.toFixed(4)}`, size: 13, color });
    }
  }
  return sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([...layers, { input: svgText(width, height, lines, background), left: 0, top: 0 }])
    .png()
    .toBuffer();
}
