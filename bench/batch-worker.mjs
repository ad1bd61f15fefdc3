/**
 * Times one contender's per-sample gradients of a batch, alone in its process:
 * `node bench/batch-worker.mjs <contender> <shape> [--batch 256] [--seed N] [--min-time s]
 * [--max-time s] [--min-samples N] [--budget s] [--warmup-ms ms] [--peak]` (timing.mjs says what they do).
 * Input: m seeded inputs (shapes.mjs makeInputs) as one row-major m × n_1 array; output m × n_1, row i
 * = ∇ₓ a^[L](x_i). The runner sends { referenceFile } (the parent's f64 gradients, raw bytes); run by
 * hand, the worker computes them itself. Every row is checked on its own before timing. A contender
 * that offers several ways to do the batch (batchVariants, e.g. jax-js grad and jit(grad)) has each
 * checked, then timed interleaved, and the fastest is its result; the others are reported beside it.
 * With --peak, the SIMD peak loop of peak.mjs (f32x4 or f64x2, by the contender's precision) is timed
 * interleaved with the batch too, so "share of peak" is a ratio from one process and one stretch of
 * time, not from a peak measured while a neighbour on this shared machine was busier or idler. For
 * mlpgrad-f32 the gemm ceiling (gemm-ceiling.mjs: hand-written raw-wasm loops for this network's batch
 * chain, no σ) is timed in the same rounds too, so the report can say how close any wasm loop gets.
 * Prints one JSON line: status "ok", "FAILED" (a wrong row, not timed) or "ERROR".
 */
import { finish, parseOptions, quietConsole, readFloat64File, readJob, fail } from "./child-io.mjs";
import { createContender } from "./contenders/index.mjs";
import { createGemmCeiling } from "./gemm-ceiling.mjs";
import { buildPeakModule, flopsPerIteration } from "./peak.mjs";
import { referenceGradients, worstRowError } from "./reference.mjs";
import { DEFAULT_SEED, flopsPerGradient, makeInputs, makeNetwork } from "./shapes.mjs";
import { sampleInterleaved, warmUp, timingOptions } from "./timing.mjs";
import { TOLERANCE } from "./tolerance.mjs";

quietConsole();
const { positional, options } = parseOptions(process.argv.slice(2));
const [name, shape] = positional;
const m = Number(options.batch ?? 256);
const seed = options.seed !== undefined ? Number(options.seed) : DEFAULT_SEED;
const timing = timingOptions(options);
const warmupMs = Number(options["warmup-ms"] ?? 300);
const withPeak = Boolean(options.peak);
/** Iterations of one peak call (about 8 Mflop, a fraction of a millisecond). */
const PEAK_ITERATIONS = 20000;

const result = { contender: name, shape, batch: m, status: "ERROR", node: process.version };

