/**
 * The "matvec ceiling": the best single-input forward and backward loops found by hand in raw
 * WebAssembly SIMD for one network's shapes, without σ, biases or Hadamard products — a measured bound
 * on what mlpgrad's matvec kernels (assembly/matvec.ts: dense, denseBack) can reach with the same
 * row-major layout (W^[l] n_l × stride, zero padding columns) on this machine. The chain it runs is
 *
 *   forward   z^[l] = W^[l] z^[l-1]            l = 2..L, z^[1] = x
 *   backward  g^[l-1] = (W^[l])ᵀ g^[l]         l = L..2, g^[L] = z^[L]
 *
 * so it reads every weight twice and does a multiply and an add per weight and pass, as a gradient does.
 * What it has that the AssemblyScript kernels cannot: the module is generated per network, so every
 * address is a constant — the row stride is a memarg offset, a 4-row step addresses its loads of W from
 * one register (p + j) and x or g^[l-1] by j alone with a constant offset: one address add per step
 * instead of five, constant loop bounds, no argument reads.
 *
 * Loop structure (options; the defaults are the fastest measured, see docs/single-input-kernels.md):
 * forward `rows` (4) rows × `vectors` (2) vectors per step, x's slices loaded once per step (with one
 * vector, once per row), each row's products summed pairwise before
 * its accumulator (or added in turn with `sequential`), the row sums reduced by shuffles (f32x4: four
 * rows per vector, f64x2: two); backward 4 rows per step and `backVectors` (1) vectors, g_k splatted once
 * per block, rows visited last to first, the first block visited assigns g^[l-1] (no zeroing pass). Rows
 * past the last whole block: one at a time.
 *
 * createCeiling(net, precision, strides, options) copies the weights in mlpgrad's layout (strides[l-2]
 * = padded row length of W^[l]) and checks the chain against plain JS in f64; ceiling.run() runs it once.
 * `npm run build && node bench/ceiling.mjs [S3,S4] [--samples 21]` times the loop variants against the floor and this build's
 * gradient.
 */
import { HEADER, name, OP, SECTION, section, simd, sleb, TYPE, uleb, vector } from "./wasm-encoding.mjs";
import { paddedStride } from "./floor.mjs";
import { timeParts } from "./interleave.mjs";

const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const SHUFFLE = 0x0d;
const LANES = {
  f32: { scalar: TYPE.f32, bytes: 4, splat: 0x13, add: 0xe4, mul: 0xe6, extract: 0x1f, load: 0x2a, store: 0x38, align: 2 },
  f64: { scalar: TYPE.f64, bytes: 8, splat: 0x14, add: 0xf0, mul: 0xf2, extract: 0x21, load: 0x2b, store: 0x39, align: 3 },
};
const I32_NE = 0x47;
const CALL = 0x10;
const PAGE_BYTES = 65536;

/** Byte indices of an i8x16.shuffle from lane indices of `laneBytes`-byte lanes (0.. first, lanes.. second). */
const shuffleBytes = (laneBytes, lanes) => lanes.flatMap((lane) => Array.from({ length: laneBytes }, (_, b) => lane * laneBytes + b));

