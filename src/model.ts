/**
 * The model format: the plain object createMLP takes, which is also the JSON model file.
 *
 *   { sizes: [n_1, …, n_L],
 *     activations: σ | [σ for layer 2, …, σ for layer L],   σ = "relu" | { name: "leakyRelu", alpha: 0.2 } | …
 *     precision: "f32" | "f64",
 *     layers: [{ weights, bias } for l = 2..L] }
 *
 * weights of layer l is W^[l], n_l × n_{l-1}, row-major [out][in]: flat (length n_l·n_{l-1}) or an array
 * of n_l rows of n_{l-1} numbers. bias is b^[l], length n_l. Validation happens here, once, before any
 * number reaches WebAssembly memory. Activations (names, parameters, aliases, softmax) are checked by
 * src/activation.ts; docs/model-format.md documents the whole format.
 */
import { checkActivations, type Activation, type ActivationAlias, type ActivationName, type ActivationSpec, type OutputKind } from "./activation.js";
import { MLPError, count, describe, show, type MLPErrorCode } from "./errors.js";

/** Element precision of a network's weights and arithmetic. */
export type Precision = "f32" | "f64";

/** W^[l]: flat row-major n_l × n_{l-1} numbers, or n_l rows of n_{l-1} numbers. */
export type WeightsLike = ArrayLike<number> | ArrayLike<ArrayLike<number>>;

/** Parameters of one layer l = 2..L. */
export interface LayerSpec {
  weights: WeightsLike;
  bias: ArrayLike<number>;
}

/**
 * What createMLP takes; JSON.parse of a model file is one. P is the precision, so that the network's
 * results are typed Float32Array ("f32", the default) or Float64Array ("f64").
 */
export interface MLPSpec<P extends Precision = Precision> {
  sizes: ArrayLike<number>;
  /**
   * One activation for all layers 2..L, or L−1 of them; each a name or { name, …parameters }
   * (see docs/model-format.md). Default "sigmoid".
   */
  activations?: ActivationSpec | readonly ActivationSpec[];
  layers: ArrayLike<LayerSpec>;
  /** Default "f32". */
  precision?: P;
}

/**
 * A model whose names TypeScript has widened to `string`, as it types `import model from "./model.json"
 * with { type: "json" }`: createMLP accepts it, checks precision and activations at run time, and types
 * the network's results Float32Array | Float64Array.
 */
export interface MLPSpecLike {
  sizes: ArrayLike<number>;
  activations?: string | { readonly name: string } | readonly (string | { readonly name: string })[];
  layers: ArrayLike<LayerSpec>;
  precision?: string;
}

// A string-literal type T that is not one of Allowed becomes Allowed (so a misspelt literal fails to
// type-check); `string` itself, as JSON imports type names, passes to the run-time checks.
type KnownOrString<T, Allowed> = T extends string ? (string extends T ? T : T extends Allowed ? T : Allowed) : T;

/**
 * The names of a loose spec S, with any string-literal precision or activation name that is not a known
 * one turned into the known ones: `S & SpecNames<S>` refuses `precision: "f16"` written in code and
 * accepts the `string` of a JSON import.
 */
export type SpecNames<S extends MLPSpecLike> = {
  precision?: KnownOrString<S["precision"], Precision>;
  activations?: S["activations"] extends readonly (infer E)[]
    ? readonly KnownOrString<E, ActivationName | ActivationAlias>[]
    : KnownOrString<S["activations"], ActivationName | ActivationAlias>;
};

/** What toJSON returns: an MLPSpec with plain arrays, flat weights. */
export interface ModelJSON<P extends Precision = Precision> {
  sizes: number[];
  activations: ActivationSpec | ActivationSpec[];
  precision: P;
  layers: { weights: number[]; bias: number[] }[];
}

