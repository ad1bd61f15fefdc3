/**
 * The speed targets the suite makes visible. A speed-up is contender time ÷ mlpgrad-f32 time from
 * the same run; the f64 share is mlpgrad-f32 time ÷ mlpgrad-f64 time; cold start compares the
 * median fresh-process time to the first S3 gradient. Batch targets use the same ratios on per-sample
 * times at b = 256, plus mlpgrad-f32's share of the f32x4 peak measured in the same run; the
 * Jacobian's cost is its time ÷ one gradient of the same-width n_L = 1 network (at most, not at
 * least); the pool's speed-up is one thread's time ÷ the pool's; the floor ratio is mlpgrad's single-input
 * time ÷ the bandwidth floor's (bench/floor.mjs: its weight bytes read twice), timed interleaved in one
 * process (at most). A target whose numbers are missing
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
      return `cold start mlpgrad-f32 ≥ ${target.atLeast}× faster than ${target.versus}`;
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
      return summary.cold?.ratios?.[target.versus] ?? NaN;
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
    default:
      return NaN;
  }
}

/** The mode whose children measure a target. */
export function targetMode(target) {
  if (target.kind.startsWith("batch-")) return "batch";
  if (target.kind === "jacobian-cost") return "jacobian";
  if (target.kind === "pool-speedup") return "pool";
  return "single";
}

/** Whether a target is met by a value: at least `atLeast`, or at most `atMost`. */
function meets(target, value) {
  return target.atMost !== undefined ? value <= target.atMost : value >= target.atLeast;
}

/** Judges every target against a run summary: [{ ...target, description, value, verdict }]. */
export function evaluateTargets(summary) {
  return TARGETS.map((target) => {
    const value = measuredValue(target, summary);
    const verdict = !Number.isFinite(value) ? "n/a" : meets(target, value) ? "PASS" : "MISS";
    return { ...target, mode: targetMode(target), description: describeTarget(target), value, verdict };
  });
}
