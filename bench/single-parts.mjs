/**
 * Where a single-input gradient's time goes against its bandwidth floor: mlp.gradient(x, out), then
 * the whole-network kernel gradientNet called directly (no JS checks or copies), forwardNet alone, and
 * each layer's forward (dense) and backward (denseBack) kernel alone on the network's own buffers,
 * each next to a read-only SIMD sweep of the same bytes (floor.mjs's module: one sweep reads a range
 * forward then backward, so a layer's one-pass floor is half of it). "σ pass" is dense with the sigmoid
 * minus dense with the identity (same loads and products, the identity finishes rows one by one).
 * Everything is timed interleaved in one process (each sample calls one part for ≈ 10 ms, then the
 * next), medians of 21 samples. Uses internals (mlp.engine, mlp.layout), so it runs against this build only:
 *
 *   npm run build && node bench/single-parts.mjs [S3,S4,S5] [f32,f64]
 */
import { init, createMLP } from "../dist/mlpgrad.node.js";
import { buildFloorModule, STEP_BYTES } from "./floor.mjs";
import { makeNetwork } from "./shapes.mjs";

const [shapes = "S3,S4", precisions = "f32,f64"] = process.argv.slice(2);
await init();
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const SAMPLES = 21;
const IDENTITY = 0;
const SIGMOID = 1;

/** Median µs of each of `parts` ({ name: () => void }), interleaved, each sample ~`ms` long per part. */
function timeInterleaved(parts, ms = 10) {
  const entries = Object.entries(parts);
  const reps = {};
  for (const [name, run] of entries) {
    let n = 0;
    for (const t0 = performance.now(); performance.now() - t0 < ms; n++) run();
    reps[name] = Math.max(1, n);
  }
  const times = Object.fromEntries(entries.map(([name]) => [name, []]));
  for (let s = 0; s < SAMPLES + 2; s++) {
    for (const [name, run] of entries) {
      const t0 = performance.now();
      for (let r = 0; r < reps[name]; r++) run();
      if (s >= 2) times[name].push(((performance.now() - t0) * 1000) / reps[name]);
    }
  }
  return Object.fromEntries(entries.map(([name]) => [name, median(times[name])]));
}

for (const shape of shapes.split(",")) {
  for (const precision of precisions.split(",")) {
    const FloatArray = precision === "f32" ? Float32Array : Float64Array;
    const size = FloatArray.BYTES_PER_ELEMENT;
    const net = makeNetwork(shape);
    const mlp = createMLP({ sizes: net.sizes, activations: "sigmoid", precision, layers: net.layers.map((l) => ({ weights: FloatArray.from(l.weights), bias: FloatArray.from(l.bias) })) });
    const x = FloatArray.from(net.x);
    const grad = new FloatArray(net.sizes[0]);
    mlp.gradient(x, grad);
    const k = mlp.engine.kernels;
    const layout = mlp.layout;
    const layers = layout.layers;
    const count = layers.length;
    const f32 = precision === "f32";
    const [dense, back, forwardNet, gradientNet] = f32
      ? [k.denseF32, k.denseBackF32, k.forwardNetF32, k.gradientNetF32]
      : [k.denseF64, k.denseBackF64, k.forwardNetF64, k.gradientNetF64];

    // The floor: each layer's W copied into its own range of the sweep module's memory (ranges rounded
    // up to STEP_BYTES with zeros), so a layer and the whole network can be swept alone.
    const wasmBytes = new Uint8Array(k.memory?.buffer ?? mlp.engine.memory.buffer);
    const ranges = [];
    let total = 0;
    for (const L of layers) {
      const bytes = L.rows * L.stride * size;
      ranges.push({ base: total, bytes, swept: Math.ceil(bytes / STEP_BYTES) * STEP_BYTES });
      total += ranges.at(-1).swept;
    }
    const module = await WebAssembly.compile(buildFloorModule(precision, Math.ceil(total / 65536) + 1));
    const { sweep, memory } = (await WebAssembly.instantiate(module)).exports;
    const floorBytes = new Uint8Array(memory.buffer);
    layers.forEach((L, i) => floorBytes.set(wasmBytes.subarray(L.w, L.w + ranges[i].bytes), ranges[i].base));

    // forwardNet right after the floor: it takes the first, cold pass over the network's memory after the
    // floor's sweep has filled the cache, so that gradient() and gradientNet, compared, both start warm.
    const parts = {
      floor: () => sweep(0, total),
      forwardNet: () => forwardNet(layout.plan, count, layout.x),
      "gradient()": () => mlp.gradient(x, grad),
      gradientNet: () => gradientNet(layout.plan, count, layout.x, layout.grad),
    };
    layers.forEach((L, i) => {
      const input = i === 0 ? layout.x : layers[i - 1].a;
      const tag = `${L.rows}×${L.cols}`;
      parts[`fwd ${i + 2} ${tag}`] = () => dense(L.a, L.s, L.w, L.b, input, L.rows, L.stride, SIGMOID, 0, 0);
      parts[`fwd ${i + 2} id`] = () => dense(L.a, L.s, L.w, L.b, input, L.rows, L.stride, IDENTITY, 0, 0);
      parts[`floor ${i + 2} ×2`] = () => sweep(ranges[i].base, ranges[i].swept);
    });
    for (let i = count - 1; i >= 0; i--) {
      const L = layers[i];
      const into = i === 0 ? layout.grad : layers[i - 1].g;
      const s = i === 0 ? 0 : layers[i - 1].s;
      const g = i === count - 1 ? L.s : L.g;
      parts[`back ${i + 2}`] = () => back(into, L.w, g, s, L.rows, L.stride);
    }
    const t = timeInterleaved(parts);
    // Restore the buffers a real gradient leaves (the identity forward overwrote a^[l], s^[l]).
    mlp.gradient(x, grad);

    const f = t.floor;
    const rows = [`${shape} ${precision}: floor ${f.toFixed(1)} µs; gradient() ${t["gradient()"].toFixed(1)} (${(t["gradient()"] / f).toFixed(2)}×), ` +
      `gradientNet ${t.gradientNet.toFixed(1)} (${(t.gradientNet / f).toFixed(2)}×), forwardNet ${t.forwardNet.toFixed(1)}, JS path ${(t["gradient()"] - t.gradientNet).toFixed(2)}`];
    let sum = 0;
    layers.forEach((L, i) => {
      const half = t[`floor ${i + 2} ×2`] / 2;
      const fwd = t[`fwd ${i + 2} ${L.rows}×${L.cols}`];
      const bk = t[`back ${i + 2}`];
      sum += fwd + bk;
      rows.push(`  layer ${i + 2} ${L.rows}×${L.cols} (${(ranges[i].bytes / 1024).toFixed(0)} KiB): one-pass floor ${half.toFixed(2)} µs; ` +
        `dense ${fwd.toFixed(2)} (${(fwd / half).toFixed(2)}×, σ pass ≈ ${(fwd - t[`fwd ${i + 2} id`]).toFixed(2)}), denseBack ${bk.toFixed(2)} (${(bk / half).toFixed(2)}×)`);
    });
    rows.push(`  sum of the kernels alone ${sum.toFixed(1)} µs; gradientNet − sum ${(t.gradientNet - sum).toFixed(1)} µs (the caches' state between layers and directions)`);
    console.log(rows.join("\n"));
    mlp.dispose();
  }
}
