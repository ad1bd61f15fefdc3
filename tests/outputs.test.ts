// The new activations through every method, softmax / logSoftmax outputs, and gradientOf /
// gradientOfBatch, against the independent reference (Jacobian as a product of matrices, finite
// differences), both builds, both precisions, odd sizes; the pool's results equal the network's.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createMLPPool, type MLPSpec } from "../src/index.node.js";
import { NEW_ACTIVATIONS, closeTo, engines, label, normal, randomCase, rng, throwsCode } from "./helpers.js";
import * as ref from "./reference.js";
import type { RefActivation, RefNetwork } from "./reference.js";

const builds = await engines();
const TOL = { f64: 1e-11, f32: 2e-4 };
const SMOOTH = new Set(["elu", "selu", "gelu", "geluTanh", "swish", "mish", "softsign"]);
const nameOf = (a: RefActivation) => (typeof a === "string" ? a : a.name);

/** vᵀ a^[L] by central differences of the reference forward pass, along x. */
function fdGradientOf(net: RefNetwork, x: number[], v: number[], h = 1e-6): number[] {
  const f = (y: number[]) => ref.forward(net, y).reduce((s, a, k) => s + v[k] * a, 0);
  return x.map((xi, i) => {
    const up = x.slice();
    const down = x.slice();
    up[i] = xi + h;
    down[i] = xi - h;
    return (f(up) - f(down)) / (2 * h);
  });
}

for (const act of NEW_ACTIVATIONS) {
  test(`${label(act)}: forward, gradient, batch, jacobian, vjp, jvp, hvp, parameterGradient match the reference`, () => {
    const random = rng(7);
    for (const { name, engine } of builds) {
      for (const precision of ["f64", "f32"] as const) {
        const round = precision === "f32" ? Math.fround : (v: number) => v;
        const tol = TOL[precision];
        const where = `${name} ${precision} ${label(act)}`;
        // Scalar output: gradient, batch, hvp, parameterGradient. Widths 17 and 5 run 4-row blocks and tails.
        const c = randomCase([7, 17, 5, 1], [act, act, "identity"], precision, 21, 2);
        const net = engine.createMLP(c.spec);
        closeTo(net.forward(c.x), ref.forward(c.ref, c.x), tol, `${where} forward`);
        closeTo(net.gradient(c.x), ref.gradient(c.ref, c.x), tol, `${where} gradient`);
        const m = 67;
        const xs = Array.from({ length: m * 7 }, () => round(random() * 4 - 2));
        const batch = net.gradientBatch(xs);
        const values = net.forwardBatch(xs);
        for (const row of [0, 5, 63, 64, 66]) {
          const x = xs.slice(row * 7, row * 7 + 7);
          closeTo(batch.subarray(row * 7, row * 7 + 7), ref.gradient(c.ref, x), tol, `${where} gradientBatch row ${row}`);
          closeTo([values[row]], ref.forward(c.ref, x), tol, `${where} forwardBatch row ${row}`);
        }
        if (precision === "f64") {
          closeTo(net.gradient(c.x), ref.finiteDifference(c.ref, c.x), 1e-6, `${where} gradient vs finite differences`);
          const fd = ref.parameterGradientFD(c.ref, c.x);
          net.parameterGradient(c.x).layers.forEach((layer, i) => {
            closeTo(layer.weights, fd[i].weights, 1e-6, `${where} ∂/∂W^[${i + 2}]`);
            closeTo(layer.bias, fd[i].bias, 1e-6, `${where} ∂/∂b^[${i + 2}]`);
          });
        }
        if (SMOOTH.has(nameOf(act))) {
          const u = c.x.map(() => round(normal(random)));
          closeTo(net.hvp(c.x, u), ref.hessianVectorFD(c.ref, c.x, u), precision === "f64" ? 1e-6 : 1e-3, `${where} hvp`);
        }
        net.dispose();
        // Vector output: jacobian, vjp, jvp.
        const d = randomCase([8, 5, 3], [act, act], precision, 23, 2);
        const vec = engine.createMLP(d.spec);
        const J = ref.jacobian(d.ref, d.x);
        closeTo(vec.jacobian(d.x), J.flat(), tol, `${where} jacobian`);
        const v = J.map(() => round(normal(random)));
        const u = d.x.map(() => round(normal(random)));
        closeTo(vec.vjp(d.x, v), d.x.map((_, i) => J.reduce((s, row, k) => s + v[k] * row[i], 0)), tol, `${where} vjp`);
        closeTo(vec.jvp(d.x, u), J.map((row) => row.reduce((s, w, i) => s + w * u[i], 0)), tol, `${where} jvp`);
        closeTo(vec.gradientOf(d.x, 2), J[2], tol, `${where} gradientOf`);
        vec.dispose();
      }
    }
  });
}

