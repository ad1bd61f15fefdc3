/**
 * The speed targets the suite makes visible. A speed-up is contender time ÷ mlpgrad-f32 time from
 * the same run; the f64 share is mlpgrad-f32 time ÷ mlpgrad-f64 time; cold start compares the
 * median fresh-process time to the first S3 gradient. Batch targets use the same ratios on per-sample
 * times at b = 256, plus mlpgrad-f32's share of the f32x4 peak measured in the same run; the
 * Jacobian's cost is its time ÷ one gradient of the same-width n_L = 1 network (at most, not at
 * least); the pool's speed-up is one thread's time ÷ the pool's; the floor ratio is mlpgrad's single-input
 * time ÷ the bandwidth floor's (bench/floor.mjs: its weight bytes read twice), timed interleaved in one
 * process (at most); the split's speed-up is one thread's single-input time ÷ the pool's (bench/split.mjs). A target whose numbers are missing
 * (not selected, FAILED, ERROR, SKIPPED) is "n/a", never PASS.
 */

/** Every target, as data. */
export const TARGETS = Object.freeze([
  { kind: "speedup", shape: "S1", versus: "js-plain", atLeast: 1.0 },
  { kind: "speedup", shape: "S1", versus: "tfjs-cpu", atLeast: 300 },
  { kind: "speedup", shape: "S1", versus: "tfjs-wasm", atLeast: 300 },
  { kind: "speedup", shape: "S2", versus: "js-unrolled", atLeast: 4 },
  ...["S3", "S4", "S5"].flatMap((shape) => [
    { kind: "speedup", shape, versus: "js-unrolled", atLeast: 8 },
    { kind: "speedup", shape, versus: "tfjs-wasm", atLeast: 10 },
    { kind: "speedup", shape, versus: "jax-js", atLeast: 2.5 },
  ]),
  ...["S3", "S4", "S5"].flatMap((shape) => [
    { kind: "floor-ratio", shape, contender: "mlpgrad-f32", atMost: 1.3 },
    { kind: "floor-ratio", shape, contender: "mlpgrad-f64", atMost: 1.3 },
  ]),
  { kind: "f64-share", shape: "S4", atLeast: 0.45 },
  { kind: "f64-share", shape: "S5", atLeast: 0.45 },
  { kind: "cold-start", versus: "tfjs-wasm", atLeast: 50 },
  ...["S3", "S4", "S5"].flatMap((shape) => [
    { kind: "batch-speedup", shape, versus: "tfjs-wasm", atLeast: 8 },
    { kind: "batch-speedup", shape, versus: "jax-js", atLeast: 2 },
    { kind: "batch-peak", shape, atLeast: 0.85 },
    { kind: "batch-f64-share", shape, atLeast: 0.45 },
  ]),
  ...["J3", "J4"].flatMap((shape) => [
    { kind: "jacobian-cost", shape, contender: "mlpgrad-f32", atMost: 4 },
    { kind: "jacobian-cost", shape, contender: "mlpgrad-f64", atMost: 4 },
  ]),
  { kind: "pool-speedup", shape: "S4", atLeast: 1.7 },
  { kind: "pool-speedup", shape: "S5", atLeast: 1.9 },
  { kind: "split-speedup", shape: "S5", precision: "f32", atLeast: 1.6 },
  { kind: "split-speedup", shape: "S5", precision: "f64", atLeast: 1.6 },
]);

