// vjp, jvp, hvp and parameterGradient against the independent reference (Jacobian as a product of
// matrices, finite differences of the gradient and of the parameters), both builds and precisions.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { closeTo, engines, normal, randomCase, rng, throwsCode } from "./helpers.js";
import * as ref from "./reference.js";
import type { RefActivation } from "./reference.js";

const builds = await engines();
const TOL = { f64: 1e-12, f32: 1e-4 };
const SMOOTH: RefActivation[] = ["tanh", "softplus", "sigmoid", "identity"];
const shapes: [number[], RefActivation[]][] = [
  [[3, 5, 1], ["tanh", "sigmoid"]],
  [[7, 17, 4, 1], ["softplus", "tanh", "sigmoid"]],
  [[67, 8, 5, 3], ["sigmoid", "relu", "tanh"]],
  [[1, 3, 2], ["leakyRelu", "identity"]],
  [[17, 4, 9, 5, 10], ["tanh", "softplus", "sigmoid", "tanh"]],
];

for (const [sizes, acts] of shapes) {
  test(`vjp and jvp [${sizes}] match vᵀJ and J u of the reference Jacobian`, () => {
    const random = rng(sizes.length * 31 + sizes[0]);
    for (const { name, engine } of builds) {
      for (const precision of ["f64", "f32"] as const) {
        const round = precision === "f32" ? Math.fround : (v: number) => v;
        const c = randomCase(sizes, acts, precision, 60 + sizes[0]);
        const net = engine.createMLP(c.spec);
        const J = ref.jacobian(c.ref, c.x);
        const v = J.map(() => round(normal(random)));
        const u = c.x.map(() => round(normal(random)));
        const vJ = c.x.map((_, i) => J.reduce((sum, row, k) => sum + v[k] * row[i], 0));
        const Ju = J.map((row) => row.reduce((sum, w, i) => sum + w * u[i], 0));
        closeTo(net.vjp(c.x, v), vJ, TOL[precision], `${name} ${precision} vjp`);
        closeTo(net.jvp(c.x, u), Ju, TOL[precision], `${name} ${precision} jvp`);
        if (sizes[sizes.length - 1] === 1) {
          assert.equal(Array.from(net.vjp(c.x, [1])), Array.from(net.gradient(c.x)), "vjp(x, [1]) is the gradient");
        }
        net.dispose();
      }
    }
  });
}

for (const [i, sizes] of [[3, 5, 1], [7, 17, 4, 1], [5, 67, 8, 1], [1, 1], [4, 3, 3, 3, 1]].entries()) {
  test(`hvp [${sizes}] matches finite differences of the gradient`, () => {
    const random = rng(90 + i);
    const acts = Array.from({ length: sizes.length - 1 }, (_, l) => SMOOTH[(l + i) % 3]);
    for (const { name, engine } of builds) {
      for (const precision of ["f64", "f32"] as const) {
        const round = precision === "f32" ? Math.fround : (v: number) => v;
        const c = randomCase(sizes, acts, precision, 70 + i);
        const net = engine.createMLP(c.spec);
        const u = c.x.map(() => round(normal(random)));
        const fd = ref.hessianVectorFD(c.ref, c.x, u);
        closeTo(net.hvp(c.x, u), fd, precision === "f64" ? 1e-7 : 1e-4, `${name} ${precision} hvp`);
        net.dispose();
      }
    }
  });
}

test("hvp is exact where finite differences are exact: a quadratic-free (identity) network has H = 0", () => {
  for (const { name, engine } of builds) {
    const c = randomCase([5, 4, 1], "identity", "f64", 80);
    const net = engine.createMLP(c.spec);
    assert.equal(Array.from(net.hvp(c.x, [1, 2, 3, 4, 5])), [0, 0, 0, 0, 0], name);
    net.dispose();
  }
});

