/**
 * The relaxed-SIMD build against the SIMD build, in one process (so both see the same machine state):
 * one input's gradient and gradientBatch of m inputs on S3 and S4, f32 and f64, the two engines timed in
 * alternating samples, medians quoted, and the gain = SIMD time / relaxed time. Node 20 validates
 * relaxed SIMD only behind a flag, so run it as
 *
 *   node --experimental-wasm-relaxed-simd bench/relaxed.mjs [--shapes S3,S4] [--samples N] [--batch M]
 *
 * (`npm run bench` runs it as a child with that flag after the other modes; --no-relaxed skips it).
 * Prints a table on stderr and one JSON line on stdout. Results of the two builds differ in the last
 * bits (a fused multiply-add rounds once), so each is checked against the other within the f32/f64
 * tolerances instead of bit for bit.
 */
import { parseOptions } from "./child-io.mjs";
import { LIBRARY_URL, mlpSpec } from "./contenders/mlpgrad.mjs";
import { makeInputs, makeNetwork } from "./shapes.mjs";

const { options } = parseOptions(process.argv.slice(2));
const SHAPES = String(options.shapes ?? "S3,S4").split(",");
const SAMPLES = Number(options.samples ?? 15);
const M = Number(options.batch ?? 256);
const TOL = { f32: 1e-4, f64: 1e-12 };
const { createEngine, hasRelaxedSimd } = await import(LIBRARY_URL.href);

if (!hasRelaxedSimd()) {
  console.log(JSON.stringify({ status: "SKIPPED", error: "this runtime does not validate relaxed SIMD (run node with --experimental-wasm-relaxed-simd)" }));
  process.exit(0);
}
const engines = { simd: await createEngine({ relaxed: false }), relaxed: await createEngine({ relaxed: true }) };

const median = (v) => v.slice().sort((a, b) => a - b)[v.length >> 1];
function maxRelative(a, b) {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return worst / (scale || 1);
}

/** µs per call of fn: calls repeated until a sample takes ≥ 20 ms. */
function calibrate(fn) {
  let calls = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < calls; i++) fn();
    const ms = performance.now() - t;
    if (ms >= 20) return calls;
    calls = Math.ceil(calls * Math.min(10, 25 / Math.max(ms, 0.01)));
  }
}

const rows = [];
for (const shape of SHAPES) {
  const net = makeNetwork(shape);
  const xs = makeInputs(shape, M);
  for (const precision of ["f32", "f64"]) {
    const FloatArray = precision === "f32" ? Float32Array : Float64Array;
    const x = FloatArray.from(net.x);
    const batch = FloatArray.from(xs);
    const nets = Object.fromEntries(Object.entries(engines).map(([name, engine]) => [name, engine.createMLP(mlpSpec(net, precision))]));
    for (const kind of ["gradient", `gradientBatch(${M})`]) {
      const outs = {};
      const calls = {};
      const fns = {};
      for (const [name, mlp] of Object.entries(nets)) {
        const out = new FloatArray(kind === "gradient" ? x.length : batch.length);
        fns[name] = kind === "gradient" ? () => mlp.gradient(x, out) : () => mlp.gradientBatch(batch, out);
        for (let i = 0; i < 20; i++) fns[name](); // tier-up
        outs[name] = out;
      }
      const error = maxRelative(outs.relaxed, outs.simd);
      for (const name in fns) calls[name] = calibrate(fns[name]);
      const times = { simd: [], relaxed: [] };
      for (let s = 0; s < SAMPLES; s++) {
        for (const name of s % 2 === 0 ? ["simd", "relaxed"] : ["relaxed", "simd"]) {
          const t = performance.now();
          for (let i = 0; i < calls[name]; i++) fns[name]();
          times[name].push(((performance.now() - t) * 1000) / calls[name]);
        }
      }
      const simdUs = median(times.simd);
      const relaxedUs = median(times.relaxed);
      rows.push({ shape, precision, kind, simdUs, relaxedUs, gain: simdUs / relaxedUs, maxRelativeDifference: error, withinTolerance: error <= TOL[precision] * 10 });
    }
    for (const mlp of Object.values(nets)) mlp.dispose();
  }
}

const pad = (s, n) => String(s).padEnd(n);
process.stderr.write(`relaxed SIMD vs SIMD, medians of ${SAMPLES} alternating samples (µs per call; per batch for gradientBatch)\n`);
process.stderr.write(`${pad("shape", 6)}${pad("prec", 5)}${pad("call", 20)}${pad("SIMD µs", 11)}${pad("relaxed µs", 12)}${pad("gain", 7)}max rel. diff\n`);
for (const r of rows) {
  process.stderr.write(`${pad(r.shape, 6)}${pad(r.precision, 5)}${pad(r.kind, 20)}${pad(r.simdUs.toFixed(1), 11)}${pad(r.relaxedUs.toFixed(1), 12)}${pad(`${r.gain.toFixed(2)}×`, 7)}${r.maxRelativeDifference.toExponential(1)}\n`);
}
console.log(JSON.stringify({ status: rows.every((r) => r.withinTolerance) ? "ok" : "MISMATCH", samples: SAMPLES, batch: M, rows }));
