/**
 * `npm run example:train`: trains the 2-2-3-2 sigmoid network of Higham & Higham (SIAM Review 2019, §4–5)
 * on the paper's ten points of [0,1]², then differentiates the trained network with respect to x.
 *
 *   Cost = (1/10) Σ_i ½‖y^{(i)} − a^[L](x^{(i)})‖²,   y = (1, 0) for points 1–5, (0, 1) for points 6–10
 *
 * Stochastic gradient as in the paper: each step picks one point i at random and takes
 * W^[l] ← W^[l] − η ∂C_i/∂W^[l], b^[l] ← b^[l] − η ∂C_i/∂b^[l] with η = 0.05 (squaredErrorGradient and
 * sgdStep from src/train.ts). The initial weights and biases are 0.5·N(0, 1), from a seeded generator, so
 * every run is the same. The paper ran up to 10^6 steps; with this seed the cost is below 1% of its
 * initial value after about 91,000, and ITERATIONS leaves a margin. Exits non-zero if training fails.
 */
import { createMLP, init, sgdStep, squaredError, squaredErrorGradient, type MLP } from "../src/index.js";

const X1 = [0.1, 0.3, 0.1, 0.6, 0.4, 0.6, 0.5, 0.9, 0.4, 0.7];
const X2 = [0.1, 0.4, 0.5, 0.9, 0.2, 0.3, 0.6, 0.2, 0.4, 0.6];
const POINTS = X1.map((x1, i) => [x1, X2[i]]);
const LABELS = POINTS.map((_, i) => (i < 5 ? [1, 0] : [0, 1]));
const SIZES = [2, 2, 3, 2];
const ETA = 0.05;
const ITERATIONS = 150_000;
const SEED = 2019;
const GOAL = 0.01; // final cost / initial cost must be below this

const engine = await init();
const random = mulberry32(SEED);
const net = createMLP({ sizes: SIZES, activations: "sigmoid", precision: "f64", layers: initialLayers(SIZES, random) });

console.log(`Training the ${SIZES.join("-")} sigmoid network of Higham & Higham (2019) on its ten points, f64, ${engine.simd ? "SIMD" : "scalar"} build`);
console.log(`stochastic gradient: one random point per step, η = ${ETA}, ${ITERATIONS.toLocaleString("en")} steps, initial weights 0.5·N(0,1) (seed ${SEED})`);
console.log();

const initialCost = cost(net);
const rows: string[][] = [["0", initialCost.toExponential(4), "100.00%", String(correct(net))]];
const started = performance.now();
for (let step = 1; step <= ITERATIONS; step++) {
  const i = Math.floor(random() * POINTS.length);
  sgdStep(net, squaredErrorGradient(net, POINTS[i], LABELS[i]).layers, ETA);
  if (step % (ITERATIONS / 10) === 0) {
    const c = cost(net);
    rows.push([step.toLocaleString("en"), c.toExponential(4), `${((100 * c) / initialCost).toFixed(2)}%`, String(correct(net))]);
  }
}
const seconds = (performance.now() - started) / 1000;
printTable(["step", "cost", "of initial", "points right"], rows);
const finalCost = cost(net);
console.log();
console.log(`final cost ${finalCost.toExponential(4)} = ${((100 * finalCost) / initialCost).toFixed(2)}% of the initial ${initialCost.toExponential(4)}, in ${seconds.toFixed(2)} s`);
console.log();

// The classification: the larger component of a^[L] names the class.
printTable(
  ["point", "x", "class", "a^[L](x)", "argmax", "check"],
  POINTS.map((x, i) => {
    const a = net.forward(x);
    const k = argmax(a);
    return [String(i + 1), `(${x.join(", ")})`, String(argmax(LABELS[i]) + 1), `(${a[0].toFixed(4)}, ${a[1].toFixed(4)})`, String(k + 1), k === argmax(LABELS[i]) ? "right" : "WRONG"];
  }),
);
const right = correct(net);
console.log(right === POINTS.length ? "all ten points are classified correctly" : `${right} of ten points are classified correctly`);
console.log();

