/**
 * The speed targets the suite makes visible. A speed-up is contender time ÷ mlpgrad-f32 time from
 * the same run; the f64 share is mlpgrad-f32 time ÷ mlpgrad-f64 time; cold start compares the
 * median fresh-process time to the first S3 gradient. A target whose numbers are missing (not
 * selected, FAILED, ERROR) is "n/a", never PASS.
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
  { kind: "f64-share", shape: "S4", atLeast: 0.45 },
  { kind: "f64-share", shape: "S5", atLeast: 0.45 },
  { kind: "cold-start", versus: "tfjs-wasm", atLeast: 50 },
]);

/** One-line description of a target. */
export function describeTarget(target) {
  switch (target.kind) {
    case "speedup":
      return `${target.shape} mlpgrad-f32 ≥ ${target.atLeast}× ${target.versus}`;
    case "f64-share":
      return `${target.shape} mlpgrad-f64 speed ≥ ${Math.round(target.atLeast * 100)}% of mlpgrad-f32`;
    case "cold-start":
      return `cold start mlpgrad-f32 ≥ ${target.atLeast}× faster than ${target.versus}`;
    default:
      return JSON.stringify(target);
  }
}

/** The measured value a target is judged on, or NaN when it was not measured. */
function measuredValue(target, summary) {
  switch (target.kind) {
    case "speedup":
      return summary.shapes[target.shape]?.contenders[target.versus]?.speedup ?? NaN;
    case "f64-share":
      return summary.shapes[target.shape]?.f64Share ?? NaN;
    case "cold-start":
      return summary.cold?.ratios?.[target.versus] ?? NaN;
    default:
      return NaN;
  }
}

/** Judges every target against a run summary: [{ ...target, description, value, verdict }]. */
export function evaluateTargets(summary) {
  return TARGETS.map((target) => {
    const value = measuredValue(target, summary);
    const verdict = !Number.isFinite(value) ? "n/a" : value >= target.atLeast ? "PASS" : "MISS";
    return { ...target, description: describeTarget(target), value, verdict };
  });
}
