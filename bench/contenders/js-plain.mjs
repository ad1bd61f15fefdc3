/**
 * js-plain: the recurrence as a user would first type it, on Float64Array, buffers allocated once.
 * Layout as in shapes.mjs: W^[l] row-major [out][in]. No unrolling and no tuning, except that the
 * transposed product (W^[l+1])ᵀ g^[l+1] adds g_i · W[i,:] row by row: walking down the columns
 * instead made it 5× slower at 1024 columns, a straw man rather than a plain loop.
 */

import { perSample } from "./per-sample.mjs";

/** Builds the plain-JS contender for a network from shapes.mjs. */
export async function create(net) {
  const { sizes } = net;
  const L = sizes.length;
  const weights = net.layers.map((layer) => Float64Array.from(layer.weights));
  const biases = net.layers.map((layer) => Float64Array.from(layer.bias));
  // activations[k] holds a^[k+1]; derivs[k] holds σ'(z^[k+1]); gs[k] holds g^[k+1].
  const activations = sizes.map((n) => new Float64Array(n));
  const derivs = sizes.map((n) => new Float64Array(n));
  const gs = sizes.map((n) => new Float64Array(n));

  function gradient(x, out) {
    activations[0].set(x);
    for (let l = 1; l < L; l++) {
      const w = weights[l - 1];
      const b = biases[l - 1];
      const a = activations[l - 1];
      const next = activations[l];
      const d = derivs[l];
      const rows = sizes[l];
      const cols = sizes[l - 1];
      for (let i = 0; i < rows; i++) {
        let z = b[i];
        for (let j = 0; j < cols; j++) z += w[i * cols + j] * a[j];
        const s = 1 / (1 + Math.exp(-z));
        next[i] = s;
        d[i] = s * (1 - s);
      }
    }
    gs[L - 1].set(derivs[L - 1]);
    for (let l = L - 1; l >= 1; l--) {
      const w = weights[l - 1];
      const g = gs[l];
      const prev = l > 1 ? gs[l - 1] : out;
      const rows = sizes[l];
      const cols = sizes[l - 1];
      prev.fill(0);
      for (let i = 0; i < rows; i++) {
        const gi = g[i];
        for (let j = 0; j < cols; j++) prev[j] += w[i * cols + j] * gi;
      }
      if (l > 1) {
        const d = derivs[l - 1];
        for (let j = 0; j < cols; j++) prev[j] *= d[j];
      }
    }
    return out;
  }

  return { precision: "f64", gradient, gradientBatch: perSample(gradient, sizes[0]), info: { storage: "Float64Array" } };
}