// Derivatives of the trained network with respect to its input x: at a point of each class, and at
// (0.35, 0.4), on the decision boundary between points 2 and 9, where the scores change fastest.
console.log("The Jacobian ∂a^[L]/∂x (jacobian(x); row k = ∇ₓ a_k^[L]) and the gradient of the score difference a_1 − a_2 (vjp(x, [1, −1])):");
const derivativeRows: string[][] = [];
const J = new Float64Array(4);
let worst = 0; // |vjp(x, [1, −1]) − (row 1 − row 2 of J)|: two routes to one derivative, equal up to rounding
for (const x of [[0.1, 0.1], [0.35, 0.4], [0.7, 0.6]]) {
  const a = net.forward(x);
  net.jacobian(x, J);
  derivativeRows.push([`(${x.join(", ")})`, `(${a[0].toFixed(4)}, ${a[1].toFixed(4)})`, "∇ₓ a_1", vector(J.subarray(0, 2))]);
  derivativeRows.push(["", "", "∇ₓ a_2", vector(J.subarray(2, 4))]);
  const difference = net.vjp(x, [1, -1]);
  derivativeRows.push(["", "", "∇ₓ(a_1 − a_2)", vector(difference)]);
  for (let i = 0; i < 2; i++) worst = Math.max(worst, Math.abs(difference[i] - (J[i] - J[2 + i])));
}
printTable(["x", "a^[L](x)", "", "(∂/∂x_1, ∂/∂x_2)"], derivativeRows);
console.log(`largest |vjp(x, [1, −1]) − (row 1 − row 2 of the Jacobian)|: ${worst.toExponential(1)}`);
console.log("Moving x along ∇ₓ(a_1 − a_2) raises the class-1 score against the class-2 score fastest.");

if (!(finalCost < GOAL * initialCost) || right !== POINTS.length) {
  console.error(`error: training did not reach cost < ${GOAL} × initial cost with all ten points classified`);
  process.exitCode = 1;
}
if (!(worst < 1e-10)) {
  console.error("error: vjp(x, [1, −1]) disagrees with the rows of the Jacobian");
  process.exitCode = 1;
}
net.dispose();

/** The paper's Cost: the mean of ½‖y − a^[L](x)‖² over the ten points. */
function cost(network: MLP): number {
  return POINTS.reduce((sum, x, i) => sum + squaredError(network, x, LABELS[i]), 0) / POINTS.length;
}

/** How many points the argmax of a^[L] puts in their class. */
function correct(network: MLP): number {
  return POINTS.filter((x, i) => argmax(network.forward(x)) === argmax(LABELS[i])).length;
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < values.length; k++) if (values[k] > values[best]) best = k;
  return best;
}

/** W^[l] and b^[l] with entries 0.5·N(0, 1), layer by layer, weights before bias. */
function initialLayers(sizes: readonly number[], next: () => number): { weights: number[]; bias: number[] }[] {
  const draw = (n: number): number[] => Array.from({ length: n }, () => 0.5 * normal(next));
  return sizes.slice(1).map((rows, i) => ({ weights: draw(rows * sizes[i]), bias: draw(rows) }));
}

/** mulberry32: a small seeded generator (the one tests/helpers.ts uses), uniform on [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal sample by Box–Muller (1 − u keeps the logarithm finite). */
function normal(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

function vector(v: ArrayLike<number>): string {
  return `(${Array.from(v, (e) => (e < 0 ? "" : " ") + e.toFixed(6)).join(", ")})`;
}

/** Prints columns left-aligned, padded to their widest cell, under an underlined header. */
function printTable(header: readonly string[], body: readonly (readonly string[])[]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: readonly string[]): string => cells.map((cell, c) => cell.padEnd(widths[c])).join("   ").trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => "─".repeat(w))));
  for (const row of body) console.log(line(row));
}
