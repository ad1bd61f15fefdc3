/**
 * A/B of gradientBatch on 256 inputs between two builds (dist directories), interleaved in one process:
 * per shape and precision, medians over `samples` rounds of A then B (each round two calls of each),
 * B/A < 1 meaning B is faster, and max |A − B| / max |A| (0 when B computes the same sums).
 * `node bench/ab-batch.mjs <distA> <distB> [S2,S3,S4,S5] [f32,f64] [samples 15] [method gradientBatch]`
 */
import { makeNetwork, makeInputs } from "./shapes.mjs";
import { loadavg } from "node:os";
import { resolve } from "node:path";

const [dirA, dirB, shapesArg = "S2,S3,S4,S5", precArg = "f32,f64", samplesArg = "15", method = "gradientBatch"] = process.argv.slice(2);
if (!dirA || !dirB) throw new Error("usage: node bench/ab-batch.mjs <distA> <distB> [shapes] [precisions] [samples] [method]");
const libA = await import(`file://${resolve(dirA)}/mlpgrad.node.js`);
const libB = await import(`file://${resolve(dirB)}/mlpgrad.node.js`);
await libA.init();
await libB.init();
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
const M = 256;
console.log(`node ${process.version}, A ${resolve(dirA)}, B ${resolve(dirB)}, ${method} b${M}, ${samplesArg} samples, load average ${loadavg().map((v) => v.toFixed(2)).join(" ")}`);
for (const name of shapesArg.split(",")) {
  for (const precision of precArg.split(",")) {
    const net = makeNetwork(name);
    const F = precision === "f32" ? Float32Array : Float64Array;
    const spec = { sizes: net.sizes, activations: "sigmoid", precision, layers: net.layers.map((l) => ({ weights: F.from(l.weights), bias: F.from(l.bias) })) };
    const a = libA.createMLP(spec);
    const b = libB.createMLP(spec);
    const xs = F.from(makeInputs(name, M));
    const size = method === "forwardBatch" ? M * net.sizes.at(-1) : M * net.sizes[0];
    const oA = new F(size), oB = new F(size);
    a[method](xs, oA);
    b[method](xs, oB);
    let d = 0, scale = 0;
    for (let i = 0; i < size; i++) {
      d = Math.max(d, Math.abs(oA[i] - oB[i]));
      scale = Math.max(scale, Math.abs(oA[i]));
    }
    const reps = Math.max(2, Math.round(20 / (() => { const t0 = performance.now(); a[method](xs, oA); return performance.now() - t0; })()));
    const tA = [], tB = [];
    for (let s = 0; s < Number(samplesArg) + 2; s++) {
      let t0 = performance.now();
      for (let r = 0; r < reps; r++) a[method](xs, oA);
      const ta = (performance.now() - t0) / reps;
      t0 = performance.now();
      for (let r = 0; r < reps; r++) b[method](xs, oB);
      const tb = (performance.now() - t0) / reps;
      if (s >= 2) {
        tA.push(ta);
        tB.push(tb);
      }
    }
    console.log(`${name} ${precision}: A ${median(tA).toFixed(3)} ms, B ${median(tB).toFixed(3)} ms, B/A ${(median(tB) / median(tA)).toFixed(3)}; max|A−B|/max|A| ${(d / scale).toExponential(1)}`);
    a.dispose();
    b.dispose();
  }
}
console.log(`load average after: ${loadavg().map((v) => v.toFixed(2)).join(" ")}`);