for (const [output, hidden] of [["softmax", "tanh"], ["logSoftmax", "gelu"], ["softmax", { name: "leakyRelu", alpha: 0.2 }]] as const) {
  test(`${output} after ${label(hidden)}: forward, batch, jacobian, vjp, jvp, parameterGradient, gradientOf against the reference`, () => {
    const random = rng(3);
    for (const { name, engine } of builds) {
      for (const precision of ["f64", "f32"] as const) {
        const round = precision === "f32" ? Math.fround : (v: number) => v;
        const tol = TOL[precision];
        const where = `${name} ${precision} ${output}`;
        const c = randomCase([5, 17, 10], [hidden, output], precision, 41, 3);
        const net = engine.createMLP(c.spec);
        assert.is(net.outputActivation, output);
        const a = net.forward(c.x);
        closeTo(a, ref.forward(c.ref, c.x), tol, `${where} forward`);
        if (output === "softmax") assert.ok(Math.abs(Array.from(a).reduce((s, p) => s + p, 0) - 1) < 1e-6, "probabilities sum to 1");
        const J = ref.jacobian(c.ref, c.x);
        closeTo(net.jacobian(c.x), J.flat(), tol, `${where} jacobian`);
        const v = J.map(() => round(normal(random)));
        const u = c.x.map(() => round(normal(random)));
        closeTo(net.vjp(c.x, v), c.x.map((_, i) => J.reduce((s, row, k) => s + v[k] * row[i], 0)), tol, `${where} vjp`);
        closeTo(net.jvp(c.x, u), J.map((row) => row.reduce((s, w, i) => s + w * u[i], 0)), tol, `${where} jvp`);
        for (const k of [0, 3, 9]) {
          const e = J.map((_, i) => (i === k ? 1 : 0));
          closeTo(net.gradientOf(c.x, k), J[k], tol, `${where} gradientOf(${k})`);
          if (precision === "f64") closeTo(net.gradientOf(c.x, k), fdGradientOf(c.ref, c.x, e), 1e-6, `${where} gradientOf(${k}) vs finite differences`);
        }
        // The class score: the same network with the identity on top.
        const logits: RefNetwork = { ...c.ref, activations: [hidden, "identity"] };
        const Jz = ref.jacobian(logits, c.x);
        closeTo(net.gradientOf(c.x, 4, undefined, { logit: true }), Jz[4], tol, `${where} gradientOf logit`);
        if (precision === "f64") {
          const fd = ref.parameterGradientFD(c.ref, c.x, 1e-6, v);
          net.parameterGradient(c.x, v).layers.forEach((layer, i) => {
            closeTo(layer.weights, fd[i].weights, 1e-6, `${where} ∂(vᵀa)/∂W^[${i + 2}]`);
            closeTo(layer.bias, fd[i].bias, 1e-6, `${where} ∂(vᵀa)/∂b^[${i + 2}]`);
          });
        }
        // Batches of 67 rows (a full block of 64 and a tail of 3): forwardBatch, gradientOfBatch.
        const m = 67;
        const xs = Array.from({ length: m * 5 }, () => round(random() * 2 - 1));
        const ks = Array.from({ length: m }, (_, i) => (i * 7) % 10);
        const outputs = net.forwardBatch(xs);
        const grads = net.gradientOfBatch(xs, ks);
        const same = net.gradientOfBatch(xs, 6);
        const scores = net.gradientOfBatch(xs, ks, undefined, { logit: true });
        for (const row of [0, 1, 63, 64, 66]) {
          const x = xs.slice(row * 5, row * 5 + 5);
          const Jr = ref.jacobian(c.ref, x);
          closeTo(outputs.subarray(row * 10, row * 10 + 10), ref.forward(c.ref, x), tol, `${where} forwardBatch row ${row}`);
          closeTo(grads.subarray(row * 5, row * 5 + 5), Jr[ks[row]], tol, `${where} gradientOfBatch row ${row}`);
          closeTo(same.subarray(row * 5, row * 5 + 5), Jr[6], tol, `${where} gradientOfBatch(k = 6) row ${row}`);
          closeTo(scores.subarray(row * 5, row * 5 + 5), ref.jacobian(logits, x)[ks[row]], tol, `${where} gradientOfBatch logit row ${row}`);
          closeTo(grads.subarray(row * 5, row * 5 + 5), net.gradientOf(x, ks[row]), tol, `${where} gradientOfBatch row ${row} vs gradientOf`);
        }
        net.dispose();
      }
    }
  });
}