try {
  const job = await readJob();
  const net = makeNetwork(shape, seed);
  const n1 = net.sizes[0];
  result.sizes = net.sizes;
  result.flopsPerSample = flopsPerGradient(net.sizes);
  const inputs = makeInputs(shape, m, seed);
  const reference = job?.referenceFile ? readFloat64File(job.referenceFile) : referenceGradients(net, inputs);
  result.referenceFrom = job?.referenceFile ? "parent" : "worker";

  const { impl, importMs, setupMs } = await createContender(name, net, "batch");
  Object.assign(result, { importMs, setupMs, precision: impl.precision, info: impl.info });
  const variants = impl.batchVariants ?? (impl.gradientBatch ? { gradientBatch: impl.gradientBatch } : null);
  if (!variants) throw new Error(`${name} has no gradientBatch`);

  const FloatArray = impl.precision === "f64" ? Float64Array : Float32Array;
  const xs = FloatArray.from(inputs);
  // An output buffer per variant, so each variant's last result can be checked after timing.
  const names = Object.keys(variants);
  const outs = names.map(() => new FloatArray(m * n1).fill(NaN));
  result.tolerance = TOLERANCE[impl.precision];

  // Check every variant on every row before anything is timed.
  const checked = {};
  for (const [k, [variant, gradientBatch]] of Object.entries(variants).entries()) {
    const out = outs[k];
    const t0 = performance.now();
    const returned = gradientBatch(xs, out);
    const firstCallMs = performance.now() - t0;
    const { worst, row } = worstRowError(out, reference, n1);
    checked[variant] = { firstCallMs, returnsOut: returned === out, relErr: worst, worstRow: row };
  }
  result.variants = checked;
  const bad = names.findIndex((variant) => !(checked[variant].relErr <= result.tolerance));
  if (bad >= 0) {
    const c = checked[names[bad]];
    const at = c.worstRow * n1;
    result.status = "FAILED";
    result.relErr = c.relErr;
    result.failedVariant = names[bad];
    result.sample = { row: c.worstRow, got: Array.from(outs[bad].slice(at, at + 4)), want: Array.from(reference.slice(at, at + 4)) };
    finish(result);
  } else {
    const calls = names.map((variant, k) => () => variants[variant](xs, outs[k]));
    const liveBefore = impl.liveTensors?.();
    // The check call counts towards the warm-up.
    result.warmupCalls = [];
    for (let k = 0; k < calls.length; k++) {
      result.warmupCalls.push(await warmUp(calls[k], { ms: warmupMs, alreadyMs: checked[names[k]].firstCallMs }));
    }
    let peakLane;
    if (withPeak) {
      peakLane = impl.precision === "f64" ? "f64x2" : "f32x4";
      const { instance } = await WebAssembly.instantiate(buildPeakModule(peakLane));
      const { peak } = instance.exports;
      const peakCall = () => peak(PEAK_ITERATIONS, 0.5, 0.5);
      await warmUp(peakCall, { ms: 50, minCalls: 10 });
      calls.push(peakCall);
    }
    let ceiling;
    if (withPeak && name === "mlpgrad-f32") {
      // Its default tile (4 rows × 32 bytes, mb = 64), checked against plain JS sums on two samples as it
      // is built (≈ 0.2 s on S5; its timing adds ≈ 0.8 s more).
      // A ceiling that cannot be built or fails its check is recorded, never fails mlpgrad's own row.
      try {
        const c = await createGemmCeiling(net, { inputs, checkColumns: [0, 63] });
        const blocks = Math.ceil(m / c.mb);
        ceiling = { call: () => c.run(blocks), flops: blocks * c.mb * result.flopsPerSample, error: c.error };
        await warmUp(ceiling.call, { ms: 50, minCalls: 3 });
        calls.push(ceiling.call);
      } catch (error) {
        ceiling = undefined;
        result.gemmCeilingError = String(error?.message ?? error);
      }
    }
    // Timed calls must write their results afresh: checked after timing, without another call
    // (which costs seconds for the slowest contenders).
    for (const out of outs) out.fill(NaN);
    const stats = await sampleInterleaved(calls, timing);
    let ceilingStats;
    if (ceiling) {
      ceilingStats = stats.pop();
      calls.pop();
    }
    if (withPeak) {
      const peakStats = stats.pop();
      calls.pop();
      result.peak = { lane: peakLane, gflops: (PEAK_ITERATIONS * flopsPerIteration(peakLane)) / peakStats.medianSampleUs / 1e3, bench: peakStats };
    }
    if (ceiling) {
      const gflops = ceiling.flops / ceilingStats.medianSampleUs / 1e3;
      result.gemmCeiling = { gflops, peakShare: gflops / result.peak.gflops, tile: "4×2", mb: 64, checkError: ceiling.error, bench: ceilingStats };
    }
    let best = 0;
    stats.forEach((s, k) => {
      checked[names[k]].medianSampleUs = s.medianSampleUs;
      if (s.medianSampleUs < stats[best].medianSampleUs) best = k;
    });
    result.variant = names[best];
    result.bench = stats[best];
    result.perSampleUs = stats[best].medianSampleUs / m;
    result.firstCallMs = checked[names[best]].firstCallMs;
    result.relErr = checked[names[best]].relErr;
    result.returnsOut = checked[names[best]].returnsOut;
    // The timed loop must still be computing the right thing (and not leaking, for tfjs).
    result.recheckRelErr = worstRowError(outs[best], reference, n1).worst;
    if (liveBefore !== undefined) result.liveTensors = { before: liveBefore, after: impl.liveTensors() };
    result.status = result.recheckRelErr <= result.tolerance ? "ok" : "FAILED";
    finish(result);
  }
} catch (error) {
  fail(result, error);
}
