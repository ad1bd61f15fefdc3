/**
 * An independent f64 reference for the tests: plain nested arrays, textbook formulas, no code shared
 * with src/ or assembly/. forward() follows eqs. 3.1–3.2 of Higham & Higham; gradient() follows the
 * derivation in the paper's notation with explicit sums:
 *   g_j^[l] = σ'(z_j^[l]) Σ_k W_kj^[l+1] g_k^[l+1],   ∂a^[L]/∂x_i = Σ_j g_j^[2] W_ji^[2].
 */

/** Elementwise activations the reference knows; parameters default as in the model format. */
export type RefName =
  | "identity" | "sigmoid" | "tanh" | "relu" | "leakyRelu" | "softplus" | "elu" | "selu" | "gelu" | "geluTanh"
  | "swish" | "mish" | "relu6" | "softsign" | "hardSigmoid";
/** A name, an object with parameters, or (last layer only) softmax / logSoftmax. */
export type RefActivation = RefName | "softmax" | "logSoftmax" | { name: RefName; alpha?: number; slope?: number; offset?: number };

export interface RefNetwork {
  sizes: number[];
  activations: RefActivation[];
  /** W[l][j][k]: row j, column k of the weights of layer l + 2. */
  W: number[][][];
  b: number[][];
}

const SELU_LAMBDA = 1.0507009873554804934193349852946;
const SELU_ALPHA = 1.6732632423543772848170429916717;
const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/**
 * erf(x) by its Maclaurin series for |x| < 0.5, else 1 − erfc(x); erfc(x) for x ≥ 0.5 by Laplace's continued
 * fraction erfc x = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …)))), evaluated backwards from depth 4000
 * (300 past x = 2): slow, simple, and a different method from the kernels' (series and Legendre's fraction
 * in z = x√2). Accurate to a few ulps, except that e^(−x²) inherits the rounding of x² for large x.
 */
