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
import { checkActivations, type Activation, type ActivationName, type ActivationSpec, type OutputKind } from "./activation.js";
import { MLPError, describe } from "./errors.js";

/** Element precision of a network's weights and arithmetic. */
export type Precision = "f32" | "f64";

/** W^[l]: flat row-major n_l × n_{l-1} numbers, or n_l rows of n_{l-1} numbers. */
export type WeightsLike = ArrayLike<number> | ArrayLike<ArrayLike<number>>;

/** Parameters of one layer l = 2..L. */
export interface LayerSpec {
  weights: WeightsLike;
  bias: ArrayLike<number>;
}

/** What createMLP takes; JSON.parse of a model file is one. */
export interface MLPSpec {
  sizes: ArrayLike<number>;
  /**
   * One activation for all layers 2..L, or L−1 of them; each a name or { name, …parameters }
   * (see docs/model-format.md). Default "sigmoid".
   */
  activations?: ActivationSpec | readonly ActivationSpec[];
  layers: ArrayLike<LayerSpec>;
  /** Default "f32". */
  precision?: Precision;
}

/** What toJSON returns: an MLPSpec with plain arrays, flat weights. */
export interface ModelJSON {
  sizes: number[];
  activations: ActivationSpec | ActivationSpec[];
  precision: Precision;
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
}

const F32_MAX = 3.4028234663852886e38;

/** Checks everything but the layer parameters (those are checked by checkLayer as they are copied). */
export function checkSpec(spec: unknown): CheckedSpec {
  if (spec === null || typeof spec !== "object") {
    throw new MLPError("E_SPEC", `model: expected an object { sizes, activations, layers, precision }, got ${describe(spec)}`);
  }
  const s = spec as Partial<MLPSpec>;
  const sizes = checkSizes(s.sizes);
  const precision = s.precision ?? "f32";
  if (precision !== "f32" && precision !== "f64") {
    throw new MLPError("E_PRECISION", `precision: expected "f32" or "f64", got ${JSON.stringify(precision)}`, {
      expected: ["f32", "f64"],
      actual: precision,
    });
  }
  let activationsField: unknown;
  try {
    activationsField = s.activations;
  } catch (cause) {
    throw new MLPError("E_ACTIVATION", `activations: reading the field threw (${cause instanceof Error ? cause.message : "a non-Error"})`, { cause });
  }
  const checkedActivations = checkActivations(activationsField, sizes);
  const layers = s.layers;
  const expectedLayers = sizes.length - 1;
  if (layers === null || typeof layers !== "object" || typeof layers.length !== "number") {
    throw new MLPError(
      "E_LAYERS",
      `layers: expected an array of ${expectedLayers} { weights, bias } objects (layers 2..${sizes.length}), got ${describe(layers)}`,
      { expected: expectedLayers },
    );
  }
  if (layers.length !== expectedLayers) {
    throw new MLPError(
      "E_LAYERS",
      `layers: expected ${expectedLayers} entries (layers 2..${sizes.length} for sizes [${sizes.join(", ")}]), got ${layers.length}`,
      { expected: expectedLayers, actual: layers.length },
    );
  }
  const { layers: layerActivations, output, json: activationsJSON } = checkedActivations;
  return {
    sizes,
    activations: layerActivations.map((a) => a.name),
    codes: layerActivations.map((a) => a.code),
    layerActivations,
    output,
    activationsJSON,
    precision,
  };
}

function checkSizes(sizes: unknown): number[] {
  if (sizes === null || typeof sizes !== "object" || typeof (sizes as ArrayLike<unknown>).length !== "number") {
    throw new MLPError("E_SIZES", `sizes: expected an array of layer widths [n_1, …, n_L], got ${describe(sizes)}`);
  }
  const list = Array.from(sizes as ArrayLike<unknown>);
  if (list.length < 2) {
    throw new MLPError("E_SIZES", `sizes: expected at least two layer widths (input and output), got ${list.length}`, {
      expected: 2,
      actual: list.length,
    });
  }
  list.forEach((n, i) => {
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
      throw new MLPError("E_SIZES", `sizes[${i}] (n_${i + 1}): expected a positive integer, got ${String(n)}`, {
        layer: i + 1,
        index: i,
        actual: n,
      });
    }
  });
  return list as number[];
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
  const { weights, bias } = layer as Partial<LayerSpec>;
  return checkParameters(l, weights, bias, rows, cols, precision, deferTyped);
}

/** Checked weights: a row reader, and whether their values still need checking (see deferTyped). */
export interface CheckedWeights {
  read: WeightReader;
  /** True when the weights are a flat numeric typed array whose values were not checked here. */
  deferred: boolean;
}

/** Flat typed arrays whose elements are numbers (not BigInt, not DataView). */
function isNumericTypedArray(value: unknown): value is ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> } {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) && typeof (value as unknown as ArrayLike<unknown>)[0] !== "bigint";
}

