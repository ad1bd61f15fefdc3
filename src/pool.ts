/**
 * Worker threads for batches: createMLPPool splits a batch's rows across threads that share one
 * WebAssembly memory (the threads build on a shared memory, init.ts). The main thread writes W^[l] and
 * b^[l] once; each worker instantiates the same compiled module on the same memory and reads them in
 * place, so a call moves only inputs and results, never weights.
 *
 *   rows 0 … m−1 of xs  →  chunks [r_0, r_1), [r_1, r_2), …, [r_{t−1}, m),  r_0 = 0, r_i multiples of 64
 *   chunk 0 runs on the main thread (the pool's MLP and its batch block), chunk i on worker i (own block)
 *
 * Chunks start on block boundaries (BATCH_BLOCK = 64 rows), so every thread runs exactly the blocks one
 * thread would and the results equal MLP.gradientBatch bit for bit. A worker gets a copy of its rows
 * (transferred, not cloned) and transfers its results back; the main thread copies them into `out`. The
 * kernels need no atomics: each thread writes only into its own block. A message round trip costs
 * ≈ 80 µs, so only batches with enough work per thread are split (see MLPPoolOptions.minRowsPerThread).
 */
import { badBatchValue, type BatchRunner } from "./batch.js";
import type { Engine } from "./engine.js";
import { MLPError, describe, type MLPErrorCode } from "./errors.js";
import { createEngine, init, threadsUnavailable } from "./init.js";
import { BATCH_BLOCK, planBlock } from "./memory.js";
import type { MLPSpec } from "./model.js";
import type { BatchJob, BatchMethod, GradientOfOptions, MLP, Vector } from "./network.js";
import type { JobKind, WorkerFailure, WorkerJob, WorkerReply, WorkerStart } from "./pool-worker.js";

/** Options of createMLPPool. */
export interface MLPPoolOptions {
  /** The network, as for createMLP (see MLPSpec). */
  spec: MLPSpec;
  /** Threads, counting the main thread (2 = main + 1 worker). Default: the hardware's threads, at most 4. */
  threads?: number;
  /** true: reject with E_NO_THREADS where threads are unavailable, instead of falling back to one thread. */
  requireThreads?: boolean;
  /**
   * Rows each thread must get before a batch is split. Default: 2 blocks of 64 rows, and at least
   * ≈ 16 million multiply-adds (≈ 1 ms) per thread, so the messages (≈ 80 µs a round trip) are paid for.
   */
  minRowsPerThread?: number;
}

// Default thread count never exceeds this: batches of a few hundred rows do not feed more threads.
const MAX_DEFAULT_THREADS = 4;
const MIN_BLOCKS_PER_THREAD = 2;
// ≈ 1 ms of f32 SIMD work per thread (≈ 20 G multiply-adds/s measured), a dozen message round trips.
const MIN_MACS_PER_THREAD = 2 ** 24;

const isNode = typeof process === "object" && typeof process.versions?.node === "string";

/**
 * A network whose batch calls run on several threads sharing its weights. Create it with
 * createMLPPool; results equal `pool.network`'s own batch methods bit for bit.
 */
export class MLPPool {
  /** The network (on the pool's shared memory): use it for single inputs, jacobian, setLayer… between calls. */
  readonly network: MLP;
  private readonly engine: Engine;
  private readonly runner: BatchRunner;
  private readonly workers: PoolWorker[];
  private readonly blocks: { start: number; bytes: number }[];
  private readonly minRows: Record<JobKind, number>;
  private reason: string | undefined;
  private disposal: Promise<void> | undefined;
  private nextId = 1;

  /** @internal Use createMLPPool(). */
  constructor(engine: Engine, network: MLP, workers: PoolWorker[], reason: string | undefined, minRowsPerThread: number | undefined) {
    this.engine = engine;
    this.network = network;
    this.runner = network.batchRunner();
    this.workers = workers.slice();
    this.blocks = workers.map((worker) => worker.block);
    this.reason = reason;
    for (const worker of workers) {
      // A worker that failed between starting and now leaves at once; later ones leave as they fail.
      if (worker.failure !== undefined) this.lose(worker, worker.failure);
      else worker.onFailure = (error) => this.lose(worker, error);
    }
    const sizes = network.sizes;
    let macs = 0; // multiply-adds of one row's forward pass: Σ_l n_l n_{l−1}
    for (let i = 1; i < sizes.length; i++) macs += sizes[i] * sizes[i - 1];
    const rows = (perRow: number) => minRowsPerThread ?? Math.max(MIN_BLOCKS_PER_THREAD * BATCH_BLOCK, Math.ceil(MIN_MACS_PER_THREAD / perRow));
    // The backward pass costs about as much again as the forward pass.
    this.minRows = { forward: rows(macs), gradient: rows(2 * macs), valueAndGradient: rows(2 * macs), gradientOf: rows(2 * macs) };
  }

