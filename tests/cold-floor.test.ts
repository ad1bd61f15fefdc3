// The cold-start floor of the bench (bench/cold-floor.mjs): the least a correct library must do between
// `import` and the first gradient, timed by bench/cold.mjs as mlpgrad-floor. A floor that computed the
// wrong thing, or skipped a check createMLP makes, would be a floor too low: its gradients are checked
// against the f64 reference on odd sizes (rows copied one by one where a row is padded, in one block where
// it is not), and it must refuse what createMLP refuses — without calling user code, and
// reading each value once. Then the one-module build bench/cold.mjs writes runs in a fresh process.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { randomCase } from "./helpers.js";
import { gradient as referenceGradient, type RefNetwork } from "./reference.js";

interface Floor {
  init(sizes: number[]): Promise<{ heapBase(): number }>;
  create(layers: { weights: unknown[]; bias: unknown[] }[]): boolean;
  gradient(x: Float32Array, out: Float32Array): Float32Array;
}

const root = new URL("../../", import.meta.url);
const floor = (await import(new URL("bench/cold-floor.mjs", root).href)) as Floor;
const F32_MAX = 3.4028234663852886e38;

/** Layers as JSON.parse makes them: flat number[] weights (row-major [out][in]) and number[] biases. */
function jsonLayers(ref: RefNetwork): { weights: unknown[]; bias: unknown[] }[] {
  return JSON.parse(JSON.stringify(ref.W.map((rows, l) => ({ weights: rows.flat(), bias: ref.b[l] }))));
}

// Padded rows ([3, 5, 1], [7, 17, 4, 1], [67, 8, 1]) and unpadded ones ([4, 3, 1], [68, 67, 1], [8, 256, 256, 1]).
const SHAPES = [[1, 1], [3, 5, 1], [4, 3, 1], [7, 17, 4, 1], [67, 8, 1], [68, 67, 1], [8, 256, 256, 1], [5, 7, 8, 1]];

for (const sizes of SHAPES) {
  test(`the floor's gradient of [${sizes}] matches the f64 reference`, async () => {
    const { ref, x } = randomCase(sizes, "sigmoid", "f32", 11 + sizes.length * 7 + sizes[0]);
    const kernels = await floor.init(sizes);
    assert.ok(kernels.heapBase() <= 65536, "the kernels' own data lie below the floor's network");
    assert.ok(floor.create(jsonLayers(ref)), "valid weights are taken");
    const out = new Float32Array(sizes[0]);
    assert.is(floor.gradient(Float32Array.from(x), out), out);
    const want = referenceGradient(ref, x);
    const scale = Math.max(1e-3, ...want.map(Math.abs));
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(out[i] - want[i]) <= 1e-5 * scale, `gradient[${i}]: ${out[i]} vs ${want[i]}`);
  });
}

test("the floor refuses what createMLP refuses, in padded rows, unpadded chunks and biases, calling no user code", async () => {
  let converted = 0;
  const object = { valueOf: () => (converted++, 0.5), toString: () => (converted++, "0.5") };
  const bad: [string, unknown][] = [
    ["a string", "0.5"], ["null", null], ["undefined", undefined], ["NaN", NaN], ["Infinity", Infinity], ["-Infinity", -Infinity],
    ["3.5e38", 3.5e38], ["a value just beyond F32_MAX that rounds down to it", 3.4028235e38], ["its negative", -3.4028235e38],
    ["an object with valueOf", object], ["a boxed number", Object(0.5)], ["a bigint", 1n],
  ];
  assert.ok(Math.fround(3.4028235e38) === F32_MAX && 3.4028235e38 > F32_MAX, "the edge case is one");
  for (const sizes of [[3, 5, 1], [68, 67, 1]]) {
    const { ref } = randomCase(sizes, "sigmoid", "f32", 5);
    for (const [what, value] of bad) {
      for (const [layer, field, index] of [[0, "weights", 2000 % (sizes[0] * sizes[1])], [1, "weights", sizes[1] - 1], [0, "bias", 1]] as const) {
        await floor.init(sizes);
        const layers = jsonLayers(ref);
        layers[layer][field][index] = value;
        assert.is(floor.create(layers), false, `[${sizes}] layer ${layer + 2} ${field}[${index}] = ${what} is refused`);
      }
    }
    // A hole reads as undefined.
    await floor.init(sizes);
    const holey = jsonLayers(ref);
    delete holey[0].weights[1];
    assert.is(floor.create(holey), false, `[${sizes}] a hole is refused`);
    // F32_MAX itself is an f32.
    await floor.init(sizes);
    const edge = jsonLayers(ref);
    edge[1].bias[0] = -F32_MAX;
    assert.ok(floor.create(edge), `[${sizes}] -F32_MAX is taken`);
  }
  assert.is(converted, 0, "no valueOf or toString ran");
});

test("the floor reads each value once (a getter or a proxy cannot answer differently the second time)", async () => {
  const sizes = [68, 67, 1];
  const { ref, x } = randomCase(sizes, "sigmoid", "f32", 9);
  await floor.init(sizes);
  const layers = jsonLayers(ref);
  let reads = 0;
  const value = layers[0].weights[4100] as number;
  Object.defineProperty(layers[0].weights, 4100, { get: () => (reads++ === 0 ? value : "not a number"), enumerable: true });
  const bias = layers[0].bias;
  let proxyReads = 0;
  layers[0].bias = new Proxy(bias, { get: (target, key, receiver) => (key === "3" && proxyReads++, Reflect.get(target, key, receiver)) });
  assert.ok(floor.create(layers));
  assert.is(reads, 1, "the getter ran once");
  assert.is(proxyReads, 1, "the proxy's bias[3] was read once");
  const out = floor.gradient(Float32Array.from(x), new Float32Array(sizes[0]));
  const want = referenceGradient(ref, x);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(out[i] - want[i]) <= 1e-5 * Math.max(1e-3, ...want.map(Math.abs)), `gradient[${i}]`);
});

test("bench/cold.mjs runs the floor's one-module build in a fresh process and checks its gradient against the reference", () => {
  for (const shape of ["S1", "S3"]) {
    const run = spawnSync(process.execPath, ["bench/cold.mjs", "mlpgrad-floor", "--shape", shape], { cwd: root, encoding: "utf8", timeout: 60_000 });
    const result = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}");
    assert.is(result.status, "ok", `${shape}: ${run.stdout} ${run.stderr}`);
    assert.ok(result.relErr < 1e-5, `${shape}: relative error ${result.relErr}`);
    assert.is(result.weights, "number[]");
    for (const key of ["libraryImportMs", "setupMs", "firstCallMs", "libraryTotalMs"]) assert.ok(result[key] > 0, `${shape}: ${key}`);
  }
});

test.run();