/** The error for a non-finite or out-of-range value of layer l at flat index k (row-major [out][in]). */
export function badWeight(l: number, k: number, cols: number, value: unknown, precision: Precision): MLPError {
  return badValue(l, `weights[${k}] (row ${Math.floor(k / cols)}, column ${k % cols})`, k, value, precision);
}

function badValue(l: number, what: string, index: number, value: unknown, precision: Precision): MLPError {
  return new MLPError(
    "E_NONFINITE",
    `layer ${l} ${what} is ${typeof value === "number" ? String(value) : describe(value)}: weights and biases must be finite numbers` +
      (precision === "f32" && typeof value === "number" && Number.isFinite(value) ? " within the f32 range (|v| ≤ 3.4e38)" : ""),
    { layer: l, index, actual: value },
  );
}

/** As checkLayer, for weights and bias given separately (setLayer). */
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
  const bad = (what: string, index: number, value: unknown): MLPError => badValue(l, what, index, value, precision);
  let deferred = false;
  const isOk = (v: unknown): boolean => typeof v === "number" && Math.abs(v) <= limit;
  const size = `${rows}×${cols} = ${rows * cols}`;

  if (!isArrayLike(weights)) {
    throw new MLPError("E_SHAPE", `layer ${l} weights: expected ${size} numbers (row-major [out][in]), got ${describe(weights)}`, {
      layer: l,
      expected: [rows, cols],
    });
  }
  let read: WeightReader;
  if (weights.length > 0 && isArrayLike((weights as ArrayLike<unknown>)[0])) {
    const nested = weights as ArrayLike<ArrayLike<number>>;
    if (nested.length !== rows) {
      throw new MLPError("E_SHAPE", `layer ${l} weights: expected ${rows} rows of ${cols} numbers (n_${l}×n_${l - 1}), got ${nested.length} rows`, {
        layer: l,
        expected: rows,
        actual: nested.length,
      });
    }
    for (let i = 0; i < rows; i++) {
      const row = nested[i];
      if (!isArrayLike(row) || row.length !== cols) {
        throw new MLPError(
          "E_SHAPE",
          `layer ${l} weights row ${i}: expected ${cols} numbers (n_${l - 1}), got ${isArrayLike(row) ? row.length : describe(row)}`,
          { layer: l, index: i * cols, expected: cols, actual: isArrayLike(row) ? row.length : undefined },
        );
      }
      for (let j = 0; j < cols; j++) {
        const v = row[j];
        if (typeof v !== "number" || !(Math.abs(v) <= limit)) throw bad(`weights[${i}][${j}]`, i * cols + j, v);
      }
    }
    read = (i) => nested[i];
  } else {
    const flat = weights as ArrayLike<number>;
    if (flat.length !== rows * cols) {
      throw new MLPError("E_SHAPE", `layer ${l} weights: expected ${size} numbers (row-major [out][in]), got ${flat.length}`, {
        layer: l,
        expected: rows * cols,
        actual: flat.length,
      });
    }
    // A typed array's values can be checked after the copy, natively (assembly/check.ts): checking
    // hundreds of thousands of them here, in code that runs once and so is never optimised, is slow.
    deferred = deferTyped && isNumericTypedArray(flat);
    for (let k = 0; !deferred && k < flat.length; k++) {
      const v = flat[k];
      if (typeof v !== "number" || !(Math.abs(v) <= limit)) throw badWeight(l, k, cols, v, precision);
    }
    // Typed arrays hand out rows as views; plain arrays as copies (only while building a network).
    const sliceable = flat as unknown as { subarray?: (a: number, b: number) => ArrayLike<number>; slice?: (a: number, b: number) => ArrayLike<number> };
    read =
      typeof sliceable.subarray === "function"
        ? (i) => sliceable.subarray!(i * cols, (i + 1) * cols)
        : typeof sliceable.slice === "function"
          ? (i) => sliceable.slice!(i * cols, (i + 1) * cols)
          : (i) => Array.from({ length: cols }, (_, j) => flat[i * cols + j]);
  }

  if (!isArrayLike(bias) || bias.length !== rows) {
    throw new MLPError(
      "E_SHAPE",
      `layer ${l} bias: expected ${rows} numbers (n_${l}), got ${isArrayLike(bias) ? bias.length : describe(bias)}`,
      { layer: l, expected: rows, actual: isArrayLike(bias) ? bias.length : undefined },
    );
  }
  for (let i = 0; i < rows; i++) {
    if (!isOk(bias[i])) throw bad(`bias[${i}]`, i, bias[i]);
  }
  return { read, deferred };
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return value !== null && typeof value === "object" && typeof (value as ArrayLike<unknown>).length === "number";
}
