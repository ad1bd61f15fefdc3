/**
 * Times one contender on one shape, alone in its process (JIT state from one contender skews the
 * next): `node bench/worker.mjs <contender> <shape> [--seed N] [--min-time s] [--max-time s]`.
 * The runner sends { reference } — the parent's f64 ∇ₓ — on stdin; run by hand, the worker computes
 * that reference itself. Import, set-up and the first (unoptimised) call are timed apart from the
 * benchmark.js run, which reuses one input and one preallocated `out` buffer.
 * With --floor (mlpgrad's SIMD contenders), the bandwidth floor of bench/floor.mjs — a read-only sweep
 * over the network's weight bytes in mlpgrad's layout, twice — is then timed interleaved with the
 * gradient (bench/timing.mjs, A B A B …), and the gradient's time as a multiple of the floor is
 * reported from that same stretch of time: result.floor. With it, the matvec ceiling of
 * bench/ceiling.mjs (hand-written raw-wasm forward and backward loops for this network, no σ) is timed in
 * the same rounds (A B C A B C …): result.floor.ceilingUs, the measured limit of the loops themselves.
 * Prints one JSON line: status "ok", "FAILED" (wrong gradient, not timed) or "ERROR".
 */
import { finish, parseOptions, quietConsole, readJob, fail } from "./child-io.mjs";
import { contender } from "./contenders/index.mjs";
import { referenceGradient, relativeError } from "./reference.mjs";
import { DEFAULT_SEED, flopsPerGradient, makeNetwork } from "./shapes.mjs";
import { createFloor } from "./floor.mjs";
import { createCeiling } from "./ceiling.mjs";
import { median } from "./stats.mjs";
import { sampleInterleaved, warmUp } from "./timing.mjs";
import { TOLERANCE } from "./tolerance.mjs";

quietConsole();
const { positional, options } = parseOptions(process.argv.slice(2));
const [name, shape] = positional;
const seed = options.seed !== undefined ? Number(options.seed) : DEFAULT_SEED;
const minTime = Number(options["min-time"] ?? 0.1);
const maxTime = Number(options["max-time"] ?? 2);
const warmupMs = Number(options["warmup-ms"] ?? 200);
const withFloor = Boolean(options.floor);

const result = { contender: name, shape, status: "ERROR", node: process.version };

try {
  const job = await readJob();
  const net = makeNetwork(shape, seed);
  result.sizes = net.sizes;
  result.flops = flopsPerGradient(net.sizes);
  const reference = job?.reference ? Float64Array.from(job.reference) : referenceGradient(net);
  result.referenceFrom = job?.reference ? "parent" : "worker";
  const entry = contender(name);

  let t0 = performance.now();
  const module = await entry.load();
  result.importMs = performance.now() - t0;

  t0 = performance.now();
  const impl = await module.create(net, { ...entry.options, mode: "single" });
  result.setupMs = performance.now() - t0;
  result.precision = impl.precision;
  result.info = impl.info;

  const FloatArray = impl.precision === "f64" ? Float64Array : Float32Array;
  const x = FloatArray.from(net.x);
  const out = new FloatArray(net.sizes[0]);

  t0 = performance.now();
  const returned = impl.gradient(x, out);
  result.firstCallMs = performance.now() - t0;
  result.returnsOut = returned === out;
  result.tolerance = TOLERANCE[impl.precision];
  result.relErr = relativeError(out, reference);
  if (!(result.relErr <= result.tolerance)) {
    result.status = "FAILED";
    result.sample = { got: Array.from(out.slice(0, 4)), want: Array.from(reference.slice(0, 4)) };
    finish(result);
  } else {
    const liveBefore = impl.liveTensors?.();
    // Warm up so that benchmark.js samples the optimised code, not the tiers on the way there.
    const warmupEnd = performance.now() + warmupMs;
    let warmupCalls = 0;
    while (warmupCalls < 10 || performance.now() < warmupEnd) {
      impl.gradient(x, out);
      warmupCalls++;
    }
    result.warmupCalls = warmupCalls;

    const { default: Benchmark } = await import("benchmark");
    const bench = new Benchmark(`${name} ${shape}`, () => impl.gradient(x, out), {
      minTime,
      maxTime,
      minSamples: 5,
    });
    bench.run();
    if (bench.error) throw bench.error;
    const { stats } = bench;
    result.bench = {
      meanUs: stats.mean * 1e6,
      medianSampleUs: median(stats.sample) * 1e6,
      minSampleUs: Math.min(...stats.sample) * 1e6,
      hz: bench.hz,
      rme: stats.rme,
      deviationUs: stats.deviation * 1e6,
      samples: stats.sample.length,
      callsPerSample: bench.count,
      minTime,
      maxTime,
    };
    if (withFloor) {
      const floor = await createFloor(net, impl.precision, impl.weightStrides);
      const floorCall = () => floor.sweep();
      await warmUp(floorCall, { ms: 50, minCalls: 10 });
      // The ceiling is a reference point, not a requirement: if it cannot be built, the floor still is reported.
      let ceiling = null;
      try {
        ceiling = await createCeiling(net, impl.precision, impl.weightStrides);
        await warmUp(ceiling.run, { ms: 50, minCalls: 10 });
      } catch (error) {
        result.ceilingError = String(error?.message ?? error);
      }
      const calls = [() => impl.gradient(x, out), floorCall, ...(ceiling ? [ceiling.run] : [])];
      const [gradientStats, floorStats, ceilingStats] = await sampleInterleaved(calls, {
        minTime,
        maxTime: Math.min(maxTime, 0.75),
        minSamples: 5,
      });
      result.floor = {
        bytes: floor.bytes,
        sweptBytes: floor.sweptBytes,
        passes: floor.passes,
        accumulators: floor.accumulators,
        strides: impl.weightStrides ? "from the network" : "computed",
        us: floorStats.medianSampleUs,
        gbps: (floor.passes * floor.sweptBytes) / floorStats.medianSampleUs / 1e3,
        gradientUs: gradientStats.medianSampleUs,
        ratio: gradientStats.medianSampleUs / floorStats.medianSampleUs,
        samples: floorStats.samples,
        ...(ceilingStats ? { ceilingUs: ceilingStats.medianSampleUs, ceilingRatio: ceilingStats.medianSampleUs / floorStats.medianSampleUs } : {}),
      };
    }
    // The timed loop must still be computing the right thing (and not leaking, for tfjs).
    out.fill(0);
    impl.gradient(x, out);
    result.recheckRelErr = relativeError(out, reference);
    if (liveBefore !== undefined) result.liveTensors = { before: liveBefore, after: impl.liveTensors() };
    result.status = result.recheckRelErr <= result.tolerance ? "ok" : "FAILED";
    finish(result);
  }
} catch (error) {
  fail(result, error);
}
