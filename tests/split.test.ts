// One input on several threads (pool.gradient, valueAndGradient, vjp; src/split.ts): the column slices
// of denseBackCols equal denseBack bit for bit in both builds; pools of 1–3 threads equal one thread bit
// for bit on odd widths, f32 and f64, every activation family and softmax / logSoftmax outputs, and stay
// within the reference's tolerance; argument errors are MLPErrors; small networks stay on one thread;
// dispose while idle; a worker that dies mid-call rejects it with E_WORKER and the pool carries on.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngine, createMLPPool, type MLP, type MLPPool, type Precision } from "../src/index.node.js";
import { ALL_ACTIVATIONS, closeTo, engines, label, normal, randomCase, rng, rejectsCode, same } from "./helpers.js";
import * as ref from "./reference.js";
import type { RefActivation } from "./reference.js";

const builds = await engines();
const single = await createEngine({ simd: true });

for (const { name, engine } of builds) {
  for (const precision of ["f32", "f64"] as const) {
    test(`${name} ${precision}: denseBackCols on every slice of 4 columns equals denseBack bit for bit`, () => {
      const size = precision === "f32" ? 4 : 8;
      const lanes = 16 / size;
      const k = engine.kernels;
      const denseBack = precision === "f32" ? k.denseBackF32 : k.denseBackF64;
      const cols = precision === "f32" ? k.denseBackColsF32 : k.denseBackColsF64;
      const random = rng(size * 77);
      const round = precision === "f32" ? Math.fround : (v: number) => v;
      for (const rows of [1, 2, 3, 4, 5, 7, 8, 9, 17]) {
        for (const n of [1, 3, 4, 5, 7, 8, 17, 67]) {
          const stride = Math.ceil(n / lanes) * lanes;
          const base = engine.arena.alloc((rows * stride + rows + 3 * stride) * size + 256, "split kernel test");
          const w = base;
          const g = Math.ceil((w + rows * stride * size) / 16) * 16;
          const s = Math.ceil((g + rows * size) / 16) * 16;
          const one = s + stride * size;
          const split = one + stride * size;
          const view = precision === "f32" ? new Float32Array(engine.memory.buffer) : new Float64Array(engine.memory.buffer);
          for (let i = 0; i < rows; i++) for (let j = 0; j < stride; j++) view[w / size + i * stride + j] = j < n ? round(normal(random)) : 0;
          for (let i = 0; i < rows; i++) view[g / size + i] = round(normal(random));
          for (let j = 0; j < stride; j++) view[s / size + j] = j < n ? round(random()) : 0;
          for (const sOff of [0, s]) {
            denseBack(one, w, g, sOff, rows, stride, 0, 0);
            const expected = Array.from(view.subarray(one / size, one / size + stride));
            // Every slice width the pool can give a thread: whole units of 4 elements, the last one short.
            for (let width = 4; width < stride + 4; width += 4) {
              view.fill(NaN, split / size, split / size + stride);
              for (let c0 = 0; c0 < stride; c0 += width) {
                const c1 = Math.min(stride, c0 + width);
                cols(split + c0 * size, w + c0 * size, g, sOff === 0 ? 0 : s + c0 * size, rows, stride, c1 - c0);
              }
              same(view.subarray(split / size, split / size + stride), expected, `rows ${rows}, n ${n}, s ${sOff !== 0}, slices of ${width}`);
            }
            // And against the plain f64 sum.
            const W = Array.from({ length: rows }, (_, i) => Array.from(view.subarray(w / size + i * stride, w / size + i * stride + n)));
            const want = Array.from({ length: n }, (_, j) => W.reduce((sum, row, i) => sum + row[j] * view[g / size + i], 0) * (sOff === 0 ? 1 : view[s / size + j]));
            closeTo(expected.slice(0, n), want, precision === "f32" ? 1e-4 : 1e-12, `reference rows ${rows}, n ${n}`);
          }
          engine.arena.release(base, (rows * stride + rows + 3 * stride) * size + 256);
        }
      }
    });
  }
}

// Odd widths, a width-1 layer in the middle, and a layer of 257 so the row and column ranges cut blocks.
const SHAPES = [
  [67, 17, 5, 1],
  [5, 257, 3, 1],
  [17, 1, 67, 1],
  [3, 5, 17, 67, 1],
  [1, 1],
  [257, 67, 1],
];
const FAMILIES: RefActivation[] = ["sigmoid", "relu", "gelu", "tanh", "softplus"];

