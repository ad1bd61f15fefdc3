// The per-call input path: typed-array x, u and v are copied in with one native set() and checked
// afterwards (by the firstNonFinite kernel for long inputs, a JS loop for short ones); plain arrays keep
// the checked element-by-element loop. Both paths must give the same results and the same errors: the
// first bad index and its value as the caller passed it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { MLPError } from "../src/index.js";
import { closeTo, engines, randomCase } from "./helpers.js";
import * as ref from "./reference.js";

const builds = await engines();
const TOL = { f64: 1e-12, f32: 1e-4 };
// Below and above the length where the kernel takes over from the JS loop (32), with SIMD tails.
const INPUTS = [1, 3, 4, 5, 7, 8, 17, 31, 32, 33, 67];

function caught(fn: () => unknown): MLPError {
  try {
    fn();
  } catch (e) {
    return e as MLPError;
  }
  throw new Error("expected an MLPError, nothing was thrown");
}

test("typed, plain and other typed-array inputs give the reference gradient", () => {
  for (const { name, engine } of builds) {
    for (const precision of ["f64", "f32"] as const) {
      for (const n of INPUTS) {
        const c = randomCase([n, 5, 1], ["tanh", "sigmoid"], precision, 700 + n);
        const net = engine.createMLP(c.spec);
        const want = ref.gradient(c.ref, c.x);
        const what = `${name} ${precision} n_1 = ${n}`;
        closeTo(net.gradient(c.x), want, TOL[precision], `${what} number[]`);
        closeTo(net.gradient(Float64Array.from(c.x)), want, TOL[precision], `${what} Float64Array`);
        closeTo(net.gradient(Float32Array.from(c.x)), ref.gradient(c.ref, c.x.map(Math.fround)), TOL[precision], `${what} Float32Array`);
        const out = new (precision === "f32" ? Float32Array : Float64Array)(n).fill(NaN);
        assert.is(net.gradient(Float64Array.from(c.x), out), out);
        closeTo(out, want, TOL[precision], `${what} into out`);
        // Integers in an Int16Array: the same numbers as in a plain array.
        const ints = c.x.map((_, i) => (i % 5) - 2);
        closeTo(net.gradient(Int16Array.from(ints)), net.gradient(ints), 0, `${what} Int16Array`);
        net.dispose();
      }
    }
  }
});

test("a bad value in a typed x is named by its first index and its value, as for a plain array", () => {
  for (const { name, engine } of builds) {
    for (const precision of ["f64", "f32"] as const) {
      for (const n of INPUTS) {
        const c = randomCase([n, 4, 1], ["tanh", "sigmoid"], precision, 760 + n);
        const net = engine.createMLP(c.spec);
        const want = ref.gradient(c.ref, c.x);
        for (const at of new Set([0, n >> 1, n - 1])) {
          const bads: number[] = [NaN, Infinity, -Infinity];
          if (precision === "f32") bads.push(1e39, -3.5e38);
          for (const bad of bads) {
            for (const FloatArray of precision === "f32" && Number.isFinite(bad) ? [Float64Array] : [Float64Array, Float32Array]) {
              const x = FloatArray.from(c.x);
              x[at] = bad;
              // A second bad value after the first: the first is the one named.
              if (at + 1 < n) x[at + 1] = NaN;
              const what = `${name} ${precision} n_1 = ${n} ${FloatArray.name} x[${at}] = ${bad}`;
              const e = caught(() => net.gradient(x));
              const plain = caught(() => net.gradient(Array.from(x)));
              assert.is(e.code, "E_NONFINITE", what);
              assert.is(e.layer, 1, what);
              assert.is(e.index, at, what);
              assert.ok(Object.is(e.actual, x[at]), `${what}: actual ${e.actual}`);
              assert.is(e.message, plain.message, what);
              assert.ok(e.message.startsWith(`x[${at}] is ${x[at]}: x must hold finite numbers`), `${what}: ${e.message}`);
              if (precision === "f32" && Number.isFinite(x[at])) assert.match(e.message, /within the f32 range/);
            }
          }
        }
        // The network is still usable, and a good typed x after a bad one is checked afresh.
        closeTo(net.gradient(Float64Array.from(c.x)), want, TOL[precision], `${name} ${precision} n_1 = ${n} after errors`);
        net.dispose();
      }
    }
  }
});

test("typed u and v of jvp and vjp: results as from plain arrays, and bad values named", () => {
  for (const { name, engine } of builds) {
    for (const precision of ["f64", "f32"] as const) {
      const n = 33;
      const c = randomCase([n, 6, 3], ["tanh", "sigmoid"], precision, 790);
      const net = engine.createMLP(c.spec);
      const u = c.x.map((_, i) => Math.fround(Math.sin(i + 1)));
      const v = [0.5, -1, 2];
      closeTo(net.jvp(Float64Array.from(c.x), Float32Array.from(u)), net.jvp(c.x, u), 0, `${name} ${precision} jvp`);
      closeTo(net.vjp(Float32Array.from(c.x.map(Math.fround)), Float64Array.from(v)), net.vjp(c.x.map(Math.fround), v), 0, `${name} ${precision} vjp`);
      const badU = Float64Array.from(u);
      badU[32] = -Infinity;
      const e = caught(() => net.jvp(c.x, badU));
      assert.is(e.code, "E_NONFINITE");
      assert.is(e.index, 32);
      assert.match(e.message, /^u\[32\] is -Infinity/);
      const badV = Float32Array.from(v);
      badV[1] = NaN;
      assert.match(caught(() => net.vjp(c.x, badV)).message, /^v\[1\] is NaN/);
      net.dispose();
    }
  }
});

test("a typed x that is a subarray of a longer array", () => {
  for (const { name, engine } of builds) {
    const c = randomCase([17, 5, 1], ["tanh", "sigmoid"], "f64", 810);
    const net = engine.createMLP(c.spec);
    const longer = Float64Array.from([NaN, ...c.x, NaN]);
    closeTo(net.gradient(longer.subarray(1, 18)), ref.gradient(c.ref, c.x), TOL.f64, `${name} subarray`);
    net.dispose();
  }
});

test.run();
