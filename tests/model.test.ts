// The model format: toJSON round-trips through JSON.stringify; nested and flat weights are the same
// model; setLayer replaces one layer in place; grad() is a drop-in gradient function.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngine, type MLPSpec, type ModelJSON } from "../src/index.js";
import { closeTo, randomCase } from "./helpers.js";
import * as ref from "./reference.js";

const engine = await createEngine();

test("toJSON round-trips exactly through JSON.stringify (f64 and f32)", () => {
  for (const precision of ["f64", "f32"] as const) {
    const c = randomCase([5, 3, 4, 1], ["tanh", "relu", "sigmoid"], precision, 21);
    const net = engine.createMLP(c.spec);
    const json = JSON.parse(JSON.stringify(net)) as MLPSpec;
    assert.equal(json, { ...c.spec, layers: c.spec.layers });
    const copy = engine.createMLP(json);
    assert.equal(Array.from(copy.gradient(c.x)), Array.from(net.gradient(c.x)));
    net.dispose();
    copy.dispose();
  }
});

test("toJSON keeps a single activation name and the default precision", () => {
  const c = randomCase([2, 2, 1], "sigmoid", "f32", 22);
  const net = engine.createMLP({ sizes: c.spec.sizes, layers: c.spec.layers });
  const json = net.toJSON();
  assert.is(json.activations, "sigmoid");
  assert.is(json.precision, "f32");
  net.dispose();
});

test("nested rows and flat weights describe the same network", () => {
  const c = randomCase([7, 5, 1], "softplus", "f64", 23);
  const nested = { ...c.spec, layers: c.ref.W.map((rows, i) => ({ weights: rows, bias: c.ref.b[i] })) };
  const a = engine.createMLP(c.spec);
  const b = engine.createMLP(nested);
  assert.equal(Array.from(b.gradient(c.x)), Array.from(a.gradient(c.x)));
  a.dispose();
  b.dispose();
});

test("setLayer replaces W^[l] and b^[l] (l counted from 2) in place", () => {
  const c = randomCase([4, 6, 3, 1], "tanh", "f64", 24);
  const d = randomCase([4, 6, 3, 1], "tanh", "f64", 25);
  const net = engine.createMLP(c.spec);
  assert.is(net.setLayer(3, d.ref.W[1], d.ref.b[1]), net);
  const mixed = { ...c.ref, W: [c.ref.W[0], d.ref.W[1], c.ref.W[2]], b: [c.ref.b[0], d.ref.b[1], c.ref.b[2]] };
  closeTo(net.gradient(c.x), ref.gradient(mixed, c.x), 1e-12);
  net.setLayer(2, d.spec.layers[0].weights, d.spec.layers[0].bias).setLayer(4, d.ref.W[2], d.ref.b[2]);
  closeTo(net.gradient(c.x), ref.gradient(d.ref, c.x), 1e-12);
  net.dispose();
});

test("grad(spec) is a drop-in gradient function", () => {
  const c = randomCase([17, 8, 1], "sigmoid", "f64", 26);
  const df = engine.grad(c.spec);
  closeTo(df(c.x), ref.gradient(c.ref, c.x), 1e-12);
  const out = new Float64Array(17);
  assert.is(df(c.x, out), out);
  assert.is(df.network.inputSize, 17);
  df.network.dispose();
});

test("the bundled example model loads and matches the reference", async () => {
  const { readFileSync } = await import("node:fs");
  const spec = JSON.parse(readFileSync(new URL("../../examples/paper-2-2-3-1.json", import.meta.url), "utf8")) as ModelJSON;
  assert.equal(spec.sizes, [2, 2, 3, 1]);
  const net = engine.createMLP(spec);
  // Either accepted weight form, as nested rows for the reference.
  const W = Array.from(spec.layers, (layer, i) => {
    const [rows, cols] = [spec.sizes[i + 1], spec.sizes[i]];
    const flat = (layer.weights as unknown[]).flat() as number[];
    return Array.from({ length: rows }, (_, r) => flat.slice(r * cols, (r + 1) * cols));
  });
  const refNet = { sizes: spec.sizes, activations: net.activations.slice(), W, b: Array.from(spec.layers, (l) => Array.from(l.bias)) };
  for (const x of [[0.1, 0.1], [0.5, 0.25], [0.9, 0.7]]) {
    closeTo(net.gradient(x), ref.gradient(refNet, x), spec.precision === "f32" ? 1e-4 : 1e-12);
  }
  net.dispose();
});

test.run();
