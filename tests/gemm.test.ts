// The batched kernels on their own, on raw memory laid out by hand ([n][mb] blocks, W row-major with a
// padded stride): row and column counts that run several 4-wide tiles and every 1–3 tail, mb from one
// sample tile to several, both builds, both precisions, against plain f64 sums. Every byte outside the
// outputs is checked unchanged after each call, and W's padding columns hold NaN, so a kernel that reads
// past cols or writes past its output shows up.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Engine } from "../src/index.js";
import { closeTo, engines, normal, rng } from "./helpers.js";
import * as ref from "./reference.js";

const builds = await engines();
const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 17, 67];
const BATCHES = [8, 16, 24, 64];
const ACTIVATIONS = [
  { name: "sigmoid", code: 1 },
  { name: "tanh", code: 2 },
] as const;
/** Bytes left between buffers, filled with a canary, so that writes past an output are caught. */
const GAP = 64;

type Precision = "f32" | "f64";

/** One case's buffers in a fresh arena block; offsets are bytes, every buffer 64-byte aligned. */
class Layout {
  readonly base: number;
  readonly bytes: number;
  private at: number;

  constructor(
    readonly engine: Engine,
    readonly size: number,
    elements: number[],
  ) {
    this.bytes = elements.reduce((sum, n) => sum + Math.ceil((n * size) / 64) * 64 + GAP, GAP);
    this.base = engine.arena.alloc(this.bytes, "gemm test");
    this.at = this.base + GAP;
  }

  /** Reserves n elements, GAP bytes after the previous buffer. */
  take(n: number): number {
    const start = this.at;
    this.at += Math.ceil((n * this.size) / 64) * 64 + GAP;
    return start;
  }

  view(): Float32Array | Float64Array {
    const buffer = this.engine.memory.buffer;
    return this.size === 4 ? new Float32Array(buffer) : new Float64Array(buffer);
  }

  /** A copy of the whole block, for checking what a call changed. */
  snapshot(): Uint8Array {
    return new Uint8Array(this.engine.memory.buffer, this.base, this.bytes).slice();
  }

  /** Asserts that no byte outside [start, start + n elements) of each output changed since `before`. */
  unchangedOutside(before: Uint8Array, outputs: [number, number][], what: string): void {
    const after = new Uint8Array(this.engine.memory.buffer, this.base, this.bytes);
    const skips = outputs.map(([start, n]) => [start - this.base, start - this.base + n * this.size]).sort((x, y) => x[0] - y[0]);
    let i = 0;
    for (const [from, to] of [...skips, [this.bytes, this.bytes]]) {
      for (; i < from; i++) {
        if (after[i] !== before[i]) assert.unreachable(`${what}: byte ${this.base + i} (block offset ${i}) outside the outputs changed`);
      }
      i = Math.max(i, to);
    }
  }

  release(): void {
    this.engine.arena.release(this.base, this.bytes);
  }
}

/** Writes a rows × cols matrix as [rows][stride], the padding columns NaN (the kernels must not read them). */
function writeMatrix(view: Float32Array | Float64Array, at: number, size: number, M: number[][], stride: number): void {
  const start = at / size;
  M.forEach((row, i) => {
    for (let j = 0; j < stride; j++) view[start + i * stride + j] = j < row.length ? row[j] : NaN;
  });
}

/** Reads a [n][mb] block into nested arrays. */
function readBlock(view: Float32Array | Float64Array, at: number, size: number, n: number, mb: number): number[][] {
  const start = at / size;
  return Array.from({ length: n }, (_, j) => Array.from(view.subarray(start + j * mb, start + (j + 1) * mb)));
}

function randomMatrix(rows: number, cols: number, random: () => number, round: (v: number) => number, scale = 1): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => round(normal(random) * scale)));
}

