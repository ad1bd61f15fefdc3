/**
 * The client side of mlpgrad/bullmq: runRows splits the rows of xs (a flat row-major m × n_1 array, or an
 * iterable / async iterable of rows for inputs that do not fit in memory) into jobs of `jobSize` rows,
 * enqueues them on a BullMQ queue with at most `maxInFlight` unfinished at a time (back-pressure: the
 * next job is encoded only when one has finished), and gathers the results in input order.
 *
 * Nothing lost, nothing doubled: job ids are `${runId}.${first}-${end}`, so a job is added once however
 * often it is enqueued (BullMQ ignores an add with an id it holds); a job whose worker died is moved back
 * to waiting by BullMQ's stalled-job check and retried (`attempts`, `backoff`); a result is taken once per
 * job, by id, whether it arrives as a QueueEvents "completed" event or is found by the periodic poll
 * (which also covers events missed while Redis was restarting, and re-adds a job Redis has lost).
 */
import { QueueEvents, type Job, type JobsOptions, type Queue } from "bullmq";
import { readFile } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { MLPError, describe, type MLPErrorCode } from "../errors.js";
import type { ModelJSON, MLPSpec, Precision } from "../model.js";
import type { MLP } from "../network.js";
import {
  JOB_FORMAT,
  ROW_METHODS,
  contentHash,
  decodeValues,
  encodeValues,
  jobId,
  parseFailure,
  type ModelRef,
  type RowMethod,
  type RowsJobData,
  type RowsJobResult,
} from "./protocol.js";

type Rows = Float32Array | Float64Array;

/** Where a run stands, passed to onProgress after every finished job. */
export interface RunProgress {
  /** Rows whose job has finished (completed or failed). */
  rowsDone: number;
  /** All rows of the run, once known (at once for an array xs, at the end for an iterable). */
  rowsTotal?: number;
  jobsCompleted: number;
  jobsFailed: number;
  jobsInFlight: number;
}

/** A job that failed for good: its rows, the MLPError code, and the bad row in the run when there is one. */
export interface JobFailure {
  jobId: string;
  /** First row of the job in the run, and its row count. */
  first: number;
  count: number;
  code: MLPErrorCode | string;
  row?: number;
  message: string;
}

/** Options of runRows. */
export interface RunOptions {
  /** A network, a model object (our JSON format), or a reference that workers load (see ModelRef). */
  model: MLP | ModelJSON | MLPSpec | ModelRef;
  /** The inputs: flat row-major m × n_1, or rows (each n_1 numbers) from an iterable or async iterable. */
  xs: ArrayLike<number> | Iterable<ArrayLike<number>> | AsyncIterable<ArrayLike<number>>;
  /** What to compute per row; default "gradient". */
  method?: RowMethod;
  /** vjp only: v, length n_L. */
  v?: ArrayLike<number>;
  /** n_1; needed only when the model is a { path } or { url } reference and xs is a flat array. */
  inputSize?: number;
  /** Element type the rows travel as; default that of xs (Float32Array → "f32"), else the model's, else "f64". */
  dtype?: Precision;
  /** Rows per job; default 4096 (see docs/many-machines.md for how to choose). */
  jobSize?: number;
  /** Jobs enqueued and not yet finished, at most; default 8. */
  maxInFlight?: number;
  /** Names the run's jobs; enqueueing again with the same runId adds no job twice. Default: a random UUID. */
  runId?: string;
  /** BullMQ job options: tries per job (default 3) and the wait between them (default exponential from 1 s). */
  attempts?: number;
  backoff?: JobsOptions["backoff"];
  /** Job name (BullMQ's first argument of add); default "mlpgrad". */
  jobName?: string;
  /** Called after every finished job. */
  onProgress?: (progress: RunProgress) => void;
  /** Cancels the run: no more jobs are enqueued, waiting ones are removed, and runRows rejects with signal.reason. */
  signal?: AbortSignal;
  /** Events of the queue; default: a QueueEvents on queue.opts.connection, closed at the end. */
  queueEvents?: QueueEvents;
  /** How often unfinished jobs are looked up directly, in ms (covers missed events); default 1000. */
  pollInterval?: number;
  /** Keep finished jobs in Redis (default false: each is removed once its result is gathered). */
  keepJobs?: boolean;
  /** "throw" (default): reject with a RunError once every other job has finished; "collect": resolve with the failures listed. */
  failures?: "throw" | "collect";
}

