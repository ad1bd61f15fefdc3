// Every bad input gets an MLPError with a stable code and a message that names the place; a failed
// call leaves the network usable.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MLPError, createEngine, type MLPSpec } from "../src/index.js";
import { closeTo, randomCase, throwsCode } from "./helpers.js";
import * as ref from "./reference.js";

const engine = await createEngine();
const good = randomCase([3, 4, 2, 1], "sigmoid", "f64", 5);
const make = (patch: Record<string, unknown>) => () => engine.createMLP({ ...good.spec, ...patch } as MLPSpec);
const layers = good.spec.layers as { weights: number[]; bias: number[] }[];

test("spec that is not an object", () => {
  throwsCode(() => engine.createMLP(null as unknown as MLPSpec), "E_SPEC", /expected an object/);
  throwsCode(() => engine.createMLP("model.json" as unknown as MLPSpec), "E_SPEC", /got string/);
});

test("sizes: fewer than two, not positive integers", () => {
  throwsCode(make({ sizes: [3] }), "E_SIZES", /at least two/, /got 1/);
  throwsCode(make({ sizes: [] }), "E_SIZES", /at least two/);
  throwsCode(make({ sizes: undefined }), "E_SIZES", /sizes/);
  throwsCode(make({ sizes: [3, 0, 2, 1] }), "E_SIZES", /sizes\[1\] \(n_2\)/, /positive integer/, /got 0/);
  throwsCode(make({ sizes: [3, 4.5, 2, 1] }), "E_SIZES", /n_2/, /4\.5/);
  throwsCode(make({ sizes: [3, 4, -2, 1] }), "E_SIZES", /n_3/);
  throwsCode(make({ sizes: [3, "4", 2, 1] }), "E_SIZES", /n_2/);
});

test("precision and activations", () => {
  throwsCode(make({ precision: "f16" }), "E_PRECISION", /"f32" or "f64"/, /"f16"/);
  throwsCode(make({ activations: "ReLU6" }), "E_ACTIVATION", /unknown activation "ReLU6"/, /did you mean "relu6"/, /sigmoid/, /leakyRelu/);
  throwsCode(make({ activations: ["tanh", "swishy", "sigmoid"] }), "E_ACTIVATION", /layer 3 activation/, /"swishy"/, /did you mean "swish"/);
  throwsCode(make({ activations: ["tanh", "sigmoid"] }), "E_ACTIVATION", /expected 3 names/, /got 2/);
});

test("layers missing or of the wrong count", () => {
  throwsCode(make({ layers: undefined }), "E_LAYERS", /layers/, /3/);
  throwsCode(make({ layers: layers.slice(0, 2) }), "E_LAYERS", /expected 3 entries/, /got 2/);
  throwsCode(make({ layers: [layers[0], null, layers[2]] }), "E_LAYERS", /layer 3/);
});

test("weights and bias of the wrong length name the layer and the expected shape", () => {
  const short = [layers[0], { weights: layers[1].weights.slice(1), bias: layers[1].bias }, layers[2]];
  throwsCode(make({ layers: short }), "E_SHAPE", /layer 3 weights: expected 2×4 = 8 numbers \(row-major \[out\]\[in\]\), got 7/);
  const nestedRows = [{ weights: [[1, 2, 3]], bias: [0, 0, 0, 0] }, layers[1], layers[2]];
  throwsCode(make({ layers: nestedRows }), "E_SHAPE", /layer 2 weights: expected 4 rows of 3 numbers/, /got 1 row$/);
  const nestedRow = [{ weights: [[1, 2, 3], [1, 2], [1, 2, 3], [1, 2, 3]], bias: [0, 0, 0, 0] }, layers[1], layers[2]];
  throwsCode(make({ layers: nestedRow }), "E_SHAPE", /layer 2 weights row 1: expected 3 numbers/, /got 2/);
  const bias = [layers[0], layers[1], { weights: layers[2].weights, bias: [] }];
  throwsCode(make({ layers: bias }), "E_SHAPE", /layer 4 bias: expected 1 number \(n_4\)/, /got 0/);
  const noWeights = [layers[0], { bias: layers[1].bias }, layers[2]];
  throwsCode(make({ layers: noWeights }), "E_SHAPE", /layer 3: the key "weights" is missing \(it has: bias\)/, /W\^\[3\], 2×4 numbers, row-major \[out\]\[in\]/);
});

