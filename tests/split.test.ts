// One input on several threads (pool.gradient, valueAndGradient, vjp; src/split.ts): the column slices
// of denseBackCols equal denseBack bit for bit in both builds; denseBack's halved sum (rows [half, n) and
// [0, half) apart, then added) against the plain f64 reference, and the pool's pieces of it (backRows per
// half, backCombine per range of entries) equal it bit for bit; the split schedule run chunk by chunk on
// one thread (any chunk order) equals createMLP's gradient in both builds; pools of 1–3 threads equal one
// thread bit for bit on odd widths and on layers whose backward is halved (odd row counts, strides with a
// leftover vector), f32 and f64, every activation family and softmax / logSoftmax outputs, and stay
// within the reference's tolerance; argument errors are MLPErrors; small networks stay on one thread;
// dispose while idle; a worker that dies mid-call rejects it with E_WORKER and the pool carries on.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEngine, createMLPPool, type MLP, type MLPPool, type Precision } from "../src/index.node.js";
import type { Engine } from "../src/engine.js";
import { backwardHalf, HALF_BACKWARD_BYTES, type NetworkLayout } from "../src/memory.js";
import { finishHalves, runChunk, schedule, splitTask } from "../src/split.js";
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

test("backwardHalf: halves from HALF_BACKWARD_BYTES and 5 rows, a multiple of 4 near rows / 2, by shape and precision alone", () => {
  for (const e of [4, 8]) {
    for (const rows of [1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 67, 131, 257, 1024]) {
      for (const stride of [4, 8, 68, 132, 260, 1028]) {
        const half = backwardHalf(rows, stride, e);
        const bytes = rows * stride * e;
        if (rows < 5 || bytes < HALF_BACKWARD_BYTES) {
          assert.is(half, 0, `rows ${rows}, stride ${stride}, ${e}-byte elements: not halved`);
          continue;
        }
        assert.ok(half > 0 && half < rows && half % 4 === 0, `rows ${rows}: half ${half}`);
        assert.ok(Math.abs(2 * half - rows) <= 4, `rows ${rows}: half ${half} is near the middle`);
      }
    }
    // Either side of the threshold.
    const cols = HALF_BACKWARD_BYTES / e / 8;
    assert.is(backwardHalf(8, cols, e), 4);
    assert.is(backwardHalf(8, cols - 1, e), 0);
  }
});

for (const { name, engine } of builds) {
  for (const precision of ["f32", "f64"] as const) {
    test(`${name} ${precision}: halved denseBack against the f64 reference; the pool's pieces (backRows per half, backCombine per range) equal it bit for bit`, () => {
      const size = precision === "f32" ? 4 : 8;
      const lanes = 16 / size;
      const k = engine.kernels;
      const denseBack = precision === "f32" ? k.denseBackF32 : k.denseBackF64;
      const backRows = precision === "f32" ? k.backRowsF32 : k.backRowsF64;
      const combine = precision === "f32" ? k.backCombineF32 : k.backCombineF64;
      const random = rng(size * 91);
      const round = precision === "f32" ? Math.fround : (v: number) => v;
      for (const rows of [5, 7, 8, 9, 17, 67, 131]) {
        // Odd strides in vectors (a leftover vector after the kernels' pairs) and even ones.
        for (const n of [1, 3, 5, 7, 8, 17, 67]) {
          const stride = Math.ceil(n / lanes) * lanes;
          const bytes = (rows * stride + rows + 5 * stride) * size + 512;
          const base = engine.arena.alloc(bytes, "halved kernel test");
          let at = base;
          const take = (count: number) => {
            const start = at;
            at = Math.ceil((at + count * size) / 64) * 64;
            return start;
          };
          const [w, g, s, one, part, pieces, part2] = [rows * stride, rows, stride, stride, stride, stride, stride].map(take);
          const view = precision === "f32" ? new Float32Array(engine.memory.buffer) : new Float64Array(engine.memory.buffer);
          const W = Array.from({ length: rows }, () => Array.from({ length: n }, () => round(normal(random))));
          const gv = Array.from({ length: rows }, () => round(normal(random)));
          const sv = Array.from({ length: n }, () => round(random()));
          W.forEach((row, i) => row.forEach((v, j) => (view[w / size + i * stride + j] = v)));
          gv.forEach((v, i) => (view[g / size + i] = v));
          sv.forEach((v, j) => (view[s / size + j] = v));
          // Every half the kernel can be given: multiples of 4 below rows (backwardHalf picks one near rows / 2).
          for (let half = 4; half < rows; half += 4) {
            for (const sOff of [0, s]) {
              const where = `rows ${rows}, n ${n}, half ${half}, s ${sOff !== 0}`;
              view.fill(NaN, one / size, one / size + stride);
              denseBack(one, w, g, sOff, rows, stride, part, half);
              const got = Array.from(view.subarray(one / size, one / size + stride));
              const [want] = ref.transposedProduct(W, [gv], sOff === 0 ? undefined : sv);
              closeTo(got.slice(0, n), want, precision === "f32" ? 1e-4 : 1e-12, `reference ${where}`);
              // The pool's way: each half on its own (either order), then the sum added in two ranges.
              view.fill(NaN, pieces / size, pieces / size + stride);
              view.fill(NaN, part2 / size, part2 / size + stride);
              backRows(part2, w, g, half, stride);
              backRows(pieces, w + half * stride * size, g + half * size, rows - half, stride);
              // Two ranges of entries, as two chunks of the next phase add them (cut where that phase halves).
              const cut = Math.min(half, stride);
              combine(pieces + cut * size, part2 + cut * size, sOff === 0 ? 0 : s + cut * size, stride - cut);
              combine(pieces, part2, sOff, cut);
              same(view.subarray(pieces / size, pieces / size + n), got.slice(0, n), `pieces ${where}`, "denseBack");
            }
          }
          engine.arena.release(base, bytes);
        }
      }
    });
  }
}

