/**
 * The f64 oracle every contender is checked against, written straight from the maths:
 *   a^[1] = x;  z^[l] = W^[l] a^[l-1] + b^[l];  a^[l] = σ(z^[l]),  l = 2..L
 *   g^[L] = σ'(z^[L]);  g^[l] = ((W^[l+1])ᵀ g^[l+1]) ⊙ σ'(z^[l]);  ∇ₓ a^[L] = (W^[2])ᵀ g^[2]
 * with σ(z) = 1/(1+e^{−z}) and σ'(z) = σ(z)(1−σ(z)). W^[l] is row-major [out][in].
 * It allocates freely: it runs once per shape, in the parent, and is never timed.
 */

const sigmoid = (z) => 1 / (1 + Math.exp(-z));

/** a^[L](x) in f64: the forward pass alone (used for the finite-difference check). */
export function forward(net, x = net.x) {
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
  return a[0];
}

/** ∇ₓ a^[L](x) in f64 by the backward recurrence above. */
export function referenceGradient(net, x = net.x) {
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
  // Backward: g^[L] = σ'(z^[L]), then g^[l] = ((W^[l+1])ᵀ g^[l+1]) ⊙ σ'(z^[l]) down to ∇ₓ.
  let g = derivs[derivs.length - 1];
  for (let l = net.layers.length - 1; l >= 0; l--) {
    const { weights } = net.layers[l];
    const rows = g.length;
    const cols = net.sizes[l];
    const prev = new Float64Array(cols);
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let i = 0; i < rows; i++) sum += weights[i * cols + j] * g[i];
      prev[j] = l > 0 ? sum * derivs[l - 1][j] : sum;
    }
    g = prev;
  }
  return g;
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
 * suite does not merely compare contenders with a copy of their own mistake. Returns the worst
 * error relative to ‖∇ₓ‖.
 */
export function finiteDifferenceError(net, gradient, coordinates = 4, h = 1e-5) {
  let norm = 0;
  for (const v of gradient) norm += v * v;
  norm = Math.sqrt(norm);
  let worst = 0;
  const n = net.x.length;
  const step = Math.max(1, Math.floor(n / coordinates));
  for (let j = 0; j < n; j += step) {
    const plus = Float64Array.from(net.x);
    const minus = Float64Array.from(net.x);
    plus[j] += h;
    minus[j] -= h;
    const estimate = (forward(net, plus) - forward(net, minus)) / (2 * h);
    worst = Math.max(worst, Math.abs(estimate - gradient[j]) / (norm || 1));
  }
  return worst;
}
