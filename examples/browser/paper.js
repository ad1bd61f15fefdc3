/**
 * The example of Higham & Higham, "Deep Learning: An Introduction for Applied Mathematicians" (SIAM
 * Review 2019, §6): ten points of [0,1]², five of class 1 (y = (1, 0)) and five of class 2 (y = (0, 1)),
 * and the 2-2-3-2 sigmoid network that separates them, trained by stochastic gradient on
 *
 *   Cost = (1/10) Σᵢ ½‖y⁽ⁱ⁾ − a^[L](x⁽ⁱ⁾)‖²,   one random point per step, η = 0.05.
 *
 * The same points, seed and initial weights (0.5·N(0, 1)) as examples/train-paper.ts. Shared by the page
 * (demo.js) and by make-weights.mjs, which writes the shipped trained weights.
 */

export const POINTS = [
  [0.1, 0.1], [0.3, 0.4], [0.1, 0.5], [0.6, 0.9], [0.4, 0.2],
  [0.6, 0.3], [0.5, 0.6], [0.9, 0.2], [0.4, 0.4], [0.7, 0.6],
];
export const LABELS = POINTS.map((_, i) => (i < 5 ? [1, 0] : [0, 1]));
export const SIZES = [2, 2, 3, 2];
export const ETA = 0.05;
export const SEED = 2019;
/** Steps make-weights.mjs trains for (as examples/train-paper.ts: cost < 1% of the initial, all points right). */
export const TRAINED_STEPS = 150_000;

/** mulberry32: a small seeded generator, uniform on [0, 1). */
export function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** W^[l] and b^[l] with entries 0.5·N(0, 1) (Box–Muller), layer by layer, weights before bias. */
export function initialLayers(random) {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const draw = (n) => Array.from({ length: n }, () => 0.5 * normal());
  return SIZES.slice(1).map((rows, i) => ({ weights: draw(rows * SIZES[i]), bias: draw(rows) }));
}

/** The untrained model (createMLP's format) from the seed, in the given precision. */
export function initialModel(precision, random) {
  return { sizes: SIZES, activations: "sigmoid", precision, layers: initialLayers(random) };
}

/** `steps` stochastic-gradient steps with the library's squaredErrorGradient and sgdStep. */
export function train(mlpgrad, net, random, steps) {
  for (let s = 0; s < steps; s++) {
    const i = Math.floor(random() * POINTS.length);
    mlpgrad.sgdStep(net, mlpgrad.squaredErrorGradient(net, POINTS[i], LABELS[i]).layers, ETA);
  }
}

/** The paper's Cost over the ten points. */
export function cost(mlpgrad, net) {
  return POINTS.reduce((sum, x, i) => sum + mlpgrad.squaredError(net, x, LABELS[i]), 0) / POINTS.length;
}
