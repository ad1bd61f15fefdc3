/**
 * A sampler for what benchmark.js handles badly: calls of up to seconds (tfjs on a batch of 256),
 * promises (the worker pool), and two functions to be compared in one process. Each function gets
 * a sample size (calls per sample) so that a sample lasts at least minTime; samples of the functions
 * then alternate, A B A B …, until every function has minSamples samples and maxTime has passed,
 * so a noisy neighbour on this shared machine slows both sides of a ratio alike. A budget caps calls
 * of seconds (tfjs-cpu on S5 takes ~3 s for 256 inputs): sampling stops with fewer than minSamples,
 * though never with none, when another round of samples would end past `budget` seconds. A call that returns
 * a promise is awaited; a synchronous one is not, so sync loops pay no microtask per call.
 * The time per call quoted is the median over samples, as in the benchmark.js children.
 */
import { median } from "./stats.mjs";

/** Student's t at 97.5% for 1…30 degrees of freedom (then 1.96), for a 95% margin of error. */
const T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** Runs `count` calls of fn and resolves the elapsed milliseconds. */
async function timeCalls(fn, count) {
  const t0 = performance.now();
  for (let k = 0; k < count; k++) {
    const value = fn();
    if (typeof value?.then === "function") await value;
  }
  return performance.now() - t0;
}

/** Statistics of per-call sample times in µs, in the shape the benchmark.js children report. */
function describeSamples(samplesUs, callsPerSample, settings) {
  const n = samplesUs.length;
  const mean = samplesUs.reduce((sum, v) => sum + v, 0) / n;
  const variance = n > 1 ? samplesUs.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1) : 0;
  const sem = Math.sqrt(variance / n);
  const t = n - 1 <= T_975.length ? T_975[n - 2] : 1.96;
  return {
    meanUs: mean,
    medianSampleUs: median(samplesUs),
    minSampleUs: Math.min(...samplesUs),
    rme: n > 1 && mean > 0 ? (100 * t * sem) / mean : NaN,
    deviationUs: Math.sqrt(variance),
    samples: n,
    callsPerSample,
    ...settings,
  };
}

/**
 * Samples the functions interleaved and resolves one statistics object per function (µs per call).
 * Warm them up first: calibration calls are timed but kept only when they last a whole sample.
 */
/** The sampling options of a child's command line (--min-time, --max-time, --min-samples, --budget, in s). */
export function timingOptions(options) {
  return {
    minTime: Number(options["min-time"] ?? 0.1),
    maxTime: Number(options["max-time"] ?? 0.75),
    minSamples: Number(options["min-samples"] ?? 5),
    budget: Number(options.budget ?? 4),
  };
}

export async function sampleInterleaved(fns, { minTime = 0.1, maxTime = 1, minSamples = 5, maxSamples = 200, budget = Infinity } = {}) {
  const minMs = minTime * 1000;
  const started = performance.now();
  const counts = [];
  const samples = fns.map(() => []);
  for (let f = 0; f < fns.length; f++) {
    let count = 1;
    for (;;) {
      const elapsed = await timeCalls(fns[f], count);
      if (elapsed >= minMs) {
        samples[f].push((elapsed * 1000) / count);
        break;
      }
      // Aim 20% past minTime, at most 100× more calls per try, so one fast call cannot run away.
      count = Math.ceil(count * Math.min(100, (1.2 * minMs) / Math.max(elapsed, 0.001)));
    }
    counts.push(count);
  }
  const t0 = performance.now();
  let roundMs = performance.now() - started; // calibration ≈ one round of samples, or more
  while (samples.some((s) => s.length < minSamples) || performance.now() - t0 < maxTime * 1000) {
    if (samples[0].length >= maxSamples) break;
    if (performance.now() - started + roundMs > budget * 1000 && samples.every((s) => s.length > 0)) break;
    const roundStarted = performance.now();
    for (let f = 0; f < fns.length; f++) samples[f].push(((await timeCalls(fns[f], counts[f])) * 1000) / counts[f]);
    roundMs = performance.now() - roundStarted;
  }
  return samples.map((s, f) => describeSamples(s, counts[f], { minTime, maxTime, minSamples, budget }));
}

/**
 * Calls fn until it has run at least `minCalls` times and `ms` milliseconds have passed (counting
 * `alreadyMs` spent in earlier calls, such as the correctness check), so that timing starts on
 * optimised code. A check call of a batch that alone lasts `ms` is warm-up enough: it runs the
 * same loops and kernels hundreds of times. Resolves the number of calls made.
 */
export async function warmUp(fn, { ms, minCalls = 0, alreadyMs = 0 }) {
  const t0 = performance.now() - alreadyMs;
  let calls = 0;
  while (calls < minCalls || performance.now() - t0 < ms) {
    const value = fn();
    if (typeof value?.then === "function") await value;
    calls++;
  }
  return calls;
}