/** One-line description of a target. */
export function describeTarget(target) {
  switch (target.kind) {
    case "speedup":
      return `${target.shape} mlpgrad-f32 ≥ ${target.atLeast}× ${target.versus}`;
    case "floor-ratio":
      return `${target.shape} ${target.contender} ≤ ${target.atMost}× the bandwidth floor (weights read twice)`;
    case "f64-share":
      return `${target.shape} mlpgrad-f64 speed ≥ ${Math.round(target.atLeast * 100)}% of mlpgrad-f32`;
    case "cold-start":
      return `cold start (library import to the first S3 gradient) mlpgrad-f32 ≥ ${target.atLeast}× faster than ${target.versus}`;
    case "batch-speedup":
      return `${target.shape} b256 mlpgrad-f32 ≥ ${target.atLeast}× ${target.versus}`;
    case "batch-peak":
      return `${target.shape} b256 mlpgrad-f32 ≥ ${Math.round(target.atLeast * 100)}% of the f32x4 peak`;
    case "batch-f64-share":
      return `${target.shape} b256 mlpgrad-f64 throughput ≥ ${Math.round(target.atLeast * 100)}% of mlpgrad-f32`;
    case "jacobian-cost":
      return `${target.shape} ${target.contender} Jacobian ≤ ${target.atMost}× one gradient of the n_L = 1 network`;
    case "pool-speedup":
      return `${target.shape} b256 mlpgrad-f32 pool ≥ ${target.atLeast}× one thread`;
    case "split-speedup":
      return `${target.shape} one input ${target.precision} split across the pool ≥ ${target.atLeast}× one thread`;
    default:
      return JSON.stringify(target);
  }
}

/** The measured value a target is judged on, or NaN when it was not measured. */
function measuredValue(target, summary) {
  switch (target.kind) {
    case "speedup":
      return summary.shapes[target.shape]?.contenders[target.versus]?.speedup ?? NaN;
    case "floor-ratio":
      return summary.shapes[target.shape]?.contenders[target.contender]?.floor?.ratio ?? NaN;
    case "f64-share":
      return summary.shapes[target.shape]?.f64Share ?? NaN;
    case "cold-start":
      // The library's own import, set-up and first call (bench/cold.mjs libraryTotalMs); runs from before
      // that split have only the total with the bench's contender module.
      const library = summary.cold?.libraryRatios?.[target.versus];
      return Number.isFinite(library) ? library : summary.cold?.ratios?.[target.versus] ?? NaN;
    case "batch-speedup":
      return summary.batch?.shapes[target.shape]?.contenders[target.versus]?.speedup ?? NaN;
    case "batch-peak":
      return summary.batch?.shapes[target.shape]?.contenders["mlpgrad-f32"]?.peakShare ?? NaN;
    case "batch-f64-share":
      return summary.batch?.shapes[target.shape]?.f64Share ?? NaN;
    case "jacobian-cost":
      return summary.jacobian?.shapes[target.shape]?.contenders[target.contender]?.ratio ?? NaN;
    case "pool-speedup":
      return summary.pool?.shapes[target.shape]?.speedup ?? NaN;
    case "split-speedup":
      return summary.split?.shapes[target.shape]?.[target.precision]?.ratio ?? NaN;
    default:
      return NaN;
  }
}

/** The mode whose children measure a target. */
export function targetMode(target) {
  if (target.kind.startsWith("batch-")) return "batch";
  if (target.kind === "jacobian-cost") return "jacobian";
  if (target.kind === "pool-speedup" || target.kind === "split-speedup") return "pool";
  return "single";
}

/** Whether a target is met by a value: at least `atLeast`, or at most `atMost`. */
function meets(target, value) {
  return target.atMost !== undefined ? value <= target.atMost : value >= target.atLeast;
}

const us = (value) => `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)} µs`;
const pct = (value) => `${(100 * value).toFixed(0)}%`;

/** "; the best hand-written loops reach N% of the peak", when the batch child timed the gemm ceiling. */
const batchCeiling = (base) =>
  base.gemmCeiling
    ? `; the best hand-written raw-wasm loops for this network's batch chain (gemm ceiling, bench/gemm-ceiling.mjs: constant addresses, no σ, no bias) ` +
      `reach ${pct(base.gemmCeiling.peakShare)} of the peak (${base.gemmCeiling.gflops.toFixed(1)} GFLOP/s)`
    : "";

/**
 * The cold-start limit line's last part: what mlpgrad's cold path alone (bench/cold-lean.mjs, mlpgrad-lean:
 * the bundle with every function and statement a cold start does not execute taken out) takes, which is
 * the most any rearrangement of mlpgrad's code — the rest of the API loaded later, error messages out of
 * line — could reach; set against what the target needs.
 */
