// createMLP's check and copy of number[] weights (src/model.ts: snapshot, copyFast): an Array of up to
// 2¹⁷ elements (flat weights, bias) is read once into a private copy, checked natively (every finite
// number, then the f32 range on the typed copy) and copied with one TypedArray.prototype.set; longer
// ones, nested rows and other array-likes go through the careful loop (copyChecked). These tests pin
// what the native path must keep of the careful loop: the exact f32 bound (values that round to ±F32_MAX
// are still refused), no user code run to convert a value (no valueOf, no species constructor), the
// first bad value named, on both sides of the 2¹⁷ bound, and the same network as from typed arrays — flat,
// nested and bias, f32 and f64, both builds, on odd sizes, against the plain-f64 reference.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { MLPSpec } from "../src/index.js";
import { closeTo, engines, randomCase, throwsCode } from "./helpers.js";
import * as ref from "./reference.js";

const builds = await engines();
const F32_MAX = 3.4028234663852886e38;
// Beyond F32_MAX but below F32_MAX + ½ ulp (2^103): Math.fround rounds it down to F32_MAX.
const JUST_BEYOND = 3.4028235e38;

test("the f32 bound is exact: a value that rounds to ±F32_MAX is refused, F32_MAX itself is kept", () => {
  assert.is(Math.fround(JUST_BEYOND), F32_MAX, "the test value rounds to F32_MAX in f32");
  assert.ok(JUST_BEYOND > F32_MAX);
  const { engine } = builds[0];
  const spec = (weights: unknown, bias: unknown = [0, 0]): MLPSpec =>
    ({ sizes: [3, 2, 1], activations: "identity", precision: "f32", layers: [{ weights, bias }, { weights: [1, 1], bias: [0] }] }) as MLPSpec;
  for (const sign of [1, -1]) {
    const flat = [0.5, 0.25, -1, 2, F32_MAX * sign, 0.125];
    flat.splice(3, 0); // keep F32_MAX at index 4
    const net = engine.createMLP(spec(flat));
    assert.is(net.toJSON().layers[0].weights[4], F32_MAX * sign, "±F32_MAX itself is a valid f32 weight");
    net.dispose();
    const beyond = flat.slice();
    beyond[4] = JUST_BEYOND * sign;
    throwsCode(() => engine.createMLP(spec(beyond)), "E_NONFINITE", /layer 2 weights\[4\] \(row 1, column 1\)/, /f32 range/);
    throwsCode(() => engine.createMLP(spec([[0.5, 0.25, -1], [2, JUST_BEYOND * sign, 0.125]])), "E_NONFINITE", /layer 2 weights\[1\]\[1\]/, /f32 range/);
    throwsCode(() => engine.createMLP(spec(flat.map(() => 0), [0, JUST_BEYOND * sign])), "E_NONFINITE", /layer 2 bias\[1\]/, /f32 range/);
    // F32_MAX early and a value beyond it later: the later one is named.
    const both = flat.slice();
    both[0] = F32_MAX * sign;
    both[5] = JUST_BEYOND * sign;
    throwsCode(() => engine.createMLP(spec(both)), "E_NONFINITE", /weights\[5\]/);
  }
  // f64 takes the same values.
  const f64 = engine.createMLP({ ...spec([0, 0, 0, 0, JUST_BEYOND, 0]), precision: "f64" } as MLPSpec);
  assert.is(f64.toJSON().layers[0].weights[4], JUST_BEYOND);
  f64.dispose();
});

test("no user code runs to convert a value: an object with valueOf is refused without calling it", () => {
  const { engine } = builds[0];
  let called = 0;
  const sneaky = { valueOf: () => (called++, 0.5), [Symbol.toPrimitive]: () => (called++, 0.5) };
  for (const precision of ["f32", "f64"] as const) {
    const weights: unknown[] = [0.5, 0.25, -1, 2, sneaky, 0.125];
    throwsCode(
      () => engine.createMLP({ sizes: [3, 2, 1], precision, layers: [{ weights, bias: [0, 0] }, { weights: [1, 1], bias: [sneaky] }] } as unknown as MLPSpec),
      "E_NONFINITE",
      /layer 2 weights\[4\] \(row 1, column 1\) is Object/,
    );
    throwsCode(
      () => engine.createMLP({ sizes: [3, 2, 1], precision, layers: [{ weights: [0, 0, 0, 0, 0, 0], bias: [0, 0] }, { weights: [1, 1], bias: [sneaky] }] } as unknown as MLPSpec),
      "E_NONFINITE",
      /layer 3 bias\[0\] is Object/,
    );
    throwsCode(
      () => engine.createMLP({ sizes: [3, 2, 1], precision, layers: [{ weights: [[0, 0, 0], [0, "1", 0]], bias: [0, 0] }, { weights: [1, 1], bias: [0] }] } as unknown as MLPSpec),
      "E_NONFINITE",
      /layer 2 weights\[1\]\[1\] is "1"/,
    );
  }
  assert.is(called, 0, "valueOf / Symbol.toPrimitive was never called");
});

