/**
 * Turns the raw child results of a run into the numbers the report quotes: per (shape, contender)
 * the median over rounds of µs per gradient (see timeOf), with ops/s, benchmark.js's relative margin (from the
 * round that gave the median), GFLOP/s and share of the SIMD peak; the speed-up of mlpgrad-f32
 * (contender median ÷ mlpgrad-f32 median, same run); the f64/f32 speed share; cold-start medians.
 * The same for a batch (µs per call, then per sample = ÷ m); for the Jacobian its µs, the paired
 * gradient's µs and their same-process ratio; for the pool the one-thread and pool µs per sample and
 * the median of the same-process speed-ups.
 */
import { BASELINE } from "./contenders/index.mjs";
import { median, medianItem } from "./stats.mjs";
import { evaluateTargets } from "./targets.mjs";

/**
 * A child's time per gradient: the median of its benchmark.js samples rather than their mean, so
 * that one sample stretched by another tenant of this shared machine does not move the result.
 */
export const timeOf = (run) => run.bench.medianSampleUs;

/** Combines the rounds of one (shape, contender). */
function combineRuns(runs, flops) {
  const ok = runs.filter((run) => run.status === "ok");
  const failed = runs.find((run) => run.status === "FAILED");
  const first = failed ?? ok[0] ?? runs[0];
  const entry = {
    status: failed ? "FAILED" : ok.length ? "ok" : "ERROR",
    rounds: runs.length,
    roundsOk: ok.length,
    precision: first?.precision,
    relErr: failed ? failed.relErr ?? failed.recheckRelErr : median(ok.map((run) => run.relErr)),
    tolerance: first?.tolerance,
    info: first?.info,
  };
  if (failed) return entry;
  if (!ok.length) {
    entry.error = runs.map((run) => run.error).find(Boolean) ?? "no result";
    return entry;
  }
  const micros = median(ok.map(timeOf));
  const middle = medianItem(ok, timeOf);
  Object.assign(entry, {
    medianUs: micros,
    opsPerSec: 1e6 / micros,
    rme: middle.bench.rme,
    samples: middle.bench.samples,
    minUs: Math.min(...ok.map(timeOf)),
    maxUs: Math.max(...ok.map(timeOf)),
    gflops: flops / micros / 1e3,
    importMs: median(ok.map((run) => run.importMs)),
    setupMs: median(ok.map((run) => run.setupMs)),
    firstCallMs: median(ok.map((run) => run.firstCallMs)),
  });
  if (runs.length > ok.length) entry.error = runs.map((run) => run.error).find(Boolean);
  return entry;
}

/** The peak GFLOP/s medians over the rounds' peak children. */
function summarizePeak(peakRuns) {
  const ok = peakRuns.filter((run) => run.status === "ok");
  return {
    f32x4: median(ok.map((run) => run.f32x4.gflops)),
    f64x2: median(ok.map((run) => run.f64x2.gflops)),
    runs: peakRuns.length,
    error: ok.length ? undefined : peakRuns.map((run) => run.error).find(Boolean),
  };
}

/**
 * Cold-start medians per contender: totalMs (import of the bench's contender module included) and
 * libraryTotalMs (the library's own import, set-up and first call: what the target is judged on), with
 * their ratios to mlpgrad-f32; each phase's median, set-up split into init and create where the
 * contender says (mlpgrad and the cold-start floor, mlpgrad-floor).
 */
function summarizeCold(coldRuns) {
  if (!coldRuns.length) return null;
  const names = [...new Set(coldRuns.map((run) => run.contender))];
  const medians = {};
  const libraryMedians = {};
  const phases = {};
  const failures = {};
  for (const name of names) {
    const mine = coldRuns.filter((run) => run.contender === name);
    const ok = mine.filter((run) => run.status === "ok");
    if (ok.length < mine.length) failures[name] = mine.find((run) => run.status !== "ok");
    medians[name] = median(ok.map((run) => run.totalMs));
    libraryMedians[name] = median(ok.map((run) => run.libraryTotalMs));
    phases[name] = {
      importMs: median(ok.map((run) => run.importMs)),
      libraryImportMs: median(ok.map((run) => run.libraryImportMs)),
      setupMs: median(ok.map((run) => run.setupMs)),
      firstCallMs: median(ok.map((run) => run.firstCallMs)),
      initMs: median(ok.map((run) => run.info?.initMs)),
      createMs: median(ok.map((run) => run.info?.createMs)),
      runs: ok.length,
    };
  }
  const ratios = {};
  const libraryRatios = {};
  for (const name of names) {
    if (name === BASELINE) continue;
    ratios[name] = medians[name] / medians[BASELINE];
    libraryRatios[name] = libraryMedians[name] / libraryMedians[BASELINE];
  }
  return { medians, libraryMedians, phases, ratios, libraryRatios, failures };
}

