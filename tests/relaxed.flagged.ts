// The relaxed-SIMD build's case table, run by tests/relaxed.test.ts in a child `node
// --experimental-wasm-relaxed-simd` (Node 20 validates relaxed SIMD only behind that flag; the file name
// does not end in .test.js, so the plain suite run leaves it out). Every path against the independent f64
// reference with the f32/f64 tolerances — never bit for bit against the SIMD build, since a fused
// multiply-add rounds once where mul+add rounds twice — and the pool's bit-for-bit guarantee within the
// relaxed build (its threads build derived from the relaxed bytes).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { createEngine, createMLPPool, hasRelaxedSimd, hasThreads, init, type Engine, type Precision } from "../src/index.node.js";
import { closeTo, normal, randomCase, rng } from "./helpers.js";
import * as ref from "./reference.js";
import type { RefActivation } from "./reference.js";

const TOL: Record<Precision, number> = { f64: 1e-12, f32: 1e-4 };
// Odd widths (SIMD loops run several iterations and a tail); sigmoid, softplus and swish/gelu take the
// vectorised activations of vmath.ts (whose polynomials use madd too) in the batch kernels.
const SHAPES: [number[], RefActivation[]][] = [
  [[1, 1], ["tanh"]],
  [[3, 5, 1], ["tanh", "sigmoid"]],
  [[7, 17, 4, 1], ["softplus", "swish", "sigmoid"]],
  [[67, 8, 5, 1], ["sigmoid", "relu", "gelu"]],
  [[5, 67, 17, 1], ["swish", "sigmoid", "identity"]],
  [[4, 3, 8, 3], ["sigmoid", "tanh", "softplus"]],
  [[17, 256, 7, 5], ["gelu", "sigmoid", "tanh"]],
];
const BATCH = 67;

let relaxed: Engine;
let plain: Engine;

test("Node with --experimental-wasm-relaxed-simd validates relaxed SIMD, and init() picks the relaxed build", async () => {
  assert.ok(process.execArgv.includes("--experimental-wasm-relaxed-simd"), "run with --experimental-wasm-relaxed-simd");
  assert.ok(hasRelaxedSimd(), "hasRelaxedSimd() is false");
  relaxed = await init();
  assert.ok(relaxed.relaxed && relaxed.simd, `init() chose relaxed ${relaxed.relaxed}, simd ${relaxed.simd}`);
  assert.ok((await createEngine()).relaxed, "createEngine() did not choose the relaxed build");
  plain = await createEngine({ relaxed: false });
  assert.ok(!plain.relaxed && plain.simd, "createEngine({ relaxed: false }) did not run the SIMD build");
  assert.ok((await createEngine({ simd: true, relaxed: true })).relaxed);
  assert.not.ok((await createEngine({ simd: false })).relaxed, "the scalar build is not relaxed");
  assert.not.ok((await createEngine({ shared: true, relaxed: false })).relaxed, "shared, relaxed: false");
  try {
    await createEngine({ relaxed: true, simd: false });
    assert.unreachable("{ relaxed: true, simd: false } was accepted");
  } catch (error) {
    assert.is((error as { code?: string }).code, "E_OPTIONS");
  }
});