  /** Threads that run batches: the main thread and the live workers. */
  get threads(): number {
    return 1 + this.workers.length;
  }

  /** Why the pool runs on fewer threads than asked for (no SharedArrayBuffer, a failed worker…); else undefined. */
  get fallbackReason(): string | undefined {
    return this.reason;
  }

  /** Whether dispose() has been called. */
  get isDisposed(): boolean {
    return this.disposal !== undefined;
  }

  /**
   * Per-sample gradients of m inputs, as MLP.gradientBatch (xs row-major m × n_1, n_L = 1), with the rows
   * split across the threads. Resolves to `out` when given, else a new array. xs is read before this
   * returns; `out` is complete when the promise resolves.
   */
  async gradientBatch<V extends Vector>(xs: Readonly<ArrayLike<number>>, out?: V): Promise<V> {
    const job = this.job("gradientBatch", xs, out);
    await this.run("gradient", xs, job);
    return job.gradients!;
  }

  /** a^[L](x_i) and ∇ₓ a^[L](x_i) for m inputs, as MLP.valueAndGradientBatch, split across the threads. */
  async valueAndGradientBatch<V extends Vector>(xs: Readonly<ArrayLike<number>>, values?: V, gradients?: V): Promise<{ values: V; gradients: V }> {
    const job = this.job("valueAndGradientBatch", xs, values, gradients);
    await this.run("valueAndGradient", xs, job);
    return { values: job.values!, gradients: job.gradients! };
  }

  /** a^[L](x_i) for m inputs (row-major m × n_L), as MLP.forwardBatch, split across the threads. */
  async forwardBatch<V extends Vector>(xs: Readonly<ArrayLike<number>>, out?: V): Promise<V> {
    const job = this.job("forwardBatch", xs, out);
    await this.run("forward", xs, job);
    return job.outputs!;
  }

  /**
   * Row i = ∇ₓ a_{k_i}^[L](x_i), as MLP.gradientOfBatch (k one output index or one per row; options
   * { logit: true } for z_k^[L]), with the rows split across the threads.
   */
  async gradientOfBatch<V extends Vector>(
    xs: Readonly<ArrayLike<number>>,
    k: number | Readonly<ArrayLike<number>>,
    out?: V,
    options?: GradientOfOptions,
  ): Promise<V> {
    if (this.disposal !== undefined) throw new MLPError("E_DISPOSED", "gradientOfBatch: the pool was disposed; create a new one with createMLPPool()");
    const job = this.network.batchJob("gradientOfBatch", xs, out, undefined, k, options);
    await this.run("gradientOf", xs, job);
    return job.gradients!;
  }

  /**
   * Terminates the workers and disposes the network; calls still running reject with E_DISPOSED, later
   * calls too. Resolves when the workers have exited. An idle pool never keeps Node's process alive, so
   * forgetting dispose() leaks threads and memory, but does not hang the process.
   */
  dispose(): Promise<void> {
    if (this.disposal === undefined) {
      const workers = this.workers.splice(0);
      this.disposal = Promise.all(workers.map((worker) => worker.terminate())).then(() => {
        // Released only now: until a worker has exited it may still be writing into its block.
        for (const { start, bytes } of this.blocks) this.engine.arena.release(start, bytes);
        this.network.dispose();
      });
    }
    return this.disposal;
  }

  private job<V extends Vector>(method: BatchMethod, xs: Readonly<ArrayLike<number>>, first?: V, second?: V): BatchJob<V> {
    if (this.disposal !== undefined) throw new MLPError("E_DISPOSED", `${method}: the pool was disposed; create a new one with createMLPPool()`);
    return this.network.batchJob(method, xs, first, second);
  }