test("NaN and ±Infinity in weights or bias name the layer and index", () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const w = layers[1].weights.slice();
    w[5] = bad;
    const e = catchError(make({ layers: [layers[0], { weights: w, bias: layers[1].bias }, layers[2]] }));
    assert.is(e.code, "E_NONFINITE");
    assert.is(e.layer, 3);
    assert.is(e.index, 5);
    assert.match(e.message, /layer 3 weights\[5\] \(row 1, column 1\)/);
    assert.match(e.message, new RegExp(String(bad)));
  }
  const b = layers[0].bias.slice();
  b[2] = NaN;
  throwsCode(make({ layers: [{ weights: layers[0].weights, bias: b }, layers[1], layers[2]] }), "E_NONFINITE", /layer 2 bias\[2\] is NaN/);
  throwsCode(
    make({ precision: "f32", layers: [{ weights: [1e39, ...layers[0].weights.slice(1)], bias: layers[0].bias }, layers[1], layers[2]] }),
    "E_NONFINITE",
    /f32 range/,
  );
});

test("typed-array weights are checked natively after the copy: same errors, and nothing leaks", () => {
  for (const precision of ["f32", "f64"] as const) {
    const c = randomCase([7, 5, 3, 1], "tanh", precision, 6);
    const typed = Array.from(c.spec.layers, (layer) => ({ weights: Float64Array.from(layer.weights as number[]), bias: layer.bias }));
    const inUse = engine.arena.inUse;
    for (const [layer, k, value] of [[0, 0, NaN], [0, 34, Infinity], [1, 7, -Infinity], [1, 14, NaN], [2, 2, NaN]] as const) {
      const layers = typed.map((t: { weights: Float64Array; bias: ArrayLike<number> }) => ({ weights: t.weights.slice(), bias: t.bias }));
      layers[layer].weights[k] = value;
      const cols = c.spec.sizes[layer];
      const e = catchError(() => engine.createMLP({ ...c.spec, layers }));
      assert.is(e.code, "E_NONFINITE");
      assert.is(e.layer, layer + 2);
      assert.is(e.index, k);
      assert.match(e.message, new RegExp(`layer ${layer + 2} weights\\[${k}\\] \\(row ${Math.floor(k / cols)}, column ${k % cols}\\) is ${value}`));
    }
    if (precision === "f32") {
      const layers = typed.map((t: { weights: Float64Array; bias: ArrayLike<number> }) => ({ weights: t.weights.slice(), bias: t.bias }));
      layers[1].weights[3] = -1e39;
      throwsCode(() => engine.createMLP({ ...c.spec, layers }), "E_NONFINITE", /weights\[3\]/, /-1e\+39/, /f32 range/);
    }
    assert.is(engine.arena.inUse, inUse, "failed networks released their memory");
    const net = engine.createMLP({ ...c.spec, layers: typed });
    closeTo(net.gradient(c.x), ref.gradient(c.ref, c.x), precision === "f32" ? 1e-4 : 1e-12);
    net.dispose();
  }
});