/** What runRows resolves to: `width` numbers per row, rows in input order; a failed job's rows are NaN. */
export interface RunResult<V extends Rows = Rows> {
  output: V;
  rows: number;
  width: number;
  failures: JobFailure[];
  runId: string;
}

/** runRows' rejection when jobs failed: code and message of the first failure (by row), all failures, and the partial result. */
export class RunError extends MLPError {
  constructor(
    message: string,
    code: MLPErrorCode,
    readonly failures: JobFailure[],
    readonly result: RunResult,
  ) {
    super(code, message, { actual: failures.length });
    this.name = "RunError";
  }
}

interface Chunk {
  index: number;
  first: number;
  count: number;
  rows: Rows;
}

interface Pending {
  chunk: Chunk;
  id: string;
  data: RowsJobData;
}

/** Runs the rows of xs through a model on the workers of `queue`, and gathers the results in input order. */
export async function runRows(queue: Queue, options: RunOptions): Promise<RunResult> {
  const method = options.method ?? "gradient";
  if (!ROW_METHODS.includes(method)) throw new MLPError("E_OPTIONS", `method: expected one of ${ROW_METHODS.join(", ")}, got ${JSON.stringify(method)}`);
  const jobSize = positive("jobSize", options.jobSize ?? 4096);
  const maxInFlight = positive("maxInFlight", options.maxInFlight ?? 8);
  const pollInterval = positive("pollInterval", options.pollInterval ?? 1000);
  const runId = options.runId ?? randomUUID();
  if (typeof runId !== "string" || runId === "" || runId.includes(":")) {
    throw new MLPError("E_OPTIONS", `runId: expected a non-empty string without ":" (BullMQ job ids cannot hold one), got ${JSON.stringify(runId)}`);
  }
  const { ref, inputSize, precision } = await modelRef(options.model, options.inputSize);
  const v = method === "vjp" ? vector(options.v) : undefined;
  const dtype = options.dtype ?? (options.xs instanceof Float32Array ? "f32" : options.xs instanceof Float64Array ? "f64" : precision ?? "f64");
  const signal = options.signal;
  signal?.throwIfAborted();

  const jobOptions: JobsOptions = {
    attempts: options.attempts ?? 3,
    backoff: options.backoff ?? { type: "exponential", delay: 1000 },
    // Kept until gathered (then removed, unless keepJobs); these ages only clean up after an abandoned run.
    removeOnComplete: { age: 7 * 24 * 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };

  const pending = new Map<string, Pending>();
  const results: (Rows | undefined)[] = [];
  const counts: number[] = [];
  const failures: JobFailure[] = [];
  const removals: Promise<unknown>[] = [];
  let width = -1;
  let outType: Precision | undefined;
  let rowsDone = 0;
  let rowsTotal = isArrayLikeOfNumbers(options.xs) ? rowsOf(options.xs, inputSize) : undefined;
  let completed = 0;
  let wake: (() => void) | undefined;
  const changed = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const progress = (): void =>
    options.onProgress?.({ rowsDone, rowsTotal, jobsCompleted: completed, jobsFailed: failures.length, jobsInFlight: pending.size });

  const settle = (id: string, outcome: { result: RowsJobResult } | { reason: string }): void => {
    const entry = pending.get(id);
    if (entry === undefined) return; // another path (event or poll) took it first
    pending.delete(id);
    const { chunk } = entry;
    if ("result" in outcome) {
      const r = outcome.result;
      let values: Rows | undefined;
      try {
        if (r?.format === JOB_FORMAT && r.first === chunk.first && r.count === chunk.count) values = decodeValues(r.data, r.dtype, `result of job ${id}`);
      } catch {
        values = undefined; // reported just below, as a result of the wrong shape
      }
      if (values === undefined || (width >= 0 && r.width !== width) || values.length !== chunk.count * r.width) {
        failures.push({ jobId: id, first: chunk.first, count: chunk.count, code: "E_JOB", message: `job ${id} returned ${describe(r)} instead of rows ${chunk.first}..${chunk.first + chunk.count - 1}: are the workers the same mlpgrad version?` });
      } else {
        width = r.width;
        outType = r.dtype;
        results[chunk.index] = values;
        completed++;
      }
    } else {
      const { code, row, message } = parseFailure(outcome.reason);
      failures.push({ jobId: id, first: chunk.first, count: chunk.count, code, ...(row === undefined ? {} : { row }), message });
    }
    rowsDone += chunk.count;
    progress();
    notify();
    if (!options.keepJobs) removals.push(queue.remove(id).catch(() => 0));
  };

  const onCompleted = ({ jobId: id, returnvalue }: { jobId: string; returnvalue: unknown }): void => {
    if (pending.has(id)) settle(id, { result: returnvalue as RowsJobResult });
  };
  // "failed" also fires for an attempt that will be retried: look at the job before believing it.
  const onFailed = ({ jobId: id }: { jobId: string }): void => {
    if (pending.has(id)) void check(id);
  };

  /** Looks a job up: finished → settle; gone (Redis lost it) → add it again; else leave it. */
  const check = async (id: string): Promise<void> => {
    const entry = pending.get(id);
    if (entry === undefined) return;
    // The state alone first: fetching the job would bring its rows over the wire on every poll.
    const state = await queue.getJobState(id);
    if (state === "unknown") {
      if (pending.has(id)) await queue.add(options.jobName ?? "mlpgrad", entry.data, { ...jobOptions, jobId: id });
      return;
    }
    if (state !== "completed" && state !== "failed") return;
    const job = (await queue.getJob(id)) as Job | undefined;
    if (job === undefined || job === null) return;
    if (state === "completed") settle(id, { result: job.returnvalue as RowsJobResult });
    else settle(id, { reason: job.failedReason });
  };

  // Created last, after every check that can throw, so that nothing is left open on a bad argument.
  const events = options.queueEvents ?? new QueueEvents(queue.name, { connection: queue.opts.connection, prefix: queue.opts.prefix });
  const ownEvents = options.queueEvents === undefined;
  // Connection errors (Redis restarting) are retried by ioredis; unheard, an "error" event would throw.
  const onError = (): void => {};
  events.on("error", onError);
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    Promise.all([...pending.keys()].map((id) => check(id).catch(() => {}))).finally(() => (polling = false));
  }, pollInterval);
  const onAbort = (): void => notify();
  signal?.addEventListener("abort", onAbort);
  events.on("completed", onCompleted);
  events.on("failed", onFailed);

  try {
    await events.waitUntilReady();
    for await (const chunk of chunks(options.xs, inputSize, jobSize, dtype)) {
      while (pending.size >= maxInFlight && !signal?.aborted) await changed();
      if (signal?.aborted) break;
      results.push(undefined);
      counts.push(chunk.count);
      const id = jobId(runId, chunk.first, chunk.first + chunk.count);
      const data: RowsJobData = { format: JOB_FORMAT, model: ref, method, dtype, first: chunk.first, count: chunk.count, inputSize, rows: encodeValues(chunk.rows) };
      if (v !== undefined) data.v = v;
      pending.set(id, { chunk, id, data });
      await queue.add(options.jobName ?? "mlpgrad", data, { ...jobOptions, jobId: id });
      // A job of an earlier enqueue of this run may have finished already; its event is long gone.
      void check(id).catch(() => {});
    }
    if (rowsTotal === undefined) rowsTotal = counts.reduce((a, b) => a + b, 0);
    while (pending.size > 0 && !signal?.aborted) await changed();
    await Promise.all(removals);
    if (signal?.aborted) throw signal.reason;
  } catch (error) {
    // Cancelled, or xs failed mid-way: take back the jobs that have not started (a running one cannot be removed).
    await Promise.all([...pending.keys()].map((id) => queue.remove(id).catch(() => 0)));
    throw error;
  } finally {
    clearInterval(timer);
    signal?.removeEventListener("abort", onAbort);
    events.off("completed", onCompleted);
    events.off("failed", onFailed);
    if (ownEvents) await events.close();
    events.off("error", onError);
  }

  const result = gather(results, counts, Math.max(width, 0), outType ?? dtype, runId, failures);
  if (failures.length > 0 && options.failures !== "collect") {
    failures.sort((a, b) => a.first - b.first);
    const f = failures[0];
    const code = (f.code.startsWith("E_") ? f.code : "E_JOB") as MLPErrorCode;
    const others = failures.length === 1 ? "" : ` (and ${failures.length - 1} more failed jobs)`;
    throw new RunError(
      `job ${f.jobId} (rows ${f.first}..${f.first + f.count - 1}) failed${others}: ${f.message}; the other ${completed} jobs completed (pass failures: "collect" to get their results)`,
      code,
      failures,
      result,
    );
  }
  return result;
}

