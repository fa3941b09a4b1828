/**
 * Reader for dlib's serialised DNN files (`*.dat` written by `dlib::serialize(net)`), as far as
 * visage needs it: the learned parameters of each convolution (`con_`), affine (`affine_`) and
 * fully connected (`fc_`) layer, in file order (input side first).
 *
 * The format, from dlib's serialisation code: integers are variable length (one byte holding the
 * byte count in its low nibble and the sign in 0x80, then that many little-endian bytes); a string
 * is its length then its bytes; a tensor is version 2, its four dimensions (num_samples, k, nr,
 * nc), then the values as little-endian IEEE float32. Each layer starts with its name string
 * ("con_4", "affine_", "fc_2"), followed for con_ and affine_ by the layer's parameter tensor and for
 * fc_ by the output and input counts, then the tensor. The parts of the file between layers (loss,
 * input, pooling, activation settings) are not needed, so layers are found by their name strings.
 */
import { readFile } from 'node:fs/promises';

export type DlibLayerKind = 'con' | 'affine' | 'fc';

/** One parametrised layer: its parameters exactly as dlib stores them (one flat tensor). */
export interface DlibLayer {
  kind: DlibLayerKind;
  /** The tensor's dimensions as stored (num_samples, k, nr, nc). */
  dims: [number, number, number, number];
  params: Float32Array;
}

const LAYER_TAGS: Record<string, DlibLayerKind> = { con_4: 'con', con_5: 'con', affine_: 'affine', fc_2: 'fc' };

class Cursor {
  constructor(
    private readonly bytes: Buffer,
    public offset: number,
    private readonly source: string,
  ) {}

  int(): number {
    const header = this.bytes[this.offset];
    if (header === undefined) throw new Error(`${this.source}: unexpected end of file at ${this.offset}`);
    const size = header & 0x0f;
    if (size > 6) throw new Error(`${this.source}: integer of ${size} bytes at ${this.offset} is out of range`);
    const value = this.bytes.readUIntLE(this.offset + 1, size || 1);
    this.offset += 1 + size;
    return header & 0x80 ? -value : value;
  }

  tensor(): { dims: [number, number, number, number]; params: Float32Array } {
    const at = this.offset;
    const version = this.int();
    if (version !== 2) throw new Error(`${this.source}: expected tensor version 2 at ${at} but found ${version}`);
    const dims: [number, number, number, number] = [this.int(), this.int(), this.int(), this.int()];
    const count = dims.reduce((a, b) => a * b, 1);
    const end = this.offset + count * 4;
    if (dims.some((d) => d < 0) || end > this.bytes.length) throw new Error(`${this.source}: tensor at ${at} of [${dims.join(', ')}] runs past the end of the file`);
    const params = new Float32Array(count);
    for (let i = 0; i < count; i++) params[i] = this.bytes.readFloatLE(this.offset + 4 * i);
    this.offset = end;
    return { dims, params };
  }
}

/** The parametrised layers of a dlib DNN file, input side first. */
export async function readDlibNet(datPath: string): Promise<DlibLayer[]> {
  const bytes = await readFile(datPath);
  // Each name as it is serialised (length 0x01 n, then the bytes), and where it next occurs.
  const tags = Object.entries(LAYER_TAGS).map(([name, kind]) => {
    const needle = Buffer.concat([Buffer.from([0x01, name.length]), Buffer.from(name, 'latin1')]);
    return { kind, needle, next: bytes.indexOf(needle) };
  });
  const layers: DlibLayer[] = [];
  let offset = 0;
  for (;;) {
    for (const tag of tags) if (tag.next >= 0 && tag.next < offset) tag.next = bytes.indexOf(tag.needle, offset);
    const found = tags.filter((t) => t.next >= 0).sort((a, b) => a.next - b.next)[0];
    if (!found) break;
    const cursor = new Cursor(bytes, found.next + found.needle.length, datPath);
    if (found.kind === 'fc') {
      cursor.int(); // outputs
      cursor.int(); // inputs
    }
    layers.push({ kind: found.kind, ...cursor.tensor() });
    offset = cursor.offset;
  }
  if (layers.length === 0) throw new Error(`${datPath}: no dlib DNN layers found (not a dlib network file?)`);
  return layers;
}
