/**
 * The input gradient in plain JavaScript: the same recurrence mlpgrad runs (Higham & Higham, SIAM
 * Review 2019, eqs. 3.1–3.2), written as straightforward loops over Float64Arrays. examples/main.ts
 * checks mlpgrad against it and times the two.
 *
 *   forward   a^[1] = x,  z^[l] = W^[l] a^[l-1] + b^[l],  a^[l] = σ(z^[l]),  s^[l] = σ'(z^[l])   (l = 2..L)
 *   backward  g^[L] = s^[L],  g^[l] = ((W^[l+1])ᵀ g^[l+1]) ⊙ s^[l]  (l = L-1..2),  ∇ₓ a^[L] = (W^[2])ᵀ g^[2]
 *
 * Layout: W^[l] is one Float64Array, row-major n_l × n_{l-1} with no padding; b^[l], a^[l], s^[l] and
 * g^[l] are Float64Arrays of length n_l. Everything is allocated once, in the constructor.
 */
import type { ActivationName, ActivationSpec, MLPSpec } from "../src/index.js";

// Only the names matter here: the examples use activations without parameters.
const nameOf = (spec: ActivationSpec): ActivationName => (typeof spec === "string" ? spec : spec.name);

interface Layer {
  rows: number; // n_l
  cols: number; // n_{l-1}
  act: ActivationName;
  w: Float64Array;
  b: Float64Array;
  a: Float64Array;
  s: Float64Array;
  g: Float64Array;
}

/** A network whose gradient is computed in plain JavaScript, always in f64. */
export class PlainMLP {
  readonly inputSize: number;
  private readonly x: Float64Array;
  private readonly layers: Layer[] = [];

  constructor(spec: MLPSpec) {
    const sizes = Array.from(spec.sizes);
    if (sizes[sizes.length - 1] !== 1) throw new Error(`PlainMLP: the output must be a scalar (n_L = 1), got n_L = ${sizes[sizes.length - 1]}`);
    const acts = spec.activations ?? "sigmoid";
    this.inputSize = sizes[0];
    this.x = new Float64Array(sizes[0]);
    for (let l = 1; l < sizes.length; l++) {
      const rows = sizes[l];
      const cols = sizes[l - 1];
      const { weights, bias } = spec.layers[l - 1];
      const w = new Float64Array(rows * cols);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          // Weights may be flat or nested, as in the model format.
          const row = (weights as ArrayLike<ArrayLike<number>>)[i];
          w[i * cols + j] = typeof row === "object" ? row[j] : (weights as ArrayLike<number>)[i * cols + j];
        }
      }
      this.layers.push({
        rows,
        cols,
        act: nameOf(Array.isArray(acts) ? (acts as readonly ActivationSpec[])[l - 1] : (acts as ActivationSpec)),
        w,
        b: Float64Array.from(bias),
        a: new Float64Array(rows),
        s: new Float64Array(rows),
        g: new Float64Array(rows),
      });
    }
  }

  /** a^[L](x). */
  value(x: ArrayLike<number>): number {
    this.forward(x);
    return this.layers[this.layers.length - 1].a[0];
  }

  /** ∇ₓ a^[L](x), written into `out` (length n_1) and returned. */
  gradient(x: ArrayLike<number>, out: Float64Array): Float64Array {
    this.forward(x);
    const layers = this.layers;
    const last = layers[layers.length - 1];
    // g^[L] = s^[L]
    for (let i = 0; i < last.rows; i++) last.g[i] = last.s[i];
    // g^[l] = ((W^[l+1])ᵀ g^[l+1]) ⊙ s^[l], walking down from l = L-1 to 2
    for (let k = layers.length - 1; k >= 1; k--) {
      const above = layers[k];
      const below = layers[k - 1];
      transposeTimes(above, below.g);
      for (let j = 0; j < below.rows; j++) below.g[j] *= below.s[j];
    }
    // ∇ₓ a^[L] = (W^[2])ᵀ g^[2]
    transposeTimes(layers[0], out);
    return out;
  }

  private forward(x: ArrayLike<number>): void {
    for (let j = 0; j < this.inputSize; j++) this.x[j] = x[j];
    let input = this.x;
    for (const layer of this.layers) {
      const { rows, cols, w, b, a, s } = layer;
      for (let i = 0; i < rows; i++) {
        let z = b[i];
        for (let j = 0; j < cols; j++) z += w[i * cols + j] * input[j];
        a[i] = z; // σ is applied below, in place
      }
      activate(layer.act, a, s, rows);
      input = a;
    }
  }
}

/** out = (W^[l])ᵀ g^[l] for one layer. */
function transposeTimes(layer: Layer, out: Float64Array): void {
  const { rows, cols, w, g } = layer;
  for (let j = 0; j < cols; j++) out[j] = 0;
  for (let i = 0; i < rows; i++) {
    const gi = g[i];
    for (let j = 0; j < cols; j++) out[j] += w[i * cols + j] * gi;
  }
}

/** Replaces z by σ(z) in `a` and stores σ'(z) in `s`, in the plain textbook forms. */
function activate(act: ActivationName, a: Float64Array, s: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const z = a[i];
    switch (act) {
      case "sigmoid": {
        const y = 1 / (1 + Math.exp(-z));
        a[i] = y;
        s[i] = y * (1 - y);
        break;
      }
      case "tanh": {
        const y = Math.tanh(z);
        a[i] = y;
        s[i] = 1 - y * y;
        break;
      }
      case "relu":
        a[i] = z > 0 ? z : 0;
        s[i] = z > 0 ? 1 : 0;
        break;
      case "leakyRelu":
        a[i] = z > 0 ? z : 0.01 * z;
        s[i] = z > 0 ? 1 : 0.01;
        break;
      case "softplus":
        a[i] = Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
        s[i] = 1 / (1 + Math.exp(-z));
        break;
      case "identity":
        s[i] = 1;
        break;
    }
  }
}