/** The function bodies of one layer's forward and backward, as byte arrays (locals declared by the caller). */
function layerCode(t, layer, options = {}) {
  const { rows, rowBytes, w, xIn, zOut, gIn, gOut } = layer;
  const size = t.bytes;
  const vectors = rowBytes / 16;
  const pairBytes = Math.floor(vectors / 2) * 32;
  const tail = vectors % 2 === 1;
  const blocks = rows >> 2;
  // Locals (both functions): 0 p (block's first row), 1 j (byte offset in the row), 2 o (output / g pointer),
  // 3 n (blocks left); v128 4.. (accumulators or splats of g), 8.. (spares).
  const P = 0, J = 1, O = 2, N = 3, V = 4;
  const load = (addrOps, offset) => [...addrOps, ...simd(V128_LOAD), 4, ...uleb(offset)];
  const pj = [OP.local_get, P, OP.local_get, J, OP.i32_add];
  const jOnly = [OP.local_get, J];
  // j = 0, step, … up to (excluding) span; span > 0.
  const loopOver = (bodyOps, step, span) => [
    OP.i32_const, 0, OP.local_set, J,
    OP.loop, TYPE.void, ...bodyOps,
    OP.local_get, J, OP.i32_const, ...sleb(step), OP.i32_add, OP.local_tee, J,
    OP.i32_const, ...sleb(span), I32_NE, OP.br_if, 0, OP.end,
  ];
  const loop = (bodyOps) => loopOver(bodyOps, 32, pairBytes);

  // Forward: R rows × VN vectors per step at p + j (offsets k·rowBytes), x at j (offset xIn); each row's
  // VN products summed (pairwise) before they meet its accumulator.
  const R = options.rows ?? 4;
  const VN = options.vectors ?? 2;
  const stepBytes = 16 * VN;
  const fwdSpan = Math.floor(vectors / VN) * stepBytes;
  const forward = [];
  // With several vectors per step, x's slices are loaded once into locals (as mlpgrad's kernels do; one
  // load per row and slice, as with one vector, makes TurboFan hoist 16 loads and spill); with one, each
  // row loads it (measured the faster form).
  const X = V + R + 2;
  const xOf = (vecs, v) => (vecs > 1 ? [OP.local_get, X + v] : load(jOnly, xIn + 16 * v));
  const fwdStep = (vecs) => {
    const ops = [];
    if (vecs > 1) for (let v = 0; v < vecs; v++) ops.push(...load(jOnly, xIn + 16 * v), OP.local_set, X + v);
    for (let k = 0; k < R; k++) {
      if (options.sequential) {
        // Each product added into the accumulator in turn: c += w0·x0; c += w1·x1; …
        for (let v = 0; v < vecs; v++) {
          ops.push(OP.local_get, V + k, ...load(pj, k * rowBytes + 16 * v), ...xOf(vecs, v), ...simd(t.mul), ...simd(t.add), OP.local_set, V + k);
        }
        continue;
      }
      ops.push(OP.local_get, V + k);
      const products = [];
      for (let v = 0; v < vecs; v++) products.push([...load(pj, k * rowBytes + 16 * v), ...xOf(vecs, v), ...simd(t.mul)]);
      // Pairwise: (p0 + p1) + (p2 + p3).
      let level = products;
      while (level.length > 1) {
        const next = [];
        for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? [...level[i], ...level[i + 1], ...simd(t.add)] : level[i]);
        level = next;
      }
      ops.push(...level[0], ...simd(t.add), OP.local_set, V + k);
    }
    return ops;
  };
  const fwdBlocks = Math.floor(rows / R);
  if (fwdBlocks > 0) {
    forward.push(OP.i32_const, ...sleb(w), OP.local_set, P, OP.i32_const, ...sleb(zOut), OP.local_set, O);
    forward.push(OP.i32_const, ...sleb(fwdBlocks), OP.local_set, N);
    forward.push(OP.loop, TYPE.void);
    for (let k = 0; k < R; k++) forward.push(...simd(0x0c), ...new Array(16).fill(0), OP.local_set, V + k);
    if (fwdSpan > 0) forward.push(...loopOver(fwdStep(VN), stepBytes, fwdSpan));
    for (let rest = fwdSpan; rest < rowBytes; rest += 16) forward.push(OP.i32_const, ...sleb(rest), OP.local_set, J, ...fwdStep(1));
    const T1 = V + R, T2 = V + R + 1;
    if (size === 4 && R % 4 === 0) {
      const lo = shuffleBytes(4, [0, 4, 1, 5]), hi = shuffleBytes(4, [2, 6, 3, 7]);
      const sumPair = (a, b) => [OP.local_get, a, OP.local_get, b, ...simd(SHUFFLE), ...lo, OP.local_get, a, OP.local_get, b, ...simd(SHUFFLE), ...hi, ...simd(t.add)];
      for (let q = 0; q < R; q += 4) {
        forward.push(OP.local_get, O, ...sumPair(V + q, V + q + 1), OP.local_set, T1, ...sumPair(V + q + 2, V + q + 3), OP.local_set, T2);
        forward.push(OP.local_get, T1, OP.local_get, T2, ...simd(SHUFFLE), ...shuffleBytes(4, [0, 1, 4, 5]));
        forward.push(OP.local_get, T1, OP.local_get, T2, ...simd(SHUFFLE), ...shuffleBytes(4, [2, 3, 6, 7]), ...simd(t.add));
        forward.push(...simd(V128_STORE), 4, ...uleb(q * 4));
      }
    } else if (size === 8 && R % 2 === 0) {
      const sum2 = (a, b) => [OP.local_get, a, OP.local_get, b, ...simd(SHUFFLE), ...shuffleBytes(8, [0, 2]), OP.local_get, a, OP.local_get, b, ...simd(SHUFFLE), ...shuffleBytes(8, [1, 3]), ...simd(t.add)];
      for (let q = 0; q < R; q += 2) forward.push(OP.local_get, O, ...sum2(V + q, V + q + 1), ...simd(V128_STORE), 4, ...uleb(q * 8));
    } else {
      for (let k = 0; k < R; k++) {
        forward.push(OP.local_get, O, OP.local_get, V + k, ...simd(t.extract), 0);
        for (let lane = 1; lane < 16 / size; lane++) forward.push(OP.local_get, V + k, ...simd(t.extract), lane, size === 4 ? 0x92 : 0xa0);
        forward.push(t.store, t.align, ...uleb(k * size));
      }
    }
    forward.push(OP.local_get, P, OP.i32_const, ...sleb(R * rowBytes), OP.i32_add, OP.local_set, P);
    forward.push(OP.local_get, O, OP.i32_const, ...sleb(R * size), OP.i32_add, OP.local_set, O);
    forward.push(OP.local_get, N, OP.i32_const, 1, OP.i32_sub, OP.local_tee, N, OP.br_if, 0, OP.end);
  }
  for (let r = fwdBlocks * R; r < rows; r++) {
    // One row: two accumulators, then the lanes added as scalars.
    forward.push(OP.i32_const, ...sleb(w + r * rowBytes), OP.local_set, P);
    forward.push(...simd(0x0c), ...new Array(16).fill(0), OP.local_set, V, ...simd(0x0c), ...new Array(16).fill(0), OP.local_set, V + 1);
    const step = [];
    for (let v = 0; v < 2; v++) step.push(OP.local_get, V + v, ...load(pj, 16 * v), ...load(jOnly, xIn + 16 * v), ...simd(t.mul), ...simd(t.add), OP.local_set, V + v);
    if (pairBytes > 0) forward.push(...loop(step));
    if (tail) forward.push(OP.i32_const, ...sleb(pairBytes), OP.local_set, J, OP.local_get, V, ...load(pj, 0), ...load(jOnly, xIn), ...simd(t.mul), ...simd(t.add), OP.local_set, V);
    forward.push(OP.i32_const, ...sleb(zOut + r * size), OP.local_get, V, OP.local_get, V + 1, ...simd(t.add), OP.local_tee, V);
    forward.push(...simd(t.extract), 0);
    for (let lane = 1; lane < 16 / size; lane++) forward.push(OP.local_get, V, ...simd(t.extract), lane, size === 4 ? 0x92 : 0xa0);
    forward.push(t.store, t.align, 0);
  }

  // Backward: g^[l-1][j..] (+)= Σ_k g_k W[k, j..], 4 rows per step at p + j, g^[l-1] at j (offset gOut).
  const backward = [];
  const splats = (gAddrOps) => {
    const ops = [];
    for (let k = 0; k < 4; k++) ops.push(...gAddrOps, t.load, t.align, ...uleb(k * size), ...simd(t.splat), OP.local_set, V + k);
    return ops;
  };
  const backVector = (offset, accumulate) => {
    const ops = [...jOnly];
    const term = (k) => [OP.local_get, V + k, ...load(pj, k * rowBytes + offset), ...simd(t.mul)];
    ops.push(...term(0), ...term(1), ...simd(t.add), ...term(2), ...term(3), ...simd(t.add), ...simd(t.add));
    if (accumulate) ops.push(...load(jOnly, gOut + offset), ...simd(t.add));
    ops.push(...simd(V128_STORE), 4, ...uleb(gOut + offset));
    return ops;
  };
  const backBlock = (accumulate) => {
    const ops = [];
    if ((options.backVectors ?? 1) === 1) return loopOver(backVector(0, accumulate), 16, rowBytes);
    if (pairBytes > 0) ops.push(...loop([...backVector(0, accumulate), ...backVector(16, accumulate)]));
    if (tail) ops.push(OP.i32_const, ...sleb(pairBytes), OP.local_set, J, ...backVector(0, accumulate));
    return ops;
  };
  let assigned = false;
  for (let r = rows - 1; r >= blocks * 4; r--) {
    // One row: g^[l-1] (+)= g_r W[r, :], one vector at a time.
    backward.push(OP.i32_const, ...sleb(w + r * rowBytes), OP.local_set, P);
    backward.push(OP.i32_const, 0, t.load, t.align, ...uleb(gIn + r * size), ...simd(t.splat), OP.local_set, V);
    const one = (offset) => {
      const ops = [...jOnly, OP.local_get, V, ...load(pj, offset), ...simd(t.mul)];
      if (assigned) ops.push(...load(jOnly, gOut + offset), ...simd(t.add));
      ops.push(...simd(V128_STORE), 4, ...uleb(gOut + offset));
      return ops;
    };
    if (pairBytes > 0) backward.push(...loop([...one(0), ...one(16)]));
    if (tail) backward.push(OP.i32_const, ...sleb(pairBytes), OP.local_set, J, ...one(0));
    assigned = true;
  }
  if (blocks > 0) {
    let first = blocks - 1;
    if (!assigned) {
      backward.push(OP.i32_const, ...sleb(w + first * 4 * rowBytes), OP.local_set, P);
      backward.push(...splats([OP.i32_const, ...sleb(gIn + first * 4 * size)]), ...backBlock(false));
      first--;
    }
    if (first >= 0) {
      backward.push(OP.i32_const, ...sleb(w + first * 4 * rowBytes), OP.local_set, P);
      backward.push(OP.i32_const, ...sleb(gIn + first * 4 * size), OP.local_set, O);
      backward.push(OP.i32_const, ...sleb(first + 1), OP.local_set, N);
      backward.push(OP.loop, TYPE.void, ...splats([OP.local_get, O]), ...backBlock(true));
      backward.push(OP.local_get, P, OP.i32_const, ...sleb(4 * rowBytes), OP.i32_sub, OP.local_set, P);
      backward.push(OP.local_get, O, OP.i32_const, ...sleb(4 * size), OP.i32_sub, OP.local_set, O);
      backward.push(OP.local_get, N, OP.i32_const, 1, OP.i32_sub, OP.local_tee, N, OP.br_if, 0, OP.end);
    }
  }
  return { forward, backward };
}

