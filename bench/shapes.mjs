/**
 * The network shapes the suite sweeps, and the seeded networks and input batches built on them.
 *
 * A network is { name, sizes, layers, x }: sizes = [n_1, …, n_L] (n_L = 1 for S1–S5, 10 for the
 * Jacobian shapes J3, J4); layers[l-2] holds
 * W^[l] as a flat row-major Float64Array of n_l × n_{l-1} numbers ([out][in]) and b^[l] (n_l numbers);
 * x is the input a^[1]. Every number is rounded to the nearest float32 (Math.fround), so f32 and f64
 * contenders evaluate exactly the same function and one f64 reference serves both.
 */

/** Sigmoid MLP shapes, from "a toy" to "as big as a single input gets". */
export const SHAPES = Object.freeze({
  S1: Object.freeze([2, 2, 3, 1]),
  S2: Object.freeze([10, 32, 32, 1]),
  S3: Object.freeze([100, 256, 256, 1]),
  S4: Object.freeze([784, 512, 512, 256, 1]),
  S5: Object.freeze([1024, 1024, 1024, 1]),
});

/**
 * Shapes for the Jacobian mode: n_L = 10 outputs on the widths of S3 and S4, so that a Jacobian can be
 * set against one gradient of the same-width n_L = 1 network (PAIRED_SHAPE).
 */
export const JACOBIAN_SHAPES = Object.freeze({
  J3: Object.freeze([100, 256, 256, 10]),
  J4: Object.freeze([784, 512, 512, 256, 10]),
});

/** The n_L = 1 shape with the same widths as each Jacobian shape. */
export const PAIRED_SHAPE = Object.freeze({ J3: "S3", J4: "S4" });

/** Seed used when none is given on the command line. */
export const DEFAULT_SEED = 20240611;

/** Floating-point operations per gradient: a multiply and an add per weight, forward and backward. */
export function flopsPerGradient(sizes) {
  let weights = 0;
  for (let l = 1; l < sizes.length; l++) weights += sizes[l] * sizes[l - 1];
  return 4 * weights;
}

/** mulberry32: a tiny 32-bit PRNG, good enough for benchmark data and fully reproducible. */
export function mulberry32(seed) {
  let state = seed >>> 0;
  return function next() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box–Muller, from a uniform source in [0, 1). */
export function normalSource(uniform) {
  let spare = null;
  return function nextNormal() {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    // 1 - u keeps the logarithm's argument in (0, 1].
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

/** FNV-1a of a string, to give each shape its own stream whatever else is selected. */
function hashString(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Looks a shape up by name ("S3", "J4") and says which names exist when it is unknown. */
export function shapeSizes(name) {
  const sizes = SHAPES[name] ?? JACOBIAN_SHAPES[name];
  if (!sizes) {
    const known = [...Object.keys(SHAPES), ...Object.keys(JACOBIAN_SHAPES)];
    throw new Error(`unknown shape "${name}": expected one of ${known.join(", ")}`);
  }
  return sizes;
}

/**
 * Builds the benchmark network for a shape: W ~ N(0,1)/√fan_in, b ~ N(0, 0.1²), x ~ U[0,1),
 * all rounded to float32. Same name and seed, same network, in every process.
 */
export function makeNetwork(name, seed = DEFAULT_SEED) {
  const sizes = shapeSizes(name);
  const uniform = mulberry32(seed ^ hashString(name));
  const normal = normalSource(uniform);
  const layers = [];
  for (let l = 1; l < sizes.length; l++) {
    const rows = sizes[l];
    const cols = sizes[l - 1];
    const scale = 1 / Math.sqrt(cols);
    const weights = new Float64Array(rows * cols);
    for (let k = 0; k < weights.length; k++) weights[k] = Math.fround(normal() * scale);
    const bias = new Float64Array(rows);
    for (let i = 0; i < rows; i++) bias[i] = Math.fround(0.1 * normal());
    layers.push({ weights, bias });
  }
  const x = new Float64Array(sizes[0]);
  for (let j = 0; j < x.length; j++) x[j] = Math.fround(uniform());
  return { name, sizes: [...sizes], layers, x };
}

/**
 * m inputs for the batch modes, row-major m × n_1 (row i = x_i), each x_i ~ U[0,1) rounded to float32,
 * from a stream of its own (not the network's), so the same name, m and seed give the same batch.
 */
export function makeInputs(name, m, seed = DEFAULT_SEED) {
  const n = shapeSizes(name)[0];
  const uniform = mulberry32(seed ^ hashString(`${name} inputs`));
  const xs = new Float64Array(m * n);
  for (let k = 0; k < xs.length; k++) xs[k] = Math.fround(uniform());
  return xs;
}
