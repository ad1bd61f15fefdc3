/**
 * Small timing helpers shared by the standalone A/B and ceiling scripts (not the suite's children, which
 * use timing.mjs):
 *
 *   timeParts(parts, samples, options)  every part (a function of no arguments) calibrated to a number of
 *       calls per sample (as many as fit in `calibrateMs`, times `share`, at least 1, after `warmCalls`
 *       calls), then `samples` rounds that time each part in turn: { label: [µs per call, …] }
 *   cpuTimes()  the machine's idle and total CPU time so far (Linux /proc/stat), or undefined elsewhere
 */
import { readFileSync } from "node:fs";

/** µs per call of each part, `samples` rounds interleaved part by part. */
export function timeParts(parts, samples, { calibrateMs = 20, warmCalls = 3, share = 0.5 } = {}) {
  const reps = {};
  for (const [label, run] of Object.entries(parts)) {
    for (let k = 0; k < warmCalls; k++) run();
    let n = 0;
    for (const t0 = performance.now(); performance.now() - t0 < calibrateMs; n++) run();
    reps[label] = Math.max(1, Math.round(n * share));
  }
  const times = Object.fromEntries(Object.keys(parts).map((label) => [label, []]));
  for (let s = 0; s < samples; s++) {
    for (const [label, run] of Object.entries(parts)) {
      const t0 = performance.now();
      for (let r = 0; r < reps[label]; r++) run();
      times[label].push(((performance.now() - t0) * 1000) / reps[label]);
    }
  }
  return times;
}

/** Idle and total jiffies of all CPUs since boot, from /proc/stat (undefined where there is none). */
export function cpuTimes() {
  try {
    const [, ...fields] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
    return { idle: fields[3] + fields[4], total: fields.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}