/**
 * Bytes of the ceiling module for layers [{ rows, rowBytes, w, xIn, zOut, gIn, gOut }] (all byte
 * addresses constant), with its own memory of `pages` pages: exports memory, chain() (forward over the
 * layers, backward back) and forward() alone.
 */
export function buildCeilingModule(precision, layers, pages, options = {}) {
  const t = LANES[precision];
  const codes = [];
  for (const layer of layers) {
    const { forward, backward } = layerCode(t, layer, options);
    codes.push(forward, backward);
  }
  const L = layers.length;
  // Function indices: 2l forward of layer l, 2l+1 its backward, 2L the chain, 2L+1 the forward alone.
  const chain = [];
  for (let l = 0; l < L; l++) chain.push(CALL, ...uleb(2 * l));
  for (let l = L - 1; l >= 0; l--) chain.push(CALL, ...uleb(2 * l + 1));
  const forwardOnly = [];
  for (let l = 0; l < L; l++) forwardOnly.push(CALL, ...uleb(2 * l));
  const locals = vector([[4, TYPE.i32], [(options.rows ?? 4) + 2 + Math.max(2, options.vectors ?? 2), TYPE.v128]]);
  const bodies = [...codes.map((c) => [...locals, ...c, OP.end]), [0, ...chain, OP.end], [0, ...forwardOnly, OP.end]];
  const count = bodies.length;
  return new Uint8Array([
    ...HEADER,
    ...section(SECTION.type, vector([[TYPE.func, 0, 0]])),
    ...section(SECTION.function, vector(new Array(count).fill([0]))),
    ...section(SECTION.memory, vector([[0x00, ...uleb(pages)]])),
    ...section(SECTION.export, vector([[...name("chain"), 0x00, ...uleb(2 * L)], [...name("forward"), 0x00, ...uleb(2 * L + 1)], [...name("memory"), 0x02, 0]])),
    ...section(SECTION.code, vector(bodies.map((b) => [...uleb(b.length), ...b]))),
  ]);
}