/** The checked, normalised parts of a spec that the memory planner needs. */
export interface CheckedSpec {
  sizes: number[];
  activations: ActivationName[];
  codes: number[];
  /** Each layer's checked activation (code and parameters p1, p2 for the plan). */
  layerActivations: Activation[];
  /** softmax / logSoftmax applied to the last layer's logits, or "none". */
  output: OutputKind;
  /** The activations field as toJSON writes it. */
  activationsJSON: ActivationSpec | ActivationSpec[];
  precision: Precision;
  /** The n_L−1 layer entries as they were read (once); checkLayer checks each. */
  layers: unknown[];
}

const F32_MAX = 3.4028234663852886e38;
/**
 * The most layers a model may have. Nothing deeper is a sensible MLP, and the bound keeps a hostile
 * `sizes` ({ length: 1e12 }, or a proxy) from running the checks for minutes before failing.
 */
export const MAX_LAYERS = 65536;

/** What a thrown exception says, for the message of the MLPError that replaces it. */
function thrown(cause: unknown): string {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : show(cause);
}

/** The error for a model part whose reading threw (a getter or a proxy): it is not plain data. */
export function unreadable(what: string, cause: unknown): MLPError {
  if (cause instanceof MLPError) return cause;
  return new MLPError(
    "E_SPEC",
    `${what}: reading it threw ${thrown(cause)}; a model must be plain data (objects, arrays, typed arrays, as JSON.parse gives)`,
    { cause },
  );
}

/**
 * obj[key] when it is obj's own property, else undefined. Read once (a getter runs once); inherited
 * properties are ignored so that a polluted Object.prototype cannot change a model. An own
 * "__proto__" key (JSON.parse makes one) is refused: in an object literal it would set the prototype.
 */
function own(obj: object, key: string, where: string): unknown {
  try {
    if (Object.prototype.hasOwnProperty.call(obj, "__proto__")) {
      throw new MLPError("E_SPEC", `${where}: the key "__proto__" is not part of the model format; remove it`, { actual: "__proto__" });
    }
    return Object.prototype.hasOwnProperty.call(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
  } catch (cause) {
    throw unreadable(`${where}.${key}`, cause);
  }
}

/** For a message about a missing key: the keys obj does have, e.g. ` (it has: kernel, bias)`. */
function keysOf(obj: object): string {
  try {
    const keys = Object.keys(obj).slice(0, 8);
    return keys.length === 0 ? " (it has no keys)" : ` (it has: ${keys.join(", ")})`;
  } catch {
    return "";
  }
}

/** Whether key is obj's, but only inherited (for "missing" messages). */
function inherited(obj: object, key: string): boolean {
  try {
    return key in obj && !Object.prototype.hasOwnProperty.call(obj, key);
  } catch {
    return false;
  }
}

// The `length` getter of typed arrays, which an own property of the instance cannot shadow.
const typedArrayLength = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), "length")!.get!;
const typedArraySubarray = Object.getPrototypeOf(Uint8Array.prototype).subarray as (this: ArrayLike<number>, a: number, b: number) => ArrayLike<number>;

/** Flat typed arrays whose elements are numbers (not BigInt, not DataView). */
function isNumericTypedArray(value: unknown): value is ArrayLike<number> {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) && !(value instanceof BigInt64Array) && !(value instanceof BigUint64Array);
}

/**
 * The length of an array-like, or undefined when value is not one (not an object, or a length that is
 * not a number). A length that is a number but not a valid array length (negative, fractional, ≥ 2³²)
 * is an error of its own: `what` names it.
 */
function arrayLength(value: unknown, what: string, code: MLPErrorCode): number | undefined {
  if (value === null || typeof value !== "object") return undefined;
  if (ArrayBuffer.isView(value)) return value instanceof DataView ? undefined : (typedArrayLength.call(value) as number);
  let length: unknown;
  try {
    length = (value as { length?: unknown }).length;
  } catch (cause) {
    throw unreadable(`${what}.length`, cause);
  }
  if (typeof length !== "number") return undefined;
  if (!Number.isInteger(length) || length < 0 || length > 2 ** 32 - 1) {
    throw new MLPError(code, `${what}: its length ${String(length)} is not an array length (an integer from 0 to 2³² − 1)`, { actual: length });
  }
  return length;
}

