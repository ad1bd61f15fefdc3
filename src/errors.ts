/** Every failure mlpgrad reports is an MLPError with one of these stable codes. */
export type MLPErrorCode =
  | "E_NO_WASM" // the runtime has no WebAssembly
  | "E_NO_SIMD" // SIMD was demanded but the runtime cannot validate the SIMD build
  | "E_SOURCE" // init(source) or an importer's source: could not be read, fetched or compiled, or is not mlpgrad's kernel module
  | "E_NOT_INITIALIZED" // createMLP() before init() has finished
  | "E_SPEC" // the model is not a plain object (not an object, a key missing or unknown, or reading it threw)
  | "E_SIZES" // sizes: fewer than two, or not positive integers
  | "E_PRECISION" // precision is neither "f32" nor "f64"
  | "E_ACTIVATION" // unknown activation name, or the wrong number of them
  | "E_LAYERS" // layers missing, of the wrong count, or an entry that is not an object
  | "E_SHAPE" // weights or bias missing or of the wrong length
  | "E_NONFINITE" // NaN, ±Infinity, a non-number or a value outside the f32 range in weights, bias, x, xs, v, u or y
  | "E_INPUT" // x, xs, v, u or y is not an array-like of the right length, or eta is not a positive number
  | "E_OUTPUT" // out has the wrong length or element type
  | "E_NOT_SCALAR" // gradient, hvp or parameterGradient on a network whose output is not a scalar
  | "E_LAYER_INDEX" // setLayer(l, …) with l outside 2..L
  | "E_DISPOSED" // any call after dispose()
  | "E_TOO_LARGE" // the network does not fit in WebAssembly memory
  | "E_NO_THREADS" // threads were demanded (requireThreads, createEngine({ shared: true })) but shared memory or workers are unavailable
  | "E_OPTIONS" // an option of createMLPPool has an invalid value (threads not a positive integer…)
  | "E_WORKER" // a worker thread failed or exited while running part of a batch
  | "E_FORMAT" // an imported file is not what it claims: truncated, malformed, sizes or offsets that do not add up
  | "E_UNSUPPORTED" // an imported model uses a feature an MLP cannot represent (a convolution, a branch, an op or dtype)
  | "E_JOB"; // a queue job (mlpgrad/bullmq) failed for a reason other than its rows: bad job data, a model that could not be loaded, a worker that died too often

/** Where a failure happened and what was expected; fields are present only where they apply. */
export interface MLPErrorDetails {
  /** Layer number as in the paper: 1 is the input x, 2..L carry W^[l] and b^[l]. */
  layer?: number;
  /** Index of the offending element (flat, row-major for weights). */
  index?: number;
  expected?: unknown;
  actual?: unknown;
  cause?: unknown;
}

/** The one error class of mlpgrad: `code` is stable, the message says where, what and how to fix it. */
export class MLPError extends Error {
  readonly code: MLPErrorCode;
  readonly layer?: number;
  readonly index?: number;
  readonly expected?: unknown;
  readonly actual?: unknown;

  constructor(code: MLPErrorCode, message: string, details: MLPErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "MLPError";
    this.code = code;
    if (details.layer !== undefined) this.layer = details.layer;
    if (details.index !== undefined) this.index = details.index;
    if (details.expected !== undefined) this.expected = details.expected;
    if (details.actual !== undefined) this.actual = details.actual;
  }
}

/** Describes a value for an error message without dumping it: `Float64Array(3)`, `string`, `null`. Never throws. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  try {
    if (Array.isArray(value)) return `array of length ${value.length}`;
    if (ArrayBuffer.isView(value)) {
      const length = (value as unknown as { length?: number }).length;
      return `${value.constructor.name}(${length ?? value.byteLength})`;
    }
    if (typeof value === "object") {
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return typeof name === "string" && name !== "" ? name : "object";
    }
  } catch {
    // A proxy or a getter that throws: say what it is without reading it.
    return typeof value === "object" ? "object (unreadable)" : typeof value;
  }
  return typeof value === "number" || typeof value === "boolean" ? String(value) : typeof value;
}

/**
 * A value as an error message shows it: numbers, BigInts and symbols as written, strings quoted,
 * anything else described. Never throws (JSON.stringify does on a BigInt, a template literal on a symbol).
 */
export function show(value: unknown): string {
  switch (typeof value) {
    case "number":
    case "boolean":
      return String(value);
    case "bigint":
      return `the BigInt ${String(value)}n`;
    case "symbol":
      return String(value);
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    default:
      return describe(value);
  }
}

/** "1 number", "3 numbers": a count with its noun, singular for 1. */
export function count(n: number, noun: string): string {
  return `${n} ${n === 1 ? noun : `${noun}s`}`;
}
