/**
 * js-unrolled: the best plain JS we could hand-write for the same recurrence.
 * - forward z^[l] = W^[l] a^[l-1] + b^[l]: dot products along rows with 4 independent accumulators,
 *   so the adds do not wait on each other;
 * - backward (W^[l+1])ᵀ g^[l+1]: accumulate 4 rows at a time into the result (v += g_i · W[i,:]),
 *   which reads W in memory order instead of striding down its columns.
 * Weights are Float64Array by default. `storage: "f32"` keeps them in a Float32Array instead (exact
 * here: the suite's weights are float32 values; arithmetic stays f64): halving the bytes read was
 * no faster on S3–S5 in interleaved runs on this machine, so the simpler layout is the default.
 */

import { perSample } from "./per-sample.mjs";

/** Builds the unrolled-JS contender; options.storage is "f64" (default) or "f32" for the weights. */
export async function create(net, options = {}) {
  const WeightArray = options.storage === "f32" ? Float32Array : Float64Array;
  const { sizes } = net;
  const L = sizes.length;
  const weights = net.layers.map((layer) => WeightArray.from(layer.weights));
  const biases = net.layers.map((layer) => Float64Array.from(layer.bias));
  const activations = sizes.map((n) => new Float64Array(n));
  const derivs = sizes.map((n) => new Float64Array(n));
  const gs = sizes.map((n) => new Float64Array(n));

  function matVecSigmoid(w, b, a, next, d, rows, cols) {
    const cols4 = cols - (cols % 4);
    for (let i = 0; i < rows; i++) {
      const row = i * cols;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let j = 0;
      for (; j < cols4; j += 4) {
        s0 += w[row + j] * a[j];
        s1 += w[row + j + 1] * a[j + 1];
        s2 += w[row + j + 2] * a[j + 2];
        s3 += w[row + j + 3] * a[j + 3];
      }
      for (; j < cols; j++) s0 += w[row + j] * a[j];
      const s = 1 / (1 + Math.exp(-(b[i] + ((s0 + s1) + (s2 + s3)))));
      next[i] = s;
      d[i] = s * (1 - s);
    }
  }

  // v = Wᵀ g, four rows of W per pass over v.
  function matVecT(w, g, v, rows, cols) {
    v.fill(0);
    const rows4 = rows - (rows % 4);
    let i = 0;
    for (; i < rows4; i += 4) {
      const g0 = g[i], g1 = g[i + 1], g2 = g[i + 2], g3 = g[i + 3];
      const r0 = i * cols, r1 = r0 + cols, r2 = r1 + cols, r3 = r2 + cols;
      for (let j = 0; j < cols; j++) {
        v[j] += (w[r0 + j] * g0 + w[r1 + j] * g1) + (w[r2 + j] * g2 + w[r3 + j] * g3);
      }
    }
    for (; i < rows; i++) {
      const gi = g[i];
      const r = i * cols;
      for (let j = 0; j < cols; j++) v[j] += w[r + j] * gi;
    }
  }

  function gradient(x, out) {
    activations[0].set(x);
    for (let l = 1; l < L; l++) {
      matVecSigmoid(weights[l - 1], biases[l - 1], activations[l - 1], activations[l], derivs[l], sizes[l], sizes[l - 1]);
    }
    gs[L - 1].set(derivs[L - 1]);
    for (let l = L - 1; l >= 2; l--) {
      const prev = gs[l - 1];
      const d = derivs[l - 1];
      matVecT(weights[l - 1], gs[l], prev, sizes[l], sizes[l - 1]);
      for (let j = 0; j < prev.length; j++) prev[j] *= d[j];
    }
    matVecT(weights[0], gs[1], out, sizes[1], sizes[0]);
    return out;
  }

  return { precision: "f64", gradient, gradientBatch: perSample(gradient, sizes[0]), info: { storage: WeightArray.name } };
}