/** Element i of an array-like, read once; a getter or proxy that throws becomes an MLPError. */
function element(list: ArrayLike<unknown>, i: number, what: string): unknown {
  try {
    return list[i];
  } catch (cause) {
    throw unreadable(`${what}[${i}]`, cause);
  }
}

/** A message's "got …" for a missing element: a hole says so. */
function missing(list: ArrayLike<unknown>, i: number, value: unknown): string {
  if (value !== undefined) return show(value);
  try {
    return i in (list as object) ? "undefined" : "a hole (no element at this index)";
  } catch {
    return "undefined";
  }
}

/**
 * Checks everything but the layer parameters (those are checked by checkLayer as they are copied).
 * Every field is read once, so what is checked is what is built.
 */
export function checkSpec(spec: unknown): CheckedSpec {
  if (spec === null || typeof spec !== "object") {
    throw new MLPError("E_SPEC", `model: expected an object { sizes, activations, layers, precision }, got ${describe(spec)}`);
  }
  const sizes = checkSizes(spec);
  const precisionField = own(spec, "precision", "model");
  const precision = precisionField === undefined ? "f32" : precisionField; // null is a wrong value, not "missing"
  if (precision !== "f32" && precision !== "f64") {
    throw new MLPError("E_PRECISION", `precision: expected "f32" or "f64", got ${show(precision)}`, {
      expected: ["f32", "f64"],
      actual: precision,
    });
  }
  const activationsField = own(spec, "activations", "model");
  let checkedActivations: ReturnType<typeof checkActivations>;
  try {
    checkedActivations = checkActivations(activationsField, sizes);
  } catch (cause) {
    throw unreadable("activations", cause); // an MLPError passes through; a getter's or proxy's exception is wrapped
  }
  const layers = own(spec, "layers", "model");
  const expectedLayers = sizes.length - 1;
  const shape = `${count(expectedLayers, "{ weights, bias } object")} (layers 2..${sizes.length})`;
  const length = arrayLength(layers, "layers", "E_LAYERS");
  if (length === undefined) {
    const got = layers === undefined ? `the key "layers" is missing${keysOf(spec)}${inherited(spec, "layers") ? " (an inherited one is ignored)" : ""}` : `got ${describe(layers)}`;
    throw new MLPError("E_LAYERS", `layers: expected an array of ${shape}; ${got}`, { expected: expectedLayers });
  }
  if (length !== expectedLayers) {
    throw new MLPError(
      "E_LAYERS",
      `layers: expected ${expectedLayers} ${expectedLayers === 1 ? "entry" : "entries"} (layers 2..${sizes.length} for sizes [${sizes.join(", ")}]), got ${length}`,
      { expected: expectedLayers, actual: length },
    );
  }
  const entries: unknown[] = [];
  for (let i = 0; i < length; i++) entries.push(element(layers as ArrayLike<unknown>, i, "layers"));
  const { layers: layerActivations, output, json: activationsJSON } = checkedActivations;
  return {
    sizes,
    activations: layerActivations.map((a) => a.name),
    codes: layerActivations.map((a) => a.code),
    layerActivations,
    output,
    activationsJSON,
    precision,
    layers: entries,
  };
}

