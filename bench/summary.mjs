/**
 * Turns the raw child results of a run into the numbers the report quotes: per (shape, contender)
 * the median over rounds of µs per gradient (see timeOf), with ops/s, benchmark.js's relative margin (from the
 * round that gave the median), GFLOP/s and share of the SIMD peak; the speed-up of mlpgrad-f32
 * (contender median ÷ mlpgrad-f32 median, same run); the f64/f32 speed share; cold-start medians.
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

function summarizeCold(coldRuns) {
  if (!coldRuns.length) return null;
  const names = [...new Set(coldRuns.map((run) => run.contender))];
  const medians = {};
  const phases = {};
  const failures = {};
  for (const name of names) {
    const mine = coldRuns.filter((run) => run.contender === name);
    const ok = mine.filter((run) => run.status === "ok");
    if (ok.length < mine.length) failures[name] = mine.find((run) => run.status !== "ok");
    medians[name] = median(ok.map((run) => run.totalMs));
    phases[name] = {
      importMs: median(ok.map((run) => run.importMs)),
      setupMs: median(ok.map((run) => run.setupMs)),
      firstCallMs: median(ok.map((run) => run.firstCallMs)),
      runs: ok.length,
    };
  }
  const ratios = {};
  for (const name of names) if (name !== BASELINE) ratios[name] = medians[name] / medians[BASELINE];
  return { medians, phases, ratios, failures };
}

/** Builds the run summary from the raw record that run.mjs collects. */
export function summarize(raw) {
  const peak = summarizePeak(raw.peakRuns);
  const shapes = {};
  for (const [shape, { sizes, flops, fdError }] of Object.entries(raw.shapes)) {
    const contenders = {};
    for (const name of raw.meta.contenders) {
      const runs = raw.runs.filter((run) => run.shape === shape && run.contender === name);
      if (runs.length) contenders[name] = combineRuns(runs, flops);
    }
    const base = contenders[BASELINE];
    const baseUs = base?.status === "ok" ? base.medianUs : NaN;
    for (const entry of Object.values(contenders)) {
      entry.speedup = entry.status === "ok" ? entry.medianUs / baseUs : NaN;
      const ceiling = entry.precision === "f64" ? peak.f64x2 : peak.f32x4;
      entry.peakShare = entry.status === "ok" ? entry.gflops / ceiling : NaN;
    }
    const f64 = contenders["mlpgrad-f64"];
    const f64Share = f64?.status === "ok" ? baseUs / f64.medianUs : NaN;
    shapes[shape] = { sizes, flops, fdError, contenders, f64Share };
  }
  const summary = { meta: raw.meta, peak, shapes, cold: summarizeCold(raw.coldRuns), alloc: raw.allocRuns };
  summary.targets = evaluateTargets(summary);
  return summary;
}
