// The squared-error helpers of src/train.ts: the cost against the reference forward pass, its parameter
// gradient against central differences of the cost, the exact update of sgdStep, the errors, and the
// paper's training run (the setup of examples/train-paper.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { sgdStep, squaredError, squaredErrorGradient, type MLP } from "../src/index.js";
import { closeTo, engines, normal, randomCase, rng, throwsCode } from "./helpers.js";
import * as ref from "./reference.js";
import type { RefActivation } from "./reference.js";

const builds = await engines();

/** Central differences of squaredError w.r.t. every weight and bias, by setLayer (h relative to max(1, |p|)). */
function costGradientFD(net: MLP, x: number[], y: number[], h = 1e-6): { weights: number[]; bias: number[] }[] {
  const result: { weights: number[]; bias: number[] }[] = [];
  for (let l = 2; l <= net.sizes.length; l++) {
    const { weights, bias } = net.getLayer(l);
    const bump = (array: Float32Array | Float64Array, k: number): number => {
      const saved = array[k];
      const step = h * Math.max(1, Math.abs(saved));
      array[k] = saved + step;
      net.setLayer(l, weights, bias);
      const up = squaredError(net, x, y);
      array[k] = saved - step;
      net.setLayer(l, weights, bias);
      const down = squaredError(net, x, y);
      array[k] = saved;
      net.setLayer(l, weights, bias);
      return (up - down) / (2 * step);
    };
    result.push({ weights: Array.from(weights, (_, k) => bump(weights, k)), bias: Array.from(bias, (_, k) => bump(bias, k)) });
  }
  return result;
}

const shapes: [number[], RefActivation[]][] = [
  [[2, 2, 3, 2], ["sigmoid", "sigmoid", "sigmoid"]],
  [[3, 5, 4], ["tanh", "sigmoid"]],
  [[4, 6, 1], ["softplus", "identity"]],
  [[1, 3, 2, 3], ["sigmoid", "tanh", "softplus"]],
];

for (const [i, [sizes, acts]] of shapes.entries()) {
  test(`squaredErrorGradient [${sizes}] matches central differences of squaredError`, () => {
    const random = rng(300 + i);
    for (const { name, engine } of builds) {
      const c = randomCase(sizes, acts, "f64", 310 + i);
      const net = engine.createMLP(c.spec);
      const y = Array.from({ length: sizes[sizes.length - 1] }, () => random());
      const a = ref.forward(c.ref, c.x);
      const expected = a.reduce((sum, ak, k) => sum + (y[k] - ak) ** 2, 0) / 2;
      const cost = squaredError(net, c.x, y);
      assert.ok(Math.abs(cost - expected) <= 1e-15 * Math.max(1, expected), `${name}: cost ${cost}, reference ${expected}`);
      const got = squaredErrorGradient(net, c.x, y);
      assert.is(got.cost, cost, `${name}: cost of squaredErrorGradient`);
      const fd = costGradientFD(net, c.x, y);
      assert.is(got.layers.length, sizes.length - 1);
      got.layers.forEach((layer, l) => {
        closeTo(layer.weights, fd[l].weights, 1e-7, `${name} layer ${l + 2} ∂C/∂W`);
        closeTo(layer.bias, fd[l].bias, 1e-7, `${name} layer ${l + 2} ∂C/∂b`);
      });
      net.dispose();
    }
  });
}

test("sgdStep moves every parameter by exactly −η·gradient and returns the network", () => {
  for (const precision of ["f64", "f32"] as const) {
    const round = precision === "f32" ? Math.fround : (v: number) => v;
    const c = randomCase([3, 5, 4, 2], "sigmoid", precision, 320);
    const net = builds[0].engine.createMLP(c.spec);
    const eta = 0.3;
    const before = [2, 3, 4].map((l) => net.getLayer(l));
    const { layers } = squaredErrorGradient(net, c.x, [0.25, 0.75]);
    assert.is(sgdStep(net, layers, eta), net);
    [2, 3, 4].forEach((l, i) => {
      const after = net.getLayer(l);
      assert.equal(Array.from(after.weights), Array.from(before[i].weights, (w, k) => round(w - eta * layers[i].weights[k])), `${precision} W^[${l}]`);
      assert.equal(Array.from(after.bias), Array.from(before[i].bias, (b, k) => round(b - eta * layers[i].bias[k])), `${precision} b^[${l}]`);
    });
    // Plain arrays are accepted as the gradient too.
    const plain = layers.map((layer) => ({ weights: Array.from(layer.weights), bias: Array.from(layer.bias) }));
    const mid = net.getLayer(2);
    sgdStep(net, plain, eta);
    assert.equal(Array.from(net.getLayer(2).bias), Array.from(mid.bias, (b, k) => round(b - eta * plain[0].bias[k])));
    net.dispose();
  }
});

