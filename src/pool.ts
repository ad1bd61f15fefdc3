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
 *
 * Single inputs (gradient, valueAndGradient, vjp, gradientOf, jacobian) of a large network are split the
 * other way, inside every layer: rows forward; backward, a large layer's two halves of rows, else
 * columns (the Jacobian: ranges of features of every column); in chunks the threads take as they come
 * free, synchronised through Atomics on the shared memory (split.ts).
 */
import { badBatchValue, JACOBIAN_COLUMNS, jacobianRounds, jacobianTopStep, jacobianWidth, type BatchRunner, type JacobianBuffers } from "./batch.js";
import type { Engine } from "./engine.js";
import { MLPError, describe, type MLPErrorCode } from "./errors.js";
import { createEngine, init, threadsUnavailable } from "./init.js";
import { BATCH_BLOCK, planBlock } from "./memory.js";
import type { MLPSpec, MLPSpecLike, Precision, SpecNames } from "./model.js";
import type { BatchJob, BatchMethod, GradientOfOptions, MLP, SplitMethod, Vector, VectorOf } from "./network.js";
import type { JobKind, WorkerFailure, WorkerJob, WorkerReply, WorkerStart } from "./pool-worker.js";
import {
  GRADIENT,
  JACOBIAN,
  MIN_SHARED_LAYER_BYTES,
  controlBytes,
  finishHalves,
  jacobianSchedule,
  SplitControl,
  schedule,
  splitPhases,
  splitTask,
  type SplitJob,
  type SplitTask,
} from "./split.js";

/** Options of createMLPPool; S is the type of the spec (MLPSpec<P> types the results by precision). */
export interface MLPPoolOptions<S extends MLPSpecLike = MLPSpecLike> {
  /** The network, as for createMLP (see MLPSpec). */
  spec: S;
  /** Threads, counting the main thread (2 = main + 1 worker). Default: the hardware's threads, at most 4. */
  threads?: number;
  /** true: reject with E_NO_THREADS where threads are unavailable, instead of falling back to one thread. */
  requireThreads?: boolean;
  /**
   * Rows each thread must get before a batch is split. Default: 2 blocks of 64 rows, and at least
   * ≈ 16 million multiply-adds (≈ 1 ms) per thread, so the messages (≈ 80 µs a round trip) are paid for.
   */
  minRowsPerThread?: number;
  /**
   * Where the worker script is (mlpgrad's `dist/pool-worker.js`, or `dist/pool-worker.node.js` in Node),
   * for bundles that do not emit it next to themselves (see docs/bundlers.md). Default: beside this module.
   */
  workerUrl?: string | URL;
  /**
   * Weight bytes (Σ_l n_l × padded n_{l−1} × 4 or 8) a network must have before gradient, valueAndGradient,
   * vjp and gradientOf split one input across the threads (split.ts). Default DEFAULT_MIN_SPLIT_BYTES
   * (measured: below it a layer's share is too short to pay for the synchronisation); Infinity: never
   * split. jacobian does (1 + n_L) / 2 times a gradient's multiply-adds per weight, so it splits from
   * weight bytes × (1 + n_L) / 2 ≥ minSplitBytes. Layers of fewer than min(64 KiB, minSplitBytes) weight
   * bytes run on the main thread alone.
   */
  minSplitBytes?: number;
  /**
   * true (default): a pool that splits keeps timing its single-input calls, and each call takes the way
   * (split, or one thread) whose last 8 calls had the lower median time; every 16th call tries the other
   * way. On a machine whose cores are busy with other work a split call waits for a thread that has no
   * core, so there the pool stays on one thread. false: split every call (tests, benchmarks).
   */
  adaptiveSplit?: boolean;
}

/** Default of MLPPoolOptions.minSplitBytes. */
export const DEFAULT_MIN_SPLIT_BYTES = 1 << 20;

// Default thread count never exceeds this: batches of a few hundred rows do not feed more threads.
const MAX_DEFAULT_THREADS = 4;
const MIN_BLOCKS_PER_THREAD = 2;
// adaptiveSplit: times kept per way, and how often a call tries the way that is not the faster one.
const ADAPTIVE_SAMPLES = 8;
const ADAPTIVE_PROBE_EVERY = 16;
// How long the main thread blocks (or spins) for the workers of a split call before it lets the event loop run.
const SPLIT_WAIT_MS = 20;
// ≈ 1 ms of f32 SIMD work per thread (≈ 20 G multiply-adds/s measured), a dozen message round trips.
const MIN_MACS_PER_THREAD = 2 ** 24;