  /** Row boundaries of the chunks: [0, m] when the batch stays on the main thread. */
  private split(m: number, kind: JobKind): number[] {
    const blocks = Math.ceil(m / BATCH_BLOCK);
    const threads = Math.min(this.threads, blocks, Math.floor(m / this.minRows[kind]));
    if (threads <= 1) return [0, m];
    // Whole blocks per thread; the blocks left over go to the workers, since the main thread also
    // copies the inputs out and the results in.
    const base = Math.floor(blocks / threads);
    const extra = blocks % threads;
    const bounds = [0];
    for (let i = 0, at = 0; i < threads - 1; i++) {
      at += base + (i >= 1 && i <= extra ? 1 : 0);
      bounds.push(at * BATCH_BLOCK);
    }
    bounds.push(m);
    return bounds;
  }

  private async run(kind: JobKind, xs: Readonly<ArrayLike<number>>, job: BatchJob<Vector>): Promise<void> {
    const bounds = this.split(job.m, kind);
    const n1 = this.network.inputSize;
    const nL = this.network.outputSize;
    // Post the workers' chunks first, so they compute while the main thread runs chunk 0.
    const replies: Promise<WorkerReply>[] = [];
    for (let i = 1; i < bounds.length - 1; i++) {
      const from = bounds[i];
      const to = bounds[i + 1];
      const pick = job.pick === undefined ? {} : { k: typeof job.pick.k === "number" ? job.pick.k : job.pick.k.slice(from, to), logit: job.pick.logit };
      replies.push(this.workers[i - 1].run({ id: this.nextId++, kind, xs: copyRows(xs, from * n1, to * n1), m: to - from, rowBase: from, ...pick }));
    }
    let failed: unknown;
    try {
      this.runner.run(xs, 0, bounds[1], job.values, job.gradients, job.outputs, 0, job.pick);
    } catch (error) {
      failed = error;
    }
    const settled = await Promise.allSettled(replies);
    // Chunks are in row order, so the first failing chunk names the first bad row, as one thread would.
    if (failed !== undefined) throw failed;
    for (let i = 0; i < settled.length; i++) {
      const result = settled[i];
      if (result.status === "rejected") throw result.reason;
      const reply = result.value;
      if (reply.error !== undefined) throw this.rebuild(reply.error, xs);
      const from = bounds[i + 1];
      if (job.values !== null) job.values.set(reply.values!, from);
      if (job.gradients !== null) job.gradients.set(reply.gradients!, from * n1);
      if (job.outputs !== null) job.outputs.set(reply.outputs!, from * nL);
    }
  }

  /** A worker's failure as the error one thread would have thrown (E_NONFINITE names the caller's own value). */
  private rebuild(failure: WorkerFailure, xs: Readonly<ArrayLike<number>>): Error {
    const { code, index, layer } = failure;
    if (code === "E_NONFINITE" && index !== undefined) {
      const n = this.network.inputSize;
      return badBatchValue(xs[index], Math.floor(index / n), index % n, n, this.network.precision);
    }
    if (code !== undefined) return new MLPError(code as MLPErrorCode, failure.message, { index, layer });
    return new MLPError("E_WORKER", `a worker thread failed while running its rows: ${failure.message}`);
  }

  // A failed worker leaves the pool: its call rejects with E_WORKER, later calls run on the others.
  private lose(worker: PoolWorker, error: Error): void {
    const i = this.workers.indexOf(worker);
    if (i < 0) return;
    this.workers.splice(i, 1);
    this.reason = `a worker thread failed (${error.message}); the pool runs on ${this.threads} thread${this.threads === 1 ? "" : "s"}`;
  }
}

/**
 * A pool of `threads` threads (the main one included) that run the batch calls of the network `spec`
 * describes, on one shared copy of its weights. Where threads are unavailable (no SharedArrayBuffer,
 * a page that is not cross-origin isolated, no Worker) it runs on one thread and says why in
 * `fallbackReason`, or, with requireThreads: true, rejects with E_NO_THREADS. Call dispose() when done.
 */