function checkSizes(spec: object): number[] {
  const sizes = own(spec, "sizes", "model");
  const length = arrayLength(sizes, "sizes", "E_SIZES");
  if (length === undefined) {
    const got =
      sizes === undefined
        ? `the key "sizes" is missing${keysOf(spec)}${inherited(spec, "sizes") ? " (an inherited one is ignored)" : ""}`
        : `got ${describe(sizes)}`;
    throw new MLPError("E_SIZES", `sizes: expected an array of layer widths [n_1, …, n_L]; ${got}`);
  }
  if (length < 2) {
    throw new MLPError("E_SIZES", `sizes: expected at least two layer widths (input and output), got ${length}`, {
      expected: 2,
      actual: length,
    });
  }
  if (length > MAX_LAYERS) {
    throw new MLPError("E_SIZES", `sizes: expected at most ${MAX_LAYERS} layer widths, got ${length}`, { expected: MAX_LAYERS, actual: length });
  }
  const list: number[] = [];
  for (let i = 0; i < length; i++) {
    const n = element(sizes as ArrayLike<unknown>, i, "sizes");
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
      throw new MLPError("E_SIZES", `sizes[${i}] (n_${i + 1}): expected a positive integer, got ${missing(sizes as ArrayLike<unknown>, i, n)}`, {
        layer: i + 1,
        index: i,
        actual: n,
      });
    }
    list.push(n);
  }
  return list;
}

/** Row i (n_{l-1} numbers) of a checked weights argument. */
export type WeightReader = (row: number) => ArrayLike<number>;

/**
 * Checks layer l's weights (rows × cols) and bias (rows) in full — shape, then every value finite and,
 * for f32, inside the f32 range — without writing anything, so a failure changes nothing.
 * Returns a reader for the weights in either accepted form.
 */
export function checkLayer(l: number, layer: unknown, rows: number, cols: number, precision: Precision, deferTyped = false): CheckedWeights {
  if (layer === null || typeof layer !== "object") {
    throw new MLPError("E_LAYERS", `layer ${l}: expected { weights, bias }, got ${describe(layer)}`, { layer: l });
  }
  const where = `layers[${l - 2}] (layer ${l})`;
  const weights = own(layer, "weights", where);
  const bias = own(layer, "bias", where);
  for (const [key, value, what] of [
    ["weights", weights, `W^[${l}], ${rows}×${cols} numbers, row-major [out][in]`],
    ["bias", bias, `b^[${l}], ${count(rows, "number")}`],
  ] as const) {
    if (value === undefined) {
      const hint = key === "weights" && has(layer, "kernel") ? `; a Keras/TF.js "kernel" is [in][out]: transpose it to [out][in] and call it "weights"` : "";
      throw new MLPError(
        "E_SHAPE",
        `layer ${l}: the key "${key}" is missing${keysOf(layer)}${inherited(layer, key) ? " (an inherited one is ignored)" : ""}; ` +
          `"${key}" holds ${what}${hint}`,
        { layer: l, expected: key },
      );
    }
  }
  return checkParameters(l, weights, bias, rows, cols, precision, deferTyped);
}

function has(obj: object, key: string): boolean {
  try {
    return Object.prototype.hasOwnProperty.call(obj, key);
  } catch {
    return false;
  }
}

/** Checked parameters, ready to be written: a row reader over the weights and the bias values. */
export interface CheckedWeights {
  read: WeightReader;
  /** b^[l], copied while it was checked. */
  bias: ArrayLike<number>;
  /** True when the weights are a flat numeric typed array whose values were not checked here. */
  deferred: boolean;
  /** The weights' value at flat index k (for the message of a deferred check that failed). */
  at: (k: number) => unknown;
}

/** The error for a non-finite or out-of-range value of layer l at flat index k (row-major [out][in]). */
export function badWeight(l: number, k: number, cols: number, value: unknown, precision: Precision): MLPError {
  return badValue(l, `weights[${k}] (row ${Math.floor(k / cols)}, column ${k % cols})`, k, value, precision);
}

function badValue(l: number, what: string, index: number, value: unknown, precision: Precision, shown = show(value)): MLPError {
  return new MLPError(
    "E_NONFINITE",
    `layer ${l} ${what} is ${shown}: weights and biases must be finite numbers` +
      (precision === "f32" && typeof value === "number" && Number.isFinite(value) ? " within the f32 range (|v| ≤ 3.4e38)" : ""),
    { layer: l, index, actual: value },
  );
}