/** The ceiling for a network (weights in mlpgrad's layout, `strides` as in floor.mjs), checked once: { run, forward }. */
export async function createCeiling(net, precision, strides, options = {}) {
  strides ??= net.sizes.slice(0, -1).map((n) => paddedStride(n, precision));
  const t = LANES[precision];
  const FloatArray = precision === "f64" ? Float64Array : Float32Array;
  const lanes = 16 / t.bytes;
  const padded = (n) => Math.ceil(n / lanes) * lanes * t.bytes;
  let at = 64;
  const take = (bytes) => ((at += Math.ceil(bytes / 64) * 64), at - Math.ceil(bytes / 64) * 64);
  const x = take(strides[0] * t.bytes);
  const layers = [];
  let input = x;
  for (let l = 1; l < net.sizes.length; l++) {
    const rows = net.sizes[l];
    const rowBytes = strides[l - 1] * t.bytes;
    const w = take(rows * rowBytes);
    // z^[l] is the next layer's input, so it is as long as that layer's stride (zero padding).
    const zOut = take(Math.max(padded(rows), l + 1 < net.sizes.length ? strides[l] * t.bytes : 0));
    layers.push({ rows, rowBytes, w, xIn: input, zOut, cols: net.sizes[l - 1] });
    input = zOut;
  }
  // g^[l-1] buffers: the backward of layer l writes one of the previous layer's stride.
  layers.forEach((layer) => (layer.gOut = take(layer.rowBytes)));
  layers.forEach((layer, i) => (layer.gIn = i + 1 < layers.length ? layers[i + 1].gOut : layer.zOut));
  const pages = Math.ceil(at / PAGE_BYTES) + 1;
  const bytes = buildCeilingModule(precision, layers, pages, options);
  if (!WebAssembly.validate(bytes)) throw new Error(`ceiling module (${precision}) does not validate`);
  const { exports } = await WebAssembly.instantiate(await WebAssembly.compile(bytes));
  const view = new FloatArray(exports.memory.buffer);
  const e = t.bytes;
  net.x.forEach((v, i) => (view[x / e + i] = v));
  layers.forEach((layer, i) => {
    const stride = layer.rowBytes / e;
    net.layers[i].weights.forEach((v, k) => (view[layer.w / e + Math.floor(k / layer.cols) * stride + (k % layer.cols)] = v));
  });
  // Check against plain JS in f64: z = W z forward, g = Wᵀ g backward.
  let z = Array.from(net.x);
  const zs = [];
  net.layers.forEach((layer, i) => {
    const cols = layers[i].cols;
    z = Array.from({ length: layers[i].rows }, (_, r) => z.reduce((s, v, c) => s + layer.weights[r * cols + c] * v, 0));
    zs.push(z);
  });
  let g = z;
  for (let i = layers.length - 1; i >= 0; i--) {
    const cols = layers[i].cols;
    const next = new Array(cols).fill(0);
    g.forEach((gk, r) => { for (let c = 0; c < cols; c++) next[c] += gk * net.layers[i].weights[r * cols + c]; });
    g = next;
  }
  exports.chain();
  const got = Array.from(view.subarray(layers[0].gOut / e, layers[0].gOut / e + g.length));
  const scale = Math.max(...g.map(Math.abs));
  const err = Math.max(...got.map((v, i) => Math.abs(v - g[i]))) / scale;
  if (!(err <= (precision === "f64" ? 1e-12 : 1e-4))) throw new Error(`ceiling module (${precision}) off by ${err} of max |g| (got ${got.slice(0, 3)}, want ${g.slice(0, 3)})`);
  return { run: exports.chain, forward: exports.forward, precision, error: err };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // The variants, the floor (floor.mjs) and mlpgrad's gradient (this build's dist/), interleaved in one
  // process, medians of 21 (--samples N) samples of ≈ 10 ms each.
  const { makeNetwork } = await import("./shapes.mjs");
  const { createFloor } = await import("./floor.mjs");
  const { init, createMLP } = await import("../dist/mlpgrad.node.js");
  await init();
  const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const at = process.argv.indexOf("--samples");
  const SAMPLES = at > 0 ? Number(process.argv[at + 1]) : 21;
  const VARIANTS = {
    "fwd 4×2, back 4×2 (mlpgrad's loops)": { rows: 4, vectors: 2, backVectors: 2 },
    "fwd 4×1, back 4×2": { rows: 4, vectors: 1, backVectors: 2 },
    "fwd 4×1, back 4×1": { rows: 4, vectors: 1, backVectors: 1 },
    "fwd 4×2 sequential, back 4×1": { rows: 4, vectors: 2, backVectors: 1, sequential: true },
    "fwd 2×4, back 4×1": { rows: 2, vectors: 4, backVectors: 1 },
    "fwd 4×2, back 4×1 (default)": {},
  };
  for (const shape of (process.argv[2] ?? "S3,S4").split(",")) {
    for (const precision of ["f32", "f64"]) {
      const net = makeNetwork(shape);
      const FloatArray = precision === "f32" ? Float32Array : Float64Array;
      const mlp = createMLP({ sizes: net.sizes, activations: "sigmoid", precision, layers: net.layers.map((l) => ({ weights: FloatArray.from(l.weights), bias: FloatArray.from(l.bias) })) });
      const x = FloatArray.from(net.x);
      const grad = new FloatArray(net.sizes[0]);
      const floor = await createFloor(net, precision, mlp.layout?.layers.map((l) => l.stride));
      const parts = { floor: () => floor.sweep(), "mlpgrad gradient": () => mlp.gradient(x, grad) };
      for (const [label, options] of Object.entries(VARIANTS)) {
        const c = await createCeiling(net, precision, undefined, options);
        parts[label] = () => c.run();
      }
      const times = timeParts(parts, SAMPLES, { calibrateMs: 10, warmCalls: 0, share: 1 });
      const f = median(times.floor);
      console.log(`${shape} ${precision}: floor ${f.toFixed(2)} µs; ` + Object.entries(times).slice(1).map(([label, v]) => `${label} ${median(v).toFixed(2)} (${(median(v) / f).toFixed(2)}×)`).join("; "));
      mlp.dispose();
    }
  }
}
