/**
 * createMLPPool for Node, with the pool's code loaded on the first call. pool.ts, split.ts and
 * pool-node.ts are about a sixth of the ESM node bundle, and V8 parses every byte of a module at import:
 * left in, they cost every process about 0.7 ms of its cold start, pool or not (docs/cold-start.md).
 *
 * scripts/build-bundles.mjs builds them as dist/mlpgrad.pool.node.js beside dist/mlpgrad.node.js, and
 * turns the `import("./pool-node.js")` below into an import of that file. The pool's code must share
 * this bundle's modules (the default engine cached by init(), MLPError for `instanceof`), but the bundle
 * has only the public API to export, so it hands them over instead: in the pool's file, pool.ts and
 * split.ts import init.js, errors.js, batch.js and memory.js from a stand-in module whose bindings
 * `install(core)` fills in before the first pool is made (the build fails if the pool's code imports
 * anything else from src/, or a name the stand-in lacks). Where pool-node.js is an ordinary module
 * (the CommonJS bundle, dist/src), it has no `install` and imports them itself.
 *
 * `MLPPool` stays a value for `instanceof`: a stand-in class (pool.ts's constructor is internal: pools
 * come from createMLPPool) whose prototype the real class's prototype inherits from once loaded, so
 * every pool is an instance of both. Its type is pool.ts's MLPPool, as in index.ts.
 */
import { badBatchValue, JACOBIAN_COLUMNS, jacobianRounds, jacobianStep, jacobianTopStep, jacobianWidth } from "./batch.js";
import { describe, MLPError } from "./errors.js";
import { createEngine, init, threadsUnavailable } from "./init.js";
import { BATCH_BLOCK, PLAN_WORDS, planBlock } from "./memory.js";
import type { MLPSpec, MLPSpecLike, Precision, SpecNames } from "./model.js";
import type { MLPPool as Pool, MLPPoolOptions } from "./pool.js";

/** What the pool's code imports from the rest of the library (see scripts/build-bundles.mjs, POOL_CORE). */
const CORE = { badBatchValue, JACOBIAN_COLUMNS, jacobianRounds, jacobianStep, jacobianTopStep, jacobianWidth, describe, MLPError, createEngine, init, threadsUnavailable, BATCH_BLOCK, PLAN_WORDS, planBlock };
export type PoolCore = typeof CORE;

type PoolModule = typeof import("./pool-node.js") & { install?: (core: PoolCore) => void };

/** The value behind `MLPPool` until the pool's code is loaded (then the real class inherits from it). */
class StandIn {
  constructor() {
    throw new TypeError("MLPPool cannot be constructed directly: create one with createMLPPool()");
  }
}
Object.defineProperty(StandIn, "name", { value: "MLPPool" });

let loading: Promise<PoolModule> | undefined;

/** The pool's module, loaded once, given the library's core, its MLPPool's prototype chained to the stand-in's. */
function poolModule(): Promise<PoolModule> {
  loading ??= import("./pool-node.js").then((module: PoolModule) => {
    module.install?.(CORE);
    if (Object.getPrototypeOf(module.MLPPool.prototype) === Object.prototype) Object.setPrototypeOf(module.MLPPool.prototype, StandIn.prototype);
    return module;
  });
  return loading;
}

/** A network whose batch calls run on several threads (pool.ts); `pool instanceof MLPPool` holds for every pool. */
export const MLPPool = StandIn as unknown as typeof Pool;
/** A network whose batch calls run on several threads (pool.ts). */
export type MLPPool<P extends Precision = Precision> = Pool<P>;
export type { MLPPoolOptions };

/** createMLPPool on Node's worker_threads (pool-node.ts), its code loaded with the first call. */
export function createMLPPool<P extends Precision = "f32">(options: MLPPoolOptions<MLPSpec<P>>): Promise<MLPPool<P>>;
/** As above, for a model read from JSON (names typed string). */
export function createMLPPool<S extends MLPSpecLike>(options: MLPPoolOptions<S & SpecNames<S>>): Promise<MLPPool>;
export function createMLPPool(options: MLPPoolOptions): Promise<MLPPool> {
  return poolModule().then((module) => module.createMLPPool(options));
}