/** Where copyChecked stopped: the index of the value it refused (or whose read threw), and that value. */
let stoppedAt = 0;
let stoppedValue: unknown;

/**
 * Copies values[k] for k in [start, end) into copy[k + shift], each checked to be a number with
 * |v| ≤ limit (so finite); true when all were. Otherwise false, with stoppedAt and stoppedValue the
 * refused index and value; a read that throws rethrows with stoppedAt set. Each value is read once.
 * A small function of its own because createMLP runs once per network, so this loop runs unoptimised
 * until V8 replaces it on the stack with optimised code, and a small function is optimised sooner and
 * better than the loop inside checkParameters was (S3 as number[]: about 2× the throughput, S5 2–3×;
 * bench/create.mjs measures it).
 */
function copyChecked(
  values: ArrayLike<unknown>,
  start: number,
  end: number,
  copy: Float32Array | Float64Array,
  shift: number,
  limit: number,
): boolean {
  let k = start;
  try {
    for (; k < end; k++) {
      const v = values[k];
      if (typeof v !== "number" || !(Math.abs(v) <= limit)) {
        stoppedAt = k;
        stoppedValue = v;
        return false;
      }
      copy[k + shift] = v;
    }
  } catch (cause) {
    stoppedAt = k;
    throw cause;
  }
  return true;
}

// Array.prototype.toSpliced (ES2023; absent in Node 18): a copy that reads each element once through
// [[Get]], calls no species constructor and turns holes into undefined.
const toSpliced = (Array.prototype as { toSpliced?: (this: ArrayLike<unknown>) => unknown[] }).toSpliced;
const isFiniteNumber = Number.isFinite;
const arrayEvery = Array.prototype.every as (this: unknown[], test: (value: unknown) => boolean) => boolean;

/**
 * Arrays longer than this go through copyChecked instead of snapshot and copyFast. The native path costs
 * about 20 ns a number whatever the size (the snapshot, every's call per element, the set, the f32
 * scans); copyChecked costs a millisecond or two until V8 has optimised it, then about 4 ns a number
 * (bench/create.mjs, fresh processes: S3's 91 905 numbers 3.7 → 1.9 ms natively, but S5's 2.1 M
 * 19 → 48 ms). The two cross near 10⁵ numbers; an array this long also amortises the warm-up alone.
 */
const NATIVE_CHECK_MAX = 1 << 17;

/**
 * A private copy of `list`'s n elements when it is an Array (proxies included) of at most
 * NATIVE_CHECK_MAX elements, each element read once; undefined for other array-likes, longer arrays,
 * where toSpliced is missing, or when a read throws or the length changed (the careful loop,
 * copyChecked, then reads the original and names what went wrong).
 * Checking the copy instead of the original is what lets native code check and copy it: no getter or
 * proxy can answer differently to a second read, because nothing reads the original twice.
 */
function snapshot(list: unknown, n: number): unknown[] | undefined {
  if (toSpliced === undefined || n > NATIVE_CHECK_MAX) return undefined;
  try {
    if (!Array.isArray(list)) return undefined;
    const own = toSpliced.call(list);
    return own.length === n ? own : undefined;
  } catch {
    return undefined;
  }
}

/**
 * copyChecked's check and copy of a snapshot, in native code: every element a finite number
 * (Array.prototype.every with Number.isFinite: no user code runs, no value is converted), then one
 * TypedArray.prototype.set, then for f32 the range on the typed copy (±Infinity is what overflowed;
 * ±F32_MAX may be a value just beyond it that rounded down, so those few are compared exactly).
 * False when some value fails: copyChecked over the same snapshot then finds the first one.
 * Why not a JavaScript loop: createMLP runs once per network, so such a loop runs in V8's interpreter
 * until it is replaced on the stack by optimised code, a fixed millisecond or more (bench/create.mjs:
 * S3 as number[], 91 392 numbers: 3.7 ms in copyChecked, 1.9 ms here).
 */