export function erfc(x: number): number {
  if (x < 0.5) return 1 - erf(x);
  if (x > 27.3) return 0;
  let f = x;
  for (let k = x < 2 ? 4000 : 300; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

export function erf(x: number): number {
  if (Math.abs(x) >= 0.5) return x > 0 ? 1 - erfc(x) : erfc(-x) - 1;
  let term = x;
  let sum = x;
  for (let n = 1; n < 30; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** Φ(z) = ½ erfc(−z/√2). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

function nameOf(a: RefActivation): RefName | "softmax" | "logSoftmax" {
  return typeof a === "string" ? a : a.name;
}

function param(a: RefActivation, key: "alpha" | "slope" | "offset", fallback: number): number {
  return typeof a === "object" && a[key] !== undefined ? a[key]! : fallback;
}

const alphaOf = (a: RefActivation): number => param(a, "alpha", nameOf(a) === "elu" ? 1 : 0.01);

/** σ(z) in f64 by the library-independent textbook formula. */
export function sigma(act: RefActivation, z: number): number {
  const name = nameOf(act);
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
      return z > 0 ? z : alphaOf(act) * z;
    case "softplus":
      return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    case "elu":
      return z > 0 ? z : alphaOf(act) * Math.expm1(z);
    case "selu":
      return z > 0 ? SELU_LAMBDA * z : SELU_LAMBDA * SELU_ALPHA * Math.expm1(z);
    case "gelu":
      return z * normalCdf(z);
    case "geluTanh":
      // ½z(1 + tanh u) = z / (1 + e^(−2u)): the same function without 1 + tanh's cancellation.
      return z / (1 + Math.exp(-2 * GELU_K * (z + GELU_C * z * z * z)));
    case "swish":
      return z * sigma("sigmoid", z);
    case "mish":
      return z * Math.tanh(sigma("softplus", z));
    case "relu6":
      return Math.min(Math.max(z, 0), 6);
    case "softsign":
      return z / (1 + Math.abs(z));
    case "hardSigmoid":
      return Math.min(Math.max(param(act, "slope", 0.2) * z + param(act, "offset", 0.5), 0), 1);
    default:
      throw new Error(`reference: ${name} is not elementwise`);
  }
}

/** 1/cosh²(u), which underflows to 0 gracefully. */
function sech2(u: number): number {
  const c = Math.cosh(u);
  return 1 / (c * c);
}

/** σ'(z) in f64: 1/(e^z + 2 + e^−z) for the sigmoid, 1/cosh² for tanh (both underflow to 0 gracefully), the sigmoid for softplus. */
export function sigmaPrime(act: RefActivation, z: number): number {
  const name = nameOf(act);
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
      return z > 0 ? 1 : alphaOf(act);
    case "elu":
      return z > 0 ? 1 : alphaOf(act) * Math.exp(z);
    case "selu":
      return z > 0 ? SELU_LAMBDA : SELU_LAMBDA * SELU_ALPHA * Math.exp(z);
    case "gelu": {
      const pdf = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
      return normalCdf(z) + (pdf === 0 ? 0 : z * pdf);
    }
    case "geluTanh": {
      const u = GELU_K * (z + GELU_C * z * z * z);
      const du = GELU_K * (1 + 3 * GELU_C * z * z);
      const s2 = sech2(u);
      return sigma("sigmoid", 2 * u) + (s2 === 0 ? 0 : 0.5 * z * s2 * du);
    }
    case "swish":
      return sigma("sigmoid", z) + z * sigmaPrime("sigmoid", z);
    case "mish": {
      const sp = sigma("softplus", z);
      const s2 = sech2(sp);
      return Math.tanh(sp) + (s2 === 0 ? 0 : z * s2 * sigma("sigmoid", z));
    }
    case "relu6":
      return z > 0 && z < 6 ? 1 : 0;
    case "softsign":
      return 1 / (1 + Math.abs(z)) / (1 + Math.abs(z));
    case "hardSigmoid": {
      const slope = param(act, "slope", 0.2);
      const v = slope * z + param(act, "offset", 0.5);
      return v > 0 && v < 1 ? slope : 0;
    }
    default:
      throw new Error(`reference: ${name} is not elementwise`);
  }
}

/** σ''(z) in f64: −σ'(z)·tanh(z/2) for the sigmoid (1 − 2σ = −tanh(z/2) avoids cancellation), −2 tanh/cosh² for tanh. */
export function sigmaSecond(act: RefActivation, z: number): number {
  const name = nameOf(act);
  switch (name) {
    case "sigmoid":
      return -sigmaPrime("sigmoid", z) * Math.tanh(z / 2);
    case "tanh":
      return (-2 * Math.tanh(z)) / (Math.cosh(z) * Math.cosh(z));
    case "softplus":
      return sigmaPrime("sigmoid", z);
    case "elu":
    case "selu":
      return z > 0 ? 0 : sigmaPrime(act, z);
    case "gelu": {
      const pdf = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
      return pdf === 0 ? 0 : pdf * (2 - z * z);
    }
    case "geluTanh": {
      // σ = ½z(1 + T), T = tanh u:  σ'' = sech²u · (u' + ½z(u'' − 2T u'²)).
      const u = GELU_K * (z + GELU_C * z * z * z);
      const du = GELU_K * (1 + 3 * GELU_C * z * z);
      const ddu = GELU_K * 6 * GELU_C * z;
      const s2 = sech2(u);
      return s2 === 0 ? 0 : s2 * (du + 0.5 * z * (ddu - 2 * Math.tanh(u) * du * du));
    }
    case "swish": {
      // (z σ)'' = σ'·(2 + z(1 − 2σ)), 1 − 2σ = −tanh(z/2).
      const d = sigmaPrime("sigmoid", z);
      return d === 0 ? 0 : d * (2 - z * Math.tanh(z / 2));
    }
    case "mish": {
      // σ = z T, T = tanh(sp), S = sech²(sp), sp' = sig:  σ'' = S·(2 sig + z(sig' − 2T sig²)).
      const sp = sigma("softplus", z);
      const S = sech2(sp);
      const sig = sigma("sigmoid", z);
      return S * sig === 0 ? 0 : S * (2 * sig + z * (sigmaPrime("sigmoid", z) - 2 * Math.tanh(sp) * sig * sig));
    }
    case "softsign": {
      const r = 1 / (1 + Math.abs(z));
      return -2 * Math.sign(z) * r * r * r;
    }
    default:
      return 0;
  }
}

/** softmax(z) = e^(z − max) / Σ e^(z − max), or logSoftmax(z) = log of it, by the textbook formulas. */
export function outputOf(name: "softmax" | "logSoftmax", z: number[]): number[] {
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return name === "softmax" ? e.map((v) => v / sum) : z.map((v) => v - max - Math.log(sum));
}

/** The output layer's Jacobian ∂a/∂z (n × n): δ_ij p_i − p_i p_j for softmax, δ_ij − p_j for logSoftmax. */
export function outputJacobian(name: "softmax" | "logSoftmax", z: number[]): number[][] {
  const p = outputOf("softmax", z);
  return p.map((pi, i) => p.map((pj, j) => (name === "softmax" ? (i === j ? pi : 0) - pi * pj : (i === j ? 1 : 0) - pj)));
}

function isOutput(a: RefActivation): a is "softmax" | "logSoftmax" {
  return a === "softmax" || a === "logSoftmax";
}

/** z^[l] and a^[l] for every layer; zs[0] is unused, as[0] = x. */
export function forwardAll(net: RefNetwork, x: ArrayLike<number>): { zs: number[][]; as: number[][] } {
  const as: number[][] = [Array.from(x)];
  const zs: number[][] = [[]];
  for (let l = 0; l < net.W.length; l++) {
    const prev = as[l];
    const z = net.W[l].map((row, j) => row.reduce((sum, w, k) => sum + w * prev[k], 0) + net.b[l][j]);
    zs.push(z);
    const act = net.activations[l];
    as.push(isOutput(act) ? outputOf(act, z) : z.map((v) => sigma(act, v)));
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
    const act = net.activations[l];
    const prev = J;
    const Jz = W.map((row) => prev[0].map((_, c) => row.reduce((sum, w, k) => sum + w * prev[k][c], 0)));
    if (isOutput(act)) {
      const D = outputJacobian(act, zs[l + 1]);
      J = D.map((drow) => Jz[0].map((_, c) => drow.reduce((sum, d, k) => sum + d * Jz[k][c], 0)));
    } else {
      J = Jz.map((row, r) => row.map((v) => sigmaPrime(act, zs[l + 1][r]) * v));
    }
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

/** One backward step for C columns at once, in plain f64: out[c][j] = s_j · Σ_i W[i][j] G[c][i] (s omitted: 1). */
export function transposedProduct(W: number[][], G: number[][], s?: number[]): number[][] {
  const cols = W[0].length;
  return G.map((g) => Array.from({ length: cols }, (_, j) => W.reduce((sum, row, i) => sum + row[j] * g[i], 0) * (s ? s[j] : 1)));
}

/** The Jacobian ∂a^[L]/∂x (n_L × n_1) by central differences of the reference forward pass. */
export function jacobianFD(net: RefNetwork, x: ArrayLike<number>, h = 1e-6): number[][] {
  const columns = Array.from(x, (xi, i) => {
    const step = h * Math.max(1, Math.abs(xi));
    const plus = Array.from(x);
    const minus = Array.from(x);
    plus[i] = xi + step;
    minus[i] = xi - step;
    const up = forward(net, plus);
    const down = forward(net, minus);
    return up.map((u, k) => (u - down[k]) / (plus[i] - minus[i]));
  });
  return net.sizes.slice(-1).flatMap((nL) => Array.from({ length: nL }, (_, k) => columns.map((column) => column[k])));
}