test("x of the wrong length, type or with non-finite values; the network stays usable", () => {
  const net = engine.createMLP(good.spec);
  const expected = ref.gradient(good.ref, good.x);
  throwsCode(() => net.gradient([1, 2]), "E_INPUT", /x: expected 3 numbers \(n_1\), got 2/);
  throwsCode(() => net.gradient(undefined as unknown as number[]), "E_INPUT", /expected 3 numbers/);
  throwsCode(() => net.forward(7 as unknown as number[]), "E_INPUT", /got 7/);
  for (const bad of [NaN, Infinity, -Infinity, undefined]) {
    const e = catchError(() => net.gradient([0.1, bad as number, 0.3]));
    assert.is(e.code, "E_NONFINITE");
    assert.is(e.layer, 1);
    assert.is(e.index, 1);
    assert.match(e.message, /x\[1\]/);
  }
  const f32 = engine.createMLP({ ...good.spec, precision: "f32" });
  throwsCode(() => f32.gradient([0, 1e39, 0]), "E_NONFINITE", /x\[1\] is 1e\+39/, /f32 range/);
  f32.dispose();
  // A failed call changes nothing.
  const got = net.gradient(good.x);
  got.forEach((g, i) => assert.ok(Math.abs(g - expected[i]) <= 1e-12 * Math.abs(expected[i]) + 1e-300));
  net.dispose();
});

test("out of the wrong length or element type", () => {
  const net = engine.createMLP(good.spec);
  throwsCode(() => net.gradient(good.x, new Float64Array(2)), "E_OUTPUT", /expected length 3 \(n_1\), got 2/);
  throwsCode(() => net.gradient(good.x, new Float32Array(3) as unknown as Float64Array), "E_OUTPUT", /Float64Array/, /"f64"/, /Float32Array/);
  throwsCode(() => net.forward(good.x, new Float64Array(3)), "E_OUTPUT", /expected length 1 \(n_L\)/);
  throwsCode(() => net.gradient(good.x, [0, 0, 0] as unknown as Float64Array), "E_OUTPUT", /array of length 3/);
  net.dispose();
});

test("gradient on a network with n_L > 1 points to forward and the Jacobian", () => {
  const c = randomCase([3, 4, 2], "tanh", "f64", 9);
  const net = engine.createMLP(c.spec);
  throwsCode(() => net.gradient(c.x), "E_NOT_SCALAR", /n_L = 2/, /jacobian\(x\)/, /vjp\(x, v\)/);
  throwsCode(() => net.valueAndGradient(c.x), "E_NOT_SCALAR", /valueAndGradient/);
  throwsCode(() => engine.grad(c.spec), "E_NOT_SCALAR", /grad/);
  assert.is(net.forward(c.x).length, 2);
  net.dispose();
});

test("every call after dispose()", () => {
  const net = engine.createMLP(good.spec);
  net.dispose();
  net.dispose();
  assert.ok(net.isDisposed);
  throwsCode(() => net.gradient(good.x), "E_DISPOSED", /gradient/, /disposed/);
  throwsCode(() => net.valueAndGradient(good.x), "E_DISPOSED");
  throwsCode(() => net.forward(good.x), "E_DISPOSED", /forward/);
  throwsCode(() => net.setLayer(2, layers[0].weights, layers[0].bias), "E_DISPOSED");
  throwsCode(() => net.toJSON(), "E_DISPOSED");
});

test("setLayer with a bad layer number or bad parameters changes nothing", () => {
  const net = engine.createMLP(good.spec);
  const before = net.gradient(good.x);
  throwsCode(() => net.setLayer(1, layers[0].weights, layers[0].bias), "E_LAYER_INDEX", /from 2 to 4/, /layer 1 is the input/);
  throwsCode(() => net.setLayer(5, layers[0].weights, layers[0].bias), "E_LAYER_INDEX", /got 5/);
  const w = layers[1].weights.map((v) => v * 2);
  w[7] = NaN; // the last weight: everything before it would already have been written by a naive copy
  throwsCode(() => net.setLayer(3, w, layers[1].bias), "E_NONFINITE", /layer 3 weights\[7\]/);
  throwsCode(() => net.setLayer(3, layers[1].weights, [1]), "E_SHAPE", /layer 3 bias: expected 2/);
  assert.equal(Array.from(net.gradient(good.x)), Array.from(before));
  net.dispose();
});