for (const [i, sizes] of [[3, 4, 1], [5, 7, 3, 1], [2, 2, 3, 1]].entries()) {
  test(`parameterGradient [${sizes}] matches finite differences of the parameters`, () => {
    const acts = Array.from({ length: sizes.length - 1 }, (_, l) => SMOOTH[(l + i) % 3]);
    for (const { name, engine } of builds) {
      const c = randomCase(sizes, acts, "f64", 85 + i);
      const net = engine.createMLP(c.spec);
      const got = net.parameterGradient(c.x);
      const fd = ref.parameterGradientFD(c.ref, c.x);
      assert.is(got.layers.length, sizes.length - 1);
      got.layers.forEach((layer, l) => {
        closeTo(layer.weights, fd[l].weights, 1e-7, `${name} layer ${l + 2} weights`);
        closeTo(layer.bias, fd[l].bias, 1e-7, `${name} layer ${l + 2} bias`);
      });
      net.dispose();
    }
  });
}

test("parameterGradient(x, v) of a network with n_L = 3 matches finite differences of vᵀa^[L]", () => {
  for (const { name, engine } of builds) {
    const c = randomCase([4, 6, 3], ["tanh", "sigmoid"], "f64", 88);
    const net = engine.createMLP(c.spec);
    const v = [0.5, -1.25, 2];
    const got = net.parameterGradient(c.x, v);
    const fd = ref.parameterGradientFD(c.ref, c.x, 1e-6, v);
    got.layers.forEach((layer, l) => {
      closeTo(layer.weights, fd[l].weights, 1e-7, `${name} layer ${l + 2} weights`);
      closeTo(layer.bias, fd[l].bias, 1e-7, `${name} layer ${l + 2} bias`);
    });
    net.dispose();
  }
});

test("getLayer returns W^[l] and b^[l] as given, and setLayer(getLayer) changes nothing", () => {
  const engine = builds[0].engine;
  const c = randomCase([5, 7, 3, 1], "tanh", "f64", 89);
  const net = engine.createMLP(c.spec);
  for (let l = 2; l <= 4; l++) {
    const { weights, bias } = net.getLayer(l);
    assert.equal(Array.from(weights), c.ref.W[l - 2].flat());
    assert.equal(Array.from(bias), c.ref.b[l - 2]);
    net.setLayer(l, weights, bias);
  }
  closeTo(net.gradient(c.x), ref.gradient(c.ref, c.x), 1e-12);
  throwsCode(() => net.getLayer(1), "E_LAYER_INDEX", /getLayer/);
  net.dispose();
});

test("derivative calls check v and u, and n_L = 1 where they need it", () => {
  const engine = builds[0].engine;
  const c = randomCase([3, 4, 2], "tanh", "f64", 95);
  const net = engine.createMLP(c.spec);
  throwsCode(() => net.vjp(c.x, [1]), "E_INPUT", /v: expected 2 numbers \(n_L\), got 1/);
  throwsCode(() => net.vjp(c.x, [1, NaN]), "E_NONFINITE", /v\[1\] is NaN/);
  throwsCode(() => net.jvp(c.x, [1, 2]), "E_INPUT", /u: expected 3 numbers \(n_1\), got 2/);
  throwsCode(() => net.jvp(c.x, [1, 2, "3" as unknown as number]), "E_NONFINITE", /u\[2\] is the string "3"/);
  throwsCode(() => net.hvp(c.x, [1, 2, 3]), "E_NOT_SCALAR", /hvp/);
  throwsCode(() => net.parameterGradient(c.x), "E_NOT_SCALAR", /parameterGradient/);
  throwsCode(() => net.parameterGradient(c.x, [1]), "E_INPUT", /v: expected 2 numbers/);
  throwsCode(() => net.vjp(c.x, [1, 2], new Float64Array(2)), "E_OUTPUT", /expected length 3/);
  net.dispose();
  throwsCode(() => net.jvp(c.x, [1, 2, 3]), "E_DISPOSED");
});

test.run();
