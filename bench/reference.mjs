/**
 * The f64 oracle every contender is checked against, written straight from the maths:
 *   a^[1] = x;  z^[l] = W^[l] a^[l-1] + b^[l];  a^[l] = σ(z^[l]),  l = 2..L
 *   g^[L] = σ'(z^[L]);  g^[l] = ((W^[l+1])ᵀ g^[l+1]) ⊙ σ'(z^[l]);  ∇ₓ a^[L] = (W^[2])ᵀ g^[2]
 * with σ(z) = 1/(1+e^{−z}) and σ'(z) = σ(z)(1−σ(z)). W^[l] is row-major [out][in].
 * It allocates freely: it runs once per shape, in the parent, and is never timed.
 */

const sigmoid = (z) => 1 / (1 + Math.exp(-z));

/** a^[L](x) in f64, all n_L outputs: the forward pass alone (used for the finite-difference check). */
export function forwardOutputs(net, x = net.x) {
  let a = Float64Array.from(x);
  for (const { weights, bias } of net.layers) {
    const rows = bias.length;
    const cols = a.length;
    const next = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      let z = bias[i];
      for (let j = 0; j < cols; j++) z += weights[i * cols + j] * a[j];
      next[i] = sigmoid(z);
    }
    a = next;
  }
  return a;
}

/** a_1^[L](x) in f64, the first (for S1–S5 the only) output. */
export function forward(net, x = net.x) {
  return forwardOutputs(net, x)[0];
}

/**
 * vᵀ ∂a^[L]/∂x at x in f64, by the backward recurrence above started from g^[L] = v ⊙ σ'(z^[L]).
 * (W^[l])ᵀ g is summed row by row (prev += g_i · W[i,:]), in memory order: the batch modes need
 * this oracle for 256 inputs of the 1024-wide shape, and striding down the columns was 5× slower.
 */
export function referenceVjp(net, x, v) {
  // Forward, keeping σ'(z^[l]) for every layer l = 2..L.
  const derivs = [];
  let a = Float64Array.from(x);
  for (const { weights, bias } of net.layers) {
    const rows = bias.length;
    const cols = a.length;
    const next = new Float64Array(rows);
    const deriv = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      let z = bias[i];
      for (let j = 0; j < cols; j++) z += weights[i * cols + j] * a[j];
      const s = sigmoid(z);
      next[i] = s;
      deriv[i] = s * (1 - s);
    }
    derivs.push(deriv);
    a = next;
  }
  // Backward: g^[L] = v ⊙ σ'(z^[L]), then g^[l] = ((W^[l+1])ᵀ g^[l+1]) ⊙ σ'(z^[l]) down to ∇ₓ.
  let g = derivs[derivs.length - 1].map((d, k) => v[k] * d);
  for (let l = net.layers.length - 1; l >= 0; l--) {
    const { weights } = net.layers[l];
    const rows = g.length;
    const cols = net.sizes[l];
    const prev = new Float64Array(cols);
    for (let i = 0; i < rows; i++) {
      const gi = g[i];
      for (let j = 0; j < cols; j++) prev[j] += weights[i * cols + j] * gi;
    }
    if (l > 0) for (let j = 0; j < cols; j++) prev[j] *= derivs[l - 1][j];
    g = prev;
  }
  return g;
}

/** ∇ₓ a^[L](x) in f64 (for n_L > 1: the gradient of the sum of the outputs). */
export function referenceGradient(net, x = net.x) {
  return referenceVjp(net, x, new Float64Array(net.sizes[net.sizes.length - 1]).fill(1));
}

/** ∂a^[L]/∂x at x in f64, row-major n_L × n_1: row k = ∇ₓ a_k^[L], one backward pass per output. */
export function referenceJacobian(net, x = net.x) {
  const nL = net.sizes[net.sizes.length - 1];
  const n1 = net.sizes[0];
  const jacobian = new Float64Array(nL * n1);
  for (let k = 0; k < nL; k++) {
    const unit = new Float64Array(nL);
    unit[k] = 1;
    jacobian.set(referenceVjp(net, x, unit), k * n1);
  }
  return jacobian;
}

/** Per-sample ∇ₓ a^[L](x_i) for the rows of xs (row-major m × n_1), as row-major m × n_1. */
export function referenceGradients(net, xs) {
  const n1 = net.sizes[0];
  const m = xs.length / n1;
  const gradients = new Float64Array(xs.length);
  for (let i = 0; i < m; i++) gradients.set(referenceGradient(net, xs.subarray(i * n1, (i + 1) * n1)), i * n1);
  return gradients;
}

/**
 * The worst relativeError over the rows of two row-major arrays of `width` columns: each sample's
 * gradient (or each Jacobian row) must pass on its own, so one bad row cannot hide among good ones.
 * Returns { worst, row } (row −1 when the lengths differ).
 */
export function worstRowError(got, want, width) {
  if (got.length !== want.length || want.length % width !== 0) return { worst: Infinity, row: -1 };
  let worst = 0;
  let row = 0;
  for (let i = 0; i * width < want.length; i++) {
    const error = relativeError(got.subarray(i * width, (i + 1) * width), want.subarray(i * width, (i + 1) * width));
    if (!(error <= worst)) {
      worst = error;
      row = i;
    }
  }
  return { worst, row };
}

/** ‖got − want‖₂ / ‖want‖₂ (the absolute error when want is all zeros). */
export function relativeError(got, want) {
  if (got.length !== want.length) return Infinity;
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < want.length; i++) {
    const d = got[i] - want[i];
    diff += d * d;
    norm += want[i] * want[i];
  }
  if (!Number.isFinite(diff)) return Infinity;
  return norm > 0 ? Math.sqrt(diff / norm) : Math.sqrt(diff);
}

/**
 * Checks the oracle itself against central finite differences on a few input coordinates, so the
 * suite does not merely compare contenders with a copy of their own mistake: `gradient` is
 * ∇ₓ a_k^[L] at x for k = `output`. Returns the worst error relative to ‖∇ₓ‖.
 */
export function finiteDifferenceError(net, gradient, { x = net.x, output = 0, coordinates = 4, h = 1e-5 } = {}) {
  let norm = 0;
  for (const v of gradient) norm += v * v;
  norm = Math.sqrt(norm);
  let worst = 0;
  const n = x.length;
  const step = Math.max(1, Math.floor(n / coordinates));
  for (let j = 0; j < n; j += step) {
    const plus = Float64Array.from(x);
    const minus = Float64Array.from(x);
    plus[j] += h;
    minus[j] -= h;
    const estimate = (forwardOutputs(net, plus)[output] - forwardOutputs(net, minus)[output]) / (2 * h);
    worst = Math.max(worst, Math.abs(estimate - gradient[j]) / (norm || 1));
  }
  return worst;
}