/** The chunks' results, one after the other; a failed chunk's rows are NaN. */
function gather(results: (Rows | undefined)[], counts: number[], width: number, dtype: Precision, runId: string, failures: JobFailure[]): RunResult {
  const rows = counts.reduce((a, b) => a + b, 0);
  const output = dtype === "f32" ? new Float32Array(rows * width) : new Float64Array(rows * width);
  let at = 0;
  for (let i = 0; i < counts.length; i++) {
    const part = results[i];
    if (part === undefined) output.fill(NaN, at, at + counts[i] * width);
    else output.set(part, at);
    at += counts[i] * width;
  }
  return { output, rows, width, failures, runId };
}

/** Blocks of up to jobSize rows, as typed arrays of dtype (views of xs when it already is one). */
async function* chunks(xs: RunOptions["xs"], n: number, jobSize: number, dtype: Precision): AsyncGenerator<Chunk> {
  const Type = dtype === "f32" ? Float32Array : Float64Array;
  if (isArrayLikeOfNumbers(xs)) {
    const m = rowsOf(xs, n);
    for (let first = 0, index = 0; first < m; first += jobSize, index++) {
      const count = Math.min(jobSize, m - first);
      const rows = xs instanceof Type ? xs.subarray(first * n, (first + count) * n) : copyRows(Type, xs, first * n, count * n);
      yield { index, first, count, rows };
    }
    return;
  }
  if (xs === null || typeof xs !== "object" || (!(Symbol.asyncIterator in xs) && !(Symbol.iterator in xs))) {
    throw new MLPError("E_INPUT", `xs: expected a flat array of m × n_1 numbers or an (async) iterable of rows, got ${describe(xs)}`);
  }
  let block = new Type(jobSize * n);
  let count = 0;
  let first = 0;
  let index = 0;
  for await (const row of xs as AsyncIterable<ArrayLike<number>>) {
    if (row === null || typeof row !== "object" || row.length !== n) {
      throw new MLPError("E_INPUT", `xs row ${first + count}: expected n_1 = ${n} numbers, got ${row !== null && typeof row === "object" ? row.length : describe(row)}`, {
        layer: 1,
        expected: n,
      });
    }
    block.set(row, count * n);
    if (++count === jobSize) {
      yield { index: index++, first, count, rows: block };
      first += count;
      count = 0;
      block = new Type(jobSize * n);
    }
  }
  if (count > 0) yield { index, first, count, rows: block.subarray(0, count * n) };
}