test("a network too large for WebAssembly memory says how much it needs", () => {
  const e = catchError(() => engine.createMLP({ sizes: [100000, 100000, 1], precision: "f32", layers: [{}, {}] as never[] }));
  assert.is(e.code, "E_TOO_LARGE");
  assert.match(e.message, /needs 37\.\d GiB/);
  assert.match(e.message, /4 GiB/);
  throwsCode(() => engine.createMLP({ sizes: [30000, 30000, 1], precision: "f64", layers: [{}, {}] as never[] }), "E_TOO_LARGE", /6\.7 GiB/, /f32 instead of f64/);
});

// The defects a fuzzer of model objects found (issue 9); tests/fuzz.test.ts covers every value at random.
test("BigInt, Symbol and functions anywhere give MLPError, not a TypeError from a message", () => {
  throwsCode(make({ precision: 1n }), "E_PRECISION", /got the BigInt 1n/);
  throwsCode(make({ precision: Symbol("f64") }), "E_PRECISION", /got Symbol\(f64\)/);
  throwsCode(make({ precision: null }), "E_PRECISION", /got null/);
  throwsCode(make({ sizes: [3n, 4, 2, 1] }), "E_SIZES", /sizes\[0\] \(n_1\)/, /the BigInt 3n/);
  throwsCode(make({ sizes: () => [3, 4, 2, 1] }), "E_SIZES", /got function/);
  const w = layers[0].weights.slice() as unknown[];
  w[4] = 2n;
  throwsCode(make({ layers: [{ weights: w, bias: layers[0].bias }, layers[1], layers[2]] }), "E_NONFINITE", /layer 2 weights\[4\] \(row 1, column 1\) is the BigInt 2n/);
  throwsCode(make({ layers: [{ weights: new BigInt64Array(12), bias: layers[0].bias }, layers[1], layers[2]] }), "E_NONFINITE", /the BigInt 0n/);
});

test("array-likes with a huge, negative or fractional length are refused before anything is allocated", () => {
  const start = performance.now();
  throwsCode(make({ sizes: { length: 1e12 } }), "E_SIZES", /length 1000000000000 is not an array length/);
  throwsCode(make({ sizes: { length: -1 } }), "E_SIZES", /length -1/);
  throwsCode(make({ sizes: { length: 3.5, 0: 3, 1: 4, 2: 2, 3: 1 } }), "E_SIZES", /length 3\.5/);
  throwsCode(make({ sizes: { length: 2 ** 32 - 1 } }), "E_SIZES", /at most 65536 layer widths/);
  throwsCode(make({ layers: { length: 1e12 } }), "E_LAYERS", /length 1000000000000/);
  throwsCode(make({ layers: [{ weights: { length: 1e12 }, bias: layers[0].bias }, layers[1], layers[2]] }), "E_SHAPE", /layer 2 weights: its length/);
  throwsCode(make({ layers: [{ weights: [{ length: -3 }, [1, 2, 3], [1, 2, 3], [1, 2, 3]], bias: layers[0].bias }, layers[1], layers[2]] }), "E_SHAPE", /layer 2 weights row 0: its length -3/);
  throwsCode(make({ layers: [layers[0], layers[1], { weights: layers[2].weights, bias: { length: 0.5 } }] }), "E_SHAPE", /layer 4 bias: its length 0\.5/);
  assert.ok(performance.now() - start < 1000, "took too long");
});