test("jacobian through softmax / logSoftmax with n_L = 70 (two blocks of columns)", () => {
  for (const { name, engine } of builds) {
    for (const output of ["softmax", "logSoftmax"] as const) {
      const c = randomCase([5, 9, 70], ["tanh", output], "f64", 3, 3);
      const net = engine.createMLP(c.spec);
      closeTo(net.jacobian(c.x), ref.jacobian(c.ref, c.x).flat(), 1e-12, `${name} ${output} jacobian`);
      net.dispose();
    }
  }
});

test("gradientOf on elementwise outputs: row k of the Jacobian, the logit option skips σ'(z_k)", () => {
  for (const { name, engine } of builds) {
    for (const precision of ["f64", "f32"] as const) {
      const c = randomCase([67, 8, 4], ["swish", "sigmoid"], precision, 51);
      const net = engine.createMLP(c.spec);
      const J = ref.jacobian(c.ref, c.x);
      const Jz = ref.jacobian({ ...c.ref, activations: ["swish", "identity"] }, c.x);
      for (let k = 0; k < 4; k++) {
        closeTo(net.gradientOf(c.x, k), J[k], TOL[precision], `${name} ${precision} gradientOf(${k})`);
        closeTo(net.gradientOf(c.x, k, undefined, { logit: true }), Jz[k], TOL[precision], `${name} ${precision} logit ${k}`);
      }
      const out = new (precision === "f32" ? Float32Array : Float64Array)(67);
      assert.is(net.gradientOf(c.x, 1, out), out, "returns out");
      const batch = net.gradientOfBatch([...c.x, ...c.x], [1, 3]);
      closeTo(batch.subarray(0, 67), J[1], TOL[precision], "batch row 0");
      closeTo(batch.subarray(67), J[3], TOL[precision], "batch row 1");
      net.dispose();
    }
  }
});

test("softmax and logSoftmax stay finite and exact for huge logits (|z| up to 1e4 and beyond)", () => {
  for (const { name, engine } of builds) {
    for (const precision of ["f64", "f32"] as const) {
      for (const output of ["softmax", "logSoftmax"] as const) {
        // a^[L] = softmax(W x) with x = 1 and W the logits themselves: z = [1e4, −1e4, 3e4, 3e4 − 1, 0].
        const z = [1e4, -1e4, 3e4, 3e4 - 1, 0];
        const net = engine.createMLP({ sizes: [1, 5], activations: output, precision, layers: [{ weights: z, bias: [0, 0, 0, 0, 0] }] });
        const a = net.forward([1]);
        const want = ref.outputOf(output, z);
        a.forEach((v, i) => assert.ok(Number.isFinite(v), `${name} ${precision} ${output}[${i}] = ${v}`));
        closeTo(a, want, precision === "f64" ? 1e-15 : 1e-7, `${name} ${precision} ${output}`);
        for (let k = 0; k < 5; k++) {
          const g = net.gradientOf([1], k)[0];
          // ∂a_k/∂x = Σ_j J_kj z_j: the terms reach 1e4 and cancel, so the error bound scales with Σ |J_kj z_j|.
          const terms = ref.outputJacobian(output, z)[k].map((d, j) => d * z[j]);
          const Jk = terms.reduce((s, t) => s + t, 0);
          const bound = (precision === "f64" ? 1e-15 : 4e-7) * terms.reduce((s, t) => s + Math.abs(t), 0);
          assert.ok(Number.isFinite(g) && Math.abs(g - Jk) <= bound, `${name} ${precision} ${output} gradientOf(${k}) = ${g}, expected ${Jk}`);
        }
        const J = net.jacobian([1]);
        J.forEach((v) => assert.ok(Number.isFinite(v)));
        net.dispose();
      }
    }
  }
});

