/**
 * The worker side of mlpgrad/bullmq: a BullMQ processor that runs one job of rows (protocol.ts) through
 * the batched kernels and returns the results as binary.
 *
 * Each worker process keeps one engine (the default one of init(), or the one given) and one network per
 * model, keyed by the SHA-256 of the model's text, so a model file is read and its weights copied into
 * WebAssembly memory once per process, not once per job. A job that fails because of what it carries (a
 * non-finite input, a wrong length, a bad model) throws BullMQ's UnrecoverableError with the MLPError code
 * and the row in the run, so BullMQ fails it at once instead of retrying it; anything else (a model URL
 * that did not answer) is an ordinary error that the job's `attempts` retry.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { UnrecoverableError } from "bullmq";
import type { Engine } from "../engine.js";
import { MLPError, describe } from "../errors.js";
import { init } from "../init.js";
import type { MLPSpec } from "../model.js";
import type { MLP, Vector } from "../network.js";
import {
  JOB_FORMAT,
  ROW_METHODS,
  contentHash,
  decodeValues,
  encodeValues,
  failureText,
  resultWidth,
  type ModelRef,
  type RowsJobData,
  type RowsJobResult,
} from "./protocol.js";

/** Options of createProcessor. */
export interface ProcessorOptions {
  /** The engine networks are built in; default: init()'s engine of this process. */
  engine?: Engine | Promise<Engine>;
  /** Networks kept per process (least recently used dropped first); default 4. */
  maxModels?: number;
}

/** The part of a BullMQ Job that the processor reads (a sandboxed job is a plain copy of it). */
export interface RowsJob {
  id?: string;
  data: RowsJobData;
}

/** A BullMQ processor: pass it to `new Worker(queueName, createProcessor(), options)`. */
export type RowsProcessor = (job: RowsJob) => Promise<RowsJobResult>;

/** A processor with its own model cache; one per worker process is what you want. */
export function createProcessor(options: ProcessorOptions = {}): RowsProcessor {
  const models = new ModelCache(options.engine ?? init(), options.maxModels ?? 4);
  return (job) => processRows(job, models);
}

/** One network per model text, built on first use; concurrent first uses share one build. */
export class ModelCache {
  private readonly byKey = new Map<string, Promise<MLP>>();

  constructor(
    private readonly engine: Engine | Promise<Engine>,
    private readonly limit: number,
  ) {}

  /** The network of a model reference, loading and building it if this process has not yet. */
  get(ref: ModelRef): Promise<MLP> {
    const key = ref.hash !== undefined ? ref.hash : "json" in ref ? undefined : "path" in ref ? `path:${ref.path}` : `url:${ref.url}`;
    const found = key === undefined ? undefined : this.byKey.get(key);
    if (found !== undefined) {
      // Most recently used last, so eviction drops the oldest.
      this.byKey.delete(key!);
      this.byKey.set(key!, found);
      return found;
    }
    const built = this.build(ref, key);
    if (key !== undefined) this.remember(key, built);
    return built;
  }

  private async build(ref: ModelRef, key: string | undefined): Promise<MLP> {
    const { text, hash } = await loadModel(ref);
    if (ref.hash !== undefined && ref.hash !== hash) {
      throw new UnrecoverableError(
        failureText("E_JOB", undefined, `model ${where(ref)} has SHA-256 ${hash}, but the run was enqueued for ${ref.hash}: the model changed after enqueueing; enqueue the run again with a new runId`),
      );
    }
    // The same text under another key (a path, then its hash; or inline again): one network for both.
    if (key === hash) return this.parse(text, ref);
    const same = this.byKey.get(hash);
    if (same !== undefined) return same;
    const network = this.parse(text, ref);
    this.remember(hash, network);
    return network;
  }

  private async parse(text: string, ref: ModelRef): Promise<MLP> {
    let spec: MLPSpec;
    try {
      spec = JSON.parse(text) as MLPSpec;
    } catch (error) {
      throw new UnrecoverableError(failureText("E_SPEC", undefined, `model ${where(ref)} is not JSON: ${(error as Error).message}`));
    }
    try {
      return (await this.engine).createMLP(spec);
    } catch (error) {
      if (error instanceof MLPError) throw new UnrecoverableError(failureText(error.code, undefined, `model ${where(ref)}: ${error.message}`));
      throw error;
    }
  }