/**
 * @internal What a pool needs from the runtime to start threads: Web Workers (pool.ts, every entry) or
 * Node's worker_threads (pool-node.ts, only behind the package's `node` condition, so that the browser
 * and Worker entries contain no `node:` specifier that a bundler would have to resolve).
 */
export interface ThreadPlatform {
  /** The hardware's threads. */
  hardwareThreads(): Promise<number>;
  /** Why worker threads cannot start here, or undefined. */
  unavailable(): string | undefined;
  /** Starts one worker thread from `url` (or the default script); rejects with an Error naming the URL. */
  spawn(url: string | URL | undefined, receive: (reply: WorkerReply) => void, fail: (error: Error) => void): Promise<WorkerHandle>;
}

/**
 * A network whose batch calls, and single-input gradients of large networks, run on several threads
 * sharing its weights. Create it with createMLPPool; results equal `pool.network`'s own methods bit for bit.
 */
export class MLPPool<P extends Precision = Precision> {
  /** The network (on the pool's shared memory): use it for jvp, hvp, setLayer… between calls. */
  readonly network: MLP<P>;
  private readonly engine: Engine;
  private readonly runner: BatchRunner;
  private readonly workers: PoolWorker[];
  private readonly blocks: { start: number; bytes: number }[];
  private readonly minRows: Record<JobKind, number>;
  private reason: string | undefined;
  private disposal: Promise<void> | undefined;
  private nextId = 1;
  private readonly control: SplitControl | undefined;
  private readonly task: SplitTask;
  // Whether the network is large enough to split (minSplitBytes): gradient-like calls, and the Jacobian.
  private readonly splitWorth: Record<SplitKind, boolean>;
  private readonly minLayerBytes: number;
  private splitting: Promise<unknown> | undefined;
  // A split Jacobian call is using the main thread's batch block: batch calls wait for it.
  private blockHeld: Promise<unknown> | undefined;
  private readonly adaptive: boolean;
  // Per kind of call (the Jacobian costs ≈ 4 gradients): recent times in ms, one thread and split
  // (adaptiveSplit), and the calls so far.
  private readonly timing: Record<SplitKind, { times: [number[], number[]]; calls: number }> = {
    gradient: { times: [[], []], calls: 0 },
    jacobian: { times: [[], []], calls: 0 },
  };