test("gradientOf and gradientOfBatch: bad k, bad options, and gradient()/hvp() still need n_L = 1", () => {
  const { engine } = builds[0];
  const c = randomCase([3, 4, 5], ["relu", "softmax"], "f64", 1);
  const net = engine.createMLP(c.spec);
  for (const k of [-1, 5, 1.5, NaN, "0", null, undefined]) throwsCode(() => net.gradientOf(c.x, k as number), "E_INPUT", /k must be an output index, an integer from 0 to n_L − 1 = 4/);
  throwsCode(() => net.gradientOfBatch([...c.x, ...c.x], [0]), "E_INPUT", /one output index per row of xs: expected 2, got 1/);
  throwsCode(() => net.gradientOfBatch([...c.x, ...c.x], [0, 7]), "E_INPUT", /k\[1\] must be an output index/);
  throwsCode(() => net.gradientOfBatch([...c.x, ...c.x], "01" as unknown as number[]), "E_INPUT", /k must be an output index or an array/);
  throwsCode(() => net.gradientOf(c.x, 0, undefined, { logit: 1 } as unknown as { logit: boolean }), "E_OPTIONS", /logit must be true or false/);
  throwsCode(() => net.gradientOf(c.x, 0, undefined, 3 as unknown as { logit: boolean }), "E_OPTIONS", /options must be an object/);
  throwsCode(() => net.gradientOf(c.x, 0, new Float32Array(3)), "E_OUTPUT");
  throwsCode(() => net.gradient(c.x), "E_NOT_SCALAR", /gradientOf\(x, k\)/);
  throwsCode(() => net.hvp(c.x, c.x), "E_NOT_SCALAR");
  throwsCode(() => net.parameterGradient(c.x), "E_NOT_SCALAR");
  net.dispose();
  throwsCode(() => net.gradientOf(c.x, 0), "E_DISPOSED");
});

test("pool: forwardBatch and gradientOfBatch through softmax and parametrised layers equal the network's bit for bit", async () => {
  for (const precision of ["f64", "f32"] as const) {
    const c = randomCase([9, 33, 6], [{ name: "elu", alpha: 0.7 }, "logSoftmax"], precision, 61);
    const pool = await createMLPPool({ spec: c.spec as MLPSpec, threads: 3, minRowsPerThread: 1 });
    const m = 64 * 3 + 5;
    const random = rng(5);
    const xs = new Float64Array(m * 9).map(() => random() * 2 - 1);
    const ks = Int32Array.from({ length: m }, (_, i) => i % 6);
    const net = pool.network;
    assert.is(pool.threads, 3, `the pool runs on worker threads (${pool.fallbackReason ?? ""})`);
    assert.equal(Array.from(await pool.forwardBatch(xs)), Array.from(net.forwardBatch(xs)), `${precision} forwardBatch`);
    assert.equal(Array.from(await pool.gradientOfBatch(xs, ks)), Array.from(net.gradientOfBatch(xs, ks)), `${precision} gradientOfBatch`);
    assert.equal(Array.from(await pool.gradientOfBatch(xs, 2, undefined, { logit: true })), Array.from(net.gradientOfBatch(xs, 2, undefined, { logit: true })), `${precision} logit`);
    const row = 150;
    closeTo((await pool.gradientOfBatch(xs, ks)).subarray(row * 9, row * 9 + 9), ref.jacobian(c.ref, Array.from(xs.subarray(row * 9, row * 9 + 9)))[ks[row]], TOL[precision], "pool row 150 vs reference");
    await pool.dispose();
  }
  // Parameters and the new kernels reach the workers' gradientBatch too.
  const c = randomCase([9, 33, 17, 1], [{ name: "hardSigmoid", slope: 1 / 6, offset: 0.25 }, "gelu", "swish"], "f32", 62);
  const pool = await createMLPPool({ spec: c.spec as MLPSpec, threads: 3, minRowsPerThread: 1 });
  const xs = new Float32Array(200 * 9).map(rng(8)).map((v) => 4 * v - 2);
  assert.equal(Array.from(await pool.gradientBatch(xs)), Array.from(pool.network.gradientBatch(xs)), "pool gradientBatch");
  closeTo((await pool.gradientBatch(xs)).subarray(190 * 9, 191 * 9), ref.gradient(c.ref, Array.from(xs.subarray(190 * 9, 191 * 9))), TOL.f32, "pool row 190");
  await pool.dispose();
});

test.run();
