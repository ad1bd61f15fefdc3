/**
 * The contender registry: name → how to load it and with which options. Modules are imported
 * lazily so that a worker process loads (and JIT-compiles) only the contender it times.
 * Every module exports `create(net, options)` resolving to { precision, gradient(x, out), info } and,
 * for the other modes, gradientBatch(xs, out) (or batchVariants: name → gradientBatch, of which the
 * batch worker keeps the fastest) and jacobian(x, out). options.mode ("single" | "batch" |
 * "jacobian") says what will be timed, so a contender can skip set-up the mode does not need.
 */

/** All contenders, in the order tables and charts list them. */
export const CONTENDERS = Object.freeze({
  "mlpgrad-f32": { load: () => import("./mlpgrad.mjs"), options: { precision: "f32", simd: true } },
  "mlpgrad-f64": { load: () => import("./mlpgrad.mjs"), options: { precision: "f64", simd: true } },
  "mlpgrad-f32-scalar": { load: () => import("./mlpgrad.mjs"), options: { precision: "f32", simd: false } },
  "tfjs-cpu": { load: () => import("./tfjs.mjs"), options: { backend: "cpu" } },
  "tfjs-wasm": { load: () => import("./tfjs.mjs"), options: { backend: "wasm" } },
  "jax-js": { load: () => import("./jax-js.mjs"), options: {} },
  "js-plain": { load: () => import("./js-plain.mjs"), options: {} },
  "js-unrolled": { load: () => import("./js-unrolled.mjs"), options: {} },
});

/** The contender every ratio is taken against. */
export const BASELINE = "mlpgrad-f32";

/** Looks a contender up by name and says which names exist when it is unknown. */
export function contender(name) {
  const entry = CONTENDERS[name];
  if (!entry) throw new Error(`unknown contender "${name}": expected one of ${Object.keys(CONTENDERS).join(", ")}`);
  return entry;
}

/**
 * Imports a contender and builds it for a network and a mode, timing the two apart:
 * resolves { impl, importMs, setupMs }.
 */
export async function createContender(name, net, mode) {
  const entry = contender(name);
  let t0 = performance.now();
  const module = await entry.load();
  const importMs = performance.now() - t0;
  t0 = performance.now();
  const impl = await module.create(net, { ...entry.options, mode });
  return { impl, importMs, setupMs: performance.now() - t0 };
}
