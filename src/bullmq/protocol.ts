/**
 * The wire format of mlpgrad's queue jobs (mlpgrad/bullmq), shared by the client and the processor.
 *
 * A job is one contiguous block of input rows x_first … x_{first+count−1} of a run (rows of xs, each n_1
 * numbers) and a model reference; its result is the same rows of the chosen method's output:
 *
 *   gradient  ∇ₓ a^[L](x_i)                 n_1 numbers a row   (n_L must be 1)
 *   value     a^[L](x_i)                    n_L numbers a row
 *   jacobian  J(x_i) = ∂a^[L]/∂x, row-major  n_L·n_1 numbers a row
 *   vjp       vᵀ J(x_i), one v for the run   n_1 numbers a row
 *
 * Numbers travel as base64 of little-endian Float32 or Float64 values, never as JSON numbers: exact, and a
 * third of the size of decimal text for f32. A job's id is `${runId}.${first}-${end}` (end exclusive), so
 * re-enqueueing a run with the same runId finds the jobs already there instead of doubling them.
 */
import { createHash } from "node:crypto";
import { MLPError, describe } from "../errors.js";
import type { ModelJSON, MLPSpec, Precision } from "../model.js";

/** The version tag every job and result carries; a processor refuses other versions. */
export const JOB_FORMAT = "mlpgrad-rows/1";

/** What a job computes for each of its rows. */
export type RowMethod = "gradient" | "value" | "jacobian" | "vjp";

/** The methods, for checks and messages. */
export const ROW_METHODS: readonly RowMethod[] = ["gradient", "value", "jacobian", "vjp"];

/**
 * Where a worker finds the model: inline (our JSON model format, as an object or its text), or a file
 * path / URL (file:, http:, https:) that each worker process loads once. `hash` is the SHA-256 (hex) of
 * the model's canonical text (inline: JSON.stringify of the object; path/URL: the bytes): workers cache
 * one network per hash, and refuse a file whose content no longer has the hash the run was enqueued with.
 */
export type ModelRef =
  | { json: ModelJSON | MLPSpec | string; hash?: string }
  | { path: string; hash?: string }
  | { url: string; hash?: string };

/** The data of one job. */
export interface RowsJobData {
  format: typeof JOB_FORMAT;
  model: ModelRef;
  method: RowMethod;
  /** Element type of `rows`. */
  dtype: Precision;
  /** Index, in the whole run, of this job's first row (errors name global rows). */
  first: number;
  /** Rows in this job. */
  count: number;
  /** n_1: numbers per input row. */
  inputSize: number;
  /** base64 of count × n_1 little-endian values, row-major. */
  rows: string;
  /** vjp only: v, length n_L. */
  v?: number[];
}

/** What a job returns: `width` numbers for each of its `count` rows, in the network's precision. */
export interface RowsJobResult {
  format: typeof JOB_FORMAT;
  first: number;
  count: number;
  width: number;
  dtype: Precision;
  /** base64 of count × width little-endian values, row-major. */
  data: string;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** base64 of the little-endian bytes of a Float32Array / Float64Array. */
export function encodeValues(values: Float32Array | Float64Array): string {
  let bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (!LITTLE_ENDIAN) bytes = swapped(bytes, values.BYTES_PER_ELEMENT);
  return bytes.toString("base64");
}

/** The values of encodeValues(…) back, as a new array of `dtype`; E_INPUT when the length is not whole. */
export function decodeValues(text: unknown, dtype: Precision, what: string): Float32Array | Float64Array {
  if (typeof text !== "string") throw new MLPError("E_INPUT", `${what}: expected a base64 string, got ${describe(text)}`);
  const size = dtype === "f32" ? 4 : 8;
  let bytes: Buffer = Buffer.from(text, "base64");
  if (bytes.byteLength % size !== 0) {
    throw new MLPError("E_INPUT", `${what}: ${bytes.byteLength} bytes is not a whole number of ${dtype} values (${size} bytes each)`, {
      expected: size,
      actual: bytes.byteLength,
    });
  }
  if (!LITTLE_ENDIAN) bytes = swapped(bytes, size);
  const length = bytes.byteLength / size;
  // Large decodes get a buffer of their own, at offset 0: view it. Small ones may be a slice of Node's
  // shared pool at any offset, so those are copied into a fresh, aligned buffer.
  if (bytes.byteOffset % size === 0) return dtype === "f32" ? new Float32Array(bytes.buffer, bytes.byteOffset, length) : new Float64Array(bytes.buffer, bytes.byteOffset, length);
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return dtype === "f32" ? new Float32Array(copy) : new Float64Array(copy);
}

function swapped(bytes: Buffer, size: number): Buffer {
  const out = Buffer.alloc(bytes.byteLength);
  out.set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (size === 4) out.swap32();
  else out.swap64();
  return out;
}

/** SHA-256 (hex) of a string or bytes: the key a model is cached under. */
export function contentHash(content: string | ArrayBufferView): string {
  const data = typeof content === "string" ? content : new Uint8Array(content.buffer, content.byteOffset, content.byteLength);
  return createHash("sha256").update(data).digest("hex");
}

/** The id of the job holding rows first..end−1 (end exclusive) of run `runId`. */
export function jobId(runId: string, first: number, end: number): string {
  return `${runId}.${first}-${end}`;
}

/** Numbers per result row of a method for a network n_1 → n_L. */
export function resultWidth(method: RowMethod, inputSize: number, outputSize: number): number {
  return method === "value" ? outputSize : method === "jacobian" ? outputSize * inputSize : inputSize;
}

/**
 * The text of a job's failure: `[CODE row R] message` (row omitted when the failure has none). BullMQ keeps
 * only a failed job's message, so the code and the global row travel in it; parseFailure reads them back.
 */
export function failureText(code: string, row: number | undefined, message: string): string {
  return `[${code}${row === undefined ? "" : ` row ${row}`}] ${message}`;
}

/** The code and row of failureText(…) back; anything else (a crash, a stall) is E_JOB without a row. */
export function parseFailure(text: string | undefined): { code: string; row?: number; message: string } {
  const match = /^\[(E_[A-Z_]+)(?: row (\d+))?\] ([\s\S]*)$/.exec(text ?? "");
  if (match === null) return { code: "E_JOB", message: text ?? "the job failed without a reason" };
  return match[2] === undefined ? { code: match[1], message: match[3] } : { code: match[1], row: Number(match[2]), message: match[3] };
}