/**
 * Adds to every contender of one shape its speed-up (its µs ÷ mlpgrad-f32's) and share of the SIMD
 * peak of its precision; returns the f64/f32 speed share (mlpgrad-f32 µs ÷ mlpgrad-f64 µs).
 */
function compareContenders(contenders, peak) {
  const base = contenders[BASELINE];
  const baseUs = base?.status === "ok" ? base.medianUs : NaN;
  for (const entry of Object.values(contenders)) {
    entry.speedup = entry.status === "ok" ? entry.medianUs / baseUs : NaN;
    const ceiling = entry.precision === "f64" ? peak.f64x2 : peak.f32x4;
    entry.peakShare = entry.status === "ok" ? entry.gflops / ceiling : NaN;
  }
  const f64 = contenders["mlpgrad-f64"];
  return f64?.status === "ok" ? baseUs / f64.medianUs : NaN;
}

/** The runs of one (shape, contender) in a list of child results. */
const runsOf = (runs, shape, name) => runs.filter((run) => run.shape === shape && run.contender === name);

function summarizeSingle(raw, peak) {
  const shapes = {};
  for (const [shape, { sizes, flops, fdError }] of Object.entries(raw.shapes)) {
    const contenders = {};
    for (const name of raw.meta.contenders) {
      const runs = runsOf(raw.runs, shape, name);
      if (!runs.length) continue;
      const entry = combineRuns(runs, flops);
      entry.loadAverage = median(runs.map((run) => run.loadAverage));
      // The bandwidth floor timed interleaved in the same process (mlpgrad's SIMD rows): medians over rounds.
      const floors = runs.filter((run) => run.status === "ok" && run.floor).map((run) => run.floor);
      if (floors.length) {
        entry.floor = {
          us: median(floors.map((f) => f.us)),
          gbps: median(floors.map((f) => f.gbps)),
          ratio: median(floors.map((f) => f.ratio)),
          bytes: floors[0].bytes,
          perRound: floors.map((f) => ({ us: f.us, ratio: f.ratio })),
        };
        // The hand-written matvec ceiling (bench/ceiling.mjs), timed in the same rounds.
        const ceilings = floors.filter((f) => Number.isFinite(f.ceilingUs));
        if (ceilings.length) {
          entry.floor.ceiling = { us: median(ceilings.map((f) => f.ceilingUs)), ratio: median(ceilings.map((f) => f.ceilingRatio)) };
        }
      }
      contenders[name] = entry;
    }
    const f64Share = compareContenders(contenders, peak);
    shapes[shape] = { sizes, flops, fdError, contenders, f64Share };
  }
  return shapes;
}

/** Per-sample gradients of a batch of m: timed per call, quoted per sample (µs ÷ m). */
function summarizeBatch(raw, peak) {
  const plan = raw.meta.plan?.batch;
  if (!plan) return null;
  const m = raw.meta.batch;
  const shapes = {};
  for (const shape of plan.shapes) {
    const { sizes, flopsPerSample, fdError } = raw.batchShapes[shape];
    const contenders = {};
    for (const name of plan.contenders) {
      const runs = runsOf(raw.batchRuns, shape, name);
      if (!runs.length) continue;
      const entry = combineRuns(runs, flopsPerSample * m);
      const ok = runs.filter((run) => run.status === "ok");
      if (entry.status === "ok") {
        entry.perSampleUs = entry.medianUs / m;
        entry.samplesPerSec = 1e6 / entry.perSampleUs;
        entry.variant = medianItem(ok, timeOf).variant;
        const names = Object.keys(ok[0].variants ?? {});
        if (names.length > 1) {
          entry.variantsPerSampleUs = Object.fromEntries(names.map((v) => [v, median(ok.map((run) => run.variants[v]?.medianSampleUs)) / m]));
        }
      }
      contenders[name] = entry;
    }
    const f64Share = compareContenders(contenders, peak);
    // Where the peak loop was timed interleaved with the batch (mlpgrad), that peak is the ceiling.
    for (const [name, entry] of Object.entries(contenders)) {
      const ok = runsOf(raw.batchRuns, shape, name).filter((run) => run.status === "ok" && run.peak);
      if (entry.status !== "ok" || !ok.length) continue;
      entry.roundPeakShare = entry.peakShare;
      entry.sameProcessPeak = median(ok.map((run) => run.peak.gflops));
      entry.peakShare = entry.gflops / entry.sameProcessPeak;
      // The hand-written gemm ceiling (bench/gemm-ceiling.mjs), timed in the same rounds (mlpgrad-f32).
      const ceilings = ok.filter((run) => Number.isFinite(run.gemmCeiling?.peakShare));
      if (ceilings.length) entry.gemmCeiling = { gflops: median(ceilings.map((run) => run.gemmCeiling.gflops)), peakShare: median(ceilings.map((run) => run.gemmCeiling.peakShare)) };
    }
    shapes[shape] = { sizes, flopsPerSample, fdError, contenders, f64Share };
  }
  return { batch: m, shapes };
}

