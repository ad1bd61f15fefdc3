/**
 * A plain-JavaScript vᵀJ for `mlpgrad bench` to race: the recurrence of Higham & Higham (SIAM Review
 * 2019, eqs. 3.1–3.2) as straightforward f64 loops, no WebAssembly.
 *
 *   forward   a^[1] = x,  z^[l] = W^[l] a^[l-1] + b^[l],  a^[l] = σ(z^[l]),  s^[l] = σ'(z^[l])   (l = 2..L)
 *   backward  g^[L] = v ⊙ s^[L],  g^[l] = ((W^[l+1])ᵀ g^[l+1]) ⊙ s^[l],  vᵀJ = (W^[2])ᵀ g^[2]
 *
 * Layout: W^[l] one Float64Array, row-major n_l × n_{l-1}; every buffer allocated once, in the constructor.
 */
import type { MLPSpec } from "../model.js";

// σ and σ' at z into a[r] and s[r]: no arrays allocated per call, so the race is fair to plain JS.
type Sigma = (z: number, a: Float64Array, s: Float64Array, r: number) => void;

const SIGMAS: Record<string, Sigma> = {
  identity: (z, a, s, r) => {
    a[r] = z;
    s[r] = 1;
  },
  sigmoid: (z, a, s, r) => {
    const e = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    a[r] = e;
    s[r] = e * (1 - e);
  },
  tanh: (z, a, s, r) => {
    const t = Math.tanh(z);
    a[r] = t;
    s[r] = 1 - t * t;
  },
  relu: (z, a, s, r) => {
    a[r] = z > 0 ? z : 0;
    s[r] = z > 0 ? 1 : 0;
  },
  leakyRelu: (z, a, s, r) => {
    a[r] = z > 0 ? z : 0.01 * z;
    s[r] = z > 0 ? 1 : 0.01;
  },
  softplus: (z, a, s, r) => {
    a[r] = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    s[r] = 1 / (1 + Math.exp(-z));
  },
};

interface Layer {
  rows: number;
  cols: number;
  sigma: Sigma;
  w: Float64Array;
  b: Float64Array;
  a: Float64Array;
  s: Float64Array;
  g: Float64Array;
}

/** A network whose vᵀJ is computed by plain f64 loops; undefined from create() for an activation it lacks. */
export class PlainMLP {
  private readonly layers: Layer[] = [];
  private readonly x: Float64Array;

  private constructor(spec: MLPSpec, names: readonly string[]) {
    const sizes = Array.from(spec.sizes);
    this.x = new Float64Array(sizes[0]);
    for (let l = 1; l < sizes.length; l++) {
      const rows = sizes[l];
      const cols = sizes[l - 1];
      const { weights, bias } = spec.layers[l - 1];
      const w = new Float64Array(rows * cols);
      const flat = typeof (weights as ArrayLike<unknown>)[0] === "number";
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          w[r * cols + c] = flat ? (weights as ArrayLike<number>)[r * cols + c] : (weights as ArrayLike<ArrayLike<number>>)[r][c];
        }
      }
      const sigma = SIGMAS[names[l - 1]];
      this.layers.push({ rows, cols, sigma, w, b: Float64Array.from(bias), a: new Float64Array(rows), s: new Float64Array(rows), g: new Float64Array(rows) });
    }
  }

  /**
   * The plain network of a checked spec (net.toJSON()), or undefined where it has no plain version here:
   * an activation outside SIGMAS or with parameters, or a softmax output.
   */
  static create(spec: MLPSpec, outputActivation: string): PlainMLP | undefined {
    const layers = spec.sizes.length - 1;
    const stored: unknown = spec.activations ?? "sigmoid";
    const names: unknown[] = Array.isArray(stored) ? stored : new Array(layers).fill(stored);
    if (outputActivation !== "none" || !names.every((name) => typeof name === "string" && name in SIGMAS)) return undefined;
    return new PlainMLP(spec, names as string[]);
  }

  /** vᵀJ at x into out (length n_1). */
  vjp(x: ArrayLike<number>, v: ArrayLike<number>, out: Float64Array): Float64Array {
    this.x.set(x);
    let input: Float64Array = this.x;
    for (const layer of this.layers) {
      const { rows, cols, w, b, a, s, sigma } = layer;
      for (let r = 0; r < rows; r++) {
        let z = b[r];
        for (let c = 0; c < cols; c++) z += w[r * cols + c] * input[c];
        sigma(z, a, s, r);
      }
      input = a;
    }
    const last = this.layers[this.layers.length - 1];
    for (let r = 0; r < last.rows; r++) last.g[r] = v[r] * last.s[r];
    for (let l = this.layers.length - 1; l >= 1; l--) {
      const { rows, cols, w, g } = this.layers[l];
      const below = this.layers[l - 1];
      for (let c = 0; c < cols; c++) {
        let acc = 0;
        for (let r = 0; r < rows; r++) acc += w[r * cols + c] * g[r];
        below.g[c] = acc * below.s[c];
      }
    }
    const first = this.layers[0];
    out.fill(0);
    for (let r = 0; r < first.rows; r++) {
      const gr = first.g[r];
      for (let c = 0; c < first.cols; c++) out[c] += first.w[r * first.cols + c] * gr;
    }
    return out;
  }
}
