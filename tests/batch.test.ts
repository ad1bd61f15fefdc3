// Batched calls (matrix·matrix kernels on feature-major blocks) and the Jacobian, against the
// independent reference and against the single-input calls, on batch sizes that leave every kind of
// partial block, both builds and precisions.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { closeTo, engines, normal, randomCase, rng, throwsCode } from "./helpers.js";
import * as ref from "./reference.js";
import type { RefActivation } from "./reference.js";

const builds = await engines();
const TOL = { f64: 1e-12, f32: 1e-4 };
const BATCHES = [1, 2, 3, 4, 5, 17, 64, 65, 1000];
const shapes: [number[], RefActivation[]][] = [
  [[3, 5, 1], ["tanh", "sigmoid"]],
  [[7, 17, 4, 1], ["softplus", "relu", "sigmoid"]],
  [[67, 9, 1], ["leakyRelu", "identity"]],
  [[1, 1], ["sigmoid"]],
];

function batchOf(c: { x: number[] }, m: number, precision: "f32" | "f64", seed: number): number[][] {
  const random = rng(seed);
  const round = precision === "f32" ? Math.fround : (v: number) => v;
  return Array.from({ length: m }, () => c.x.map(() => round(random() * 4 - 2)));
}

for (const [sizes, acts] of shapes) {
  test(`gradientBatch / valueAndGradientBatch / forwardBatch [${sizes}] on batches ${BATCHES.join(", ")}`, () => {
    for (const { name, engine } of builds) {
      for (const precision of ["f64", "f32"] as const) {
        const c = randomCase(sizes, acts, precision, 300 + sizes[0]);
        const net = engine.createMLP(c.spec);
        for (const m of BATCHES) {
          const rows = batchOf(c, m, precision, m);
          const xs = rows.flat();
          const where = `${name} ${precision} m = ${m}`;
          const grads = net.gradientBatch(xs);
          assert.is(grads.length, m * sizes[0]);
          const expected = rows.flatMap((x) => ref.gradient(c.ref, x));
          closeTo(grads, expected, TOL[precision], `${where} gradientBatch`);
          // Row i agrees with the single-input gradient of row i.
          for (const i of [0, m >> 1, m - 1]) {
            closeTo(grads.subarray(i * sizes[0], (i + 1) * sizes[0]), net.gradient(rows[i]), TOL[precision], `${where} row ${i}`);
          }
          const both = net.valueAndGradientBatch(xs);
          closeTo(both.values, rows.map((x) => ref.forward(c.ref, x)[0]), TOL[precision], `${where} values`);
          closeTo(both.gradients, expected, TOL[precision], `${where} gradients`);
          closeTo(net.forwardBatch(xs), rows.flatMap((x) => ref.forward(c.ref, x)), TOL[precision], `${where} forwardBatch`);
        }
        net.dispose();
      }
    }
  });
}

test("forwardBatch of a network with n_L = 5, and results into out", () => {
  for (const { name, engine } of builds) {
    const c = randomCase([6, 11, 5], ["tanh", "sigmoid"], "f64", 320);
    const net = engine.createMLP(c.spec);
    const rows = batchOf(c, 37, "f64", 9);
    const out = new Float64Array(37 * 5);
    assert.is(net.forwardBatch(rows.flat(), out), out);
    closeTo(out, rows.flatMap((x) => ref.forward(c.ref, x)), 1e-12, name);
    net.dispose();
  }
});

for (const [sizes, acts] of [
  [[5, 7, 10], ["tanh", "sigmoid"]],
  [[17, 9, 4, 3], ["softplus", "tanh", "sigmoid"]],
  [[3, 4, 70], ["sigmoid", "tanh"]], // more outputs than one block
  [[8, 6, 1], ["relu", "sigmoid"]],
] as [number[], RefActivation[]][]) {
  test(`jacobian [${sizes}] matches the reference, and its rows are vjp with unit vectors`, () => {
    const random = rng(sizes[2]);
    for (const { name, engine } of builds) {
      for (const precision of ["f64", "f32"] as const) {
        const c = randomCase(sizes, acts, precision, 330 + sizes[0]);
        const net = engine.createMLP(c.spec);
        const nL = sizes[sizes.length - 1];
        const J = net.jacobian(c.x);
        closeTo(J, ref.jacobian(c.ref, c.x).flat(), TOL[precision], `${name} ${precision} jacobian`);
        for (const k of [0, nL - 1]) {
          const unit = Array.from({ length: nL }, (_, i) => (i === k ? 1 : 0));
          closeTo(J.subarray(k * sizes[0], (k + 1) * sizes[0]), net.vjp(c.x, unit), TOL[precision], `${name} ${precision} row ${k}`);
        }
        const u = c.x.map(() => normal(random));
        const Ju = Array.from({ length: nL }, (_, k) => u.reduce((sum, ui, i) => sum + J[k * sizes[0] + i] * ui, 0));
        closeTo(net.jvp(c.x, u.map(precision === "f32" ? Math.fround : Number)), Ju, precision === "f32" ? 1e-4 : 1e-12, `${name} ${precision} jvp = J u`);
        net.dispose();
      }
    }
  });
}

test("jacobian for every n_L from 1 to 13 (column pairs of jacobianBack, odd n_L with a zero column)", () => {
  for (const { name, engine } of builds) {
    for (const precision of ["f64", "f32"] as const) {
      for (let nL = 1; nL <= 13; nL++) {
        const c = randomCase([9, 6, nL], ["tanh", "sigmoid"], precision, 360 + nL);
        const net = engine.createMLP(c.spec);
        closeTo(net.jacobian(c.x), ref.jacobian(c.ref, c.x).flat(), TOL[precision], `${name} ${precision} n_L = ${nL}`);
        net.dispose();
      }
    }
  }
});