for (const [sizes, acts] of SHAPES) {
  test(`relaxed build [${sizes}] ${acts.join(", ")}: gradient, batch, jacobian, vjp, hvp against the reference`, () => {
    const random = rng(sizes.reduce((a, b) => a * 7 + b, 3));
    for (const precision of ["f64", "f32"] as const) {
      const round = precision === "f32" ? Math.fround : (v: number) => v;
      const c = randomCase(sizes, acts, precision, 500 + sizes[0] + sizes.length);
      const net = relaxed.createMLP(c.spec);
      const nL = sizes[sizes.length - 1];
      const what = `${precision} [${sizes}]`;
      const J = ref.jacobian(c.ref, c.x);
      closeTo(net.forward(c.x), ref.forward(c.ref, c.x), TOL[precision], `${what} forward`);
      closeTo(net.jacobian(c.x), J.flat(), TOL[precision], `${what} jacobian`);
      const v = J.map(() => round(normal(random)));
      closeTo(net.vjp(c.x, v), c.x.map((_, i) => J.reduce((sum, row, k) => sum + v[k] * row[i], 0)), TOL[precision], `${what} vjp`);
      const xs = Array.from({ length: BATCH }, () => c.x.map(() => round(random() * 2 - 1)));
      if (nL === 1) {
        closeTo(net.gradient(c.x), ref.gradient(c.ref, c.x), TOL[precision], `${what} gradient`);
        const grads = net.gradientBatch(xs.flat());
        for (const i of [0, 1, 31, BATCH - 1]) {
          closeTo(grads.subarray(i * sizes[0], (i + 1) * sizes[0]), ref.gradient(c.ref, xs[i]), TOL[precision], `${what} gradientBatch row ${i}`);
        }
        if (acts.every((a) => a !== "relu")) {
          const u = c.x.map(() => round(normal(random)));
          closeTo(net.hvp(c.x, u), ref.hessianVectorFD(c.ref, c.x, u), precision === "f64" ? 1e-7 : 1e-4, `${what} hvp`);
        }
      } else {
        const values = net.forwardBatch(xs.flat());
        for (const i of [0, BATCH - 1]) closeTo(values.subarray(i * nL, (i + 1) * nL), ref.forward(c.ref, xs[i]), TOL[precision], `${what} forwardBatch row ${i}`);
      }
      net.dispose();
    }
  });
}

test("the relaxed build really fuses: f32 results differ from the SIMD build's in the last bits (on FMA hardware)", () => {
  const cpu = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  if (!/^flags\s*:.*\bfma\b/m.test(cpu)) return; // without FMA, V8 lowers relaxed_madd to mul + add
  const c = randomCase([67, 67, 17, 1], ["sigmoid", "tanh", "sigmoid"], "f32", 9);
  const a = relaxed.createMLP(c.spec);
  const b = plain.createMLP(c.spec);
  const xs = Array.from({ length: BATCH * 67 }, (_, i) => Math.fround(Math.sin(i)));
  let differ = 0;
  const ga = a.gradientBatch(xs);
  const gb = b.gradientBatch(xs);
  for (let i = 0; i < ga.length; i++) if (!Object.is(ga[i], gb[i])) differ++;
  const sa = a.gradient(c.x);
  const sb = b.gradient(c.x);
  for (let i = 0; i < sa.length; i++) if (!Object.is(sa[i], sb[i])) differ++;
  assert.ok(differ > 0, "the relaxed and SIMD builds agree to the last bit everywhere: relaxed_madd is not in use");
  a.dispose();
  b.dispose();
});

test("a pool on the relaxed build: its threads build is derived from the relaxed bytes, results equal one thread's bit for bit", async () => {
  assert.ok(hasThreads());
  for (const precision of ["f32", "f64"] as const) {
    const c = randomCase([67, 17, 5, 1], ["tanh", "softplus", "sigmoid"], precision, 77);
    const pool = await createMLPPool({ spec: c.spec, threads: 2, requireThreads: true, minRowsPerThread: 64 });
    try {
      assert.is(pool.threads, 2);
      // The pool's engine is private: read it to name the build its threads run.
      const engine = (pool as unknown as { engine: Engine }).engine;
      assert.ok(engine.relaxed && engine.shared, "the pool's shared engine is not the relaxed build");
      const random = rng(5);
      const round = precision === "f32" ? Math.fround : (v: number) => v;
      const m = 300;
      const xs = Array.from({ length: m * 67 }, () => round(random() * 4 - 2));
      const grads = await pool.gradientBatch(xs);
      const single = relaxed.createMLP(c.spec).gradientBatch(xs);
      const local = pool.network.gradientBatch(xs);
      for (let i = 0; i < grads.length; i++) {
        if (!Object.is(grads[i], single[i]) || !Object.is(grads[i], local[i])) {
          assert.unreachable(`${precision} pool.gradientBatch[${i}] = ${grads[i]}, one relaxed thread ${single[i]}, pool.network ${local[i]}`);
        }
      }
      for (const i of [0, 64, m - 1]) closeTo(grads.subarray(i * 67, (i + 1) * 67), ref.gradient(c.ref, Array.from(xs.slice(i * 67, (i + 1) * 67))), TOL[precision], `${precision} pool row ${i}`);
    } finally {
      await pool.dispose();
    }
  }
});

