/**
 * Where forwardBatch's time goes (f32, batch of 256 = 4 blocks of 64), against the gemm ceiling's
 * forward (gemm-ceiling.mjs) and the f32x4 peak loop, all interleaved in one process (medians):
 *   forwardBatch            the whole call (block copy-in of xs, gemm per layer with σ, copy-out)
 *   gemm layers, sigmoid    the kernels alone on the block already loaded (4 blocks), σ = sigmoid
 *   gemm layers, identity   the same with act = identity (code 0): σ's cost is the difference
 *   copy-in                 BatchRunner.loadBlock alone, 4 blocks (xs → [n_1][mb] with the finiteness check)
 *   gradient copy-out       BatchRunner.storeBlock of the gradients alone ([n_1][mb] → m × n_1), as
 *                           gradientBatch does after its backward (not part of forwardBatch)
 * Uses internals of the built library (batchRunner().ctx), so it may need updating with src/batch.ts.
 * `npm run build && node bench/batch-parts.mjs [S3,S4,S5] [--samples 15] [--dist dir]`
 */
import { makeNetwork, makeInputs, flopsPerGradient } from "./shapes.mjs";
import { buildPeakModule, flopsPerIteration } from "./peak.mjs";
import { createGemmCeiling } from "./gemm-ceiling.mjs";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { timeParts } from "./interleave.mjs";

const arg = (flag, fallback) => (process.argv.indexOf(flag) > 0 ? process.argv[process.argv.indexOf(flag) + 1] : fallback);
const SAMPLES = Number(arg("--samples", 15));
const dist = resolve(arg("--dist", new URL("../dist", import.meta.url).pathname));
const { init, createMLP } = await import(`file://${dist}/mlpgrad.node.js`);
await init();
const BATCH = 256;
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
const shapes = (process.argv[2] && !process.argv[2].startsWith("--") ? process.argv[2] : "S3,S4,S5").split(",");
console.log(`node ${process.version}, ${dist}, load average ${loadavg().map((v) => v.toFixed(2)).join(" ")}, batch ${BATCH}, ${SAMPLES} samples`);
const { instance } = await WebAssembly.instantiate(buildPeakModule("f32x4"));
const PEAK_ITERATIONS = 20000;
for (const shape of shapes) {
  const net = makeNetwork(shape);
  const inputs = makeInputs(shape, BATCH);
  const mlp = createMLP({ sizes: net.sizes, activations: "sigmoid", precision: "f32", layers: net.layers.map((l) => ({ weights: Float32Array.from(l.weights), bias: Float32Array.from(l.bias) })) });
  const xs = Float32Array.from(inputs);
  const values = new Float32Array(BATCH * net.sizes.at(-1));
  const grads = new Float32Array(BATCH * net.sizes[0]);
  mlp.forwardBatch(xs, values);
  const runner = mlp.batchRunner();
  const { kernels, block, layout, params } = runner.ctx;
  const mb = block.mb;
  const blocks = BATCH / mb;
  const layers = (act) => () => {
    for (let b = 0; b < blocks; b++) {
      let input = block.x;
      layout.layers.forEach((layer, i) => {
        const out = block.layers[i];
        kernels.gemmF32(out.a, out.s, layer.w, layer.b, input, layer.rows, layer.cols, layer.stride, mb, act, params[i].p1, params[i].p2);
        input = out.a;
      });
    }
  };
  const sigmoid = runner.ctx.codes[0];
  const c = await createGemmCeiling(net, { strides: layout.layers.map((l) => l.stride), inputs });
  const fwdFlops = (BATCH * flopsPerGradient(net.sizes)) / 2;
  const parts = {
    peak: [() => instance.exports.peak(PEAK_ITERATIONS, 0.5, 0.5), PEAK_ITERATIONS * flopsPerIteration("f32x4")],
    "ceiling forward": [() => c.forward(blocks), fwdFlops],
    forwardBatch: [() => mlp.forwardBatch(xs, values), fwdFlops],
    "gemm layers, sigmoid": [layers(sigmoid), fwdFlops],
    "gemm layers, identity": [layers(0), fwdFlops],
    "copy-in": [() => { for (let b = 0; b < blocks; b++) runner.loadBlock(xs, b * mb * net.sizes[0], mb, mb, b * mb); }, 0],
    "gradient copy-out": [() => { for (let b = 0; b < blocks; b++) runner.storeBlock(block.grad, net.sizes[0], mb, mb, grads, b * mb); }, 0],
  };
  const times = timeParts(Object.fromEntries(Object.entries(parts).map(([label, [run]]) => [label, run])), SAMPLES);
  const ms = (label) => median(times[label]) / 1000;
  const peak = parts.peak[1] / ms("peak") / 1e6;
  console.log(`${shape} f32 b${BATCH}: peak ${peak.toFixed(1)} GFLOP/s`);
  for (const label of Object.keys(parts).slice(1)) {
    const share = parts[label][1] ? ` = ${((100 * parts[label][1]) / ms(label) / 1e6 / peak).toFixed(1)}% of peak` : "";
    console.log(`  ${label.padEnd(22)} ${ms(label).toFixed(3)} ms (${((100 * ms(label)) / ms("forwardBatch")).toFixed(1)}% of forwardBatch)${share}`);
  }
  mlp.dispose();
}
console.log(`load average after: ${loadavg().map((v) => v.toFixed(2)).join(" ")}`);