  /** @internal Use createMLPPool(). */
  constructor(
    engine: Engine,
    network: MLP<P>,
    workers: PoolWorker[],
    reason: string | undefined,
    minRowsPerThread: number | undefined,
    control?: number,
    minSplitBytes = DEFAULT_MIN_SPLIT_BYTES,
    adaptiveSplit = true,
  ) {
    this.adaptive = adaptiveSplit;
    this.engine = engine;
    const { layout } = network.batchPlan;
    this.control = control === undefined ? undefined : new SplitControl(engine.memory, control, workers.length, splitPhases(layout));
    this.runner = network.batchRunner();
    this.task = splitTask(layout, network.precision, engine.kernels, engine.memory, this.runner.block);
    let weightBytes = 0;
    for (const layer of layout.layers) weightBytes += layer.rows * layer.stride * layout.elementBytes;
    // The Jacobian's backward multiplies every weight by n_L columns where the gradient's does by one.
    const outputs = layout.layers[layout.layers.length - 1].rows;
    this.splitWorth = { gradient: weightBytes >= minSplitBytes, jacobian: (weightBytes * (1 + outputs)) / 2 >= minSplitBytes };
    this.minLayerBytes = Math.min(MIN_SHARED_LAYER_BYTES, minSplitBytes);
    this.network = network;
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
  async gradientBatch<V extends VectorOf<P> = VectorOf<P>>(xs: Readonly<ArrayLike<number>>, out?: V): Promise<V> {
    const job = this.job("gradientBatch", xs, out);
    await this.run("gradient", xs, job);
    return job.gradients!;
  }

  /** a^[L](x_i) and ∇ₓ a^[L](x_i) for m inputs, as MLP.valueAndGradientBatch, split across the threads. */
  async valueAndGradientBatch<V extends VectorOf<P> = VectorOf<P>>(xs: Readonly<ArrayLike<number>>, values?: V, gradients?: V): Promise<{ values: V; gradients: V }> {
    const job = this.job("valueAndGradientBatch", xs, values, gradients);
    await this.run("valueAndGradient", xs, job);
    return { values: job.values!, gradients: job.gradients! };
  }

  /** a^[L](x_i) for m inputs (row-major m × n_L), as MLP.forwardBatch, split across the threads. */
  async forwardBatch<V extends VectorOf<P> = VectorOf<P>>(xs: Readonly<ArrayLike<number>>, out?: V): Promise<V> {
    const job = this.job("forwardBatch", xs, out);
    await this.run("forward", xs, job);
    return job.outputs!;
  }

  /**
   * Row i = ∇ₓ a_{k_i}^[L](x_i), as MLP.gradientOfBatch (k one output index or one per row; options
   * { logit: true } for z_k^[L]), with the rows split across the threads.
   */
  async gradientOfBatch<V extends VectorOf<P> = VectorOf<P>>(
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
   * ∇ₓ a^[L](x) (n_L must be 1), as MLP.gradient, with each layer split across the threads when the network
   * is large enough (MLPPoolOptions.minSplitBytes); equal to one thread's result bit for bit. Resolves to
   * `out` when given. Uses the network's single-input buffers until it resolves (calls queue).
   */
  async gradient<V extends VectorOf<P> = VectorOf<P>>(x: Readonly<ArrayLike<number>>, out?: V): Promise<V> {
    return (await this.single("gradient", x, out)).gradient;
  }

  /** a^[L](x) and ∇ₓ a^[L](x) (n_L must be 1), as MLP.valueAndGradient, split across the threads as gradient is. */
  async valueAndGradient<V extends VectorOf<P> = VectorOf<P>>(x: Readonly<ArrayLike<number>>, out?: V): Promise<{ value: number; gradient: V }> {
    return this.single("valueAndGradient", x, out);
  }

  /** vᵀJ (length n_1; v has n_L entries), as MLP.vjp (softmax and logSoftmax outputs too), split across the threads as gradient is. */
  async vjp<V extends VectorOf<P> = VectorOf<P>>(x: Readonly<ArrayLike<number>>, v: Readonly<ArrayLike<number>>, out?: V): Promise<V> {
    return (await this.single("vjp", x, out, v)).gradient;
  }

  /**
   * ∇ₓ a_k^[L](x), as MLP.gradientOf (any n_L; options { logit: true } for z_k^[L]), split across the
   * threads as gradient is; equal to one thread's result bit for bit. Resolves to `out` when given.
   */
  async gradientOf<V extends VectorOf<P> = VectorOf<P>>(x: Readonly<ArrayLike<number>>, k: number, out?: V, options?: GradientOfOptions): Promise<V> {
    return (await this.single("gradientOf", x, out, undefined, k, options)).gradient;
  }

  /**
   * The Jacobian ∂a^[L]/∂x, row-major n_L × n_1, as MLP.jacobian: the forward pass split as gradient's,
   * each backward step of the n_L columns split into ranges of features (split.ts); equal to one thread's
   * result bit for bit. Resolves to `out` when given. Uses the network's single-input and batch buffers
   * until it resolves (single-input calls queue; batch calls wait for it).
   */
  async jacobian<V extends VectorOf<P> = VectorOf<P>>(x: Readonly<ArrayLike<number>>, out?: V): Promise<V> {
    return (await this.single("jacobian", x, out)).gradient;
  }

  /** Threads the next gradient, valueAndGradient, vjp or gradientOf call runs on (1 for small networks, or while splitting measures slower). */
  get splitThreads(): number {
    return this.splitEligible("gradient") && (!this.adaptive || this.splitFaster("gradient") !== false) ? this.threads : 1;
  }

  /** Threads the next jacobian call runs on (timed apart from the other calls by adaptiveSplit). */
  get jacobianThreads(): number {
    return this.splitEligible("jacobian") && (!this.adaptive || this.splitFaster("jacobian") !== false) ? this.threads : 1;
  }

  /** @internal gradient's recent times (tests). */
  private get times(): [number[], number[]] {
    return this.timing.gradient.times;
  }

  private splitEligible(kind: SplitKind): boolean {
    return this.control !== undefined && this.splitWorth[kind] && this.threads > 1;
  }

  /** Whether split calls of this kind have lately been faster than one-thread ones; undefined until both have 3 times. */
  private splitFaster(kind: SplitKind): boolean | undefined {
    const [one, split] = this.timing[kind].times;
    if (one.length < 3 || split.length < 3) return undefined;
    return median(split) < median(one);
  }

  /** adaptiveSplit: whether this call splits (alternating until both ways have times, then the faster, probing the other). */
  private chooseSplit(kind: SplitKind): boolean {
    const n = this.timing[kind].calls++;
    const faster = this.splitFaster(kind);
    if (faster === undefined) return n % 2 === 0;
    return n % ADAPTIVE_PROBE_EVERY === 0 ? !faster : faster;
  }

  private async single<V extends Vector>(
    method: SplitMethod,
    x: Readonly<ArrayLike<number>>,
    out: V | undefined,
    v?: Readonly<ArrayLike<number>>,
    k?: number,
    options?: GradientOfOptions,
  ): Promise<{ value: number; gradient: V }> {
    // One call at a time owns the network's single-input buffers.
    while (this.splitting !== undefined) await this.splitting.catch(() => {});
    if (this.disposal !== undefined) throw new MLPError("E_DISPOSED", `${method}: the pool was disposed; create a new one with createMLPPool()`);
    const network = this.network;
    const kind: SplitKind = method === "jacobian" ? "jacobian" : "gradient";
    const split = this.splitEligible(kind) && (!this.adaptive || this.chooseSplit(kind));
    const start = performance.now();
    if (!split) {
      const o = out as VectorOf<P> | undefined;
      let result: { value: number; gradient: V };
      if (method === "valueAndGradient") result = network.valueAndGradient(x, o) as unknown as { value: number; gradient: V };
      else {
        const gradient =
          method === "vjp" ? network.vjp(x, v!, o) : method === "gradient" ? network.gradient(x, o) : method === "gradientOf" ? network.gradientOf(x, k!, o, options) : network.jacobian(x, o);
        result = { value: NaN, gradient: gradient as unknown as V };
      }
      this.record(kind, 0, start);
      return result;
    }
    const threads = this.threads;
    const result = network.splitBegin(method, x, out, v, k, options);
    const { layers } = this.task.layout;
    const count = layers.length;
    const top = layers[count - 1];
    let running: Promise<void>;
    if (method === "jacobian") {
      running = this.runJacobian(threads, result);
      this.blockHeld = running;
    } else {
      const chunks = schedule(this.task.layout, threads, this.minLayerBytes);
      // The serial step between the forward and the backward phases: g^[L] from v, or gradientOf's e_k.
      const logit = options?.logit === true;
      const topStep = method === "vjp" ? () => network.splitTop() : method === "gradientOf" ? () => network.gradientOfTop(k!, logit) : undefined;
      running = this.runSplit(threads, GRADIENT, chunks, method === "gradient" || method === "valueAndGradient" ? top.s : top.g, (phase) => {
        if (phase === count) topStep?.();
        finishHalves(this.task, chunks, phase);
      });
    }
    this.splitting = running;
    try {
      await running;
    } finally {
      this.splitting = undefined;
      this.blockHeld = undefined;
    }
    this.record(kind, 1, start);
    return method === "jacobian" ? { value: NaN, gradient: result } : network.splitResult(result);
  }

  /**
   * A split Jacobian into `out` (n_L × n_1): the forward phases, then round by round (JACOBIAN_COLUMNS
   * outputs) the main thread's top step and the layers' shared steps, J's rows copied out between rounds.
   */
  private runJacobian(threads: number, out: Vector): Promise<void> {
    const t = this.task as JacobianBuffers;
    const { layers } = t.layout;
    const count = layers.length;
    const nL = layers[count - 1].rows;
    const steps = count - 1;
    const rounds = jacobianRounds(nL);
    const chunks = jacobianSchedule(t.layout, threads, this.minLayerBytes);
    const top = (r: number) => jacobianTopStep(t, JACOBIAN_COLUMNS * r, jacobianWidth(nL, JACOBIAN_COLUMNS * r));
    return this.runSplit(threads, JACOBIAN, chunks, 0, (phase) => {
      if (phase < count) return;
      if (steps === 0) {
        // One layer: each round is its top step alone, on this thread.
        for (let r = 0; r < rounds; r++) {
          top(r);
          this.runner.jacobianRows(out, JACOBIAN_COLUMNS * r);
        }
      } else if ((phase - count) % steps === 0) {
        // Between rounds: the last round's rows of J out of the block, then the next round's top step.
        const r = (phase - count) / steps;
        if (r > 0) this.runner.jacobianRows(out, JACOBIAN_COLUMNS * (r - 1));
        if (r < rounds) top(r);
      }
      if (phase === chunks.length) this.runner.jacobianOutput(out);
    });
  }

  private record(kind: SplitKind, way: 0 | 1, start: number): void {
    if (!this.adaptive || !this.splitEligible(kind)) return;
    const times = this.timing[kind].times[way];
    times.push(performance.now() - start);
    if (times.length > ADAPTIVE_SAMPLES) times.shift();
  }

  /**
   * Runs the phases of a call of `kind` scheduled as `chunks` on `threads` threads (split.ts), with the
   * main thread's serial steps `between(p)` before it releases phase p, and between(chunks.length) at the end.
   */
  private async runSplit(threads: number, kind: number, chunks: readonly number[], gTop: number, between: (phase: number) => void): Promise<void> {
    const control = this.control!;
    const workers = this.workers.slice(0, threads - 1);
    const call = control.begin(threads, gTop, this.minLayerBytes, kind, chunks.length);
    // A parked worker is claimed through the control block; the others get a message.
    for (const worker of workers) {
      if (control.claim(worker.slot)) continue;
      const job = { id: this.nextId++, kind: "split", control: control.offset, call, slot: worker.slot, slots: control.slots, phases: control.phases } as const;
      worker.run(job).catch(() => {});
    }
    for (let phase = 0; phase < chunks.length; phase++) {
      if (phase > 0) {
        between(phase);
        control.release(phase);
      }
      control.take(this.task, phase, chunks, gTop);
      // Block or spin briefly for the chunks workers hold, then let the event loop run: a worker's death
      // is only reported there.
      while (!control.wait(phase, chunks[phase], SPLIT_WAIT_MS)) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        const dead = workers.find((worker) => worker.failure !== undefined);
        if (dead !== undefined || this.disposal !== undefined) {
          control.abort();
          // Until they have left, the others may still write into the network's buffers.
          while (workers.some((worker) => worker.failure === undefined && !control.hasLeft(worker.slot))) {
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
          if (this.disposal !== undefined) throw new MLPError("E_DISPOSED", "the pool was disposed while this call was running");
          throw workerError(dead!.failure!);
        }
      }
    }
    // gradient: ∇ₓ = (W^[2])ᵀ g^[2] may still be the two halves of its rows; jacobian: the last round's rows.
    between(chunks.length);
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
        if (this.control !== undefined) this.engine.arena.release(this.control.offset, controlBytes(this.control.slots, this.control.phases));
        // Released only now: until a worker has exited it may still be writing into its block.
        for (const { start, bytes } of this.blocks) this.engine.arena.release(start, bytes);
        this.network.dispose();
      });
    }
    return this.disposal;
  }

  private job<V extends VectorOf<P>>(method: BatchMethod, xs: Readonly<ArrayLike<number>>, first?: V, second?: V): BatchJob<V> {
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
    // Chunk 0 runs in the main network's batch block, which a split Jacobian may be using.
    while (this.blockHeld !== undefined) await this.blockHeld.catch(() => {});
    const bounds = this.split(job.m, kind);
    const n1 = this.network.inputSize;
    const nL = this.network.outputSize;
    // Post the workers' chunks first, so they compute while the main thread runs chunk 0.
    const replies: Promise<WorkerReply>[] = [];
    // A worker parked after a split call would read its message only when it stops waiting.
    for (let i = 1; i < bounds.length - 1; i++) this.control?.dismiss(this.workers[i - 1].slot);
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
export function createMLPPool<P extends Precision = "f32">(options: MLPPoolOptions<MLPSpec<P>>): Promise<MLPPool<P>>;
/** As above, for a model read from JSON (names typed string). */
export function createMLPPool<S extends MLPSpecLike>(options: MLPPoolOptions<S & SpecNames<S>>): Promise<MLPPool>;
export function createMLPPool(options: MLPPoolOptions): Promise<MLPPool> {
  return createPoolOn(options, WEB_THREADS);
}

/** @internal createMLPPool on the given platform's threads (pool-node.ts passes Node's). */
export async function createPoolOn(options: MLPPoolOptions, platform: ThreadPlatform): Promise<MLPPool> {
  if (options === null || typeof options !== "object") {
    throw new MLPError("E_OPTIONS", `createMLPPool: expected options { spec, threads? }, got ${describe(options)}`);
  }
  const { spec, threads, minRowsPerThread, workerUrl, minSplitBytes, adaptiveSplit } = options;
  if (workerUrl !== undefined && typeof workerUrl !== "string" && !(typeof URL === "function" && workerUrl instanceof URL)) {
    throw new MLPError("E_OPTIONS", `createMLPPool: workerUrl must be a string or a URL, got ${describe(workerUrl)}`, { expected: "string | URL", actual: workerUrl });
  }
  for (const [name, value] of [["threads", threads], ["minRowsPerThread", minRowsPerThread]] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new MLPError("E_OPTIONS", `createMLPPool: ${name} must be a positive integer, got ${describe(value)}`, { expected: "integer ≥ 1", actual: value });
    }
  }
  if (adaptiveSplit !== undefined && typeof adaptiveSplit !== "boolean") {
    throw new MLPError("E_OPTIONS", `createMLPPool: adaptiveSplit must be true or false, got ${describe(adaptiveSplit)}`, { expected: "boolean", actual: adaptiveSplit });
  }
  if (minSplitBytes !== undefined && !(typeof minSplitBytes === "number" && minSplitBytes >= 0 && !Number.isNaN(minSplitBytes))) {
    throw new MLPError("E_OPTIONS", `createMLPPool: minSplitBytes must be a number ≥ 0 (Infinity: never split), got ${describe(minSplitBytes)}`, {
      expected: "number ≥ 0",
      actual: minSplitBytes,
    });
  }
  const wanted = threads ?? Math.max(1, Math.min(MAX_DEFAULT_THREADS, await platform.hardwareThreads()));
  let reason: string | undefined;
  if (wanted > 1) {
    reason = threadsUnavailable() ?? platform.unavailable();
    if (reason === undefined) {
      const engine = await createEngine({ shared: true });
      const network = engine.createMLP(spec);
      // Plan the main thread's batch block before the workers start, so nothing grows the memory later.
      network.batchRunner();
      const phases = splitPhases(network.batchPlan.layout);
      const control = engine.arena.alloc(controlBytes(wanted - 1, phases), "the control words of the pool's split calls");
      try {
        const workers = await startWorkers(engine, network, wanted - 1, platform, workerUrl);
        return new MLPPool(engine, network, workers, undefined, minRowsPerThread, control, minSplitBytes, adaptiveSplit);
      } catch (error) {
        engine.arena.release(control, controlBytes(wanted - 1, phases));
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
  return new MLPPool(engine, network, [], reason === undefined ? undefined : `runs on one thread: ${reason}`, minRowsPerThread, undefined, minSplitBytes, adaptiveSplit);
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

async function startWorkers(engine: Engine, network: MLP, count: number, platform: ThreadPlatform, url: string | URL | undefined): Promise<PoolWorker[]> {
  const { sizes, precision } = network;
  const { layout, codes, params, output } = network.batchPlan;
  const workers: PoolWorker[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = planBlock(sizes, precision, 0).bytes;
    const start = engine.arena.alloc(bytes, `the batch buffers of worker thread ${i + 1} for the ${precision} network [${sizes.join(", ")}]`);
    workers.push(new PoolWorker({ start, bytes }, i));
  }
  const started = await Promise.allSettled(
    workers.map((worker) =>
      worker.start(platform, url, {
        module: engine.module,
        memory: engine.memory,
        precision,
        sizes: sizes.slice(),
        codes: codes.slice(),
        params: params.map(({ p1, p2 }) => ({ p1, p2 })),
        output,
        layout,
        block: planBlock(sizes, precision, worker.block.start),
        splitBlock: network.batchRunner().block,
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

/** @internal The handle of one worker thread, Node's or the browser's. */
export interface WorkerHandle {
  post(message: WorkerStart | WorkerJob | SplitJob, transfer: ArrayBuffer[]): void;
  /** Node: whether the worker keeps the process alive (only while it has work). */
  keepAlive(on: boolean): void;
  terminate(): Promise<void>;
}

/** Web Workers: browsers, Deno, Bun, and Workers runtimes (which have no Worker: the pool then runs on one thread). */
const WEB_THREADS: ThreadPlatform = {
  hardwareThreads: async () => (typeof navigator === "object" && typeof navigator.hardwareConcurrency === "number" ? navigator.hardwareConcurrency : 1),
  unavailable: () => (typeof Worker === "function" ? undefined : "this runtime has no Worker to run threads in"),
  async spawn(url, receive, fail) {
    let worker: Worker;
    let where: string;
    if (url === undefined) {
      where = 'pool-worker.js beside mlpgrad\'s module (new URL("./pool-worker.js", import.meta.url))';
      try {
        // This exact form lets bundlers (Vite, webpack 5) find the worker's file, bundle it and emit it.
        worker = new Worker(new URL("./pool-worker.js", import.meta.url), { type: "module" });
      } catch (error) {
        // An IIFE or CommonJS bundle has an empty import.meta: new URL(…, undefined) throws.
        throw new Error(`the worker script ${where} could not be located or started (${(error as Error).message}); pass createMLPPool({ workerUrl }) with the URL of mlpgrad's dist/pool-worker.js`);
      }
    } else {
      where = String(url);
      try {
        worker = new Worker(url, { type: "module" });
      } catch (error) {
        throw new Error(`the worker script ${where} could not be started (${(error as Error).message})`);
      }
    }
    let ready = false;
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      ready = true;
      receive(event.data);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      // A module worker that fails to load gives an ErrorEvent without a message in Chromium.
      const what = event.message || (ready ? "the worker threw" : "the script did not load (not found, not JavaScript, or blocked by the page's headers)");
      fail(new Error(ready ? what : `the worker script ${where} failed: ${what}; pass createMLPPool({ workerUrl }) with the URL of mlpgrad's dist/pool-worker.js`));
    };
    worker.onmessageerror = () => fail(new Error("a message from the worker could not be deserialised"));
    return {
      post: (message, transfer) => worker.postMessage(message, transfer),
      keepAlive: () => {},
      terminate: async () => worker.terminate(),
    };
  },
};

type Settle = { resolve(reply: WorkerReply): void; reject(error: unknown): void };

/** @internal One worker thread of a pool: its block of the shared memory and its calls in flight. */
class PoolWorker {
  onFailure: (error: Error) => void = () => {};
  private readonly pending = new Map<number, Settle>();
  private handle: WorkerHandle | undefined;
  /** Why the thread stopped, once it has (failed, or terminated). */
  failure: Error | undefined;

  /** block: its batch buffers; slot: its words in the control block of split calls (split.ts). */
  constructor(
    readonly block: { start: number; bytes: number },
    readonly slot: number,
  ) {}

  /** Starts the thread and resolves once it has instantiated the kernels. */
  async start(platform: ThreadPlatform, url: string | URL | undefined, message: WorkerStart): Promise<void> {
    this.handle = await platform.spawn(
      url,
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

  /** Posts a job (a batch job's xs is transferred) and resolves with the reply. */
  run(job: WorkerJob | SplitJob): Promise<WorkerReply> {
    if (this.failure !== undefined) return Promise.reject(workerError(this.failure));
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.handle!.keepAlive(true);
      this.pending.set(job.id, { resolve, reject });
      this.handle!.post(job, job.kind === "split" ? [] : [job.xs.buffer as ArrayBuffer]);
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

/** What adaptiveSplit times apart: the gradient-like calls, and the Jacobian's. */
type SplitKind = "gradient" | "jacobian";

function median(values: readonly number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

function workerError(cause: Error): MLPError {
  return new MLPError("E_WORKER", `a worker thread failed while running part of the batch (${cause.message}); the pool carries on with the other threads`, { cause });
}
