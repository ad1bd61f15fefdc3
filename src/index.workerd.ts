/**
 * mlpgrad for workerd (Cloudflare Workers) and other runtimes that forbid compiling WebAssembly from
 * bytes at run time. The API is index.ts's; only where the kernels come from differs:
 *
 *   index.ts          init() → base64 in the bundle → WebAssembly.compile(bytes)   (refused in a Worker)
 *   index.workerd.ts  init() → `import … from "*.wasm"` → a compiled WebAssembly.Module, handed over by
 *                     the runtime (workerd) or by the bundler that uploads it (wrangler)
 *
 * The workerd bundle (scripts/build-workerd.mjs → dist/mlpgrad.workerd.js) imports the SIMD build from
 * ./mlpgrad.simd.wasm beside it and replaces the embedded builds with empty strings, so it carries no
 * base64 payload. Every V8 that runs Workers has SIMD, so there is no scalar fallback to choose; a
 * scalar or threads build can still be passed explicitly as `source`.
 */
import simdModule from "../build/mlpgrad.simd.wasm";
import type { Engine, GradientFunction } from "./engine.js";
import { MLPError } from "./errors.js";
import { createEngine as createEngineFrom, init as initFrom, isOptions, type InitOptions, type WasmSource } from "./init.js";
import type { MLPSpec, MLPSpecLike, Precision, SpecNames } from "./model.js";
import { MLPPool, createMLPPool as createMLPPoolOn, type MLPPoolOptions } from "./pool.js";

// Everything else is exactly index.ts's; the functions below shadow its exports of the same name.
export * from "./index.js";

const NO_THREADS = "Workers start no worker threads, and the workerd entry has no threads build";

/** The SIMD kernels, compiled by the runtime when this module was loaded. */
const SIMD_MODULE: WebAssembly.Module = simdModule;

// The promise of the default engine that a no-argument init() returns (init.ts keeps its own, the same one).
let defaultPromise: Promise<Engine> | undefined;

/** Options with the imported SIMD module as the source when none is given (no compile from bytes). */
function withImportedKernels(options: InitOptions, caller: string): InitOptions {
  if (options.source !== undefined) return options;
  if (options.shared === true) {
    throw new MLPError(
      "E_NO_THREADS",
      `${caller}: { shared: true } needs the threads build, which the workerd entry leaves out (Workers run no worker threads); ` +
        "where threads exist, pass that build as { source, shared: true }",
    );
  }
  if (options.simd === false) {
    throw new MLPError(
      "E_SOURCE",
      `${caller}: { simd: false } asks for the scalar build, which the workerd entry does not embed; ` +
        'import "mlpgrad/scalar.wasm" (a WebAssembly.Module in a Worker) and pass it as the source instead',
    );
  }
  if (options.relaxed === true) {
    throw new MLPError(
      "E_SOURCE",
      `${caller}: { relaxed: true } asks for the relaxed-SIMD build, which the workerd entry does not embed; ` +
        'import "mlpgrad/relaxed.wasm" (a WebAssembly.Module in a Worker) and pass it as the source instead',
    );
  }
  return { ...options, source: SIMD_MODULE };
}

/**
 * Instantiates the imported SIMD kernels once and makes them the default engine; concurrent and later
 * calls return the same engine. With a source or options it behaves as index.ts's init().
 */
export function init(source?: WasmSource | InitOptions, options: InitOptions = {}): Promise<Engine> {
  const opts: InitOptions = isOptions(source) ? source : { ...options, source };
  if (opts.source === undefined && opts.simd === undefined && opts.relaxed === undefined && opts.shared === undefined && defaultPromise !== undefined) return defaultPromise;
  let promise: Promise<Engine>;
  try {
    promise = initFrom(withImportedKernels(opts, "init"));
  } catch (error) {
    return Promise.reject(error);
  }
  defaultPromise = promise;
  promise.catch(() => {
    if (defaultPromise === promise) defaultPromise = undefined;
  });
  return promise;
}

/** A new engine on the imported SIMD kernels (or on `source`), with its own memory. */
export async function createEngine(options: InitOptions = {}): Promise<Engine> {
  return createEngineFrom(withImportedKernels(options, "createEngine"));
}

/** Initialises if needed and returns a drop-in gradient function df(x, out?) = ∇ₓ a^[L](x). */
export function grad<P extends Precision = "f32">(spec: MLPSpec<P>): Promise<GradientFunction<P>>;
/** As above, for a model read from JSON. */
export function grad<S extends MLPSpecLike>(spec: S & SpecNames<S>): Promise<GradientFunction>;
export async function grad(spec: MLPSpecLike): Promise<GradientFunction> {
  return (await init()).grad(spec);
}

/** Whether kernels can run on memory shared with worker threads: never in the workerd entry (see createMLPPool). */
export function hasThreads(): boolean {
  return false;
}

/**
 * A pool as in index.ts, always on one thread: Workers start no worker threads, and this entry has no
 * threads build. Asking for more threads gives a `fallbackReason` (or E_NO_THREADS with requireThreads).
 * The network lives on the default engine, which is initialised here first.
 */
export function createMLPPool<P extends Precision = "f32">(options: MLPPoolOptions<MLPSpec<P>>): Promise<MLPPool<P>>;
/** As above, for a model read from JSON (names typed string). */
export function createMLPPool<S extends MLPSpecLike>(options: MLPPoolOptions<S & SpecNames<S>>): Promise<MLPPool>;
export async function createMLPPool(options: MLPPoolOptions): Promise<MLPPool> {
  const isObject = options !== null && typeof options === "object";
  const asked = isObject ? options.threads : undefined;
  const many = typeof asked === "number" && Number.isInteger(asked) && asked > 1;
  if (many && options.requireThreads === true) {
    throw new MLPError("E_NO_THREADS", `createMLPPool: ${asked} threads were required, but ${NO_THREADS}`);
  }
  const engine = await init();
  // pool.ts checks the options (an invalid `threads` included) and builds the network, on one thread.
  const pool = await createMLPPoolOn(isObject && (many || asked === undefined) ? { ...options, threads: 1 } : options);
  return many ? new MLPPool(engine, pool.network, [], `runs on one thread: ${NO_THREADS}`, options.minRowsPerThread) : pool;
}
