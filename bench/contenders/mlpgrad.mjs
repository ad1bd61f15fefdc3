/**
 * mlpgrad-f32 / mlpgrad-f64 / mlpgrad-f32-scalar: this library, from its compiled build in dist/.
 * The SIMD contenders use the default engine (`init()`: the SIMD build when the runtime validates
 * it); the scalar one asks for the non-SIMD build with createEngine({ simd: false }).
 * Batches go through mlp.gradientBatch (matrix·matrix kernels), Jacobians through mlp.jacobian, and
 * createPool wraps createMLPPool, the worker-thread pool, when the build has it.
 */

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

/**
 * The spec createMLP takes: typed-array weights copied into the contender's precision; plain number[]
 * weights (a model as JSON.parse gives it, cold.mjs) passed as they are, for createMLP to check and copy.
 */
export function mlpSpec(net, precision) {
  const FloatArray = precision === "f64" ? Float64Array : Float32Array;
  const convert = (values) => (ArrayBuffer.isView(values) ? FloatArray.from(values) : values);
  return {
    sizes: net.sizes,
    activations: "sigmoid",
    precision,
    layers: net.layers.map((layer) => ({
      weights: convert(layer.weights),
      bias: convert(layer.bias),
    })),
  };
}

/** What an engine says about itself, read defensively: these are not all public API. */
export function describeEngine(engine) {
  return {
    simd: typeof engine?.simd === "boolean" ? engine.simd : undefined,
    wasmMemoryBytes: wasmMemoryBytes(engine),
  };
}

/** Bytes of WebAssembly memory the engine holds, or undefined if it does not say. */
export function wasmMemoryBytes(engine) {
  if (typeof engine?.memoryBytes === "number") return engine.memoryBytes;
  const buffer = engine?.memory?.buffer;
  return buffer ? buffer.byteLength : undefined;
}

/** Builds an mlpgrad contender: options.precision "f32" | "f64", options.simd true | false. */
export async function create(net, options) {
  const t0 = performance.now();
  const engine = options.simd ? await library.init() : await library.createEngine({ simd: false });
  const t1 = performance.now();
  const spec = mlpSpec(net, options.precision);
  const t2 = performance.now();
  const mlp = options.simd ? library.createMLP(spec) : engine.createMLP(spec);
  const t3 = performance.now();
  const info = {
    build: options.simd ? "default" : "scalar",
    ...describeEngine(engine),
    initMs: t1 - t0,
    specMs: t2 - t1,
    createMs: t3 - t2,
  };
  if (options.simd && info.simd === false) info.warning = "the default engine is not the SIMD build here";
  return {
    precision: options.precision,
    gradient: (x, out) => mlp.gradient(x, out),
    gradientBatch: (xs, out) => mlp.gradientBatch(xs, out),
    jacobian: (x, out) => mlp.jacobian(x, out),
    weightStrides: weightStrides(mlp),
    info,
    mlp,
    engine,
  };
}

/**
 * The row length (in elements, padding included) of each W^[l] as the built network lays it out, for
 * the bandwidth floor (bench/floor.mjs), read defensively from the network's plan (not public API);
 * undefined when the build does not say.
 */
export function weightStrides(mlp) {
  const layers = mlp?.batchPlan?.layout?.layers;
  return Array.isArray(layers) && layers.every((layer) => Number.isInteger(layer?.stride)) ? layers.map((layer) => layer.stride) : undefined;
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
