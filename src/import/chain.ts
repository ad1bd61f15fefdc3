/**
 * What every importer builds: a chain of dense layers, each followed by at most one activation, turned
 * into the plain model object createMLP takes.
 *
 *   z^[l] = W^[l] a^[l-1] + b^[l],  a^[l] = σ_l(z^[l]),  W^[l] row-major [out][in] (n_l × n_{l-1}).
 *
 * Importers push stages in file order; the builder checks that widths chain, that one dense layer gets one
 * activation (identity until an activation stage sets it), that softmax/logSoftmax end the network, and
 * names the layer or node of the file in every error.
 */
import { MLPError } from "../errors.js";
import type { Precision } from "../model.js";

/** An activation as the model format writes it: a name, or { name, ...parameters } (always explicit). */
export type ImportedActivation = string | { name: string; [parameter: string]: number | string };

/** One layer of the imported model: weights flat row-major [out][in], bias of n_out (zeros when absent). */
export interface ImportedLayer {
  weights: number[];
  bias: number[];
}

/** The model object an importer returns: plain arrays only, so JSON.stringify saves it as our model file. */
export interface ImportedModel {
  sizes: number[];
  activations: ImportedActivation[];
  precision: Precision;
  layers: ImportedLayer[];
}

/** Options every importer takes. */
export interface ImportOptions {
  /** Precision of the returned model; default "f32" (weights are rounded to f32 when the network is built). */
  precision?: Precision;
}

interface Pending {
  where: string;
  weights: Float64Array;
  bias: Float64Array;
  activation: ImportedActivation;
  activationWhere: string | undefined;
}

/** Collects dense layers and activations in order and checks that they form an MLP. */
export class ChainBuilder {
  private readonly layers: Pending[] = [];
  private width: number | undefined;

  constructor(private readonly format: string) {}

  /** Sets the input width n_1 (when the file states it before the first dense layer). */
  input(width: number, where: string): void {
    if (!Number.isSafeInteger(width) || width < 1) {
      throw new MLPError("E_FORMAT", `${this.format} ${where}: input width must be a positive integer, got ${String(width)}`, { actual: width });
    }
    if (this.width !== undefined && this.width !== width) this.mismatch(where, this.width, width);
    this.width = width;
  }

  /** The current width of the vector flowing through the chain, if known. */
  get currentWidth(): number | undefined {
    return this.width;
  }

  /** Appends a dense layer; `weights` is row-major [out][in]; `bias` null means no bias (zeros). */
  dense(where: string, nOut: number, nIn: number, weights: Float64Array, bias: Float64Array | null): void {
    if (this.width !== undefined && this.width !== nIn) this.mismatch(where, this.width, nIn);
    if (bias !== null && bias.length !== nOut) {
      throw new MLPError("E_FORMAT", `${this.format} ${where}: bias has ${bias.length} numbers for ${nOut} outputs`, { expected: nOut, actual: bias.length });
    }
    this.layers.push({ where, weights, bias: bias ?? new Float64Array(nOut), activation: "identity", activationWhere: undefined });
    this.width = nOut;
  }

  /** Adds a constant to the last dense layer's bias (MatMul followed by Add); false if there is none to add to. */
  addBias(where: string, values: Float64Array): void {
    const last = this.layers[this.layers.length - 1];
    if (last === undefined || last.activationWhere !== undefined) {
      throw new MLPError("E_UNSUPPORTED", `${this.format} ${where}: adds a constant that does not follow a matrix product (only the bias of a dense layer is supported)`);
    }
    const n = last.bias.length;
    if (values.length !== n && values.length !== 1) {
      throw new MLPError("E_FORMAT", `${this.format} ${where}: adds ${values.length} numbers to a layer of ${n} outputs`, { expected: n, actual: values.length });
    }
    for (let i = 0; i < n; i++) last.bias[i] += values.length === 1 ? values[0] : values[i];
  }

  /** Applies activation σ to the last dense layer's output. */
  activation(where: string, activation: ImportedActivation): void {
    const name = typeof activation === "string" ? activation : activation.name;
    if (name === "identity") return;
    const last = this.layers[this.layers.length - 1];
    if (last === undefined) {
      throw new MLPError("E_UNSUPPORTED", `${this.format} ${where}: activation ${JSON.stringify(name)} before any dense layer (an MLP applies activations to W·a + b only)`);
    }
    if (last.activationWhere !== undefined) {
      throw new MLPError(
        "E_UNSUPPORTED",
        `${this.format} ${where}: a second activation (${JSON.stringify(name)}) after ${last.activationWhere} on the same dense layer ${last.where}; an MLP layer has one activation`,
      );
    }
    last.activation = activation;
    last.activationWhere = where;
  }

  /** The model object; errors if there is no layer or softmax/logSoftmax is not last. */
  build(precision: Precision | undefined): ImportedModel {
    const p = precision ?? "f32";
    if (p !== "f32" && p !== "f64") {
      throw new MLPError("E_PRECISION", `precision: expected "f32" or "f64", got ${JSON.stringify(precision)}`, { expected: ["f32", "f64"], actual: precision });
    }
    if (this.layers.length === 0) throw new MLPError("E_UNSUPPORTED", `${this.format}: the model has no dense layer`);
    this.layers.forEach((layer, i) => {
      const name = typeof layer.activation === "string" ? layer.activation : layer.activation.name;
      if ((name === "softmax" || name === "logSoftmax") && i !== this.layers.length - 1) {
        throw new MLPError("E_UNSUPPORTED", `${this.format} ${layer.activationWhere}: ${name} on a hidden layer (${layer.where}); it is supported on the output layer only`, { layer: i + 2 });
      }
    });
    const first = this.layers[0];
    const sizes = [first.weights.length / first.bias.length, ...this.layers.map((layer) => layer.bias.length)];
    return {
      sizes,
      activations: this.layers.map((layer) => layer.activation),
      precision: p,
      layers: this.layers.map((layer) => ({ weights: Array.from(layer.weights), bias: Array.from(layer.bias) })),
    };
  }

  private mismatch(where: string, have: number, want: number): never {
    throw new MLPError("E_SHAPE", `${this.format} ${where}: expects ${want} inputs but the layer before gives ${have}: the shapes do not chain`, {
      expected: want,
      actual: have,
    });
  }
}

/** Product of dims, or an E_FORMAT error when a dim is not a non-negative safe integer or the product exceeds `limit`. */
export function elementCount(dims: readonly unknown[], limit: number, what: string): number {
  let count = 1;
  for (const d of dims) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new MLPError("E_FORMAT", `${what}: shape [${dims.map(String).join(", ")}] has a dimension that is not a non-negative integer`, { actual: dims });
    }
    count *= d;
    if (count > limit) {
      throw new MLPError("E_FORMAT", `${what}: shape [${dims.join(", ")}] claims more elements than the file holds (${limit})`, { actual: dims });
    }
  }
  return count;
}

/** W = Kᵀ: a [rows][cols] row-major matrix transposed to [cols][rows]. */
export function transpose(values: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = values[i * cols + j];
  return out;
}