for (const { name, engine } of builds) {
  test(`${name}: backCombine is one rounded add and one rounded multiply per element, g = (P + g) ⊙ s (no fused multiply-add)`, () => {
    for (const precision of ["f32", "f64"] as const) {
      const size = precision === "f32" ? 4 : 8;
      const combine = precision === "f32" ? engine.kernels.backCombineF32 : engine.kernels.backCombineF64;
      const round = precision === "f32" ? Math.fround : (v: number) => v;
      const random = rng(size * 5);
      for (const count of [4, 8, 20, 68, 132]) {
        const base = engine.arena.alloc(3 * count * size, "backCombine test");
        const [g, p, s] = [base, base + count * size, base + 2 * count * size];
        const view = precision === "f32" ? new Float32Array(engine.memory.buffer) : new Float64Array(engine.memory.buffer);
        // Sums that cancel and s far from 1: a fused g·s + P·s or (P + g)·s rounded once would differ.
        const P = Array.from({ length: count }, () => round(normal(random) * 1e3));
        const G = P.map((v) => round(-v + normal(random)));
        const S = Array.from({ length: count }, () => round(random() * 3 + 0.1));
        for (const sOff of [s, 0]) {
          view.set(G, g / size);
          view.set(P, p / size);
          view.set(S, s / size);
          combine(g, p, sOff, count);
          const want = G.map((v, j) => (sOff === 0 ? round(P[j] + v) : round(round(P[j] + v) * S[j])));
          same(view.subarray(g / size, g / size + count), want, `${precision} count ${count}, s ${sOff !== 0}`, "(P + g) ⊙ s, each rounded");
        }
        engine.arena.release(base, 3 * count * size);
      }
    }
  });
}

/**
 * The pool's schedule for `threads` threads run on this thread alone, chunk by chunk (each phase's chunks
 * in the given order), with the main thread's steps between phases: what a split call computes, on any
 * engine (the scalar one has no threads).
 */
function splitSerially(engine: Engine, net: MLP, x: ArrayLike<number>, threads: number, minLayerBytes: number, reverse: boolean): ArrayLike<number> {
  const internal = net as unknown as {
    batchPlan: { layout: NetworkLayout };
    splitBegin(method: string, x: ArrayLike<number>, out: undefined): Float32Array | Float64Array;
    splitResult(out: Float32Array | Float64Array): { gradient: Float32Array | Float64Array };
  };
  const layout = internal.batchPlan.layout;
  const task = splitTask(layout, net.precision, engine.kernels, engine.memory);
  const out = internal.splitBegin("gradient", x, undefined);
  const chunks = schedule(layout, threads, minLayerBytes);
  const gTop = layout.layers[layout.layers.length - 1].s;
  for (let p = 0; p < chunks.length; p++) {
    if (p > 0) finishHalves(task, chunks, p);
    for (let i = 0; i < chunks[p]; i++) runChunk(task, chunks, p, gTop, reverse ? chunks[p] - 1 - i : i);
  }
  finishHalves(task, chunks, chunks.length);
  return internal.splitResult(out).gradient;
}

