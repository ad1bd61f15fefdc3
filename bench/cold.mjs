/**
 * Cold start: one fresh process, from the library's import to the first S3 gradient in hand.
 * `node bench/cold.mjs <contender> [--shape S3]` prints one JSON line with the phases in ms.
 * The network's numbers are made before the clock starts (they are the user's data), as plain number[]
 * weights and biases — a model as JSON.parse gives it; turning them into the library's format
 * (mlpgrad: createMLP checks and copies them; tfjs: Float32Array and tensors) is on the clock. The same contender
 * modules as the benchmark are used, so import covers the library and set-up covers init/backends.
 *
 * Two measures, for every contender alike: the library's own modules are imported first, straight from
 * where they are (mlpgrad: dist/mlpgrad.node.js; tfjs: @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm;
 * jax-js: @jax-js/jax), timed as libraryImportMs; then the bench's contender module (which finds the
 * library loaded). importMs and totalMs cover both, as before this split; libraryTotalMs leaves out the
 * contender module (libraryImportMs + setupMs + firstCallMs): what a user's own script would wait for.
 */
import { finish, parseOptions, quietConsole } from "./child-io.mjs";
import { contender } from "./contenders/index.mjs";
import { floorModule } from "./contenders/floor.mjs";
import { referenceGradient, relativeError } from "./reference.mjs";
import { makeNetwork } from "./shapes.mjs";
import { TOLERANCE } from "./tolerance.mjs";

quietConsole();
const processStartMs = performance.now(); // time Node took to get here since the process began
const { positional, options } = parseOptions(process.argv.slice(2));
const [name] = positional;
const shape = options.shape ?? "S3";

/** Each contender's library modules, imported before (and timed apart from) the bench's contender module. */
const LIBRARY_MODULES = {
  "mlpgrad-floor": [],
  "mlpgrad-lean": [],
  mlpgrad: [new URL("../dist/mlpgrad.node.js", import.meta.url).href],
  tfjs: ["@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm"],
  "jax-js": ["@jax-js/jax"],
};
const libraryModules = LIBRARY_MODULES[Object.keys(LIBRARY_MODULES).find((prefix) => name?.startsWith(prefix))] ?? [];
/**
 * The cold-start floor (bench/cold-floor.mjs) and mlpgrad's cold path alone (bench/cold-lean.mjs): not
 * contenders of the other modes, so not in the registry.
 */
const FLOOR = "mlpgrad-floor";
const LEAN = "mlpgrad-lean";
const result = { contender: name, shape, status: "ERROR", processStartMs };

try {
  const made = makeNetwork(shape);
  const net = { ...made, layers: JSON.parse(JSON.stringify(made.layers.map((layer) => ({ weights: Array.from(layer.weights), bias: Array.from(layer.bias) })))) };
  // The floor's one module is written (when stale) before the clock starts, and is its library module.
  if (name === FLOOR) libraryModules.push(floorModule().href);
  // The lean copy of the bundle must come from the bundle as built now (bench/cold-lean.mjs writes it).
  if (name === LEAN) {
    const lean = await import("./contenders/lean.mjs");
    lean.checkLeanFresh();
    libraryModules.push(lean.LEAN_URL.href);
  }
  const entry =
    name === FLOOR ? { load: () => import("./contenders/floor.mjs"), options: {} }
    : name === LEAN ? { load: () => import("./contenders/lean.mjs"), options: { precision: "f32", simd: true } }
    : contender(name);

  const t0 = performance.now();
  for (const specifier of libraryModules) await import(specifier);
  const tLibrary = performance.now();
  const module = await entry.load();
  const t1 = performance.now();
  const impl = await module.create(net, entry.options);
  const FloatArray = impl.precision === "f64" ? Float64Array : Float32Array;
  const x = FloatArray.from(net.x);
  const out = new FloatArray(net.sizes[0]);
  const t2 = performance.now();
  impl.gradient(x, out);
  const t3 = performance.now();

  Object.assign(result, {
    importMs: t1 - t0,
    setupMs: t2 - t1,
    firstCallMs: t3 - t2,
    totalMs: t3 - t0,
    libraryImportMs: tLibrary - t0,
    libraryTotalMs: tLibrary - t0 + (t3 - t1),
    info: impl.info,
  });
  result.relErr = relativeError(out, referenceGradient(made));
  result.weights = Array.isArray(net.layers[0].weights) ? "number[]" : "typed";
  result.status = result.relErr <= TOLERANCE[impl.precision] ? "ok" : "FAILED";
} catch (error) {
  result.error = String(error?.stack ?? error).split("\n").slice(0, 4).join("\n");
}
finish(result);
