/**
 * A/B of two builds of mlpgrad on single-input gradients, in one process: the bandwidth floor
 * (floor.mjs), build A and build B timed interleaved (floor, A, B, floor, A, B, …; medians), with the
 * SIMD peak (peak.mjs) and the arithmetic ceiling it implies: a gradient does a multiply and an add per
 * weight and pass (4 flops per stored weight, padding included), so it cannot beat 4·weights ÷ peak.
 *
 *   node bench/ab-single.mjs <dir of build A's dist> [dir of build B's dist = ./dist] [--shapes S3,S4,S5] [--samples 21]
 *
 * Build A is usually a copy of dist/ from before a change (`cp -r dist /tmp/before`).
 */
import { createFloor, paddedStride } from "./floor.mjs";
import { measurePeak } from "./peak.mjs";
import { makeNetwork } from "./shapes.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at < 0 ? fallback : args.splice(at, 2)[1];
};
const shapes = option("shapes", "S3,S4,S5").split(",");
const samples = Number(option("samples", 21));
if (args.length < 1) {
  console.error("usage: node bench/ab-single.mjs <dist dir A> [dist dir B] [--shapes S3,S4,S5] [--samples 21]");
  process.exit(2);
}
const url = (dir) => new URL(`${dir.replace(/\/$/, "")}/mlpgrad.node.js`, `file://${process.cwd()}/`).href;
const libA = await import(url(args[0]));
const libB = await import(url(args[1] ?? new URL("../dist", import.meta.url).pathname));
await libA.init();
await libB.init();
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const peak = { f32: (await measurePeak("f32x4")).gflops, f64: (await measurePeak("f64x2")).gflops };
console.log(`peak: f32x4 ${peak.f32.toFixed(1)} GFLOP/s, f64x2 ${peak.f64.toFixed(1)} GFLOP/s`);

for (const name of shapes) {
  for (const precision of ["f32", "f64"]) {
    const net = makeNetwork(name);
    const FloatArray = precision === "f32" ? Float32Array : Float64Array;
    const spec = { sizes: net.sizes, activations: "sigmoid", precision, layers: net.layers.map((l) => ({ weights: FloatArray.from(l.weights), bias: FloatArray.from(l.bias) })) };
    const a = libA.createMLP(spec);
    const b = libB.createMLP(spec);
    const floor = await createFloor(net, precision);
    const x = FloatArray.from(net.x);
    const outA = new FloatArray(net.sizes[0]);
    const outB = new FloatArray(net.sizes[0]);
    a.gradient(x, outA);
    b.gradient(x, outB);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < outA.length; i++) {
      diff = Math.max(diff, Math.abs(outA[i] - outB[i]));
      scale = Math.max(scale, Math.abs(outA[i]));
    }
    const runs = { floor: () => floor.sweep(), A: () => a.gradient(x, outA), B: () => b.gradient(x, outB) };
    let calls = 0;
    for (const t0 = performance.now(); performance.now() - t0 < 20; calls++) runs.A();
    const times = { floor: [], A: [], B: [] };
    for (let s = 0; s < samples + 3; s++) {
      for (const [key, run] of Object.entries(runs)) {
        const t0 = performance.now();
        for (let c = 0; c < calls; c++) run();
        if (s >= 3) times[key].push(((performance.now() - t0) * 1000) / calls);
      }
    }
    const weights = net.sizes.slice(1).reduce((sum, n, i) => sum + n * paddedStride(net.sizes[i], precision), 0);
    const ceiling = (4 * weights) / peak[precision] / 1e3;
    const [f, tA, tB] = [median(times.floor), median(times.A), median(times.B)];
    console.log(
      `${name} ${precision}: floor ${f.toFixed(1)} µs, arithmetic ceiling ${ceiling.toFixed(1)} µs (${(ceiling / f).toFixed(2)}× floor); ` +
        `A ${tA.toFixed(1)} µs (${(tA / f).toFixed(2)}×), B ${tB.toFixed(1)} µs (${(tB / f).toFixed(2)}×), B/A ${(tB / tA).toFixed(3)}; ` +
        `max |A − B| ${(diff / scale).toExponential(1)} of max |∇|`,
    );
    a.dispose();
    b.dispose();
  }
}
