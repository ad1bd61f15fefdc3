// The kernels on their own, on raw memory laid out by hand: every row count 1–9 (the 4-row blocks and
// their 1–3-row tails) and column counts that give odd and even numbers of 16-byte vectors, both builds,
// both precisions, against plain f64 sums.
import { test } from "uvu";
import { closeTo, engines, normal, rng } from "./helpers.js";
import * as ref from "./reference.js";

const builds = await engines();
const ROWS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 17];
const COLS = [1, 2, 3, 4, 5, 7, 8, 9, 17, 67];

for (const { name, engine } of builds) {
  for (const precision of ["f32", "f64"] as const) {
    test(`${name} ${precision}: dense and denseBack on every tile tail`, () => {
      const size = precision === "f32" ? 4 : 8;
      const lanes = 16 / size;
      const k = engine.kernels;
      const dense = precision === "f32" ? k.denseF32 : k.denseF64;
      const denseBack = precision === "f32" ? k.denseBackF32 : k.denseBackF64;
      const round = precision === "f32" ? Math.fround : (v: number) => v;
      const tol = precision === "f32" ? 1e-4 : 1e-12;
      const random = rng(size * 1000);
      for (const rows of ROWS) {
        for (const cols of COLS) {
          const stride = Math.ceil(cols / lanes) * lanes;
          const rowsPad = Math.ceil(rows / lanes) * lanes;
          const W = Array.from({ length: rows }, () => Array.from({ length: cols }, () => round(normal(random))));
          const b = Array.from({ length: rows }, () => round(normal(random)));
          const a = Array.from({ length: cols }, () => round(normal(random)));
          const g = Array.from({ length: rows }, () => round(normal(random)));
          const s = Array.from({ length: cols }, () => round(random()));
          const bytes = (rows * stride + rowsPad * 4 + stride * 4) * size + 64 * 8;
          const base = engine.arena.alloc(bytes, "kernel test");
          let at = base;
          const take = (n: number) => {
            const start = at;
            at = Math.ceil((at + n * size) / 64) * 64;
            return start;
          };
          const [w, bb, aIn, aOut, sOut, gIn, sIn, gOut] = [rows * stride, rowsPad, stride, rowsPad, rowsPad, rowsPad, stride, stride].map(take);
          const view = precision === "f32" ? new Float32Array(engine.memory.buffer) : new Float64Array(engine.memory.buffer);
          W.forEach((row, i) => row.forEach((v, j) => (view[w / size + i * stride + j] = v)));
          b.forEach((v, i) => (view[bb / size + i] = v));
          a.forEach((v, j) => (view[aIn / size + j] = v));
          g.forEach((v, i) => (view[gIn / size + i] = v));
          s.forEach((v, j) => (view[sIn / size + j] = v));
          const where = `rows ${rows}, cols ${cols}`;

          for (const act of ["tanh", "sigmoid"] as const) {
            dense(aOut, sOut, w, bb, aIn, rows, stride, act === "tanh" ? 2 : 1, 0, 0);
            const z = W.map((row, i) => row.reduce((sum, v, j) => sum + v * a[j], b[i]));
            closeTo(view.subarray(aOut / size, aOut / size + rows), z.map((v) => ref.sigma(act, v)), tol, `dense a ${act} ${where}`);
            closeTo(view.subarray(sOut / size, sOut / size + rows), z.map((v) => ref.sigmaPrime(act, v)), tol, `dense s ${act} ${where}`);
          }

          const wtg = Array.from({ length: cols }, (_, j) => W.reduce((sum, row, i) => sum + row[j] * g[i], 0));
          denseBack(gOut, w, gIn, 0, rows, stride, 0, 0);
          closeTo(view.subarray(gOut / size, gOut / size + stride), [...wtg, ...new Array(stride - cols).fill(0)], tol, `Wᵀg ${where}`);
          denseBack(gOut, w, gIn, sIn, rows, stride, 0, 0);
          closeTo(view.subarray(gOut / size, gOut / size + cols), wtg.map((v, j) => v * s[j]), tol, `(Wᵀg)⊙s ${where}`);
          engine.arena.release(base, bytes);
        }
      }
    });
  }
}

test.run();
