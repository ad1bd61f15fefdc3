/**
 * Node's threads for createMLPPool (pool.ts): worker_threads instead of Web Workers. Only the package's
 * `node` entries (index.node.ts → dist/mlpgrad.node.js and dist/mlpgrad.cjs) import this module, so the
 * `browser`, `workerd`, `worker` and `default` entries carry no `node:` specifier for a bundler to trip on.
 *
 * The worker script is dist/pool-worker.node.js beside the bundle (or `workerUrl`): plain ESM with no
 * imports, the same BatchRunner as pool-worker.js, listening on worker_threads.parentPort.
 *
 * The `node:` modules are imported on first use, not with the package: node:worker_threads, node:os and
 * node:url cost about 2 ms of a fresh process's start-up (bench/cold.mjs), which every user of
 * createMLP would pay for the pool they may never start.
 */
import type { Worker } from "node:worker_threads";
import type { MLPSpec, MLPSpecLike, Precision, SpecNames } from "./model.js";
import { createPoolOn, MLPPool, type MLPPoolOptions, type ThreadPlatform } from "./pool.js";

// The class itself, for pool-lazy.ts (the Node ESM entry's MLPPool, whose prototype it chains to).
export { MLPPool };

/** The default worker script: dist/pool-worker.node.js next to this module (ESM bundle, CJS bundle or dist/src). */
async function defaultWorkerUrl(): Promise<URL> {
  const here = (import.meta as { url?: string }).url;
  if (typeof here === "string" && here !== "") return new URL("./pool-worker.node.js", here);
  // The CommonJS bundle has no import.meta.url (esbuild leaves it empty), but it has __filename.
  if (typeof __filename === "string") return new URL("./pool-worker.node.js", (await import("node:url")).pathToFileURL(__filename));
  throw new Error("cannot locate pool-worker.node.js: this module has neither import.meta.url nor __filename; pass createMLPPool({ workerUrl })");
}

/** Node's worker_threads (also Deno's and Bun's, which take the package's `node` condition). */
export const NODE_THREADS: ThreadPlatform = {
  async hardwareThreads() {
    const { availableParallelism, cpus } = await import("node:os");
    return availableParallelism?.() ?? cpus().length;
  },
  unavailable: () => undefined,
  async spawn(url, receive, fail) {
    const where = url ?? (await defaultWorkerUrl());
    const { Worker } = await import("node:worker_threads");
    let worker: Worker;
    try {
      // No inherited Node options: some stop a worker starting (--input-type, as in node --input-type=module
      // < script), and the worker, plain ESM with no imports, needs none (V8 flags are per process).
      worker = new Worker(typeof where === "string" && !/^[a-z][a-z0-9+.-]*:/i.test(where) ? where : new URL(where), { execArgv: [] });
    } catch (error) {
      throw new Error(`the worker script ${String(where)} could not be started (${(error as Error).message})`);
    }
    let ended = false;
    let ready = false;
    worker.on("message", (reply) => {
      ready = true;
      receive(reply);
    });
    worker.on("error", (error) => ended || fail(ready ? error : new Error(`the worker script ${String(where)} failed: ${error.message}`)));
    worker.on("exit", (code) => ended || fail(new Error(`the worker thread (${String(where)}) exited with code ${code}`)));
    return {
      post: (message, transfer) => worker.postMessage(message, transfer),
      keepAlive: (on) => (on ? worker.ref() : worker.unref()),
      terminate: async () => {
        ended = true;
        await worker.terminate();
      },
    };
  },
};

/** createMLPPool on Node's worker_threads (see pool.ts). */
export function createMLPPool<P extends Precision = "f32">(options: MLPPoolOptions<MLPSpec<P>>): Promise<MLPPool<P>>;
/** As above, for a model read from JSON (names typed string). */
export function createMLPPool<S extends MLPSpecLike>(options: MLPPoolOptions<S & SpecNames<S>>): Promise<MLPPool>;
export function createMLPPool(options: MLPPoolOptions): Promise<MLPPool> {
  return createPoolOn(options, NODE_THREADS);
}
