/**
 * The worker side of createMLPPool (pool.ts): one of these runs in each worker thread.
 *
 * It is started with one message, WorkerStart: the compiled kernel module (the threads build), the
 * engine's shared WebAssembly.Memory, and where the network and this worker's batch block live in it.
 * It instantiates the module on that memory, so it reads W^[l] and b^[l] where the main thread wrote
 * them (no copy), and writes only into its own block. Then each WorkerJob is a contiguous chunk of a
 * batch's rows (a copy, transferred); the reply carries the results (transferred back) or the error.
 * A BatchRunner (batch.ts) does the work, exactly as on the main thread, so results are bit for bit equal.
 *
 * This module is the Web Worker's script (dist/pool-worker.js: no `node:` import, so bundlers can emit it);
 * pool-worker.node.ts is Node's (dist/pool-worker.node.js).
 */
import { BatchRunner } from "./batch.js";
import type { Kernels } from "./engine.js";
import { MLPError } from "./errors.js";
import type { OutputKind } from "./activation.js";
import type { BlockLayout, NetworkLayout } from "./memory.js";
import type { Precision } from "./model.js";
import { serveSplit, splitTask, type SplitJob, type SplitTask } from "./split.js";

/** The first message to a worker. */
export interface WorkerStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  precision: Precision;
  sizes: number[];
  codes: number[];
  /** Each layer's activation parameters p1, p2. */
  params: { p1: number; p2: number }[];
  /** softmax / logSoftmax on the last layer's logits, or "none". */
  output: OutputKind;
  layout: NetworkLayout;
  /** This worker's own batch buffers (allocated by the main thread, released when the pool is disposed). */
  block: BlockLayout;
  /** The main network's batch buffers, where split Jacobian calls keep their columns (split.ts). */
  splitBlock: BlockLayout;
}

/** What a job computes: the results of gradientBatch, valueAndGradientBatch, forwardBatch or gradientOfBatch. */
export type JobKind = "gradient" | "valueAndGradient" | "forward" | "gradientOf";

/** One chunk of a batch: m rows of xs (row-major m × n_1), which are rows rowBase.. of the whole batch. */
export interface WorkerJob {
  id: number;
  kind: JobKind;
  xs: Float32Array | Float64Array;
  m: number;
  rowBase: number;
  /** gradientOf: the output index of every row, or of each of this chunk's rows. */
  k?: number | Int32Array;
  logit?: boolean;
}

/** A failure, as plain data (an MLPError's own fields do not survive structured cloning everywhere). */
export interface WorkerFailure {
  code?: string;
  message: string;
  index?: number;
  layer?: number;
}

/** A worker's answer to WorkerStart (id 0) or to a job. */
export interface WorkerReply {
  id: number;
  ready?: boolean;
  values?: Float32Array | Float64Array;
  gradients?: Float32Array | Float64Array;
  outputs?: Float32Array | Float64Array;
  error?: WorkerFailure;
}

/** @internal How a worker thread talks to the pool: a Web Worker's global scope, or Node's parentPort. */
export interface Port {
  post(message: WorkerReply, transfer: ArrayBuffer[]): void;
  listen(handler: (message: WorkerStart | WorkerJob | SplitJob) => void): void;
}

function failure(error: unknown): WorkerFailure {
  if (error instanceof MLPError) return { code: error.code, message: error.message, index: error.index, layer: error.layer };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** @internal Serves a pool's jobs on `port`: first a WorkerStart, then WorkerJobs. */
export function serve(port: Port): void {
  let runner: BatchRunner | undefined;
  let start: WorkerStart;
  let ArrayType: Float32ArrayConstructor | Float64ArrayConstructor;
  let buffer: ArrayBuffer | SharedArrayBuffer;
  let view: Float32Array | Float64Array;
  let task: SplitTask;

  const run = (job: WorkerJob): void => {
    // A shared buffer is never detached; if the main thread grew the memory, the old one is only short.
    if (start.memory.buffer.byteLength !== buffer.byteLength) {
      buffer = start.memory.buffer;
      view = new ArrayType(buffer);
    }
    const n1 = start.sizes[0];
    const nL = start.sizes[start.sizes.length - 1];
    const values = job.kind === "valueAndGradient" ? new ArrayType(job.m) : null;
    const gradients = job.kind === "forward" ? null : new ArrayType(job.m * n1);
    const outputs = job.kind === "forward" ? new ArrayType(job.m * nL) : null;
    try {
      const pick = job.kind === "gradientOf" ? { k: job.k!, logit: job.logit === true } : undefined;
      runner!.run(job.xs, 0, job.m, values, gradients, outputs, job.rowBase, pick);
    } catch (error) {
      port.post({ id: job.id, error: failure(error) }, []);
      return;
    }
    const reply: WorkerReply = { id: job.id };
    const transfer: ArrayBuffer[] = [];
    if (values !== null) transfer.push((reply.values = values).buffer);
    if (gradients !== null) transfer.push((reply.gradients = gradients).buffer);
    if (outputs !== null) transfer.push((reply.outputs = outputs).buffer);
    port.post(reply, transfer);
  };

  port.listen((message) => {
    if (runner !== undefined) {
      // A split call (split.ts): this thread's share of one input, phase by phase, then of the calls that
      // claim it while it is parked; the reply says it is back in its event loop.
      if ((message as SplitJob).kind === "split") {
        const job = message as SplitJob;
        serveSplit(task, job);
        return port.post({ id: job.id }, []);
      }
      return run(message as WorkerJob);
    }
    start = message as WorkerStart;
    ArrayType = start.precision === "f32" ? Float32Array : Float64Array;
    // The threads build's data segments (constant tables) are written again by this instantiation:
    // the same bytes, outside every block the arena hands out.
    WebAssembly.instantiate(start.module, { env: { memory: start.memory } }).then(
      (instance) => {
        buffer = start.memory.buffer;
        view = new ArrayType(buffer);
        task = splitTask(start.layout, start.precision, instance.exports as unknown as Kernels, start.memory, start.splitBlock);
        runner = new BatchRunner({
          kernels: instance.exports as unknown as Kernels,
          precision: start.precision,
          sizes: start.sizes,
          codes: start.codes,
          params: start.params,
          output: start.output,
          layout: start.layout,
          block: start.block,
          view: () => view,
        });
        port.post({ id: 0, ready: true }, []);
      },
      (error) => port.post({ id: 0, error: failure(error) }, []),
    );
  });
}

// A Web Worker's global scope has postMessage and onmessage (Node's worker threads have neither: there
// pool-worker.node.ts serves instead, on worker_threads.parentPort, and imports this module for serve()).
const scope = globalThis as unknown as { postMessage?(message: unknown, transfer: Transferable[]): void; onmessage?: unknown };
if (typeof scope.postMessage === "function" && "onmessage" in scope) {
  serve({
    post: (message, transfer) => scope.postMessage!(message, transfer),
    listen: (handler) => {
      scope.onmessage = (event: MessageEvent) => handler(event.data);
    },
  });
}