function copyRows(Type: Float32ArrayConstructor | Float64ArrayConstructor, xs: ArrayLike<number>, from: number, length: number): Rows {
  const rows = new Type(length);
  for (let k = 0; k < length; k++) rows[k] = xs[from + k];
  return rows;
}

function isArrayLikeOfNumbers(xs: unknown): xs is ArrayLike<number> {
  return ArrayBuffer.isView(xs) || Array.isArray(xs);
}

function rowsOf(xs: ArrayLike<number>, n: number): number {
  if (xs.length % n !== 0) {
    throw new MLPError("E_INPUT", `xs: expected m rows of n_1 = ${n} numbers (flat, row-major m × n_1), got ${xs.length} numbers`, { layer: 1, expected: n, actual: xs.length });
  }
  return xs.length / n;
}

function positive(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new MLPError("E_OPTIONS", `${name}: expected a positive integer, got ${describe(value)}`, { actual: value });
  }
  return value;
}

function vector(v: ArrayLike<number> | undefined): number[] {
  if (v === undefined || v === null || typeof v !== "object" || typeof v.length !== "number") {
    throw new MLPError("E_INPUT", `v: method "vjp" needs v, an array of n_L numbers, got ${describe(v)}`);
  }
  const list = Array.from(v);
  const bad = list.findIndex((value) => typeof value !== "number" || !Number.isFinite(value));
  if (bad >= 0) throw new MLPError("E_NONFINITE", `v[${bad}] is ${String(list[bad])}: v must hold finite numbers`, { index: bad, actual: list[bad] });
  return list;
}