export async function createMLPPool(options: MLPPoolOptions): Promise<MLPPool> {
  if (options === null || typeof options !== "object") {
    throw new MLPError("E_OPTIONS", `createMLPPool: expected options { spec, threads? }, got ${describe(options)}`);
  }
  const { spec, threads, minRowsPerThread } = options;
  for (const [name, value] of [["threads", threads], ["minRowsPerThread", minRowsPerThread]] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new MLPError("E_OPTIONS", `createMLPPool: ${name} must be a positive integer, got ${describe(value)}`, { expected: "integer ≥ 1", actual: value });
    }
  }
  const wanted = threads ?? (await defaultThreads());
  let reason: string | undefined;
  if (wanted > 1) {
    reason = threadsUnavailable() ?? workersUnavailable();
    if (reason === undefined) {
      const engine = await createEngine({ shared: true });
      const network = engine.createMLP(spec);
      // Plan the main thread's batch block before the workers start, so nothing grows the memory later.
      network.batchRunner();
      try {
        const workers = await startWorkers(engine, network, wanted - 1);
        return new MLPPool(engine, network, workers, undefined, minRowsPerThread);
      } catch (error) {
        network.dispose();
        reason = `a worker thread could not be started (${(error as Error).message ?? String(error)})`;
      }
    }
    if (options.requireThreads === true) {
      throw new MLPError("E_NO_THREADS", `createMLPPool: ${wanted} threads were required, but ${reason}`);
    }
  }
  const engine = await init();
  const network = engine.createMLP(spec);
  return new MLPPool(engine, network, [], reason === undefined ? undefined : `runs on one thread: ${reason}`, minRowsPerThread);
}

async function defaultThreads(): Promise<number> {
  let available = 1;
  if (isNode) {
    const os = await import(/* webpackIgnore: true */ /* @vite-ignore */ "node:os");
    available = os.availableParallelism?.() ?? os.cpus().length;
  } else if (typeof navigator === "object" && typeof navigator.hardwareConcurrency === "number") {
    available = navigator.hardwareConcurrency;
  }
  return Math.max(1, Math.min(MAX_DEFAULT_THREADS, available));
}

function workersUnavailable(): string | undefined {
  if (isNode || typeof Worker === "function") return undefined;
  return "this runtime has no Worker to run threads in";
}

/** Rows start..end of xs as a typed array that can be transferred; non-numbers become NaN (see rebuild). */
function copyRows(xs: Readonly<ArrayLike<number>>, start: number, end: number): Float32Array | Float64Array {
  if (xs instanceof Float64Array || xs instanceof Float32Array) return xs.slice(start, end);
  const rows = new Float64Array(end - start);
  for (let i = start; i < end; i++) {
    const value = xs[i];
    // Float64Array would turn null or "1" into numbers; NaN makes the worker reject that element.
    rows[i - start] = typeof value === "number" ? value : NaN;
  }
  return rows;
}

async function startWorkers(engine: Engine, network: MLP, count: number): Promise<PoolWorker[]> {
  const { sizes, precision } = network;
  const { layout, codes, params, output } = network.batchPlan;
  const workers: PoolWorker[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = planBlock(sizes, precision, 0).bytes;
    const start = engine.arena.alloc(bytes, `the batch buffers of worker thread ${i + 1} for the ${precision} network [${sizes.join(", ")}]`);
    workers.push(new PoolWorker({ start, bytes }));
  }
  const started = await Promise.allSettled(
    workers.map((worker) =>
      worker.start({
        module: engine.module,
        memory: engine.memory,
        precision,
        sizes: sizes.slice(),
        codes: codes.slice(),
        params: params.map(({ p1, p2 }) => ({ p1, p2 })),
        output,
        layout,
        block: planBlock(sizes, precision, worker.block.start),
      }),
    ),
  );
  const failure = started.find((result) => result.status === "rejected");
  if (failure !== undefined) {
    await Promise.all(workers.map((worker) => worker.terminate()));
    for (const { block } of workers) engine.arena.release(block.start, block.bytes);
    throw (failure as PromiseRejectedResult).reason;
  }
  return workers;
}

/** The handle of one worker thread, Node's or the browser's. */
interface WorkerHandle {
  post(message: WorkerStart | WorkerJob, transfer: ArrayBuffer[]): void;
  /** Node: whether the worker keeps the process alive (only while it has work). */
  keepAlive(on: boolean): void;
  terminate(): Promise<void>;
}

