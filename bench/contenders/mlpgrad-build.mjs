/**
 * What the mlpgrad contenders share, apart from the library they run: the spec they hand createMLP, how
 * they build a contender from a loaded build, and what they read back from the network. Kept apart from
 * mlpgrad.mjs, which imports dist/mlpgrad.node.js when it loads, so that mlpgrad-lean (bench/cold-lean.mjs)
 * can build the same contender from its own copy of the bundle without loading the real one beside it.
 */

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

/**
 * Builds an mlpgrad contender from a loaded build of the library (dist/mlpgrad.node.js, or the cold path
 * alone, bench/cold-lean.mjs): options.precision "f32" | "f64", options.simd true | false.
 */
export async function createWith(library, net, options) {
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
