/**
 * The worker side of createMLPPool in Node (pool-node.ts starts it): pool-worker.ts's serve() on
 * worker_threads.parentPort. Bundled as dist/pool-worker.node.js.
 */
import { parentPort } from "node:worker_threads";
import { serve } from "./pool-worker.js";

if (parentPort === null) throw new Error("mlpgrad's pool-worker.node.js runs only as a worker thread (it is started by createMLPPool)");
const port = parentPort;
serve({
  post: (message, transfer) => port.postMessage(message, transfer),
  listen: (handler) => port.on("message", handler),
});
