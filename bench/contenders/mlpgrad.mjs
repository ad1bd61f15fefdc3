/**
 * mlpgrad-f32 / mlpgrad-f64 / mlpgrad-f32-scalar: this library, from its compiled build in dist/.
 * The SIMD contenders use the default engine (`init()`: the SIMD build when the runtime validates
 * it); the scalar one asks for the non-SIMD build with createEngine({ simd: false }).
 * Batches go through mlp.gradientBatch (matrix·matrix kernels), Jacobians through mlp.jacobian, and
 * createPool wraps createMLPPool, the worker-thread pool, when the build has it.
 */
import { createWith, describeEngine, mlpSpec, wasmMemoryBytes, weightStrides } from "./mlpgrad-build.mjs";

/** Where `npm run build` puts the library for Node (the `node` entry: its pool runs on worker_threads), relative to this file. */
export const LIBRARY_URL = new URL("../../dist/mlpgrad.node.js", import.meta.url);

/** Imports the built library, or says how to build it. */
export async function importLibrary() {
  try {
    return await import(LIBRARY_URL.href);
  } catch (error) {
    if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes(LIBRARY_URL.pathname)) {
      throw new Error(`mlpgrad is not built (${LIBRARY_URL.pathname} is missing): run \`npm run build\` first`);
    }
    throw error;
  }
}

// Imported at load time so that the worker's import timing covers the library.
const library = await importLibrary();

export { describeEngine, mlpSpec, wasmMemoryBytes, weightStrides };

/** Builds an mlpgrad contender: options.precision "f32" | "f64", options.simd true | false. */
export function create(net, options) {
  return createWith(library, net, options);
}

/** Why this build cannot make a pool (no createMLPPool export), or undefined when it can. */
export function poolUnavailable() {
  return typeof library.createMLPPool === "function" ? undefined : "this build of mlpgrad has no createMLPPool export";
}

/**
 * Builds the worker-thread pool for a network: createMLPPool({ spec, threads }), f32 by default.
 * Resolves { gradientBatch(xs, out) → Promise, threads, fallbackReason, dispose(), info }.
 */
export async function createPool(net, { threads = 2, precision = "f32" } = {}) {
  const why = poolUnavailable();
  if (why) throw new Error(why);
  const t0 = performance.now();
  const pool = await library.createMLPPool({ spec: mlpSpec(net, precision), threads });
  const info = { requestedThreads: threads, threads: pool.threads, fallbackReason: pool.fallbackReason ?? null, createMs: performance.now() - t0 };
  return { precision, gradientBatch: (xs, out) => pool.gradientBatch(xs, out), info, dispose: () => pool.dispose(), pool };
}