async function spawn(receive: (reply: WorkerReply) => void, fail: (error: Error) => void): Promise<WorkerHandle> {
  if (isNode) {
    const { Worker } = await import(/* webpackIgnore: true */ /* @vite-ignore */ "node:worker_threads");
    // No inherited Node options: some stop a worker starting (--input-type, as in node --input-type=module
    // < script), and the worker, plain ESM with relative imports, needs none (V8 flags are per process).
    const worker = new Worker(await nodeWorkerUrl(), { execArgv: [] });
    let ended = false;
    worker.on("message", receive);
    worker.on("error", (error) => ended || fail(error));
    worker.on("exit", (code) => ended || fail(new Error(`the worker thread exited with code ${code}`)));
    return {
      post: (message, transfer) => worker.postMessage(message, transfer),
      keepAlive: (on) => (on ? worker.ref() : worker.unref()),
      terminate: async () => {
        ended = true;
        await worker.terminate();
      },
    };
  }
  // This exact form lets bundlers (Vite, webpack 5, esbuild) find and emit the worker's file.
  const worker = new Worker(new URL("./pool-worker.js", import.meta.url), { type: "module" });
  worker.onmessage = (event: MessageEvent<WorkerReply>) => receive(event.data);
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    fail(new Error(event.message || "the worker script failed to load or threw"));
  };
  worker.onmessageerror = () => fail(new Error("a message from the worker could not be deserialised"));
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    keepAlive: () => {},
    terminate: async () => worker.terminate(),
  };
}

/** dist/pool-worker.js next to this module (dist/mlpgrad.js, dist/mlpgrad.cjs or dist/src/pool.js). */
async function nodeWorkerUrl(): Promise<URL> {
  const here = (import.meta as { url?: string }).url;
  if (typeof here === "string") return new URL("./pool-worker.js", here);
  // The CommonJS bundle has no import.meta.url (esbuild leaves it empty), but it has __filename.
  if (typeof __filename === "string") return new URL("./pool-worker.js", (await import(/* webpackIgnore: true */ /* @vite-ignore */ "node:url")).pathToFileURL(__filename));
  throw new Error("cannot locate pool-worker.js: this module has neither import.meta.url nor __filename");
}

type Settle = { resolve(reply: WorkerReply): void; reject(error: unknown): void };

/** @internal One worker thread of a pool: its block of the shared memory and its calls in flight. */
class PoolWorker {
  onFailure: (error: Error) => void = () => {};
  private readonly pending = new Map<number, Settle>();
  private handle: WorkerHandle | undefined;
  /** Why the thread stopped, once it has (failed, or terminated). */
  failure: Error | undefined;

  constructor(readonly block: { start: number; bytes: number }) {}

  /** Starts the thread and resolves once it has instantiated the kernels. */
  async start(message: WorkerStart): Promise<void> {
    this.handle = await spawn(
      (reply) => this.receive(reply),
      (error) => this.fail(error),
    );
    // Events from the new thread come in later turns of the event loop, after this is in place.
    const ready = new Promise<WorkerReply>((resolve, reject) => this.pending.set(0, { resolve, reject }));
    this.handle.post(message, []);
    const reply = await ready;
    if (reply.error !== undefined) throw new Error(`the worker could not instantiate the kernels: ${reply.error.message}`);
    this.handle.keepAlive(false);
  }

  /** Posts a job (its xs is transferred) and resolves with the reply. */
  run(job: WorkerJob): Promise<WorkerReply> {
    if (this.failure !== undefined) return Promise.reject(workerError(this.failure));
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.handle!.keepAlive(true);
      this.pending.set(job.id, { resolve, reject });
      this.handle!.post(job, [job.xs.buffer as ArrayBuffer]);
    });
  }

  async terminate(): Promise<void> {
    this.failure ??= new Error("terminated");
    for (const settle of this.pending.values()) settle.reject(new MLPError("E_DISPOSED", "the pool was disposed while this call was running"));
    this.pending.clear();
    await this.handle?.terminate();
  }

  private receive(reply: WorkerReply): void {
    const settle = this.pending.get(reply.id);
    if (settle === undefined) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0 && reply.id !== 0) this.handle!.keepAlive(false);
    settle.resolve(reply);
  }

  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    // Before the thread is ready (id 0 pending) the error is about starting it, not about a batch.
    for (const [id, settle] of this.pending) settle.reject(id === 0 ? error : workerError(error));
    this.pending.clear();
    this.onFailure(error);
  }
}

function workerError(cause: Error): MLPError {
  return new MLPError("E_WORKER", `a worker thread failed while running part of the batch (${cause.message}); the pool carries on with the other threads`, { cause });
}