// Layers whose backward is halved (≥ HALF_BACKWARD_BYTES, ≥ 5 rows): rows 9, 131, 257, 67, 7 (after the
// halves 1–3 single rows), strides with a leftover vector (1028 and 132 f32, 134 f64), halved layers one
// after another (the next phase adds the halves), a halved layer under a column-split one and over one.
const HALVED_SHAPES = [
  [1027, 9, 1],
  [133, 131, 257, 1],
  [5, 67, 257, 1],
  [133, 67, 257, 1],
  [67, 600, 7, 1],
];

for (const { name, engine } of builds) {
  test(`${name}: the split schedule run chunk by chunk on one thread equals the one-thread gradient bit for bit (halved layers)`, () => {
    for (const precision of ["f32", "f64"] as const) {
      for (const [i, sizes] of HALVED_SHAPES.entries()) {
        const c = randomCase(sizes, "tanh", precision, 9100 + i);
        const net = engine.createMLP(c.spec);
        const layout = (net as unknown as { batchPlan: { layout: NetworkLayout } }).batchPlan.layout;
        assert.ok(layout.layers.some((layer) => layer.half > 0), `[${sizes}] has a halved layer`);
        const expected = Array.from(net.gradient(c.x));
        closeTo(expected, ref.gradient(c.ref, c.x), precision === "f32" ? 2e-4 : 1e-10, `reference ${name} ${precision} [${sizes}]`);
        for (const threads of [1, 2, 3]) {
          for (const minLayer of [0, 40_000, 1 << 16]) {
            for (const reverse of [false, true]) {
              const where = `${name} ${precision} [${sizes}], ${threads} threads, layers from ${minLayer} bytes${reverse ? ", chunks in reverse" : ""}`;
              same(splitSerially(engine, net, c.x, threads, minLayer, reverse), expected, where);
            }
          }
        }
        net.dispose();
      }
    }
  });
}

for (const precision of ["f32", "f64"] as const) {
  test(`${precision}: pools of 2 and 3 threads equal one thread bit for bit on layers whose backward is halved (gradient, valueAndGradient, vjp)`, async () => {
    for (const [i, sizes] of HALVED_SHAPES.entries()) {
      const c = randomCase(sizes, ["tanh", "sigmoid", "gelu"][i % 3] as RefActivation, precision, 9200 + i);
      const one = single.createMLP(c.spec);
      const expected = one.gradient(c.x);
      const value = one.valueAndGradient(c.x).value;
      closeTo(expected, ref.gradient(c.ref, c.x), precision === "f32" ? 2e-4 : 1e-10, `reference [${sizes}]`);
      for (const threads of [2, 3]) {
        for (const minSplitBytes of [0, 40_000]) {
          const pool = await createMLPPool({ spec: c.spec, threads, minSplitBytes, adaptiveSplit: false });
          const where = `${threads} threads, minSplitBytes ${minSplitBytes}, [${sizes}]`;
          const { layers, elementBytes } = (pool.network as unknown as { batchPlan: { layout: NetworkLayout } }).batchPlan.layout;
          const weightBytes = layers.reduce((sum, layer) => sum + layer.rows * layer.stride * elementBytes, 0);
          assert.is(pool.splitThreads, weightBytes >= minSplitBytes ? threads : 1, `the call is split: ${where}`);
          same(await pool.gradient(c.x), expected, `gradient ${where}`);
          const vg = await pool.valueAndGradient(c.x);
          assert.ok(Object.is(vg.value, value), `value ${where}`);
          same(vg.gradient, expected, `valueAndGradient ${where}`);
          same(await pool.vjp(c.x, [-0.75]), one.vjp(c.x, [-0.75]), `vjp ${where}`);
          await pool.dispose();
        }
      }
      one.dispose();
    }
    // A halved top layer (7 rows: 3 single rows, then a block of 4) under softmax, into a halved one.
    for (const output of ["softmax", "logSoftmax", "identity"] as RefActivation[]) {
      const sizes = [67, 600, 7];
      const c = randomCase(sizes, ["tanh", output], precision, 9250);
      const one = single.createMLP(c.spec);
      const v = [0.5, -1, 2, 0.25, 3, -0.125, 1.5];
      const want = one.vjp(c.x, v);
      const J = ref.jacobian(c.ref, c.x);
      closeTo(want, Array.from({ length: sizes[0] }, (_, i) => J.reduce((sum, row, k) => sum + v[k] * row[i], 0)), precision === "f32" ? 2e-4 : 1e-10, `vjp reference ${label(output)}`);
      for (const threads of [2, 3]) {
        const pool = await createMLPPool({ spec: c.spec, threads, minSplitBytes: 0, adaptiveSplit: false });
        same(await pool.vjp(c.x, v), want, `vjp ${precision} ${threads} threads ${label(output)}`);
        await pool.dispose();
      }
      one.dispose();
    }
  });
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