for (const precision of ["f32", "f64"] as const) {
  test(`${precision}: pool.gradient and valueAndGradient on 1, 2, 3 threads equal one thread bit for bit`, async () => {
    for (const threads of [1, 2, 3]) {
      for (const [i, sizes] of SHAPES.entries()) {
        for (const [j, act] of FAMILIES.entries()) {
          const c = randomCase(sizes, act, precision, 9000 + 100 * i + j);
          const pool = await createMLPPool({ spec: c.spec, threads, minSplitBytes: 0, adaptiveSplit: false });
          assert.is(pool.splitThreads, threads, "the call is split");
          const one = single.createMLP(c.spec);
          const where = `${threads} threads, [${sizes}] ${label(act)}`;
          const out = new (precision === "f32" ? Float32Array : Float64Array)(sizes[0]);
          const result = await pool.gradient(c.x, out as never);
          assert.is(result, out, "returns out");
          same(out, one.gradient(c.x), `gradient ${where}`);
          same(out, pool.network.gradient(c.x), `gradient (pool.network) ${where}`);
          const vg = await pool.valueAndGradient(c.x);
          const expected = one.valueAndGradient(c.x);
          assert.ok(Object.is(vg.value, expected.value), `value ${where}: ${vg.value} vs ${expected.value}`);
          same(vg.gradient, expected.gradient, `valueAndGradient ${where}`);
          closeTo(out, ref.gradient(c.ref, c.x), precision === "f32" ? 2e-4 : 1e-10, `reference ${where}`);
          one.dispose();
          await pool.dispose();
        }
      }
    }
  });
}

test("every activation, and vjp through softmax and logSoftmax outputs, on 2 and 3 threads", async () => {
  for (const precision of ["f32", "f64"] as Precision[]) {
    for (const threads of [2, 3]) {
      for (const [j, act] of ALL_ACTIVATIONS.entries()) {
        const c = randomCase([17, 67, 5, 1], act, precision, 9500 + j);
        const pool = await createMLPPool({ spec: c.spec, threads, minSplitBytes: 0, adaptiveSplit: false });
        same(await pool.gradient(c.x), single.createMLP(c.spec).gradient(c.x), `${precision} ${threads} ${label(act)}`);
        await pool.dispose();
      }
      for (const output of ["softmax", "logSoftmax", "sigmoid"] as RefActivation[]) {
        const sizes = [67, 17, 257, 5];
        const c = randomCase(sizes, ["tanh", "gelu", output], precision, 9600 + threads);
        const pool = await createMLPPool({ spec: c.spec, threads, minSplitBytes: 0, adaptiveSplit: false });
        const one = single.createMLP(c.spec);
        const v = [0.5, -1, 2, 0.25, 3];
        const got = await pool.vjp(c.x, v);
        same(got, one.vjp(c.x, v), `vjp ${precision} ${threads} ${label(output)}`);
        const J = ref.jacobian(c.ref, c.x);
        const want = Array.from({ length: sizes[0] }, (_, i) => J.reduce((sum, row, k) => sum + v[k] * row[i], 0));
        closeTo(got, want, precision === "f32" ? 2e-4 : 1e-10, `vjp reference ${label(output)}`);
        one.dispose();
        await pool.dispose();
      }
    }
  }
});

test("concurrent calls queue on the network's buffers: each gets its own input's result", async () => {
  const c = randomCase([67, 257, 17, 1], "sigmoid", "f32", 9700);
  const pool = await createMLPPool({ spec: c.spec, threads: 3, minSplitBytes: 0, adaptiveSplit: false });
  const one = single.createMLP(c.spec);
  const random = rng(5);
  const xs = Array.from({ length: 8 }, () => Array.from({ length: 67 }, () => Math.fround(random() * 2 - 1)));
  const results = await Promise.all(xs.map((x, i) => (i % 2 === 0 ? pool.gradient(x) : pool.vjp(x, [1]))));
  results.forEach((r, i) => same(r, one.gradient(xs[i]), `call ${i}`));
  // Batches between single-input calls.
  const batch = await pool.gradientBatch(xs.flat());
  same(batch, one.gradientBatch(xs.flat()), "gradientBatch");
  same(await pool.gradient(xs[3]), one.gradient(xs[3]), "after the batch");
  one.dispose();
  await pool.dispose();
});

test("errors reject as MLP's do and leave the pool working; bad minSplitBytes is E_OPTIONS", async () => {
  const c = randomCase([5, 17, 1], "tanh", "f64", 9800);
  const pool = await createMLPPool({ spec: c.spec, threads: 2, minSplitBytes: 0, adaptiveSplit: false });
  await rejectsCode(pool.gradient([1, 2, 3]), "E_INPUT", /x: expected 5 numbers \(n_1\), got 3/);
  await rejectsCode(pool.gradient([1, 2, NaN, 4, 5]), "E_NONFINITE", /x\[2\] is NaN/);
  await rejectsCode(pool.valueAndGradient(null as never), "E_INPUT");
  await rejectsCode(pool.gradient(c.x, new Float32Array(5) as never), "E_OUTPUT", /Float64Array/);
  await rejectsCode(pool.vjp(c.x, [1, 2]), "E_INPUT", /v: expected 1 number/);
  await rejectsCode(pool.vjp(c.x, [Infinity]), "E_NONFINITE", /v\[0\] is Infinity/);
  same(await pool.gradient(c.x), pool.network.gradient(c.x), "after the errors");
  await pool.dispose();
  const wide = await createMLPPool({ spec: randomCase([5, 17, 3], "tanh", "f64", 9801).spec, threads: 2, minSplitBytes: 0, adaptiveSplit: false });
  await rejectsCode(wide.gradient(c.x), "E_NOT_SCALAR", /gradientOf/);
  await wide.dispose();
  for (const bad of [-1, NaN, "1", null]) {
    await rejectsCode(createMLPPool({ spec: c.spec, threads: 2, minSplitBytes: bad as never }), "E_OPTIONS", /minSplitBytes/);
  }
});