function copyFast(own: unknown[], copy: Float32Array | Float64Array, at: number, limit: number): boolean {
  if (!arrayEvery.call(own, isFiniteNumber)) return false;
  copy.set(own as number[], at);
  if (limit === Number.MAX_VALUE) return true;
  const typed = copy.subarray(at, at + own.length);
  if (typed.indexOf(Infinity) >= 0 || typed.indexOf(-Infinity) >= 0) return false;
  for (const edge of [F32_MAX, -F32_MAX]) {
    for (let k = typed.indexOf(edge); k >= 0; k = typed.indexOf(edge, k + 1)) {
      if (!(Math.abs(own[k] as number) <= limit)) return false;
    }
  }
  return true;
}

/**
 * checkParameters for nested weights: n_l rows of n_{l-1} numbers, copied into one flat row-major array
 * as they are checked. A function of its own so that flat weights, the common case, do not make V8
 * compile it (createMLP runs cold).
 */
function nestedWeights(
  l: number,
  list: ArrayLike<unknown>,
  own: unknown[] | undefined,
  first: unknown,
  length: number,
  rows: number,
  cols: number,
  precision: Precision,
  what: string,
): { read: WeightReader; at: (k: number) => unknown } {
  const limit = precision === "f32" ? F32_MAX : Number.MAX_VALUE;
  const ArrayType = precision === "f32" ? Float32Array : Float64Array;
  if (length !== rows) {
    // n_{l-1} rows of n_l numbers is the shape of Wᵀ: a Keras/TF.js kernel pasted as it is.
    const transposed = length === cols && arrayLength(first, `${what} row 0`, "E_SHAPE") === rows;
    const hint = transposed ? " — looks transposed: Keras/TF.js kernels are [n_in][n_out] — use fromTfjs or transpose" : "";
    throw new MLPError("E_SHAPE", `${what}: expected ${count(rows, "row")} of ${count(cols, "number")} (n_${l}×n_${l - 1}), got ${count(length, "row")}${hint}`, {
      layer: l,
      expected: rows,
      actual: length,
    });
  }
  const copy = new ArrayType(rows * cols);
  for (let i = 0; i < rows; i++) {
    const row = i === 0 ? first : own !== undefined ? own[i] : element(list, i, what);
    const rowLength = arrayLength(row, `${what} row ${i}`, "E_SHAPE");
    if (rowLength !== cols) {
      throw new MLPError(
        "E_SHAPE",
        `${what} row ${i}: expected ${count(cols, "number")} (n_${l - 1}), got ${rowLength ?? describe(row)}`,
        { layer: l, index: i * cols, expected: cols, actual: rowLength },
      );
    }
    const values = row as ArrayLike<unknown>;
    // Row by row: copyFast's fixed costs, paid n_l times, would outweigh what it saves (S3: 4.1 → 4.7 ms).
    let ok: boolean;
    try {
      ok = copyChecked(values, 0, cols, copy, i * cols, limit);
    } catch (cause) {
      throw unreadable(`${what}[${i}][${stoppedAt}]`, cause);
    }
    if (!ok) {
      const j = stoppedAt;
      throw badValue(l, `weights[${i}][${j}]`, i * cols + j, stoppedValue, precision, missing(values, j, stoppedValue));
    }
  }
  return { read: (i) => copy.subarray(i * cols, (i + 1) * cols), at: (k) => copy[k] };
}

/**
 * As checkLayer, for weights and bias given separately (setLayer). Values that are not in a typed array
 * are copied as they are checked, and written from the copy: a getter or proxy is read once, so the
 * network holds exactly what was checked, and a throwing one becomes an MLPError before anything is
 * written.
 */