test("a batch of 100,000 inputs runs in the fixed batch buffers: memory does not grow with m", () => {
  const engine = builds[0].engine;
  const c = randomCase([2, 2, 3, 1], "sigmoid", "f32", 340);
  const net = engine.createMLP(c.spec);
  net.gradientBatch(batchOf(c, 10, "f32", 1).flat());
  const bytes = engine.memoryBytes;
  const rows = batchOf(c, 100000, "f32", 2);
  const grads = net.gradientBatch(Float32Array.from(rows.flat()));
  assert.is(engine.memoryBytes, bytes);
  for (const i of [0, 4567, 99999]) closeTo(grads.subarray(2 * i, 2 * i + 2), ref.gradient(c.ref, rows[i]), 1e-4, `row ${i}`);
  net.dispose();
});

test("xs copied into blocks eight rows at a time: typed and plain xs agree, bad values found first in row-major order", () => {
  // src/batch.ts loadBlock copies 8 rows at a time, then the rows % 8 tail, and checks the block by one
  // SIMD pass; these put bad values in both parts, in the first and a later block, and two at once.
  for (const { name, engine } of builds) {
    for (const precision of ["f64", "f32"] as const) {
      for (const n of [1, 3, 7]) {
        const c = randomCase([n, 5, 1], ["tanh", "sigmoid"], precision, 360 + n);
        const net = engine.createMLP(c.spec);
        for (const m of [1, 5, 8, 17, 67]) {
          const rows = batchOf(c, m, precision, 40 + m);
          const plain = rows.flat();
          const where = `${name} ${precision} n_1 = ${n} m = ${m}`;
          const expected = net.gradientBatch(plain);
          closeTo(expected, rows.flatMap((x) => ref.gradient(c.ref, x)), TOL[precision], where);
          const typed = precision === "f32" ? Float32Array.from(plain) : Float64Array.from(plain);
          assert.equal(Array.from(net.gradientBatch(typed)), Array.from(expected), `${where} typed xs`);
          assert.equal(Array.from(net.gradientBatch(Float64Array.from(plain))), Array.from(expected), `${where} Float64Array xs`);
          for (const row of new Set([0, m >> 1, m - 1, Math.min(m - 1, 65)])) {
            for (const column of new Set([0, n - 1])) {
              const index = row * n + column;
              const bads: unknown[] = [NaN, -Infinity, "0.5", null];
              if (precision === "f32") bads.push(1e39);
              for (const bad of bads) {
                const xs: unknown[] = plain.slice();
                xs[index] = bad;
                const at = new RegExp(`xs\\[${index}\\] \\(row ${row}, column ${column}\\)`);
                throwsCode(() => net.gradientBatch(xs as number[]), "E_NONFINITE", at);
                if (typeof bad === "number") {
                  const f64 = Float64Array.from(plain);
                  f64[index] = bad;
                  throwsCode(() => net.forwardBatch(f64), "E_NONFINITE", at);
                  // A second bad value after the first: still the first reported.
                  if (index + 1 < f64.length) {
                    f64[f64.length - 1] = NaN;
                    throwsCode(() => net.gradientBatch(f64), "E_NONFINITE", at);
                  }
                }
              }
            }
          }
          // Still right after the failures (the block was overwritten by them).
          assert.equal(Array.from(net.gradientBatch(plain)), Array.from(expected), `${where} after errors`);
        }
        net.dispose();
      }
    }
  }
});

test("batch calls check xs and out, and gradientBatch needs n_L = 1", () => {
  const engine = builds[0].engine;
  const c = randomCase([3, 4, 1], "tanh", "f64", 350);
  const net = engine.createMLP(c.spec);
  throwsCode(() => net.gradientBatch([1, 2, 3, 4]), "E_INPUT", /xs: expected m rows of n_1 = 3 numbers/, /got 4/);
  throwsCode(() => net.gradientBatch([1, 2, 3, 4, NaN, 6]), "E_NONFINITE", /xs\[4\] \(row 1, column 1\) is NaN/);
  throwsCode(() => net.gradientBatch([1, 2, 3], new Float64Array(2)), "E_OUTPUT", /expected length 3 \(m × n_1\)/);
  throwsCode(() => net.valueAndGradientBatch([1, 2, 3], new Float64Array(2)), "E_OUTPUT", /\(m\)/);
  throwsCode(() => net.forwardBatch([1, 2, 3], new Float32Array(1) as unknown as Float64Array), "E_OUTPUT", /Float64Array/);
  const wide = engine.createMLP(randomCase([3, 4, 2], "tanh", "f64", 351).spec);
  throwsCode(() => wide.gradientBatch([1, 2, 3]), "E_NOT_SCALAR", /gradientBatch/, /jacobian/);
  throwsCode(() => wide.jacobian([1, 2]), "E_INPUT", /x: expected 3 numbers/);
  throwsCode(() => wide.jacobian([1, 2, 3], new Float64Array(5)), "E_OUTPUT", /expected length 6 \(n_L × n_1\)/);
  // The network still works after the failed calls.
  closeTo(net.gradientBatch(c.x), ref.gradient(c.ref, c.x), 1e-12);
  net.dispose();
  wide.dispose();
  throwsCode(() => net.gradientBatch(c.x), "E_DISPOSED");
});

test.run();
