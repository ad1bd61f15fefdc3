/**
 * An independent f64 reference for imported models: every activation of the model format (including the
 * parameterised ones and softmax/logSoftmax over the output layer) by textbook formulas, no code shared
 * with src/. forward() follows a^[l] = σ_l(W^[l] a^[l−1] + b^[l]); jacobian() multiplies out
 * J^[l] = D^[l] W^[l] J^[l−1], J^[1] = I, with D^[l] = ∂σ_l/∂z^[l] (diagonal, or full for softmax).
 */

/** An activation as an importer writes it. */
export type Act = string | { name: string; [k: string]: number | string };

/** The model object the importers return (weights flat row-major [out][in]). */
export interface PlainModel {
  sizes: number[];
  activations: Act[] | Act;
  layers: { weights: ArrayLike<number>; bias: ArrayLike<number> }[];
}

/** erf in f64: Maclaurin series below 2.5 (≤ 1e-13 here), the erfc continued fraction above. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))), evaluated bottom-up.
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const SELU_A = 1.6732632423543772;
const SELU_L = 1.0507009873554805;
const GELU_C = Math.sqrt(2 / Math.PI);

function nameOf(a: Act): string {
  return typeof a === "string" ? a : a.name;
}
function param(a: Act, key: string, fallback: number): number {
  return typeof a === "string" || typeof a[key] !== "number" ? fallback : (a[key] as number);
}
const sig = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
const softplus = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));

/** σ(z) and σ'(z) of an elementwise activation. */
export function scalarAct(a: Act, z: number): [number, number] {
  switch (nameOf(a)) {
    case "identity": case "linear": return [z, 1];
    case "sigmoid": return [sig(z), sig(z) * (1 - sig(z))];
    case "tanh": return [Math.tanh(z), 1 - Math.tanh(z) ** 2];
    case "relu": return [Math.max(z, 0), z > 0 ? 1 : 0];
    case "softplus": return [softplus(z), sig(z)];
    case "leakyRelu": { const al = param(a, "alpha", 0.01); return [z > 0 ? z : al * z, z > 0 ? 1 : al]; }
    case "elu": { const al = param(a, "alpha", 1); return [z > 0 ? z : al * Math.expm1(z), z > 0 ? 1 : al * Math.exp(z)]; }
    case "selu": return [SELU_L * (z > 0 ? z : SELU_A * Math.expm1(z)), SELU_L * (z > 0 ? 1 : SELU_A * Math.exp(z))];
    case "gelu": {
      const cdf = 0.5 * (1 + erf(z / Math.SQRT2));
      return [z * cdf, cdf + (z * Math.exp(-z * z / 2)) / Math.sqrt(2 * Math.PI)];
    }
    case "geluTanh": {
      const t = Math.tanh(GELU_C * (z + 0.044715 * z ** 3));
      return [0.5 * z * (1 + t), 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * z * z)];
    }
    case "swish": return [z * sig(z), sig(z) + z * sig(z) * (1 - sig(z))];
    case "mish": {
      const t = Math.tanh(softplus(z));
      return [z * t, t + z * (1 - t * t) * sig(z)];
    }
    case "relu6": return [Math.min(Math.max(z, 0), 6), z > 0 && z < 6 ? 1 : 0];
    case "softsign": return [z / (1 + Math.abs(z)), 1 / (1 + Math.abs(z)) ** 2];
    case "hardSigmoid": {
      const s = param(a, "slope", 0.2);
      const y = s * z + param(a, "offset", 0.5);
      return [Math.min(Math.max(y, 0), 1), y > 0 && y < 1 ? s : 0];
    }
    default: throw new Error(`reference: unknown activation ${JSON.stringify(a)}`);
  }
}

/** a = σ(z) and D = ∂a/∂z (n × n) for one layer. */
function layerAct(a: Act, z: number[]): { out: number[]; D: number[][] } {
  const n = z.length;
  const name = nameOf(a);
  if (name === "softmax" || name === "logSoftmax") {
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((x, y) => x + y, 0);
    const s = e.map((v) => v / sum);
    if (name === "softmax") return { out: s, D: s.map((si, i) => s.map((sj, j) => (i === j ? si : 0) - si * sj)) };
    const lse = m + Math.log(sum);
    return { out: z.map((v) => v - lse), D: z.map((_, i) => s.map((sj, j) => (i === j ? 1 : 0) - sj)) };
  }
  const pairs = z.map((v) => scalarAct(a, v));
  return { out: pairs.map((p) => p[0]), D: pairs.map((p, i) => Array.from({ length: n }, (_, j) => (i === j ? p[1] : 0))) };
}

function acts(model: PlainModel): Act[] {
  return Array.isArray(model.activations) ? model.activations : new Array(model.layers.length).fill(model.activations);
}

/** a^[L](x) in f64. */
export function refForward(model: PlainModel, x: ArrayLike<number>): number[] {
  return refJacobian(model, x).output;
}

/** a^[L](x) and the Jacobian ∂a^[L]/∂x, row-major n_L × n_1, in f64. */
export function refJacobian(model: PlainModel, x: ArrayLike<number>): { output: number[]; jacobian: number[] } {
  const list = acts(model);
  let a = Array.from(x);
  const n1 = a.length;
  let J: number[][] = a.map((_, i) => a.map((__, j) => (i === j ? 1 : 0)));
  model.layers.forEach((layer, l) => {
    const nIn = a.length;
    const nOut = layer.bias.length;
    const W = (j: number, k: number) => layer.weights[j * nIn + k];
    const z = Array.from({ length: nOut }, (_, j) => {
      let s = layer.bias[j];
      for (let k = 0; k < nIn; k++) s += W(j, k) * a[k];
      return s;
    });
    const WJ = Array.from({ length: nOut }, (_, j) => Array.from({ length: n1 }, (__, i) => {
      let s = 0;
      for (let k = 0; k < nIn; k++) s += W(j, k) * J[k][i];
      return s;
    }));
    const { out, D } = layerAct(list[l], z);
    J = D.map((row) => Array.from({ length: n1 }, (_, i) => row.reduce((s, d, k) => s + d * WJ[k][i], 0)));
    a = out;
  });
  return { output: a, jacobian: J.flat() };
}

/** Central differences of f at x, row-major n_out × n_in (h scaled to each |x_i|). */
export function centralJacobian(f: (x: number[]) => ArrayLike<number>, x: ArrayLike<number>, h = 1e-6): number[] {
  const x0 = Array.from(x);
  const cols: number[][] = x0.map((xi, i) => {
    const step = h * Math.max(1, Math.abs(xi));
    const up = x0.slice();
    const down = x0.slice();
    up[i] += step;
    down[i] -= step;
    const fu = f(up);
    const fd = f(down);
    return Array.from(fu, (v, k) => (v - fd[k]) / (2 * step));
  });
  const nOut = cols[0].length;
  return Array.from({ length: nOut * x0.length }, (_, idx) => cols[idx % x0.length][Math.floor(idx / x0.length)]);
}
