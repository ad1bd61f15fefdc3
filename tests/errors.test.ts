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
  throwsCode(make({ layers: nestedRows }), "E_SHAPE", /layer 2 weights: expected 4 rows of 3 numbers/, /got 1 rows/);
  const nestedRow = [{ weights: [[1, 2, 3], [1, 2], [1, 2, 3], [1, 2, 3]], bias: [0, 0, 0, 0] }, layers[1], layers[2]];
  throwsCode(make({ layers: nestedRow }), "E_SHAPE", /layer 2 weights row 1: expected 3 numbers/, /got 2/);
  const bias = [layers[0], layers[1], { weights: layers[2].weights, bias: [] }];
  throwsCode(make({ layers: bias }), "E_SHAPE", /layer 4 bias: expected 1 numbers/, /got 0/);
  const noWeights = [layers[0], { bias: layers[1].bias }, layers[2]];
  throwsCode(make({ layers: noWeights }), "E_SHAPE", /layer 3 weights/, /undefined/);
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