test("backCombine on the relaxed build is unfused: g = (P + g) ⊙ s with two roundings, as in every build", () => {
  const combine = relaxed.kernels.backCombineF32;
  const random = rng(33);
  const base = relaxed.arena.alloc(3 * 68 * 4, "backCombine test");
  const view = new Float32Array(relaxed.memory.buffer);
  const [g, p, s] = [base, base + 68 * 4, base + 2 * 68 * 4];
  const P = Array.from({ length: 68 }, () => Math.fround(normal(random) * 1e3));
  const G = P.map((v) => Math.fround(-v + normal(random)));
  const S = Array.from({ length: 68 }, () => Math.fround(random() * 3 + 0.1));
  view.set(G, g / 4);
  view.set(P, p / 4);
  view.set(S, s / 4);
  combine(g, p, s, 68);
  for (let j = 0; j < 68; j++) {
    const want = Math.fround(Math.fround(P[j] + G[j]) * S[j]);
    if (!Object.is(view[g / 4 + j], want)) assert.unreachable(`backCombine[${j}] = ${view[g / 4 + j]}, expected ${want}`);
  }
  relaxed.arena.release(base, 3 * 68 * 4);
});

test("pool.gradient split over 2 and 3 threads on the relaxed build equals one relaxed thread bit for bit (denseBackCols's FMA too)", async () => {
  for (const precision of ["f32", "f64"] as const) {
    // Rows 259 and 7 leave 3 rows after the 4-row blocks: the backward's tail rows use madd (FMA here).
    // 259 × 68 weights are halved (rows [128, 259) and [0, 128) on two threads, then added).
    const c = randomCase([67, 259, 7, 1], ["sigmoid", "gelu", "tanh"], precision, 78);
    const single = relaxed.createMLP(c.spec);
    for (const threads of [2, 3]) {
      const pool = await createMLPPool({ spec: c.spec, threads, requireThreads: true, minSplitBytes: 0, adaptiveSplit: false });
      try {
        assert.ok((pool as unknown as { engine: Engine }).engine.relaxed, "the pool's engine is not the relaxed build");
        const got = await pool.gradient(c.x);
        const want = single.gradient(c.x);
        for (let i = 0; i < got.length; i++) {
          if (!Object.is(got[i], want[i])) assert.unreachable(`${precision} ${threads} threads: pool.gradient[${i}] = ${got[i]}, one relaxed thread ${want[i]}`);
        }
        closeTo(got, ref.gradient(c.ref, c.x), TOL[precision], `${precision} split on relaxed`);
      } finally {
        await pool.dispose();
      }
    }
    single.dispose();
  }
});

test("pool.jacobian and gradientOf split over 2 and 3 threads on the relaxed build equal one relaxed thread bit for bit (jacobianBack's relaxed_madd in ranges of features)", async () => {
  for (const precision of ["f32", "f64"] as const) {
    // 301 and 259 features: a part of a 64-byte tile at the end of each step; n_L = 17: two rounds.
    const c = randomCase([301, 259, 67, 17], ["sigmoid", "gelu", "tanh"], precision, 79);
    const single = relaxed.createMLP(c.spec);
    const want = single.jacobian(c.x);
    closeTo(want, ref.jacobian(c.ref, c.x).flat(), TOL[precision], `${precision} relaxed jacobian`);
    for (const threads of [2, 3]) {
      const pool = await createMLPPool({ spec: c.spec, threads, requireThreads: true, minSplitBytes: 0, adaptiveSplit: false });
      try {
        assert.ok((pool as unknown as { engine: Engine }).engine.relaxed, "the pool's engine is not the relaxed build");
        for (let call = 0; call < 5; call++) {
          const got = await pool.jacobian(c.x);
          for (let i = 0; i < got.length; i++) {
            if (!Object.is(got[i], want[i])) assert.unreachable(`${precision} ${threads} threads, call ${call}: pool.jacobian[${i}] = ${got[i]}, one relaxed thread ${want[i]}`);
          }
        }
        const g = await pool.gradientOf(c.x, 16);
        const one = single.gradientOf(c.x, 16);
        for (let i = 0; i < g.length; i++) if (!Object.is(g[i], one[i])) assert.unreachable(`${precision} ${threads} threads: pool.gradientOf[${i}] = ${g[i]}, one relaxed thread ${one[i]}`);
      } finally {
        await pool.dispose();
      }
    }
    single.dispose();
  }
});

test.run();
