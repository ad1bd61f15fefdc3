/**
 * mlpgrad for Node (and Deno and Bun, which take the package's `node` condition): index.ts's API, with
 * createMLPPool on worker_threads (pool-node.ts) instead of Web Workers. The pool's code and its `node:`
 * modules load with the first createMLPPool (pool-lazy.ts: in the ESM bundle, dist/mlpgrad.pool.node.js
 * beside it). Its bundles embed the SIMD build uncompressed (scripts/build-bundles.mjs), so nothing has
 * to be unpacked at start-up; the ESM one imports the scalar and relaxed builds from beside it only when
 * they are asked for (docs/cold-start.md). This is the only entry that imports `node:` modules; the
 * browser, Worker and default entries are index.ts and index.workerd.ts.
 */
export * from "./api.js";
export { createMLPPool, MLPPool, type MLPPoolOptions } from "./pool-lazy.js";