  private remember(key: string, network: Promise<MLP>): void {
    this.byKey.set(key, network);
    // A failed load is forgotten, so a retry loads again.
    network.catch(() => {
      if (this.byKey.get(key) === network) this.byKey.delete(key);
    });
    while (this.byKey.size > this.limit) {
      const [oldest, dropped] = this.byKey.entries().next().value as [string, Promise<MLP>];
      this.byKey.delete(oldest);
      // Another key may name the same network (a path and its hash); dispose only when none does.
      if (![...this.byKey.values()].includes(dropped)) dropped.then((n) => n.dispose(), () => {});
    }
  }
}

/** Where a model reference points, for messages. */
function where(ref: ModelRef): string {
  return "json" in ref ? "(inline JSON)" : "path" in ref ? JSON.stringify(ref.path) : JSON.stringify(ref.url);
}

/** The model's text and its SHA-256; a file or URL that cannot be read is an ordinary (retried) error. */
async function loadModel(ref: ModelRef): Promise<{ text: string; hash: string }> {
  if (ref === null || typeof ref !== "object") {
    throw new UnrecoverableError(failureText("E_JOB", undefined, `model: expected { json }, { path } or { url }, got ${describe(ref)}`));
  }
  if ("json" in ref) {
    const text = typeof ref.json === "string" ? ref.json : JSON.stringify(ref.json);
    return { text, hash: contentHash(text) };
  }
  let bytes: ArrayBufferView;
  if ("path" in ref && typeof ref.path === "string") {
    bytes = await readFile(ref.path);
  } else if ("url" in ref && typeof ref.url === "string") {
    const url = new URL(ref.url);
    if (url.protocol === "file:") bytes = await readFile(fileURLToPath(url));
    else {
      const response = await fetch(url);
      if (!response.ok) throw new Error(failureText("E_JOB", undefined, `model ${url.href}: HTTP ${response.status} ${response.statusText}`));
      bytes = new Uint8Array(await response.arrayBuffer());
    }
  } else {
    throw new UnrecoverableError(failureText("E_JOB", undefined, `model: expected { json }, { path: string } or { url: string }, got keys ${Object.keys(ref).join(", ")}`));
  }
  return { text: new TextDecoder().decode(bytes), hash: contentHash(bytes) };
}

/** Runs one job with a given cache: checks its data, computes every row, encodes the result. */
export async function processRows(job: RowsJob, models: ModelCache): Promise<RowsJobResult> {
  const data = checkData(job.data);
  const network = await models.get(data.model);
  const first = data.first;
  const n1 = network.inputSize;
  if (data.inputSize !== n1) {
    throw unrecoverable(new MLPError("E_INPUT", `job ${job.id}: rows have ${data.inputSize} numbers each, but the model's n_1 is ${n1}`, { expected: n1, actual: data.inputSize }));
  }
  const xs = decodeValues(data.rows, data.dtype, `job ${job.id} rows`);
  if (xs.length !== data.count * n1) {
    throw unrecoverable(new MLPError("E_INPUT", `job ${job.id}: expected ${data.count} rows × ${n1} = ${data.count * n1} numbers, got ${xs.length}`, { expected: data.count * n1, actual: xs.length }));
  }
  const width = resultWidth(data.method, n1, network.outputSize);
  let out: Vector;
  try {
    out = await run(network, data, xs, width);
  } catch (error) {
    if (!(error instanceof MLPError)) throw error;
    throw unrecoverable(error, first, n1, job.id);
  }
  return { format: JOB_FORMAT, first, count: data.count, width, dtype: network.precision, data: encodeValues(out) };
}

/**
 * Rows per slice of a job. Between slices the processor yields to the event loop, so that BullMQ can
 * renew the job's lock (every lockDuration / 2) while a long job runs in process: a job that blocked the
 * loop for longer than lockDuration would be taken for stalled and run again elsewhere. A multiple of the
 * kernels' 64-row block (BATCH_BLOCK), so slicing leaves every result bit for bit as one call gives it.
 */
