// The API's contracts: results go into `out` and `out` is returned; x may alias out; many networks
// share an engine while others are created, grown and disposed; the hot path grows nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngine } from "../src/index.js";
import { closeTo, randomCase, rng } from "./helpers.js";
import * as ref from "./reference.js";

const engine = await createEngine();

test("gradient, valueAndGradient and forward return the out they were given", () => {
  for (const precision of ["f32", "f64"] as const) {
    const c = randomCase([5, 7, 1], "tanh", precision, 3);
    const net = engine.createMLP(c.spec);
    const out = precision === "f32" ? new Float32Array(5) : new Float64Array(5);
    assert.is(net.gradient(c.x, out), out);
    closeTo(out, ref.gradient(c.ref, c.x), precision === "f32" ? 1e-4 : 1e-12);
    const both = net.valueAndGradient(c.x, out);
    assert.is(both.gradient, out);
    const one = precision === "f32" ? new Float32Array(1) : new Float64Array(1);
    assert.is(net.forward(c.x, one), one);
    assert.is(one[0], both.value);
    net.dispose();
  }
});

test("x may be the out array (aliasing), and any ArrayLike works as x", () => {
  const c = randomCase([4, 3, 1], "softplus", "f64", 4);
  const net = engine.createMLP(c.spec);
  const expected = ref.gradient(c.ref, c.x);
  const xs = Float64Array.from(c.x);
  assert.is(net.gradient(xs, xs), xs);
  closeTo(xs, expected, 1e-12, "aliased");
  closeTo(net.gradient(Float32Array.from(c.x.map(Math.fround))), ref.gradient(c.ref, c.x.map(Math.fround)), 1e-12, "Float32Array x");
  closeTo(net.gradient({ length: 4, 0: c.x[0], 1: c.x[1], 2: c.x[2], 3: c.x[3] }), expected, 1e-12, "array-like x");
  net.dispose();
});

test("many networks stay correct while others are created, grown and disposed", () => {
  const random = rng(11);
  const live: { net: ReturnType<typeof engine.createMLP>; x: number[]; expected: number[] }[] = [];
  const startBytes = engine.memoryBytes;
  for (let round = 0; round < 60; round++) {
    const sizes = [1 + Math.floor(random() * 40), 1 + Math.floor(random() * 70), 1];
    // Every tenth network is large, so the memory has to grow while others are live.
    if (round % 10 === 9) sizes[1] = 600 + round * 10;
    const c = randomCase(sizes, round % 2 ? "sigmoid" : "tanh", round % 3 ? "f64" : "f32", 500 + round);
    const net = engine.createMLP(c.spec);
    live.push({ net, x: c.x, expected: Array.from(net.gradient(c.x)) });
    closeTo(live[live.length - 1].expected, ref.gradient(c.ref, c.x), c.spec.precision === "f32" ? 1e-4 : 1e-12);
    if (random() < 0.4) live.splice(Math.floor(random() * live.length), 1)[0].net.dispose();
    for (const { net: other, x, expected } of live) {
      assert.equal(Array.from(other.gradient(x)), expected, `network [${other.sizes}] changed after round ${round}`);
    }
  }
  assert.ok(engine.memoryBytes > startBytes, "the memory grew during the test (views were re-derived)");
  for (const { net } of live) net.dispose();
});

test("disposed memory is reused: creating and disposing in a loop does not grow memory", () => {
  const c = randomCase([67, 256, 17, 1], "sigmoid", "f64", 8);
  engine.createMLP(c.spec).dispose();
  const bytes = engine.memoryBytes;
  for (let i = 0; i < 200; i++) engine.createMLP(c.spec).dispose();
  assert.is(engine.memoryBytes, bytes);
});

test("10,000 gradient calls with out grow neither WebAssembly memory nor the JS heap", () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.type(gc, "function", "run the tests with node --expose-gc (npm test does)");
  for (const precision of ["f32", "f64"] as const) {
    const c = randomCase([100, 256, 256, 1], "sigmoid", precision, 12);
    const net = engine.createMLP(c.spec);
    const x = precision === "f32" ? Float32Array.from(c.x) : Float64Array.from(c.x);
    const out = precision === "f32" ? new Float32Array(100) : new Float64Array(100);
    for (let i = 0; i < 1000; i++) net.gradient(x, out); // warm up the JIT first
    gc!();
    const heap = process.memoryUsage().heapUsed;
    const wasm = engine.memoryBytes;
    for (let i = 0; i < 10000; i++) net.gradient(x, out);
    gc!();
    const grown = process.memoryUsage().heapUsed - heap;
    assert.is(engine.memoryBytes, wasm, "WebAssembly memory grew");
    assert.ok(grown < 256 * 1024, `${precision}: the JS heap grew by ${grown} bytes over 10,000 calls`);
    net.dispose();
  }
});

test("networks dropped without dispose() return their memory when garbage-collected", async () => {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const own = await createEngine();
  const c = randomCase([256, 256, 1], "sigmoid", "f64", 13);
  let nets = Array.from({ length: 8 }, () => own.createMLP(c.spec));
  const inUse = own.arena.inUse;
  assert.ok(inUse > 8 * 256 * 256 * 8);
  nets = [];
  for (let i = 0; i < 50 && own.arena.inUse > 0; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.is(own.arena.inUse, 0, "the dropped networks' blocks were released");
  assert.is(nets.length, 0);
});

test.run();
