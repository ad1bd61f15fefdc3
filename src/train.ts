/**
 * Training with the squared-error cost of Higham & Higham (SIAM Review 2019, §4–5).
 *
 *   C(x, y) = ½‖y − a^[L](x)‖²,   ∂C/∂a^[L] = a^[L] − y
 *
 * so ∂C/∂W^[l] and ∂C/∂b^[l] are net.parameterGradient(x, a^[L] − y): g^[L] = (a^[L] − y) ⊙ σ'(z^[L]),
 * ∂C/∂W^[l] = g^[l] (a^[l-1])ᵀ, ∂C/∂b^[l] = g^[l]. A gradient step is
 *
 *   W^[l] ← W^[l] − η ∂C/∂W^[l],   b^[l] ← b^[l] − η ∂C/∂b^[l],   l = 2..L.
 *
 * Layout: layer i of a gradient is layer l = i + 2; weights row-major n_l × n_{l-1}, as in the model format.
 * These helpers allocate (a^[L], the gradient, copies of the layers): they are for small networks and
 * for checking against the paper, not for a hot loop.
 */
import { MLPError, count, describe } from "./errors.js";
import type { MLP, ParameterGradient, Vector } from "./network.js";

/** What squaredErrorGradient returns: C(x, y) and ∂C/∂W^[l], ∂C/∂b^[l] for l = 2..L. */
export interface CostGradient<V extends Vector = Vector> extends ParameterGradient<V> {
  cost: number;
}

/** ∂C/∂W^[l] (row-major n_l × n_{l-1}) and ∂C/∂b^[l] of one layer, as in ParameterGradient. */
export interface LayerGradient {
  readonly weights: ArrayLike<number>;
  readonly bias: ArrayLike<number>;
}

/** ½‖y − a^[L](x)‖², with y of length n_L; allocates a^[L]. */
export function squaredError(net: MLP, x: Readonly<ArrayLike<number>>, y: Readonly<ArrayLike<number>>): number {
  const a = net.forward(x);
  checkTarget(net, y);
  return halfSquaredDistance(a, y);
}

/** C = ½‖y − a^[L](x)‖² and its parameter gradient, net.parameterGradient(x, a^[L] − y); allocates its result. */
export function squaredErrorGradient(net: MLP, x: Readonly<ArrayLike<number>>, y: Readonly<ArrayLike<number>>): CostGradient {
  const a = net.forward(x);
  checkTarget(net, y);
  const cost = halfSquaredDistance(a, y);
  // a now holds ∂C/∂a^[L] = a^[L] − y, the v of parameterGradient.
  for (let k = 0; k < a.length; k++) a[k] -= y[k];
  return { cost, layers: net.parameterGradient(x, a).layers };
}

/**
 * One gradient step W^[l] ← W^[l] − η ∂C/∂W^[l], b^[l] ← b^[l] − η ∂C/∂b^[l] for l = 2..L (layers as
 * returned by squaredErrorGradient or parameterGradient); returns net. All layers are computed and
 * checked before any is written, so a failed call changes nothing.
 */
export function sgdStep(net: MLP, layers: Readonly<ArrayLike<LayerGradient>>, eta: number): MLP {
  if (typeof eta !== "number" || !Number.isFinite(eta) || !(eta > 0)) {
    throw new MLPError("E_INPUT", `sgdStep: eta (the learning rate η) must be a positive finite number, got ${typeof eta === "number" ? String(eta) : describe(eta)}`, {
      actual: eta,
    });
  }
  const L = net.sizes.length;
  if (layers === null || typeof layers !== "object" || typeof layers.length !== "number" || layers.length !== L - 1) {
    const got = layers !== null && typeof layers === "object" && typeof layers.length === "number" ? `${layers.length} entries` : describe(layers);
    throw new MLPError(
      "E_LAYERS",
      `sgdStep: expected the gradient's layers, an array of ${L - 1} { weights, bias } (layers 2..${L}), got ${got}; ` +
        `pass squaredErrorGradient(net, x, y).layers`,
      { expected: L - 1, actual: layers?.length },
    );
  }
  const Type = net.precision === "f32" ? Float32Array : Float64Array;
  const updated: { weights: Vector; bias: Vector }[] = [];
  for (let l = 2; l <= L; l++) {
    const step = layers[l - 2];
    const current = net.getLayer(l);
    const rows = net.sizes[l - 1];
    const cols = net.sizes[l - 2];
    const weights = new Type(current.weights.length);
    const bias = new Type(current.bias.length);
    descend(l, "weights", current.weights, step?.weights, eta, weights, `${rows}×${cols} = ${count(rows * cols, "number")} (∂C/∂W^[${l}], row-major)`);
    descend(l, "bias", current.bias, step?.bias, eta, bias, `${count(rows, "number")} (∂C/∂b^[${l}])`);
    updated.push({ weights, bias });
  }
  updated.forEach(({ weights, bias }, i) => net.setLayer(i + 2, weights, bias));
  return net;
}

/** out = p − η·g, checking g's length and that every result is finite (in out's precision). */
function descend(l: number, name: string, p: Vector, g: ArrayLike<number> | undefined, eta: number, out: Vector, shape: string): void {
  if (g === null || typeof g !== "object" || g.length !== p.length) {
    throw new MLPError("E_SHAPE", `sgdStep: layer ${l} ${name}: expected ${shape}, got ${g !== null && typeof g === "object" ? g.length : describe(g)}`, {
      layer: l,
      expected: p.length,
      actual: g?.length,
    });
  }
  for (let k = 0; k < p.length; k++) {
    out[k] = p[k] - eta * g[k];
    // A Float32Array rounds an f32 overflow to ±Infinity, so this also catches values outside the f32 range.
    if (!Number.isFinite(out[k])) {
      throw new MLPError(
        "E_NONFINITE",
        `sgdStep: layer ${l} ${name}[${k}] would become ${out[k]} (${p[k]} − ${eta}·${g[k]}); the gradient must be finite and η small enough`,
        { layer: l, index: k, actual: g[k] },
      );
    }
  }
}

/** Checks that y holds n_L finite numbers (within the f32 range for f32 networks, like x). */
function checkTarget(net: MLP, y: Readonly<ArrayLike<number>>): void {
  const n = net.outputSize;
  if (y === null || typeof y !== "object" || y.length !== n) {
    const got = y !== null && typeof y === "object" && typeof y.length === "number" ? y.length : describe(y);
    throw new MLPError("E_INPUT", `y: expected ${count(n, "number")} (n_L, the length of a^[L]), got ${got}`, { layer: net.sizes.length, expected: n, actual: y?.length });
  }
  const limit = net.precision === "f32" ? 3.4028234663852886e38 : Number.MAX_VALUE;
  for (let k = 0; k < n; k++) {
    const value = y[k];
    if (typeof value !== "number" || !(Math.abs(value) <= limit)) {
      const shown = typeof value === "number" ? String(value) : typeof value === "string" ? `the string ${JSON.stringify(value)}` : describe(value);
      const range = net.precision === "f32" && Number.isFinite(value) ? " within the f32 range" : "";
      throw new MLPError("E_NONFINITE", `y[${k}] is ${shown}: y must hold finite numbers${range}`, { index: k, actual: value });
    }
  }
}

function halfSquaredDistance(a: ArrayLike<number>, y: ArrayLike<number>): number {
  let sum = 0;
  for (let k = 0; k < a.length; k++) sum += (y[k] - a[k]) * (y[k] - a[k]);
  return sum / 2;
}