function leanLimit(cold, needs) {
  const lean = cold.phases["mlpgrad-lean"];
  const leanMs = cold.libraryMedians?.["mlpgrad-lean"];
  if (!Number.isFinite(leanMs) || !lean) return "; mlpgrad's cold path alone (mlpgrad-lean) was not measured in this run";
  const phases = `import ${lean.libraryImportMs.toFixed(2)}, init ${lean.initMs.toFixed(2)}, createMLP ${lean.createMs.toFixed(2)}, first gradient ${lean.firstCallMs.toFixed(2)}`;
  return `; mlpgrad's cold path alone (bench/cold-lean.mjs: the bundle with every function and statement a cold start does not execute ` +
    `taken out, the most that loading the rest of the API later or moving error messages out of line could reach) takes ${leanMs.toFixed(2)} ms (${phases}): ` +
    (leanMs <= needs
      ? "within the target, so rearranging mlpgrad's code could meet it"
      : `${(leanMs - needs).toFixed(2)} ms beyond the target, so no rearrangement of mlpgrad's code meets it: only executing less JavaScript on the path would`);
}

/**
 * What stands between a missed target and its value, from the same run's measured limits: the bandwidth
 * floor (weights read twice), the arithmetic at the measured mul+add peak (4 flop per weight) and the
 * hand-written matvec ceiling (bench/ceiling.mjs, timed with the floor) for one input; the SIMD peak and the gemm ceiling (bench/gemm-ceiling.mjs) timed in the same process for batches; the two peaks' ratio for f64; the idle CPU
 * share for threads. Returns a sentence, or undefined when nothing measured explains it.
 */
