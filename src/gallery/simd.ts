/**
 * Dot products of one query with many rows, in WebAssembly SIMD (f32x4, four accumulators): the
 * exact scan's inner loop, about 4x the plain TypeScript loop. The module is a few dozen bytes,
 * encoded below instruction by instruction (text form beside each line), so nothing is fetched
 * or compiled at build time. Rows live in the module's memory, one contiguous block.
 *
 *   (func $scores (param $data i32) (param $rows i32) (param $rowBytes i32) (param $q i32) (param $out i32)
 *     ;; for each row: out[r] = Σ data[r] · q, rowBytes a multiple of 64 (dimension a multiple of 16)
 */
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, depth],
  get: (i: number) => [0x20, i],
  set: (i: number) => [0x21, i],
  tee: (i: number) => [0x22, i],
  i32: (v: number) => [0x41, v],
  i32Add: [0x6a],
  i32Shl: [0x74],
  i32LtU: [0x49],
  i32Eqz: [0x45],
  f32Add: [0x92],
  f32Store: [0x38, 0x02, 0x00],
  v128Load: (offset: number) => [0xfd, 0x00, 0x02, offset],
  v128Zero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Mul: [0xfd, 0xe6, 0x01],
  lane: (i: number) => [0xfd, 0x1f, i],
};
const DATA = 0, ROWS = 1, ROW_BYTES = 2, Q = 3, OUT = 4, I = 5, A = [6, 7, 8, 9] as const, OUT_END = 10;

const body = [
  // locals: $i i32, $a0..$a3 v128, $outEnd i32
  0x03, 0x01, 0x7f, 0x04, 0x7b, 0x01, 0x7f,
  ...op.get(OUT), ...op.get(ROWS), ...op.i32(2), ...op.i32Shl, ...op.i32Add, ...op.set(OUT_END), // outEnd = out + rows * 4
  ...op.block,
  ...op.get(ROWS), ...op.i32Eqz, ...op.brIf(0),
  ...op.loop, // each row
  ...A.flatMap((a) => [...op.v128Zero, ...op.set(a)]),
  ...op.i32(0), ...op.set(I),
  ...op.loop, // 16 floats per turn
  ...A.flatMap((a, k) => [...op.get(a), ...op.get(DATA), ...op.get(I), ...op.i32Add, ...op.v128Load(16 * k), ...op.get(Q), ...op.get(I), ...op.i32Add, ...op.v128Load(16 * k), ...op.f32x4Mul, ...op.f32x4Add, ...op.set(a)]),
  ...op.get(I), 0x41, 0xc0, 0x00 /* i32.const 64: signed LEB128 */, ...op.i32Add, ...op.tee(I), ...op.get(ROW_BYTES), ...op.i32LtU, ...op.brIf(0),
  ...op.end,
  ...op.get(OUT),
  ...op.get(A[0]), ...op.get(A[1]), ...op.f32x4Add, ...op.get(A[2]), ...op.f32x4Add, ...op.get(A[3]), ...op.f32x4Add, ...op.tee(A[0]),
  ...op.lane(0), ...op.get(A[0]), ...op.lane(1), ...op.f32Add, ...op.get(A[0]), ...op.lane(2), ...op.f32Add, ...op.get(A[0]), ...op.lane(3), ...op.f32Add,
  ...op.f32Store, // out[r] = Σ lanes
  ...op.get(DATA), ...op.get(ROW_BYTES), ...op.i32Add, ...op.set(DATA),
  ...op.get(OUT), ...op.i32(4), ...op.i32Add, ...op.tee(OUT), ...op.get(OUT_END), ...op.i32LtU, ...op.brIf(0),
  ...op.end,
  ...op.end,
  ...op.end,
];

const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}
const name = (s: string) => [s.length, ...Buffer.from(s)];

const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [0x01, 0x60, 0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00]), // type: (i32 × 5) → ()
  ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x01, 0x01, 0x80, 0x80, 0x04]), // import memory, min 1, max 65536 pages
  ...section(3, [0x01, 0x00]),
  ...section(7, [0x01, ...name('scores'), 0x00, 0x00]),
  ...section(10, [0x01, ...leb(body.length), ...body]),
]);

type ScoresFn = (data: number, rows: number, rowBytes: number, query: number, out: number) => void;

const PAGE = 65536;
/** Bytes reserved at the start of memory for the query vector. */
const QUERY_BYTES = 65536;

/**
 * Rows of `dimension` floats in WebAssembly memory, with a SIMD scan. `data` is a view that is
 * replaced whenever the memory grows (read it again after `reserve`). Null from `create` where
 * SIMD is unavailable or the dimension is not a multiple of 16 (the caller scans in TypeScript).
 */
export class SimdRows {
  data: Float32Array;
  private capacity: number;

  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly scoresFn: ScoresFn,
    readonly dimension: number,
  ) {
    this.capacity = 0;
    this.data = new Float32Array(0);
    this.reserve(1024);
  }

  static create(dimension: number): SimdRows | null {
    if (dimension % 16 !== 0 || dimension * 4 > QUERY_BYTES) return null;
    try {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
      const instance = new WebAssembly.Instance(new WebAssembly.Module(MODULE), { env: { memory } });
      return new SimdRows(memory, instance.exports.scores as ScoresFn, dimension);
    } catch {
      return null;
    }
  }

  /** Room for at least `rows` rows (and their scores); keeps the rows held. */
  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const capacity = Math.max(rows, this.capacity * 2);
    // Layout: query | rows | scores.
    const needed = QUERY_BYTES + capacity * this.dimension * 4 + capacity * 4;
    const have = this.memory.buffer.byteLength;
    if (needed > have) this.memory.grow(Math.ceil((needed - have) / PAGE));
    this.capacity = capacity;
    this.data = new Float32Array(this.memory.buffer, QUERY_BYTES, capacity * this.dimension);
  }

  /** Dot products of `query` with the first `rows` rows (a view, valid until the next call). */
  scores(query: Float32Array, rows: number): Float32Array {
    new Float32Array(this.memory.buffer, 0, this.dimension).set(query);
    const out = QUERY_BYTES + this.capacity * this.dimension * 4;
    this.scoresFn(QUERY_BYTES, rows, this.dimension * 4, 0, out);
    return new Float32Array(this.memory.buffer, out, rows);
  }
}
