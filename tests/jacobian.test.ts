// The Jacobian's backward kernels (assembly/jacobian.ts) on raw memory against plain f64 sums, and
// mlp.jacobian end to end against the reference's forward-mode product and central differences: odd
// row, column and output counts (4-vector tiles and their tails, sums longer than one 64-row block, rounds
// of 16 columns and a zero column), both builds, both precisions.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { closeTo, engines, normal, randomCase, rng } from "./helpers.js";
import * as ref from "./reference.js";
import type { RefActivation } from "./reference.js";

const builds = await engines();
const TOL = { f64: 1e-12, f32: 1e-4 };
const ROWS = [1, 3, 5, 7, 8, 17, 64, 65, 67, 130];
const COLS = [1, 3, 4, 5, 7, 8, 17, 67];
const WIDTHS = [2, 4, 10, 16];
const CANARY = 12345;

for (const { name, engine } of builds) {
  for (const precision of ["f32", "f64"] as const) {
    test(`${name} ${precision}: jacobianBack and jacobianTop against plain sums`, () => {
      const size = precision === "f32" ? 4 : 8;
      const k = engine.kernels;
      const back = precision === "f32" ? k.jacobianBackF32 : k.jacobianBackF64;
      const top = precision === "f32" ? k.jacobianTopF32 : k.jacobianTopF64;
      const round = precision === "f32" ? Math.fround : (v: number) => v;
      const random = rng(size * 77);
      const column = (n: number) => Math.ceil((n * size) / 16) * 16;
      for (const rows of ROWS) {
        for (const cols of COLS) {
          const stride = column(cols) / size;
          const W = Array.from({ length: rows }, () => Array.from({ length: cols }, () => round(normal(random))));
          const s = Array.from({ length: cols }, () => round(random() + 0.5));
          const sTop = Array.from({ length: rows }, () => round(random() + 0.5));
          for (const width of WIDTHS) {
            const G = Array.from({ length: width }, () => Array.from({ length: rows }, () => round(normal(random))));
            const outColumn = column(cols) + 16; // wider than needed: the kernels must honour it
            const gColumn = column(rows);
            const bytes = rows * stride * size + width * (gColumn + outColumn) + 3 * column(Math.max(rows, cols)) + 64 * 8;
            const base = engine.arena.alloc(bytes, "jacobian kernel test");
            let at = base;
            const take = (n: number) => {
              const start = at;
              at = Math.ceil((at + n) / 64) * 64;
              return start;
            };
            const [w, g, sAt, sTopAt, out] = [rows * stride * size, width * gColumn, column(cols), column(rows), width * outColumn + 64].map(take);
            const view = precision === "f32" ? new Float32Array(engine.memory.buffer) : new Float64Array(engine.memory.buffer);
            view.fill(0, w / size, w / size + rows * stride);
            W.forEach((row, i) => row.forEach((v, j) => (view[w / size + i * stride + j] = v)));
            G.forEach((col, c) => col.forEach((v, i) => (view[(g + c * gColumn) / size + i] = v)));
            s.forEach((v, j) => (view[sAt / size + j] = v));
            sTop.forEach((v, i) => (view[sTopAt / size + i] = v));
            const region = (out + width * outColumn) / size;
            const where = `rows ${rows}, cols ${cols}, width ${width}`;
            const check = (want: number[][], what: string) => {
              want.forEach((row, c) => closeTo(view.subarray((out + c * outColumn) / size, (out + c * outColumn) / size + cols), row, TOL[precision], `${what} ${where} column ${c}`));
              for (let e = region; e < region + 64 / size; e++) assert.is(view[e], CANARY, `${what} ${where}: wrote past its ${width} columns`);
            };
            const reset = () => {
              view.fill(NaN, out / size, region);
              view.fill(CANARY, region, region + 64 / size);
            };

            reset();
            assert.is(back(out, w, g, 0, rows, cols, stride, width, outColumn, gColumn), out);
            check(ref.transposedProduct(W, G), "Wᵀ G");
            reset();
            back(out, w, g, sAt, rows, cols, stride, width, outColumn, gColumn);
            check(ref.transposedProduct(W, G, s), "diag(s) Wᵀ G");

            // Rows k0.. of diag(sTop) W (diag(s)), columns past `rows` zero.
            for (const k0 of [0, Math.max(0, rows - 1)]) {
              const unit = Array.from({ length: width }, (_, c) => Array.from({ length: rows }, (_, i) => (i === k0 + c ? sTop[i] : 0)));
              reset();
              assert.is(top(out, w, sTopAt, sAt, k0, rows, cols, stride, width, outColumn), out);
              check(ref.transposedProduct(W, unit, s), `top k0 = ${k0}`);
              reset();
              top(out, w, sTopAt, 0, k0, rows, cols, stride, width, outColumn);
              check(ref.transposedProduct(W, unit), `top without s, k0 = ${k0}`);
            }
            engine.arena.release(base, bytes);
          }
        }
      }
    });
  }
}