export function explainMiss(target, summary) {
  const peak32 = summary.peak?.f32x4;
  const peak64 = summary.peak?.f64x2;
  switch (target.kind) {
    case "speedup": {
      const shape = summary.shapes[target.shape];
      const other = shape?.contenders[target.versus];
      const base = shape?.contenders["mlpgrad-f32"];
      if (!other?.medianUs || !base?.floor) return undefined;
      const needed = other.medianUs / target.atLeast;
      const arithmetic = shape.flops / peak32 / 1e3;
      const limit = Math.max(base.floor.us, arithmetic);
      return `needs mlpgrad-f32 ≤ ${us(needed)}; its limit is ${us(limit)} (bandwidth floor ${us(base.floor.us)}, arithmetic at the f32x4 peak ${us(arithmetic)}): ` +
        (needed < limit ? `the target lies ${(limit / needed).toFixed(2)}× beyond it` : `${(needed / limit).toFixed(2)}× the limit would do, mlpgrad is at ${(base.medianUs / limit).toFixed(2)}×`);
    }
    case "floor-ratio": {
      const shape = summary.shapes[target.shape];
      const entry = shape?.contenders[target.contender];
      if (!entry?.floor) return undefined;
      const arithmetic = shape.flops / (entry.precision === "f64" ? peak64 : peak32) / 1e3;
      const ceiling = entry.floor.ceiling;
      return `the arithmetic alone (4 flop per weight at the ${entry.precision === "f64" ? "f64x2" : "f32x4"} mul+add peak of this run) takes ${us(arithmetic)} = ` +
        `${(arithmetic / entry.floor.us).toFixed(2)}× the floor of ${us(entry.floor.us)}; mlpgrad runs at ${pct(arithmetic / entry.medianUs)} of that peak` +
        (ceiling
          ? `; the best hand-written raw-wasm loops for this network (matvec ceiling, bench/ceiling.mjs: constant addresses, no σ) take ${us(ceiling.us)} = ` +
            `${ceiling.ratio.toFixed(2)}× the floor, mlpgrad ${(entry.floor.ratio / ceiling.ratio).toFixed(2)}× that`
          : "");
    }
    case "f64-share": {
      const shape = summary.shapes[target.shape];
      const f32 = shape?.contenders["mlpgrad-f32"]?.floor;
      const f64 = shape?.contenders["mlpgrad-f64"]?.floor;
      if (!f32 || !f64) return undefined;
      // Both at their hand-written ceilings, the share would be the ceilings' ratio: a share above it needs f32 further
      // from its ceiling than f64 is from its own.
      const ceilings = f32.ceiling && f64.ceiling
        ? `; at the matvec ceilings (bench/ceiling.mjs) it would be ${pct(f32.ceiling.us / f64.ceiling.us)} — mlpgrad-f32 runs at ${(f32.ratio / f32.ceiling.ratio).toFixed(2)}× its ceiling, mlpgrad-f64 at ${(f64.ratio / f64.ceiling.ratio).toFixed(2)}×`
        : "";
      return `f64 reads twice the bytes: the floors' ratio (f32 ÷ f64) is ${pct(f32.us / f64.us)}, the f64x2 ÷ f32x4 peak ${pct(peak64 / peak32)}${ceilings}`;
    }
    case "batch-speedup": {
      const shape = summary.batch?.shapes[target.shape];
      const other = shape?.contenders[target.versus];
      const base = shape?.contenders["mlpgrad-f32"];
      if (!other?.perSampleUs || !base?.sameProcessPeak) return undefined;
      const neededGflops = shape.flopsPerSample / (other.perSampleUs / target.atLeast) / 1e3;
      return `needs ${neededGflops.toFixed(1)} GFLOP/s = ${pct(neededGflops / base.sameProcessPeak)} of the f32x4 mul+add peak timed in the same process ` +
        `(${base.sameProcessPeak.toFixed(1)} GFLOP/s); mlpgrad reaches ${pct(base.peakShare)}` + batchCeiling(base);
    }
    case "batch-peak": {
      const base = summary.batch?.shapes[target.shape]?.contenders["mlpgrad-f32"];
      return base?.gemmCeiling ? `mlpgrad reaches ${pct(base.peakShare)}` + batchCeiling(base) : undefined;
    }
    case "batch-f64-share":
      return `the f64x2 ÷ f32x4 peak of this run is ${pct(peak64 / peak32)}`;
    case "cold-start": {
      const library = summary.cold?.libraryMedians?.[target.versus];
      const other = Number.isFinite(library) ? library : summary.cold?.medians?.[target.versus];
      const phases = summary.cold?.phases?.["mlpgrad-f32"];
      if (!other || !phases) return undefined;
      const needs = other / target.atLeast;
      const mine = summary.cold.libraryMedians?.["mlpgrad-f32"];
      const floor = summary.cold.phases["mlpgrad-floor"];
      const floorMs = summary.cold.libraryMedians?.["mlpgrad-floor"];
      if (!Number.isFinite(floorMs) || !floor) {
        return `needs ≤ ${needs.toFixed(1)} ms in all; mlpgrad's phases: import ${(Number.isFinite(phases.libraryImportMs) ? phases.libraryImportMs : phases.importMs).toFixed(1)}, ` +
          `set-up ${phases.setupMs.toFixed(1)}, first call ${phases.firstCallMs.toFixed(1)} ms (the cold-start floor, mlpgrad-floor, was not measured in this run)`;
      }
      // The floor (bench/cold-floor.mjs) against tfjs-wasm says whether the target lies within what Node 20
      // allows; mlpgrad's phases over the floor's say what mlpgrad's own code adds.
      const over = (key) => `${key === "libraryImportMs" ? "import" : key === "initMs" ? "init" : key === "createMs" ? "createMLP" : "first gradient"} ` +
        `${phases[key].toFixed(2)} vs ${floor[key].toFixed(2)} (${phases[key] >= floor[key] ? "+" : "−"}${Math.abs(phases[key] - floor[key]).toFixed(2)})`;
      return `needs ≤ ${needs.toFixed(1)} ms in all (${target.versus} ${other.toFixed(0)} ms ÷ ${target.atLeast}); the cold-start floor (bench/cold-floor.mjs: the same ` +
        `WebAssembly embedded in one module, compile, instantiate, every value checked and copied with createMLP's guarantees, one gradient, nothing else) ` +
        `takes ${floorMs.toFixed(2)} ms, ${(other / floorMs).toFixed(0)}× faster than ${target.versus}: ${floorMs <= needs ? "the target is within what Node 20 allows" : "the target lies beyond what Node 20 allows"}; ` +
        `mlpgrad takes ${mine.toFixed(2)} ms, ${(mine - floorMs).toFixed(2)} ms over the floor — by phase (ms, mlpgrad vs floor): ` +
        ["libraryImportMs", "initMs", "createMs", "firstCallMs"].map(over).join(", ") + leanLimit(summary.cold, needs);
    }
    case "jacobian-cost": {
      const shape = summary.jacobian?.shapes[target.shape];
      const entry = shape?.contenders[target.contender];
      if (!entry?.gradientUs || !shape.sizes) return undefined;
      const sizes = shape.sizes;
      let weights = 0;
      for (let l = 1; l < sizes.length; l++) weights += sizes[l] * sizes[l - 1];
      const rows = sizes[sizes.length - 1];
      const arithmetic = (2 * weights * (1 + rows)) / (entry.precision === "f64" ? peak64 : peak32) / 1e3;
      return `one forward and an n_L = ${rows}-row backward pass are ${2 * (1 + rows)} flop per weight: ${us(arithmetic)} at the mul+add peak of this run, ` +
        `${(arithmetic / entry.gradientUs).toFixed(2)}× one gradient; mlpgrad's Jacobian takes ${us(entry.medianUs)}`;
    }
    case "pool-speedup": {
      const entry = summary.pool?.shapes[target.shape];
      return entry ? `load average ${entry.loadAverage?.toFixed(1)} on ${summary.meta?.cpus ?? "?"} cores as the child started: a second thread gains only on a free core` : undefined;
    }
    case "split-speedup": {
      const row = summary.split?.shapes[target.shape]?.[target.precision];
      if (!row) return undefined;
      // The two-thread bandwidth floor (bench/floor2.mjs), when the run measured it.
      const floor = Number.isFinite(row.floorSpeedup)
        ? `; ${row.threads} threads reading the weights reach ${row.floorSpeedup < target.atLeast ? "only " : ""}${row.floorSpeedup.toFixed(2)}× one thread's bandwidth ` +
          `(${us(row.floorOneUs)} → ${us(row.floorTwoUs)} for the weights twice` +
          `${Number.isFinite(row.floorConcurrency) ? `, ${row.floorConcurrency.toFixed(2)}× from concurrency alone` : ""})` +
          // Each side against its own floor: the one-thread side's moves from process to process (the memory it
          // got), the two-thread side's much less, and the ratio follows the first (docs/threads-single-input.md).
          `; one thread took ${us(row.oneUs)} = ${(row.oneUs / row.floorOneUs).toFixed(2)}× its floor, ${row.threads} threads ${us(row.twoUs)} = ` +
          `${(row.twoUs / row.floorTwoUs).toFixed(2)}× theirs`
        : "";
      return `load average ${row.loadBefore.toFixed(1)}→${row.loadAfter.toFixed(1)} on ${summary.meta?.cpus ?? "?"} cores, ${pct(row.idle)} of the CPU idle while it ran (its own threads included); the fastest blocks gave ${row.minRatio.toFixed(2)}×${floor}`;
    }
    default:
      return undefined;
  }
}

/** Judges every target against a run summary: [{ ...target, description, value, verdict, limit? }]. */
export function evaluateTargets(summary) {
  return TARGETS.map((target) => {
    const value = measuredValue(target, summary);
    const verdict = !Number.isFinite(value) ? "n/a" : meets(target, value) ? "PASS" : "MISS";
    const judged = { ...target, mode: targetMode(target), description: describeTarget(target), value, verdict };
    // The cold-start line compares with the floor measured in the same run, so it is worth reading on a PASS too.
    if (verdict === "MISS" || (verdict === "PASS" && target.kind === "cold-start")) judged.limit = explainMiss(target, summary);
    return judged;
  });
}