test("holes, getters that throw and proxies give MLPError; a getter is read once", () => {
  throwsCode(make({ sizes: [3, , 2, 1] }), "E_SIZES", /sizes\[1\] \(n_2\)/, /a hole/);
  const holey = layers[0].bias.slice();
  delete holey[1];
  throwsCode(make({ layers: [{ weights: layers[0].weights, bias: holey }, layers[1], layers[2]] }), "E_NONFINITE", /layer 2 bias\[1\] is a hole/);
  const throwing = Object.defineProperty({ ...good.spec }, "layers", { get: () => { throw new RangeError("lazy load failed"); } });
  throwsCode(() => engine.createMLP(throwing as MLPSpec), "E_SPEC", /model\.layers: reading it threw RangeError: lazy load failed/, /plain data/);
  const trap = () => { throw new Error("revoked"); };
  throwsCode(() => engine.createMLP(new Proxy({}, { get: trap, has: trap, getOwnPropertyDescriptor: trap }) as MLPSpec), "E_SPEC", /revoked/);
  const { proxy, revoke } = Proxy.revocable({ ...good.spec }, {});
  revoke();
  throwsCode(() => engine.createMLP(proxy as MLPSpec), "E_SPEC", /model\.sizes: reading it threw TypeError/);
  const badRow = [...layers[0].weights];
  Object.defineProperty(badRow, 3, { get: () => { throw new Error("row getter"); } });
  throwsCode(make({ layers: [{ weights: badRow, bias: layers[0].bias }, layers[1], layers[2]] }), "E_SPEC", /layer 2 weights\[3\]: reading it threw Error: row getter/);
  // A proxy that answers NaN after the first read: the network holds what was checked.
  let reads = 0;
  const lying = new Proxy(layers[1].weights.slice(), { get: (t, k) => (k === "0" && reads++ > 0 ? NaN : Reflect.get(t, k)) });
  const net = make({ layers: [layers[0], { weights: lying, bias: layers[1].bias }, layers[2]] })();
  assert.is(reads, 1);
  assert.equal(net.toJSON().layers[1].weights, layers[1].weights);
  net.dispose();
});

test("number[] and number[][] weights: the first bad value or throwing read is named by index, each value read once", () => {
  // Layer 3 is 2×4: a throwing getter in row 1, column 2 of the nested form, then in the bias.
  const rows = [0, 1].map((i) => layers[1].weights.slice(i * 4, (i + 1) * 4));
  Object.defineProperty(rows[1], 2, { get: () => { throw new Error("cell getter"); } });
  throwsCode(make({ layers: [layers[0], { weights: rows, bias: layers[1].bias }, layers[2]] }), "E_SPEC", /layer 3 weights\[1\]\[2\]: reading it threw Error: cell getter/);
  const bias = layers[2].bias.slice();
  Object.defineProperty(bias, 0, { get: () => { throw new Error("bias getter"); } });
  throwsCode(make({ layers: [layers[0], layers[1], { weights: layers[2].weights, bias }] }), "E_SPEC", /layer 4 bias\[0\]: reading it threw Error: bias getter/);
  // The last value of a flat array, of a nested row and of a bias: the checks reach the end.
  const flat = layers[0].weights.slice();
  flat[flat.length - 1] = Infinity;
  throwsCode(make({ layers: [{ weights: flat, bias: layers[0].bias }, layers[1], layers[2]] }), "E_NONFINITE", new RegExp(`layer 2 weights\\[${flat.length - 1}\\] \\(row 3, column 2\\) is Infinity`));
  const nested = [0, 1].map((i) => layers[1].weights.slice(i * 4, (i + 1) * 4));
  (nested[1] as unknown[])[3] = "0.5";
  throwsCode(make({ layers: [layers[0], { weights: nested, bias: layers[1].bias }, layers[2]] }), "E_NONFINITE", /layer 3 weights\[1\]\[3\] is "0\.5"/);
  const f32Bias = [0.5, 3.5e38];
  throwsCode(
    () => engine.createMLP({ sizes: [1, 2, 1], activations: "sigmoid", precision: "f32", layers: [{ weights: [1, 2], bias: f32Bias }, { weights: [1, 1], bias: [0] }] }),
    "E_NONFINITE",
    /layer 2 bias\[1\] is 3\.5e\+38/,
    /f32 range/,
  );
  // Every value of every form is read once.
  let reads = 0;
  const counted = (values: number[]) => new Proxy(values, { get: (t, k) => (typeof k === "string" && /^\d+$/.test(k) && reads++, Reflect.get(t, k)) });
  const spec = { ...good.spec, layers: [
    { weights: counted(layers[0].weights.slice()), bias: counted(layers[0].bias.slice()) },
    { weights: [0, 1].map((i) => counted(layers[1].weights.slice(i * 4, (i + 1) * 4))), bias: layers[1].bias },
    layers[2],
  ] };
  const net = engine.createMLP(spec as MLPSpec);
  assert.is(reads, 12 + 4 + 8);
  assert.equal(net.toJSON().layers[1].weights, layers[1].weights);
  net.dispose();
});

