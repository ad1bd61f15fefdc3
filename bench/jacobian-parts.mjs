/**
 * Where a Jacobian's time goes: mlp.jacobian(x, out) on J3 / J4, then its parts called one by one on the
 * same buffers — the forward pass, jacobianTop (G^[L-1] from the rows of W^[L]) and each jacobianBack —
 * and one gradient of the paired n_L = 1 shape (S3 / S4), medians of 31 samples. Uses internals
 * (mlp.batchRunner()), so it runs against this build only:
 *
 *   npm run build && node bench/jacobian-parts.mjs [J3,J4] [f32,f64]
 */
import { init, createMLP } from "../dist/mlpgrad.node.js";
import { makeNetwork, PAIRED_SHAPE } from "./shapes.mjs";

const [shapes = "J3,J4", precisions = "f32,f64"] = process.argv.slice(2);
await init();
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const time = (run, reps) => {
  const samples = [];
  for (let s = 0; s < 31; s++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) run();
    samples.push(((performance.now() - t0) / reps) * 1000);
  }
  return median(samples);
};
const specOf = (net, precision) => {
  const FloatArray = precision === "f32" ? Float32Array : Float64Array;
  return { sizes: net.sizes, activations: "sigmoid", precision, layers: net.layers.map((l) => ({ weights: FloatArray.from(l.weights), bias: FloatArray.from(l.bias) })) };
};

for (const shape of shapes.split(",")) {
  for (const precision of precisions.split(",")) {
    const FloatArray = precision === "f32" ? Float32Array : Float64Array;
    const size = FloatArray.BYTES_PER_ELEMENT;
    const columnBytes = (n) => Math.ceil((n * size) / 16) * 16;
    const net = makeNetwork(shape);
    const mlp = createMLP(specOf(net, precision));
    const x = FloatArray.from(net.x);
    const nL = net.sizes[net.sizes.length - 1];
    const out = new FloatArray(nL * net.sizes[0]);
    mlp.jacobian(x, out);
    const { kernels: k, layout, block } = mlp.batchRunner().ctx;
    const f32 = precision === "f32";
    const [forward, top, back] = f32 ? [k.forwardNetF32, k.jacobianTopF32, k.jacobianBackF32] : [k.forwardNetF64, k.jacobianTopF64, k.jacobianBackF64];
    const layers = layout.layers;
    const count = layers.length;
    const width = Math.min(16, Math.ceil(nL / 2) * 2);
    const reps = net.sizes[1] > 256 ? 3 : 20;
    const parts = { jacobian: time(() => mlp.jacobian(x, out), reps), forward: time(() => forward(layout.plan, count, layout.x), reps) };
    const L = layers[count - 1];
    parts[`top ${L.rows}×${L.cols}`] = time(() => top(block.layers[count - 2].g, L.w, L.s, layers[count - 2].s, 0, L.rows, L.cols, L.stride, width, columnBytes(L.cols)), reps);
    for (let i = count - 2; i >= 0; i--) {
      const layer = layers[i];
      const into = i === 0 ? block.grad : block.layers[i - 1].g;
      const s = i === 0 ? 0 : layers[i - 1].s;
      parts[`back ${layer.rows}×${layer.cols}`] = time(() => back(into, layer.w, block.layers[i].g, s, layer.rows, layer.cols, layer.stride, width, columnBytes(layer.cols), columnBytes(layer.rows)), reps);
    }
    const pair = makeNetwork(PAIRED_SHAPE[shape]);
    const single = createMLP(specOf(pair, precision));
    const xPair = FloatArray.from(pair.x);
    const grad = new FloatArray(pair.sizes[0]);
    parts.gradient = time(() => single.gradient(xPair, grad), reps);
    const line = Object.entries(parts).map(([name, us]) => `${name} ${us.toFixed(1)}`).join(", ");
    console.log(`${shape} ${precision} (µs): ${line}; jacobian ÷ gradient ${(parts.jacobian / parts.gradient).toFixed(2)}`);
  }
}