test("small networks stay on one thread by default; large ones split", async () => {
  const small = await createMLPPool({ spec: randomCase([67, 17, 5, 1], "tanh", "f32", 9900).spec, threads: 2 });
  assert.is(small.splitThreads, 1);
  const c = randomCase([300, 512, 512, 1], "tanh", "f32", 9901, 1);
  const large = await createMLPPool({ spec: c.spec, threads: 2 });
  assert.is(large.splitThreads, 2);
  same(await large.gradient(c.x), large.network.gradient(c.x), "large");
  const never = await createMLPPool({ spec: c.spec, threads: 2, minSplitBytes: Infinity });
  assert.is(never.splitThreads, 1);
  await Promise.all([small.dispose(), large.dispose(), never.dispose()]);
});

test("adaptiveSplit (the default): calls alternate until both ways have times, then take the faster; results never change", async () => {
  const c = randomCase([67, 257, 17, 1], "sigmoid", "f32", 9990);
  const pool = await createMLPPool({ spec: c.spec, threads: 2, minSplitBytes: 0 });
  const expected = pool.network.gradient(c.x);
  const internals = pool as unknown as { times: [number[], number[]] };
  for (let i = 0; i < 40; i++) same(await pool.gradient(c.x), expected, `call ${i}`);
  assert.ok(internals.times[0].length >= 3 && internals.times[1].length >= 3, "both ways were timed");
  assert.ok(internals.times[0].length <= 8 && internals.times[1].length <= 8, "8 times kept per way");
  // White box: split calls made slower than one-thread ones: the pool stays on one thread (but probes).
  internals.times[0].splice(0, 8, 1, 1, 1, 1, 1, 1, 1, 1);
  internals.times[1].splice(0, 8, 9, 9, 9, 9, 9, 9, 9, 9);
  assert.is(pool.splitThreads, 1);
  internals.times[1].splice(0, 8, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5);
  assert.is(pool.splitThreads, 2);
  await rejectsCode(createMLPPool({ spec: c.spec, threads: 2, adaptiveSplit: 1 as never }), "E_OPTIONS", /adaptiveSplit must be true or false/);
  await pool.dispose();
});

test("dispose() while idle: later calls reject with E_DISPOSED", async () => {
  const c = randomCase([17, 67, 1], "relu", "f32", 9950);
  const pool = await createMLPPool({ spec: c.spec, threads: 3, minSplitBytes: 0, adaptiveSplit: false });
  await pool.gradient(c.x);
  await pool.dispose();
  await rejectsCode(pool.gradient(c.x), "E_DISPOSED", /createMLPPool/);
  await rejectsCode(pool.vjp(c.x, [1]), "E_DISPOSED");
});

test("a worker that dies during a split call: no deadlock, the call is right or E_WORKER, the pool carries on", async () => {
  for (const threads of [2, 3]) {
    const c = randomCase([67, 257, 17, 1], "sigmoid", "f64", 9960 + threads);
    const pool = await createMLPPool({ spec: c.spec, threads, minSplitBytes: 0, adaptiveSplit: false });
    const one = single.createMLP(c.spec);
    const expected = one.gradient(c.x);
    // White box: a job the worker's message handler throws on (m = -1) kills the thread before it reads
    // the split job. The others take its chunks, or, if it held one, the call rejects with E_WORKER.
    const worker = (pool as unknown as { workers: { run(job: object): Promise<unknown> }[] }).workers[0];
    const killed = worker.run({ id: 1e9, kind: "gradient", xs: new Float64Array(1), m: -1, rowBase: 0 });
    killed.catch(() => {});
    try {
      same(await pool.gradient(c.x), expected, `during the death (${threads} threads)`);
    } catch (error) {
      assert.is((error as { code?: string }).code, "E_WORKER", String(error));
    }
    await rejectsCode(killed, "E_WORKER");
    assert.is(pool.threads, threads - 1);
    assert.is(pool.splitThreads, threads - 1);
    same(await pool.gradient(c.x), expected, `after losing a worker (${threads} threads)`);
    one.dispose();
    await pool.dispose();
  }
});

test("a worker whose thread is gone while parked: calls still finish, right, on the main thread's chunks", async () => {
  const c = randomCase([67, 257, 17, 1], "tanh", "f32", 9970);
  const pool = await createMLPPool({ spec: c.spec, threads: 2, minSplitBytes: 0, adaptiveSplit: false });
  await pool.gradient(c.x); // the worker is parked now
  // White box: end the thread behind the pool's back (no failure event reaches the pool).
  await (pool as unknown as { workers: { handle: { terminate(): Promise<void> } }[] }).workers[0].handle.terminate();
  const start = performance.now();
  for (let i = 0; i < 3; i++) same(await pool.gradient(c.x), pool.network.gradient(c.x), `call ${i}`);
  assert.ok(performance.now() - start < 5000, "no hang");
  await pool.dispose();
});

test.run();