test("__proto__ keys and inherited fields give MLPError (a polluted prototype cannot change a model)", () => {
  const parsed = JSON.parse(`{ "__proto__": { "precision": "f64" }, ${JSON.stringify(good.spec).slice(1)}`);
  throwsCode(() => engine.createMLP(parsed), "E_SPEC", /the key "__proto__" is not part of the model format/);
  const layerParsed = JSON.parse(`{ "__proto__": {}, "weights": ${JSON.stringify(layers[0].weights)}, "bias": ${JSON.stringify(layers[0].bias)} }`);
  throwsCode(make({ layers: [layerParsed, layers[1], layers[2]] }), "E_SPEC", /layers\[0\] \(layer 2\)/, /"__proto__"/);
  const inherits = Object.assign(Object.create({ sizes: good.spec.sizes }), { layers: good.spec.layers });
  throwsCode(() => engine.createMLP(inherits), "E_SIZES", /the key "sizes" is missing/, /inherited one is ignored/);
  const proto = Object.prototype as { precision?: string };
  proto.precision = "f64";
  try {
    const { precision: _, ...noPrecision } = good.spec;
    const net = engine.createMLP(noPrecision as MLPSpec);
    assert.is(net.precision, "f32");
    net.dispose();
  } finally {
    delete proto.precision;
  }
});