export const SLICE_ROWS = 512;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The rows through the method, slice by slice; batch methods run the blocked kernels, per-row ones loop. */
async function run(network: MLP, data: RowsJobData, xs: Float32Array | Float64Array, width: number): Promise<Vector> {
  const n1 = network.inputSize;
  const out = network.precision === "f32" ? new Float32Array(data.count * width) : new Float64Array(data.count * width);
  for (let r0 = 0; r0 < data.count; r0 += SLICE_ROWS) {
    const rows = Math.min(SLICE_ROWS, data.count - r0);
    try {
      if (data.method === "gradient" || data.method === "value") {
        const slice = xs.subarray(r0 * n1, (r0 + rows) * n1);
        const into = out.subarray(r0 * width, (r0 + rows) * width);
        if (data.method === "gradient") network.gradientBatch(slice, into);
        else network.forwardBatch(slice, into);
      } else {
        for (let r = r0; r < r0 + rows; r++) rowAt(network, data, xs, out, r, width, r0);
      }
    } catch (error) {
      // Report the element as if the job's rows were one flat xs, as one batch call would.
      if (error instanceof MLPError && error.code === "E_NONFINITE" && error.layer === 1) {
        throw new MLPError("E_NONFINITE", error.message, { layer: 1, index: r0 * n1 + (error.index ?? 0), actual: error.actual });
      }
      throw error;
    }
    if (r0 + rows < data.count) await nextTurn();
  }
  return out;
}

/** Row r of a per-row method (jacobian, vjp) into its place in out; errors index from the slice start r0. */
function rowAt(network: MLP, data: RowsJobData, xs: Float32Array | Float64Array, out: Vector, r: number, width: number, r0: number): void {
  const n1 = network.inputSize;
  const x = xs.subarray(r * n1, (r + 1) * n1);
  const into = out.subarray(r * width, (r + 1) * width);
  try {
    if (data.method === "jacobian") network.jacobian(x, into);
    else network.vjp(x, data.v ?? [], into);
  } catch (error) {
    if (error instanceof MLPError && error.code === "E_NONFINITE" && error.layer === 1) {
      throw new MLPError("E_NONFINITE", error.message, { layer: 1, index: (r - r0) * n1 + (error.index ?? 0), actual: error.actual });
    }
    throw error;
  }
}

/**
 * BullMQ's UnrecoverableError for an MLPError; a non-finite input (layer 1) is named by its row in the
 * whole run and its column, whatever job it was in.
 */
function unrecoverable(error: MLPError, first?: number, n1?: number, id?: string): UnrecoverableError {
  if (error.code === "E_NONFINITE" && error.layer === 1 && error.index !== undefined && first !== undefined && n1 !== undefined) {
    const local = Math.floor(error.index / n1);
    const column = error.index % n1;
    const row = first + local;
    const shown = typeof error.actual === "number" ? String(error.actual) : describe(error.actual);
    return new UnrecoverableError(
      failureText(
        error.code,
        row,
        `row ${row} of the run (row ${local} of job ${id}), column ${column}, is ${shown}: inputs must be finite numbers (within the f32 range for an f32 network); fix or drop that row and enqueue its rows again`,
      ),
    );
  }
  return new UnrecoverableError(failureText(error.code, undefined, error.message));
}

/** Checks the fields of a job's data (it crossed a network: validate before use). */
function checkData(data: unknown): RowsJobData {
  const fail = (message: string): never => {
    throw unrecoverable(new MLPError("E_INPUT", `job data: ${message}`));
  };
  if (data === null || typeof data !== "object") return fail(`expected an object, got ${describe(data)}`);
  const d = data as Partial<RowsJobData>;
  if (d.format !== JOB_FORMAT) fail(`format ${JSON.stringify(d.format)} is not ${JSON.stringify(JOB_FORMAT)}: enqueue with the same mlpgrad version as the workers`);
  if (!ROW_METHODS.includes(d.method!)) fail(`method ${JSON.stringify(d.method)}: expected one of ${ROW_METHODS.join(", ")}`);
  if (d.dtype !== "f32" && d.dtype !== "f64") fail(`dtype ${JSON.stringify(d.dtype)}: expected "f32" or "f64"`);
  for (const key of ["first", "count", "inputSize"] as const) {
    const value = d[key];
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) fail(`${key}: expected a non-negative integer, got ${describe(value)}`);
  }
  if (d.method === "vjp" && !Array.isArray(d.v)) fail(`vjp needs v, an array of n_L numbers; got ${describe(d.v)}`);
  return d as RowsJobData;
}
