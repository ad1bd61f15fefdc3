/**
 * mlpgrad for Node (and Deno and Bun, which take the package's `node` condition): index.ts's API, with
 * createMLPPool on worker_threads (pool-node.ts) instead of Web Workers, and the embedded kernels unpacked
 * by node:zlib (its gunzip takes under a millisecond in a fresh process; Node's DecompressionStream, ten).
 * This is the only entry that imports `node:` modules; the browser, Worker and default entries are
 * index.ts and index.workerd.ts.
 */
import { gunzipSync } from "node:zlib";
import { setUnpacker } from "./init.js";

setUnpacker(gunzipSync);

export * from "./index.js";
export { createMLPPool } from "./pool-node.js";