test("squaredError, squaredErrorGradient and sgdStep name what is wrong; a failed step changes nothing", () => {
  const c = randomCase([3, 4, 2], "tanh", "f64", 330);
  const net = builds[0].engine.createMLP(c.spec);
  for (const f of [squaredError, squaredErrorGradient]) {
    throwsCode(() => f(net, c.x, [1]), "E_INPUT", /y: expected 2 numbers \(n_L/, /got 1/);
    throwsCode(() => f(net, c.x, [1, 2, 3]), "E_INPUT", /y: expected 2 numbers/, /got 3/);
    throwsCode(() => f(net, c.x, null as unknown as number[]), "E_INPUT", /y: expected 2 numbers/, /got null/);
    throwsCode(() => f(net, c.x, [1, NaN]), "E_NONFINITE", /y\[1\] is NaN/);
    throwsCode(() => f(net, c.x, [Infinity, 0]), "E_NONFINITE", /y\[0\] is Infinity/);
    throwsCode(() => f(net, c.x, [0, "1" as unknown as number]), "E_NONFINITE", /y\[1\] is the string "1"/);
    throwsCode(() => f(net, [1, 2], [0, 1]), "E_INPUT", /x: expected 3 numbers/);
  }
  const f32 = builds[0].engine.createMLP({ ...c.spec, precision: "f32" });
  throwsCode(() => squaredError(f32, c.x, [1e39, 0]), "E_NONFINITE", /y\[0\] is 1e\+39/, /f32 range/);
  f32.dispose();

  const { layers } = squaredErrorGradient(net, c.x, [0, 1]);
  for (const eta of [0, -0.1, NaN, Infinity, "0.1" as unknown as number]) {
    throwsCode(() => sgdStep(net, layers, eta), "E_INPUT", /sgdStep: eta/, /positive finite number/);
  }
  throwsCode(() => sgdStep(net, layers.slice(1), 0.1), "E_LAYERS", /expected the gradient's layers/, /2 \{ weights, bias \}/, /got 1 entries/);
  throwsCode(() => sgdStep(net, { layers } as unknown as typeof layers, 0.1), "E_LAYERS", /squaredErrorGradient\(net, x, y\)\.layers/);
  const short = [layers[0], { weights: layers[1].weights, bias: [1] }];
  throwsCode(() => sgdStep(net, short, 0.1), "E_SHAPE", /layer 3 bias: expected 2 numbers/, /got 1/);

  const saved = [2, 3].map((l) => net.getLayer(l));
  const bad = [layers[0], { weights: layers[1].weights, bias: [0, NaN] }];
  throwsCode(() => sgdStep(net, bad, 0.1), "E_NONFINITE", /layer 3 bias\[1\] would become NaN/);
  const huge = [{ weights: layers[0].weights.map(() => -1e308), bias: layers[0].bias }, layers[1]];
  throwsCode(() => sgdStep(net, huge, 10), "E_NONFINITE", /layer 2 weights\[0\] would become Infinity/, /η small enough/);
  [2, 3].forEach((l, i) => {
    const now = net.getLayer(l);
    assert.equal(Array.from(now.weights), Array.from(saved[i].weights), `W^[${l}] unchanged`);
    assert.equal(Array.from(now.bias), Array.from(saved[i].bias), `b^[${l}] unchanged`);
  });
  net.dispose();
});

// The setup of examples/train-paper.ts: same points, labels, seed, generator and draw order. The example
// takes 150,000 steps; 100,000 already bring the cost to 0.73% of its initial value, and keep this short.
const X1 = [0.1, 0.3, 0.1, 0.6, 0.4, 0.6, 0.5, 0.9, 0.4, 0.7];
const X2 = [0.1, 0.4, 0.5, 0.9, 0.2, 0.3, 0.6, 0.2, 0.4, 0.6];
const POINTS = X1.map((x1, i) => [x1, X2[i]]);
const LABELS = POINTS.map((_, i) => (i < 5 ? [1, 0] : [0, 1]));

test("the paper's 2-2-3-2 network, trained by stochastic gradient, classifies its ten points", () => {
  for (const { name, engine } of builds) {
    const random = rng(2019);
    const sizes = [2, 2, 3, 2];
    const draw = (n: number): number[] => Array.from({ length: n }, () => 0.5 * normal(random));
    const layers = sizes.slice(1).map((rows, i) => ({ weights: draw(rows * sizes[i]), bias: draw(rows) }));
    const net = engine.createMLP({ sizes, activations: "sigmoid", precision: "f64", layers });
    const cost = (): number => POINTS.reduce((sum, x, i) => sum + squaredError(net, x, LABELS[i]), 0) / POINTS.length;
    const initial = cost();
    for (let step = 0; step < 100_000; step++) {
      const i = Math.floor(random() * POINTS.length);
      sgdStep(net, squaredErrorGradient(net, POINTS[i], LABELS[i]).layers, 0.05);
    }
    const final = cost();
    assert.ok(final < 0.01 * initial, `${name}: final cost ${final} is not below 1% of the initial ${initial}`);
    POINTS.forEach((x, i) => {
      const a = net.forward(x);
      assert.is(a[0] > a[1], i < 5, `${name}: point ${i + 1} (${x}) has a^[L] = (${a[0]}, ${a[1]})`);
    });
    net.dispose();
  }
});

test.run();
