/**
 * An independent f64 reference for the tests: plain nested arrays, textbook formulas, no code shared
 * with src/ or assembly/. forward() follows eqs. 3.1–3.2 of Higham & Higham; gradient() follows the
 * derivation in the paper's notation with explicit sums:
 *   g_j^[l] = σ'(z_j^[l]) Σ_k W_kj^[l+1] g_k^[l+1],   ∂a^[L]/∂x_i = Σ_j g_j^[2] W_ji^[2].
 */

export type RefActivation = "identity" | "sigmoid" | "tanh" | "relu" | "leakyRelu" | "softplus";

export interface RefNetwork {
  sizes: number[];
  activations: RefActivation[];
  /** W[l][j][k]: row j, column k of the weights of layer l + 2. */
  W: number[][][];
  b: number[][];
}

/** σ(z) in f64 by the library-independent textbook formula. */
export function sigma(name: RefActivation, z: number): number {
  switch (name) {
    case "identity":
      return z;
    case "sigmoid":
      return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    case "tanh":
      return Math.tanh(z);
    case "relu":
      return Math.max(z, 0);
    case "leakyRelu":
      return z > 0 ? z : 0.01 * z;
    case "softplus":
      return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
  }
}

/** σ'(z) in f64: 1/(e^z + 2 + e^−z) for the sigmoid, 1/cosh² for tanh (both underflow to 0 gracefully), the sigmoid for softplus. */
export function sigmaPrime(name: RefActivation, z: number): number {
  switch (name) {
    case "identity":
      return 1;
    case "sigmoid":
      return 1 / (Math.exp(z) + 2 + Math.exp(-z));
    case "softplus":
      return sigma("sigmoid", z);
    case "tanh":
      return 1 / (Math.cosh(z) * Math.cosh(z));
    case "relu":
      return z > 0 ? 1 : 0;
    case "leakyRelu":
      return z > 0 ? 1 : 0.01;
  }
}

/** σ''(z) in f64: −σ'(z)·tanh(z/2) for the sigmoid (1 − 2σ = −tanh(z/2) avoids cancellation), −2 tanh/cosh² for tanh. */
export function sigmaSecond(name: RefActivation, z: number): number {
  switch (name) {
    case "sigmoid":
      return -sigmaPrime("sigmoid", z) * Math.tanh(z / 2);
    case "tanh":
      return (-2 * Math.tanh(z)) / (Math.cosh(z) * Math.cosh(z));
    case "softplus":
      return sigmaPrime("sigmoid", z);
    default:
      return 0;
  }
}

/** z^[l] and a^[l] for every layer; zs[0] is unused, as[0] = x. */
export function forwardAll(net: RefNetwork, x: ArrayLike<number>): { zs: number[][]; as: number[][] } {
  const as: number[][] = [Array.from(x)];
  const zs: number[][] = [[]];
  for (let l = 0; l < net.W.length; l++) {
    const prev = as[l];
    const z = net.W[l].map((row, j) => row.reduce((sum, w, k) => sum + w * prev[k], 0) + net.b[l][j]);
    zs.push(z);
    as.push(z.map((v) => sigma(net.activations[l], v)));
  }
  return { zs, as };
}

/** a^[L](x). */
export function forward(net: RefNetwork, x: ArrayLike<number>): number[] {
  const { as } = forwardAll(net, x);
  return as[as.length - 1];
}

/** ∇ₓ a^[L](x) for n_L = 1. */
export function gradient(net: RefNetwork, x: ArrayLike<number>): number[] {
  const { zs } = forwardAll(net, x);
  const L = net.sizes.length;
  // g for the last layer, then down to layer 2 (index 0 of W).
  let g = zs[L - 1].map((z) => sigmaPrime(net.activations[L - 2], z));
  for (let l = L - 2; l >= 1; l--) {
    const Wup = net.W[l];
    g = zs[l].map((z, j) => {
      let sum = 0;
      for (let k = 0; k < Wup.length; k++) sum += Wup[k][j] * g[k];
      return sigmaPrime(net.activations[l - 1], z) * sum;
    });
  }
  const W2 = net.W[0];
  const result: number[] = [];
  for (let i = 0; i < net.sizes[0]; i++) {
    let sum = 0;
    for (let j = 0; j < W2.length; j++) sum += g[j] * W2[j][i];
    result.push(sum);
  }
  return result;
}

/** Central finite differences of a^[L] (n_L = 1) with step h·max(1, |x_i|). */
export function finiteDifference(net: RefNetwork, x: ArrayLike<number>, h = 1e-6): number[] {
  const base = Array.from(x);
  return base.map((xi, i) => {
    const step = h * Math.max(1, Math.abs(xi));
    const plus = base.slice();
    const minus = base.slice();
    plus[i] = xi + step;
    minus[i] = xi - step;
    return (forward(net, plus)[0] - forward(net, minus)[0]) / (plus[i] - minus[i]);
  });
}

/** The Jacobian ∂a^[L]/∂x (n_L × n_1) as the product D^[L] W^[L] ⋯ D^[2] W^[2], with D^[l] = diag(σ'(z^[l])). */
export function jacobian(net: RefNetwork, x: ArrayLike<number>): number[][] {
  const { zs } = forwardAll(net, x);
  // J starts as the identity on x and is multiplied from the left, layer by layer.
  let J: number[][] = Array.from({ length: net.sizes[0] }, (_, i) => Array.from({ length: net.sizes[0] }, (_, j) => (i === j ? 1 : 0)));
  for (let l = 0; l < net.W.length; l++) {
    const W = net.W[l];
    J = W.map((row, r) => {
      const d = sigmaPrime(net.activations[l], zs[l + 1][r]);
      return J[0].map((_, c) => d * row.reduce((sum, w, k) => sum + w * J[k][c], 0));
    });
  }
  return J;
}

/** H u by central differences of the reference gradient along u. */
export function hessianVectorFD(net: RefNetwork, x: ArrayLike<number>, u: ArrayLike<number>, h = 1e-5): number[] {
  const plus = gradient(net, Array.from(x, (xi, i) => xi + h * u[i]));
  const minus = gradient(net, Array.from(x, (xi, i) => xi - h * u[i]));
  return plus.map((p, i) => (p - minus[i]) / (2 * h));
}

/** ∂(vᵀa^[L])/∂W^[l] and ∂(vᵀa^[L])/∂b^[l] by central differences of the reference forward pass. */
export function parameterGradientFD(net: RefNetwork, x: ArrayLike<number>, h = 1e-6, v: number[] = [1]): { weights: number[]; bias: number[] }[] {
  // vᵀ a^[L]: the scalar whose parameter gradient is wanted.
  const f = () => forward(net, x).reduce((sum, a, k) => sum + v[k] * a, 0);
  const bump = (array: number[], i: number): number => {
    const saved = array[i];
    array[i] = saved + h;
    const up = f();
    array[i] = saved - h;
    const down = f();
    array[i] = saved;
    return (up - down) / (2 * h);
  };
  return net.W.map((W, l) => ({
    weights: W.flatMap((row) => row.map((_, c) => bump(row, c))),
    bias: net.b[l].map((_, r) => bump(net.b[l], r)),
  }));
}