/** The reference jobs carry, n_1, and the precision when known; hashes inline models and local files. */
async function modelRef(model: RunOptions["model"], inputSize: number | undefined): Promise<{ ref: ModelRef; inputSize: number; precision?: Precision }> {
  if (model === null || typeof model !== "object") throw new MLPError("E_SPEC", `model: expected a network, a model object or { path } / { url }, got ${describe(model)}`);
  if ("toJSON" in model && typeof model.toJSON === "function" && "inputSize" in model) {
    const json = (model as MLP).toJSON();
    return { ref: { json, hash: contentHash(JSON.stringify(json)) }, inputSize: json.sizes[0], precision: json.precision };
  }
  if ("sizes" in model) {
    const spec = model as MLPSpec;
    return { ref: { json: spec, hash: contentHash(JSON.stringify(spec)) }, inputSize: spec.sizes[0], precision: spec.precision ?? "f32" };
  }
  const ref = model as ModelRef;
  if ("json" in ref) {
    const text = typeof ref.json === "string" ? ref.json : JSON.stringify(ref.json);
    const spec = (typeof ref.json === "string" ? JSON.parse(ref.json) : ref.json) as MLPSpec;
    return { ref: { json: ref.json, hash: ref.hash ?? contentHash(text) }, inputSize: spec.sizes[0], precision: spec.precision ?? "f32" };
  }
  if (!("path" in ref) && !("url" in ref)) throw new MLPError("E_SPEC", `model: expected a network, a model object, { json }, { path } or { url }, got keys ${Object.keys(model).join(", ")}`);
  // A file the client can read too is hashed here, so workers refuse it if it changes while the run is
  // in the queue; its sizes give n_1 and its precision the rows' default dtype.
  let hash = ref.hash;
  let precision: Precision | undefined;
  if ("path" in ref && (hash === undefined || inputSize === undefined)) {
    const bytes = await readFile(ref.path).catch(() => undefined);
    if (bytes !== undefined) {
      hash ??= contentHash(bytes);
      // Parsing a big model only for n_1 costs time (≈ 0.2 s for 20 MB): pass inputSize to skip it.
      if (inputSize === undefined) {
        try {
          const spec = JSON.parse(new TextDecoder().decode(bytes)) as MLPSpec;
          inputSize = spec.sizes[0];
          precision = spec.precision ?? "f32";
        } catch {
          // Not JSON: the workers will say so, with the job's failure.
        }
      }
    }
  }
  if (inputSize === undefined || !Number.isSafeInteger(inputSize) || inputSize < 1) {
    throw new MLPError("E_OPTIONS", `inputSize: a { path } or { url } model that this process cannot read needs inputSize (n_1) to split xs into rows, got ${describe(inputSize)}`);
  }
  return { ref: hash === undefined ? ref : { ...ref, hash }, inputSize, precision };
}
