/**
 * Times mlpgrad's worker-thread pool against one thread on the same batch, in one process, the two
 * interleaved so that a busy neighbour slows both sides of the ratio alike:
 * `node bench/pool-worker.mjs <shape> [--threads 2] [--batch 256] [--seed N] [--min-time s] [--max-time s]`.
 * One thread is `mlp.gradientBatch(xs, out)`; the pool is `createMLPPool({ spec, threads })` and
 * `await pool.gradientBatch(xs, out)`, both f32. The pool's `threads` and `fallbackReason` are
 * reported as it gives them. Before the pool exists on main (no createMLPPool export), the worker
 * prints status "SKIPPED" with the reason. The runner sends { referenceFile } as for batch-worker.mjs.
 * Prints one JSON line: status "ok", "FAILED", "SKIPPED" or "ERROR".
 */
import { finish, parseOptions, quietConsole, readFloat64File, readJob } from "./child-io.mjs";
import { referenceGradients, worstRowError } from "./reference.mjs";
import { DEFAULT_SEED, flopsPerGradient, makeInputs, makeNetwork } from "./shapes.mjs";
import { sampleInterleaved, warmUp, timingOptions } from "./timing.mjs";
import { TOLERANCE } from "./tolerance.mjs";

quietConsole();
const { positional, options } = parseOptions(process.argv.slice(2));
const [shape] = positional;
const threads = Number(options.threads ?? 2);
const m = Number(options.batch ?? 256);
const seed = options.seed !== undefined ? Number(options.seed) : DEFAULT_SEED;
const timing = timingOptions(options);
const warmupMs = Number(options["warmup-ms"] ?? 300);

const result = { contender: "mlpgrad-pool", shape, batch: m, requestedThreads: threads, precision: "f32", status: "ERROR", node: process.version };
let pool;

try {
  const job = await readJob();
  const mlpgrad = await import("./contenders/mlpgrad.mjs");
  const unavailable = mlpgrad.poolUnavailable();
  if (unavailable) {
    result.status = "SKIPPED";
    result.reason = unavailable;
  } else {
    const net = makeNetwork(shape, seed);
    const n1 = net.sizes[0];
    result.sizes = net.sizes;
    result.flopsPerSample = flopsPerGradient(net.sizes);
    const inputs = makeInputs(shape, m, seed);
    const reference = job?.referenceFile ? readFloat64File(job.referenceFile) : referenceGradients(net, inputs);

    const single = await mlpgrad.create(net, { precision: "f32", simd: true, mode: "batch" });
    let t0 = performance.now();
    pool = await mlpgrad.createPool(net, { threads, precision: "f32" });
    result.setupMs = performance.now() - t0;
    Object.assign(result, { threads: pool.info.threads, fallbackReason: pool.info.fallbackReason, info: pool.info });

    const xs = Float32Array.from(inputs);
    const outSingle = new Float32Array(m * n1).fill(NaN);
    const outPool = new Float32Array(m * n1).fill(NaN);
    result.tolerance = TOLERANCE.f32;
    t0 = performance.now();
    const returned = await pool.gradientBatch(xs, outPool);
    result.firstCallMs = performance.now() - t0;
    result.returnsOut = returned === outPool;
    single.gradientBatch(xs, outSingle);
    result.relErr = worstRowError(outPool, reference, n1).worst;
    result.singleRelErr = worstRowError(outSingle, reference, n1).worst;
    if (!(result.relErr <= result.tolerance) || !(result.singleRelErr <= result.tolerance)) {
      result.status = "FAILED";
    } else {
      const calls = [() => single.gradientBatch(xs, outSingle), () => pool.gradientBatch(xs, outPool)];
      result.warmupCalls = [await warmUp(calls[0], { ms: warmupMs, minCalls: 2 }), await warmUp(calls[1], { ms: warmupMs, minCalls: 2 })];
      // The last timed call's results are checked below: they must be written afresh.
      outPool.fill(NaN);
      const [singleStats, poolStats] = await sampleInterleaved(calls, timing);
      result.singleBench = singleStats;
      result.bench = poolStats;
      result.speedup = singleStats.medianSampleUs / poolStats.medianSampleUs;
      result.recheckRelErr = worstRowError(outPool, reference, n1).worst;
      result.status = result.recheckRelErr <= result.tolerance ? "ok" : "FAILED";
    }
  }
} catch (error) {
  result.status = "ERROR";
  result.error = String(error?.stack ?? error).split("\n").slice(0, 4).join("\n");
} finally {
  try {
    await pool?.dispose();
  } catch (error) {
    result.disposeError = String(error?.message ?? error);
  }
}
finish(result);