test("messages: singular counts, nested xs, a missing weights key", () => {
  throwsCode(() => engine.createMLP({ sizes: [1, 1], layers: [{ weights: [1, 2], bias: [0] }] }), "E_SHAPE", /expected 1×1 = 1 number \(row-major/, /got 2$/);
  throwsCode(() => engine.createMLP({ sizes: [2, 1], layers: [{ weights: [[1, 2], [3, 4]], bias: [0] }] }), "E_SHAPE", /expected 1 row of 2 numbers/, /got 2 rows/);
  throwsCode(() => engine.createMLP({ sizes: [2, 1], layers: [{ weights: [1, 2], bias: [0, 1] }] }), "E_SHAPE", /bias: expected 1 number \(n_2\), got 2/);
  const net = engine.createMLP({ sizes: [2, 1], layers: [{ weights: [1, 2], bias: [0] }] });
  throwsCode(() => net.gradientBatch([[1, 2], [3, 4]] as never), "E_INPUT", /xs must be flat, row-major m × n_1/, /flatten it/);
  throwsCode(() => net.forwardBatch([[1, 2]] as never), "E_INPUT", /flatten it/);
  throwsCode(() => net.gradient([1]), "E_INPUT", /x: expected 2 numbers \(n_1\), got 1/);
  const one = engine.createMLP({ sizes: [1, 1], layers: [{ weights: [1], bias: [0] }] });
  throwsCode(() => one.gradient([1, 2]), "E_INPUT", /x: expected 1 number \(n_1\), got 2/);
  throwsCode(
    () => engine.createMLP({ sizes: [2, 1], layers: [{ kernel: [[1], [2]], bias: [0] }] } as never),
    "E_SHAPE",
    /layer 2: the key "weights" is missing \(it has: kernel, bias\)/,
    /"weights" holds W\^\[2\], 1×2 numbers, row-major \[out\]\[in\]/,
    /"kernel" is \[in\]\[out\]: transpose it/,
  );
  throwsCode(() => engine.createMLP({ sizes: [2, 1], layers: [{ weights: [1, 2], b: [0] }] } as never), "E_SHAPE", /the key "bias" is missing \(it has: weights, b\)/);
  net.dispose();
  one.dispose();
});

// Mutants that passed the suite once (issue 9): each test below fails if its check is deleted or loosened.
test("nested number[][] weights: NaN, ±Infinity, non-numbers and out-of-f32-range values are refused, in createMLP and setLayer", () => {
  const nested = (flat: readonly number[], cols: number) => Array.from({ length: flat.length / cols }, (_, r) => flat.slice(r * cols, (r + 1) * cols));
  for (const precision of ["f32", "f64"] as const) {
    const values: unknown[] = [NaN, Infinity, -Infinity, "1", null, undefined, 2n];
    if (precision === "f32") values.push(1e39, -3.5e38);
    for (const bad of values) {
      // Layer 3 is 2×4: the bad value goes last, at row 1, column 3.
      const rows = nested(layers[1].weights, 4) as unknown[][];
      rows[1][3] = bad;
      throwsCode(
        make({ precision, layers: [layers[0], { weights: rows, bias: layers[1].bias }, layers[2]] }),
        "E_NONFINITE",
        /layer 3 weights\[1\]\[3\] is /,
      );
      const net = make({ precision })();
      const before = net.toJSON();
      throwsCode(() => net.setLayer(3, rows as number[][], layers[1].bias), "E_NONFINITE", /layer 3 weights\[1\]\[3\]/);
      assert.equal(net.toJSON(), before, "a failed setLayer changed the network");
      net.dispose();
    }
  }
});

test("nested weights: a row longer or shorter than n_{l-1} is refused", () => {
  for (const extra of [[0.5], [], [0.5, 0.5]]) {
    const rows = [[1, 2, 3], [1, 2, 3], [1, 2, 3, ...extra], [1, 2, 3]];
    if (extra.length === 0) rows[2] = [1, 2];
    const got = extra.length === 0 ? 2 : 3 + extra.length;
    throwsCode(make({ layers: [{ weights: rows, bias: [0, 0, 0, 0] }, layers[1], layers[2]] }), "E_SHAPE", /layer 2 weights row 2: expected 3 numbers \(n_1\)/, new RegExp(`got ${got}$`));
    const net = make({})();
    throwsCode(() => net.setLayer(2, rows, [0, 0, 0, 0]), "E_SHAPE", /row 2/);
    net.dispose();
  }
  // A longer last row, whose extra number would otherwise spill into the padding.
  const rows = [[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3, 4]];
  throwsCode(make({ layers: [{ weights: rows, bias: [0, 0, 0, 0] }, layers[1], layers[2]] }), "E_SHAPE", /row 3/, /got 4$/);
});

test("x, u and v longer than expected are refused, as shorter ones are", () => {
  const net = engine.createMLP(good.spec);
  const x = [...good.x, 0.5];
  throwsCode(() => net.gradient(x), "E_INPUT", /x: expected 3 numbers \(n_1\), got 4/);
  throwsCode(() => net.valueAndGradient(x), "E_INPUT", /got 4/);
  throwsCode(() => net.forward(x), "E_INPUT", /got 4/);
  throwsCode(() => net.jacobian(x), "E_INPUT", /got 4/);
  throwsCode(() => net.parameterGradient(x), "E_INPUT", /got 4/);
  throwsCode(() => net.vjp(x, [1]), "E_INPUT", /got 4/);
  throwsCode(() => net.jvp(good.x, [1, 2, 3, 4]), "E_INPUT", /u: expected 3 numbers \(n_1\), got 4/);
  throwsCode(() => net.hvp(good.x, [1, 2, 3, 4]), "E_INPUT", /u: expected 3 numbers/);
  throwsCode(() => net.vjp(good.x, [1, 2]), "E_INPUT", /v: expected 1 number \(n_L\), got 2/);
  net.dispose();
});

function catchError(fn: () => unknown): MLPError {
  try {
    fn();
  } catch (error) {
    assert.instance(error, MLPError);
    return error as MLPError;
  }
  return assert.unreachable("expected an MLPError") as never;
}

test.run();