/** The Jacobian's µs, its paired gradient's µs, their same-process ratio, and × mlpgrad-f32. */
function summarizeJacobian(raw) {
  const plan = raw.meta.plan?.jacobian;
  if (!plan) return null;
  const shapes = {};
  for (const shape of plan.shapes) {
    const contenders = {};
    for (const name of plan.contenders) {
      const runs = runsOf(raw.jacobianRuns, shape, name);
      if (!runs.length) continue;
      const entry = combineRuns(runs, NaN);
      delete entry.gflops;
      const ok = runs.filter((run) => run.status === "ok");
      if (entry.status === "ok") {
        entry.gradientUs = median(ok.map((run) => run.gradientBench.medianSampleUs));
        entry.ratio = median(ok.map((run) => run.ratio));
      }
      contenders[name] = entry;
    }
    const baseUs = contenders[BASELINE]?.status === "ok" ? contenders[BASELINE].medianUs : NaN;
    for (const entry of Object.values(contenders)) entry.speedup = entry.status === "ok" ? entry.medianUs / baseUs : NaN;
    shapes[shape] = { ...raw.jacobianShapes[shape], contenders };
  }
  return { shapes };
}

/** The pool against one thread: µs per sample of each and the median same-process speed-up. */
function summarizePool(raw) {
  const plan = raw.meta.plan?.pool;
  if (!plan) return null;
  const m = raw.meta.batch;
  const shapes = {};
  for (const shape of plan.shapes) {
    const runs = raw.poolRuns.filter((run) => run.shape === shape);
    if (!runs.length) continue;
    const skipped = runs.find((run) => run.status === "SKIPPED");
    if (skipped) {
      shapes[shape] = { status: "SKIPPED", reason: skipped.reason, rounds: runs.length };
      continue;
    }
    const entry = combineRuns(runs, (runs[0].flopsPerSample ?? NaN) * m);
    const ok = runs.filter((run) => run.status === "ok");
    if (entry.status === "ok") {
      Object.assign(entry, {
        perSampleUs: entry.medianUs / m,
        singlePerSampleUs: median(ok.map((run) => run.singleBench.medianSampleUs)) / m,
        speedup: median(ok.map((run) => run.speedup)),
      });
    }
    entry.loadAverage = median(runs.map((run) => run.loadAverage));
    entry.requestedThreads = runs[0].requestedThreads;
    entry.threads = (ok[0] ?? runs[0]).threads;
    entry.fallbackReason = (ok[0] ?? runs[0]).fallbackReason;
    shapes[shape] = entry;
  }
  return { batch: m, threads: raw.meta.threads, shapes };
}

/** One input split across the pool's threads: per shape and precision, one thread's µs, the pool's, the ratio. */
function summarizeSplit(splitRuns) {
  const run = splitRuns.find((r) => r.rows?.length) ?? splitRuns[0];
  if (!run) return null;
  const shapes = {};
  for (const row of run.rows ?? []) (shapes[row.shape] ??= {})[row.precision] = row;
  return { status: run.status, error: run.error, threads: run.threads, rounds: run.rounds, shapes };
}

/** Builds the run summary from the raw record that run.mjs collects. */
export function summarize(raw) {
  const peak = summarizePeak(raw.peakRuns);
  const summary = {
    meta: raw.meta,
    peak,
    shapes: summarizeSingle(raw, peak),
    batch: summarizeBatch(raw, peak),
    jacobian: summarizeJacobian(raw),
    pool: summarizePool(raw),
    cold: summarizeCold(raw.coldRuns),
    create: raw.createRuns?.find((run) => run.status === "ok") ?? raw.createRuns?.[0] ?? null,
    alloc: raw.allocRuns,
    split: summarizeSplit(raw.splitRuns ?? []),
  };
  summary.targets = evaluateTargets(summary);
  return summary;
}