const OUTPUTS = [1, 2, 3, 5, 10, 17, 33];
const HIDDEN = [1, 3, 5, 7, 67];
const INPUTS = [1, 3, 5, 7, 67];

test("mlp.jacobian against the reference for n_L = 1, 2, 3, 5, 10, 17, 33 on one to three layers of odd widths", () => {
  for (const { name, engine } of builds) {
    for (const precision of ["f64", "f32"] as const) {
      OUTPUTS.forEach((nL, a) => {
        INPUTS.forEach((n1, b) => {
          const h1 = HIDDEN[(a + b) % HIDDEN.length];
          const h2 = HIDDEN[(a + 2 * b + 1) % HIDDEN.length];
          const shapes: [number[], RefActivation[]][] = [
            [[n1, nL], ["tanh"]],
            [[n1, h1, nL], ["tanh", "sigmoid"]],
            [[n1, h1, h2, nL], ["softplus", "tanh", "sigmoid"]],
          ];
          for (const [sizes, acts] of shapes) {
            const c = randomCase(sizes, acts, precision, 900 + 31 * a + b);
            const net = engine.createMLP(c.spec);
            const out = new (precision === "f32" ? Float32Array : Float64Array)(nL * n1).fill(NaN);
            assert.is(net.jacobian(c.x, out), out);
            closeTo(out, ref.jacobian(c.ref, c.x).flat(), TOL[precision], `${name} ${precision} [${sizes}]`);
            net.dispose();
          }
        });
      });
    }
  }
});

test("mlp.jacobian: sums over more than one 64-row block, softmax over two rounds, into a plain array, and finite differences", () => {
  for (const { name, engine } of builds) {
    for (const precision of ["f64", "f32"] as const) {
      for (const [sizes, acts] of [
        [[7, 130, 67, 10], ["tanh", "sigmoid", "sigmoid"]],
        [[5, 70, 9, 17], ["tanh", "tanh", "softmax"]],
        [[3, 65, 129, 33], ["sigmoid", "tanh", "logSoftmax"]],
      ] as [number[], RefActivation[]][]) {
        const c = randomCase(sizes, acts, precision, 950 + sizes[1]);
        const net = engine.createMLP(c.spec);
        const want = ref.jacobian(c.ref, c.x).flat();
        closeTo(net.jacobian(c.x), want, TOL[precision], `${name} ${precision} [${sizes}]`);
        const plain: number[] = new Array(want.length).fill(NaN);
        net.batchRunner().jacobian(plain);
        closeTo(plain, want, TOL[precision], `${name} ${precision} [${sizes}] into number[]`);
        if (precision === "f64") closeTo(net.jacobian(c.x), ref.jacobianFD(c.ref, c.x).flat(), 1e-6, `${name} [${sizes}] finite differences`);
        net.dispose();
      }
    }
  }
});

test.run();