test("an Array subclass is read as an array: its species constructor never runs", () => {
  const { engine } = builds[0];
  let species = 0;
  class Weights extends Array<number> {
    static get [Symbol.species](): ArrayConstructor {
      species++;
      return Array;
    }
  }
  const c = randomCase([3, 4, 1], "tanh", "f64", 91);
  const flat = Weights.from(c.spec.layers[0].weights as number[]);
  assert.instance(flat, Weights);
  const net = engine.createMLP({ ...c.spec, layers: [{ weights: flat, bias: c.spec.layers[0].bias }, c.spec.layers[1]] });
  assert.equal(net.toJSON().layers[0].weights, Array.from(c.spec.layers[0].weights as number[]));
  assert.is(species, 0, "Symbol.species was not read");
  net.dispose();
});

test("number[], number[][] and Float32Array/Float64Array weights build the same network, on odd sizes, both builds", () => {
  const sizes = [[1, 3, 1], [5, 7, 1], [17, 4, 8, 1], [67, 5, 1]];
  for (const { name, engine } of builds) {
    for (const precision of ["f32", "f64"] as const) {
      for (const [i, s] of sizes.entries()) {
        const c = randomCase(s, ["tanh", "sigmoid", "relu"].slice(0, s.length - 1) as ("tanh" | "sigmoid" | "relu")[], precision, 100 + i);
        const Typed = precision === "f32" ? Float32Array : Float64Array;
        const nested = { ...c.spec, layers: c.ref.W.map((rows, l) => ({ weights: rows, bias: c.ref.b[l] })) };
        const typed = { ...c.spec, layers: Array.from(c.spec.layers, (layer) => ({ weights: Typed.from(layer.weights as number[]), bias: Typed.from(layer.bias as number[]) })) };
        const parsed = JSON.parse(JSON.stringify(c.spec)) as MLPSpec; // number[] as JSON.parse makes them
        const expected = ref.gradient(c.ref, c.x);
        const results = [parsed, nested, typed].map((spec) => {
          const net = engine.createMLP(spec);
          const g = Array.from(net.gradient(c.x));
          net.dispose();
          return g;
        });
        closeTo(results[0], expected, precision === "f32" ? 1e-5 : 1e-12, `${name} ${precision} [${s}] number[]`);
        assert.equal(results[1], results[0], `${name} ${precision} [${s}]: number[][] gives the same gradient as number[]`);
        assert.equal(results[2], results[0], `${name} ${precision} [${s}]: typed arrays give the same gradient as number[]`);
      }
    }
  }
});

test("on both sides of the native path's 2¹⁷ bound, the first bad value is named and the f32 bound is exact", () => {
  const { engine } = builds[0];
  const n2 = 45_000; // layer 2 weights: 3 × 45 000 = 135 000 > 2¹⁷ (copyChecked); its bias 45 000 (native)
  const weights = new Array<number>(3 * n2).fill(0.001);
  const bias = new Array<number>(n2).fill(0);
  const spec = (w: number[], b: number[]): MLPSpec => ({ sizes: [3, n2, 1], activations: "tanh", precision: "f32", layers: [{ weights: w, bias: b }, { weights: new Array<number>(n2).fill(1e-3), bias: [0] }] });
  const net = engine.createMLP(spec(weights, bias));
  assert.is(net.toJSON().layers[0].weights.length, 3 * n2);
  net.dispose();
  for (const [what, value, pattern] of [
    ["weights", JUST_BEYOND, /layer 2 weights\[134999\] \(row 44999, column 2\) is 3\.4028235e\+38/],
    ["weights", "0.5", /layer 2 weights\[134999\] \(row 44999, column 2\) is "0\.5"/],
    ["bias", -JUST_BEYOND, /layer 2 bias\[44999\] is -3\.4028235e\+38/],
    ["bias", Number.NaN, /layer 2 bias\[44999\] is NaN/],
  ] as const) {
    const w = weights.slice() as unknown[];
    const b = bias.slice() as unknown[];
    if (what === "weights") w[w.length - 1] = value;
    else b[b.length - 1] = value;
    throwsCode(() => engine.createMLP(spec(w as number[], b as number[])), "E_NONFINITE", pattern);
  }
});

test("integer-only and mixed number[] (the element kinds JSON.parse makes) check and copy alike", () => {
  const { engine } = builds[0];
  for (const weights of [[1, 2, 3, 4, 5, 6], [1, 2.5, -3, 4, 5e-40, 6], JSON.parse("[1,2,3,4,5,6]") as number[], [-0, 0, 1, 1, 1, 1]]) {
    const net = engine.createMLP({ sizes: [3, 2, 1], activations: "identity", precision: "f64", layers: [{ weights, bias: [0, 1] }, { weights: [1, -1], bias: [0] }] });
    assert.equal(net.toJSON().layers[0].weights, weights.map((v) => v));
    net.dispose();
  }
});

test.run();