export function checkParameters(
  l: number,
  weights: unknown,
  bias: unknown,
  rows: number,
  cols: number,
  precision: Precision,
  deferTyped = false,
): CheckedWeights {
  const limit = precision === "f32" ? F32_MAX : Number.MAX_VALUE;
  const ArrayType = precision === "f32" ? Float32Array : Float64Array;
  const size = `${rows}×${cols} = ${count(rows * cols, "number")}`;
  const what = `layer ${l} weights`;

  const length = arrayLength(weights, what, "E_SHAPE");
  if (length === undefined) {
    throw new MLPError("E_SHAPE", `${what}: expected ${size} (row-major [out][in]), got ${describe(weights)}`, {
      layer: l,
      expected: [rows, cols],
    });
  }
  let read: WeightReader;
  let deferred = false;
  let at: (k: number) => unknown;
  const list = weights as ArrayLike<unknown>;
  // An Array's elements are read once, here; then only the snapshot is read.
  const own = snapshot(list, length);
  const first = length > 0 ? (own !== undefined ? own[0] : element(list, 0, what)) : undefined;
  if (first !== null && typeof first === "object") {
    ({ read, at } = nestedWeights(l, list, own, first, length, rows, cols, precision, what));
  } else {
    if (length !== rows * cols) {
      throw new MLPError("E_SHAPE", `${what}: expected ${size} (row-major [out][in]), got ${length}`, {
        layer: l,
        expected: rows * cols,
        actual: length,
      });
    }
    if (isNumericTypedArray(weights)) {
      // Typed arrays are read through the intrinsic subarray (no user code runs, so nothing can change
      // between the check and the copy). Their values can be checked after the copy, natively
      // (assembly/check.ts): checking hundreds of thousands of them here, in code that runs once and
      // so is never optimised, is slow.
      deferred = deferTyped;
      for (let k = 0; !deferred && k < length; k++) {
        const v = weights[k];
        if (!(Math.abs(v) <= limit)) throw badWeight(l, k, cols, v, precision);
      }
      read = (i) => typedArraySubarray.call(weights, i * cols, (i + 1) * cols);
      at = (k) => weights[k];
    } else {
      const copy = new ArrayType(length);
      // From the snapshot; else element 0 was read once already (as `first`): checked here, the rest by copyChecked.
      let ok = own !== undefined ? copyFast(own, copy, 0, limit) || copyChecked(own, 0, length, copy, 0, limit) : copyChecked([first], 0, length > 0 ? 1 : 0, copy, 0, limit);
      if (ok && own === undefined) {
        try {
          ok = copyChecked(list, 1, length, copy, 0, limit);
        } catch (cause) {
          throw unreadable(`${what}[${stoppedAt}]`, cause);
        }
      }
      if (!ok) {
        const k = stoppedAt;
        throw badValue(l, `weights[${k}] (row ${Math.floor(k / cols)}, column ${k % cols})`, k, stoppedValue, precision, missing(list, k, stoppedValue));
      }
      read = (i) => copy.subarray(i * cols, (i + 1) * cols);
      at = (k) => copy[k];
    }
  }

  const biasLength = arrayLength(bias, `layer ${l} bias`, "E_SHAPE");
  if (biasLength !== rows) {
    throw new MLPError("E_SHAPE", `layer ${l} bias: expected ${count(rows, "number")} (n_${l}), got ${biasLength ?? describe(bias)}`, {
      layer: l,
      expected: rows,
      actual: biasLength,
    });
  }
  const biasCopy = new ArrayType(rows);
  const biasValues = bias as ArrayLike<unknown>;
  const ownBias = snapshot(biasValues, rows);
  let ok: boolean;
  try {
    ok = ownBias !== undefined ? copyFast(ownBias, biasCopy, 0, limit) || copyChecked(ownBias, 0, rows, biasCopy, 0, limit) : copyChecked(biasValues, 0, rows, biasCopy, 0, limit);
  } catch (cause) {
    throw unreadable(`layer ${l} bias[${stoppedAt}]`, cause);
  }
  if (!ok) {
    const i = stoppedAt;
    throw badValue(l, `bias[${i}]`, i, stoppedValue, precision, missing(biasValues, i, stoppedValue));
  }
  return { read, bias: biasCopy, deferred, at };
}