/** Runs gemm and gemmT for one shape against plain f64 sums. */
function checkShape(engine: Engine, precision: Precision, rows: number, cols: number, mb: number, random: () => number): void {
  const size = precision === "f32" ? 4 : 8;
  const lanes = 16 / size;
  const k = engine.kernels;
  const gemm = precision === "f32" ? k.gemmF32 : k.gemmF64;
  const gemmT = precision === "f32" ? k.gemmTF32 : k.gemmTF64;
  const round = precision === "f32" ? Math.fround : (v: number) => v;
  const tol = precision === "f32" ? 1e-4 : 1e-12;
  const stride = Math.ceil(cols / lanes) * lanes;
  const where = `${precision} rows ${rows}, cols ${cols}, mb ${mb}`;

  // Scaled like a trained layer, so that σ is neither flat nor saturated.
  const W = randomMatrix(rows, cols, random, round, 1 / Math.sqrt(cols));
  const b = randomMatrix(1, rows, random, round, 0.5)[0];
  const A = randomMatrix(cols, mb, random, round); // aIn, [cols][mb]
  const G = randomMatrix(rows, mb, random, round); // g, [rows][mb]
  const S = Array.from({ length: cols }, () => Array.from({ length: mb }, () => round(random()))); // s, [cols][mb]

  const layout = new Layout(engine, size, [rows * stride, rows, cols * mb, rows * mb, rows * mb, rows * mb, cols * mb, cols * mb]);
  const [w, bb, aIn, aOut, sOut, g, s, gOut] = [rows * stride, rows, cols * mb, rows * mb, rows * mb, rows * mb, cols * mb, cols * mb].map(
    (n) => layout.take(n),
  );
  const view = layout.view();
  // Canary everywhere first (gaps, padding of b), then the inputs.
  new Uint8Array(engine.memory.buffer, layout.base, layout.bytes).fill(0xa5);
  writeMatrix(view, w, size, W, stride);
  writeMatrix(view, bb, size, [b], rows);
  writeMatrix(view, aIn, size, A, mb);
  writeMatrix(view, g, size, G, mb);
  writeMatrix(view, s, size, S, mb);

  // z = W·aIn + b 1ᵀ, in f64.
  const Z = W.map((row, i) => Array.from({ length: mb }, (_, c) => row.reduce((sum, v, j) => sum + v * A[j][c], b[i])));
  for (const act of ACTIVATIONS) {
    view.fill(NaN, aOut / size, aOut / size + rows * mb);
    view.fill(NaN, sOut / size, sOut / size + rows * mb);
    const before = layout.snapshot();
    const returned = gemm(aOut, sOut, w, bb, aIn, rows, cols, stride, mb, act.code, 0, 0);
    assert.is(returned, aOut, `gemm returns aOut (${where})`);
    layout.unchangedOutside(before, [[aOut, rows * mb], [sOut, rows * mb]], `gemm ${act.name} ${where}`);
    const v = layout.view();
    closeTo(readBlock(v, aOut, size, rows, mb).flat(), Z.flat().map((z) => ref.sigma(act.name, z)), tol, `gemm a ${act.name} ${where}`);
    closeTo(readBlock(v, sOut, size, rows, mb).flat(), Z.flat().map((z) => ref.sigmaPrime(act.name, z)), tol, `gemm s ${act.name} ${where}`);
  }

  // Wᵀ g, in f64.
  const WtG = Array.from({ length: cols }, (_, j) => Array.from({ length: mb }, (_, c) => W.reduce((sum, row, i) => sum + row[j] * G[i][c], 0)));
  for (const withS of [false, true]) {
    view.fill(NaN, gOut / size, gOut / size + cols * mb);
    const before = layout.snapshot();
    const returned = gemmT(gOut, w, g, withS ? s : 0, rows, cols, stride, mb);
    assert.is(returned, gOut, `gemmT returns gOut (${where})`);
    const what = `gemmT ${withS ? "(Wᵀg)⊙s" : "Wᵀg"} ${where}`;
    layout.unchangedOutside(before, [[gOut, cols * mb]], what);
    const expected = withS ? WtG.map((row, j) => row.map((v, c) => v * S[j][c])) : WtG;
    closeTo(readBlock(layout.view(), gOut, size, cols, mb).flat(), expected.flat(), tol, what);
  }
  layout.release();
}

for (const { name, engine } of builds) {
  for (const precision of ["f32", "f64"] as const) {
    test(`${name} ${precision}: gemm and gemmT on every tile tail, mb = ${BATCHES.join(", ")}`, () => {
      const random = rng(precision === "f32" ? 4040 : 8080);
      for (const rows of SIZES) {
        for (const cols of SIZES) {
          for (const mb of BATCHES) checkShape(engine, precision, rows, cols, mb, random);
        }
      }
    });

    // gemmT blocks its sum over rows; power-of-two row strides give the shortest blocks (8 rows at a
    // 4 KiB stride). 67 rows run several blocks and a short last one.
    test(`${name} ${precision}: gemmT's blocked sum at power-of-two and other strides`, () => {
      const random = rng(precision === "f32" ? 4141 : 8181);
      for (const cols of [256, 512, 784]) checkShape(engine, precision, 67, cols, 16, random);
    });
  }
}

test.run();
