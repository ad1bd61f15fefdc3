/**
 * The "gemm ceiling": the batch analogue of ceiling.mjs — hand-written raw WebAssembly SIMD for one
 * network's batch gradient chain in mlpgrad's batch layout, without σ, biases, Hadamard products or the
 * copies in and out of the block, as a measured bound on what assembly/gemm.ts (gemm, gemmT) can reach
 * on this machine. Per block of mb samples (feature-major [n][mb], element (j, c) at j·mb + c; mb = 64
 * = src/memory.ts's BATCH_BLOCK by default) it runs
 *
 *   forward   Z^[l] = W^[l] Z^[l-1]             l = 2..L, Z^[1] = X          (gemm without σ, b)
 *   backward  G^[l-1] = (W^[l])ᵀ G^[l]          l = L..2, G^[L] = Z^[L]      (gemmT with s = 0)
 *
 * including the first layer's transposed product (∇ₓ), so per sample it does a multiply and an add per
 * weight and pass: flopsPerGradient(sizes), the flops the bench credits mlpgrad's gradientBatch with.
 * W^[l] is row-major [n_l][stride] with zero padding columns, stride as mlpgrad lays it out.
 *
 * Both passes are one register-tile loop, out[r, c..] = Σ_k w(r, k) · X[k, c..] over R output rows ×
 * V vectors (16 bytes) of samples: per step k the V sample vectors of X's row k are loaded once, each of
 * the R weights is splatted once (v128.load32_splat) and multiplied into V accumulators. The forward
 * reads w(r, k) = W[r, k] (rows `rowBytes` apart: the splats' memarg offsets; step +4 bytes), the backward
 * w(r, k) = W[k, r] (adjacent: offsets 4·r; step +rowBytes), exactly like gemm's and gemmT's tiles
 * (R = 4, V = 2 there). The backward sums k in blocks so that the strip of W it walks stays in L1
 * (mlpgrad's blockForT rule, ported below), keeping partial sums in its output (zeroed by memory.fill).
 * What it has that the AssemblyScript kernels cannot: every address is a constant of the generated
 * module — the tiles of one row block are unrolled over the samples, so a sample offset and a row offset
 * are memarg immediates; loop bounds are constants; no arguments, no σ, no calls between layers.
 *
 * createGemmCeiling(net, { mb, rows, vectors, strides }) copies the weights and an input block, and checks
 * the chain against plain JS sums in f64 on a few sample columns; .run(blocks) runs the chain `blocks`
 * times, .forward(blocks) its forward passes alone.
 * `npm run build && node bench/gemm-ceiling.mjs [S3,S4,S5] [--samples 15] [--batch 256] [--split] [--break]`
 * times the tile variants interleaved with the f32x4 peak loop (peak.mjs) and this build's gradientBatch
 * (--split: also the default tile's forward alone beside mlpgrad's forwardBatch; --break: shows the check
 * failing on a deliberately wrong module). Figures: docs/batch-ceiling.md.
 */
import { HEADER, name, OP, SECTION, section, simd, sleb, TYPE, uleb, vector } from "./wasm-encoding.mjs";
import { paddedStride } from "./floor.mjs";
import { timeParts } from "./interleave.mjs";

const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const V128_CONST = 0x0c;
const I32_NE = 0x47;
const CALL = 0x10;
const PAGE_BYTES = 65536;
const LANES = {
  f32: { bytes: 4, splatLoad: 0x09, add: 0xe4, mul: 0xe6 },
  f64: { bytes: 8, splatLoad: 0x0a, add: 0xf0, mul: 0xf2 },
};

/** mlpgrad's gemmT block (assembly/gemm.ts blockForT): at most 4 lines per reached L1 set, at least 8 rows, ≤ 16 KiB of g. */
export function blockForT(rowBytes, mbBytes) {
  let g = 4096;
  let r = rowBytes & 4095;
  while (r !== 0) [g, r] = [r, g % r];
  const sets = Math.min(64, 4096 / g);
  const fill = Math.max(16, Math.floor(16384 / mbBytes));
  return Math.min(fill, Math.max(8, 4 * sets));
}

/**
 * Code of one pass out[0..outRows) (+)= Σ_{k<K} w(r, k) X[k] over an [·][mb] block: W address of
 * w(r, k) = w + r·wr + k·ws; X at x; out at out; k summed in blocks of kBlock (accumulating after a
 * memory.fill of out when there is more than one block). R × V register tiles, rows past the last
 * whole tile in one tile of outRows % R rows.
 */
function passCode(t, { out, w, x, outRows, K, wr, ws, mbBytes, kBlock, R, V, rowAdds, panel }) {
  // Locals: i32 0 PW, 1 PX, 2 END, 3 O, 4 RW (W at the row block), 5 NR, 6 KW, 7 KX, 8 NK; v128 from 9.
  const PW = 0, PX = 1, END = 2, O = 3, RW = 4, NR = 5, KW = 6, KX = 7, NK = 8, VB = 9;
  const ACC = (r, v) => VB + r * V + v;
  const XV = (v) => VB + R * V + v;
  const WS = VB + R * V + V;
  const WP = WS + 1;
  const code = [];
  const get = (i) => [OP.local_get, ...uleb(i)];
  const set = (i) => [OP.local_set, ...uleb(i)];
  const i32 = (value) => [OP.i32_const, ...sleb(value)];
  const load = (offset) => [...simd(V128_LOAD), 4, ...uleb(offset)];
  const accumulate = kBlock < K;
  // One row block's tiles (rows r < rows), for a k block of n steps starting at KW / KX.
  // In panel mode (forward, R = 4, f32) W's row blocks are copies [k][4 weights], 16 bytes a step.
  const rowBlock = (rows, n, inPanel = false) => {
    const ops = [];
    const [wrHere, wsHere] = inPanel ? [t.bytes, 16] : [wr, ws];
    for (let c = 0; c < mbBytes; c += 16 * V) {
      for (let r = 0; r < rows; r++) {
        for (let v = 0; v < V; v++) {
          if (accumulate) ops.push(...get(O), ...load(r * mbBytes + c + 16 * v), ...set(ACC(r, v)));
          else ops.push(...simd(V128_CONST), ...new Array(16).fill(0), ...set(ACC(r, v)));
        }
      }
      ops.push(...get(RW), ...set(PW), ...get(KX), OP.local_tee, PX, ...i32(n * mbBytes), OP.i32_add, ...set(END));
      ops.push(OP.loop, TYPE.void);
      for (let v = 0; v < V; v++) ops.push(...get(PX), ...load(c + 16 * v), ...set(XV(v)));
      if (inPanel && panel.shuffle) ops.push(...get(PW), ...load(0), ...set(WP));
      for (let r = 0; r < rows; r++) {
        // rowAdds: each row's address computed with an add (as gemm's tile must, rowBytes being an argument).
        if (inPanel && panel.shuffle) {
          // The four weights in one load, each lane splatted by a shuffle.
          const lanes = [r, r, r, r].flatMap((lane) => [0, 1, 2, 3].map((b) => lane * 4 + b));
          ops.push(...get(WP), ...get(WP), ...simd(0x0d), ...lanes, ...set(WS));
        } else if (rowAdds && r > 0) ops.push(...get(PW), ...i32(r * wr), OP.i32_add, ...simd(t.splatLoad), t.bytes === 4 ? 2 : 3, 0, ...set(WS));
        else ops.push(...get(PW), ...simd(t.splatLoad), t.bytes === 4 ? 2 : 3, ...uleb(r * wrHere), ...set(WS));
        for (let v = 0; v < V; v++) ops.push(...get(ACC(r, v)), ...get(WS), ...get(XV(v)), ...simd(t.mul), ...simd(t.add), ...set(ACC(r, v)));
      }
      ops.push(...get(PW), ...i32(wsHere), OP.i32_add, ...set(PW));
      ops.push(...get(PX), ...i32(mbBytes), OP.i32_add, OP.local_tee, PX, ...get(END), I32_NE, OP.br_if, 0, OP.end);
      for (let r = 0; r < rows; r++) for (let v = 0; v < V; v++) ops.push(...get(O), ...get(ACC(r, v)), ...simd(V128_STORE), 4, ...uleb(r * mbBytes + c + 16 * v));
    }
    return ops;
  };
  // All row blocks for one k block of n steps (KW, KX set).
  const kBlockCode = (n) => {
    const ops = [];
    const blocks = Math.floor(outRows / R);
    const rest = outRows % R;
    ops.push(...(panel ? i32(panel.w) : get(KW)), ...set(RW), ...i32(out), ...set(O));
    if (blocks > 0) {
      ops.push(...i32(blocks), ...set(NR), OP.loop, TYPE.void, ...rowBlock(R, n, Boolean(panel)));
      ops.push(...get(RW), ...i32(panel ? K * 16 : R * wr), OP.i32_add, ...set(RW), ...get(O), ...i32(R * mbBytes), OP.i32_add, ...set(O));
      ops.push(...get(NR), ...i32(1), OP.i32_sub, OP.local_tee, NR, OP.br_if, 0, OP.end);
    }
    // The rows past the last whole block from W itself (row-major).
    if (rest > 0) ops.push(...(panel ? [...i32(w + blocks * R * wr), ...set(RW)] : []), ...rowBlock(rest, n));
    return ops;
  };
  if (accumulate) code.push(...i32(out), ...i32(0), ...i32(outRows * mbBytes), 0xfc, 0x0b, 0x00);
  const full = Math.floor(K / kBlock);
  const rest = K - full * kBlock;
  code.push(...i32(w), ...set(KW), ...i32(x), ...set(KX));
  if (full > 0) {
    code.push(...i32(full), ...set(NK), OP.loop, TYPE.void, ...kBlockCode(Math.min(kBlock, K)));
    code.push(...get(KW), ...i32(kBlock * ws), OP.i32_add, ...set(KW), ...get(KX), ...i32(kBlock * mbBytes), OP.i32_add, ...set(KX));
    code.push(...get(NK), ...i32(1), OP.i32_sub, OP.local_tee, NK, OP.br_if, 0, OP.end);
  }
  if (rest > 0) code.push(...kBlockCode(rest));
  return { code, vectors: R * V + V + 2 };
}

/**
 * Bytes of the gemm-ceiling module for passes [{ out, w, x, outRows, K, wr, ws, mbBytes, kBlock, R, V }]
 * (byte addresses constant) with its own memory of `pages` pages: exports memory, chain(blocks), which
 * runs every pass in order `blocks` times, and forward(blocks), the first `forwardPasses` only.
 */
export function buildGemmCeilingModule(precision, passes, pages, forwardPasses = 0) {
  const t = LANES[precision];
  const bodies = passes.map((p) => {
    const { code, vectors } = passCode(t, p);
    return [...vector([[9, TYPE.i32], [...uleb(vectors), TYPE.v128]]), ...code, OP.end];
  });
  // chain(blocks: i32): a loop over the passes' calls.
  const chain = [0, OP.block, TYPE.void, OP.loop, TYPE.void, OP.local_get, 0, OP.i32_eqz, OP.br_if, 1];
  passes.forEach((_, i) => chain.push(CALL, ...uleb(i)));
  chain.push(OP.local_get, 0, OP.i32_const, 1, OP.i32_sub, OP.local_set, 0, OP.br, 0, OP.end, OP.end, OP.end);
  bodies.push(chain);
  // forward(blocks): the first `forwardPasses` passes only.
  const forward = [0, OP.block, TYPE.void, OP.loop, TYPE.void, OP.local_get, 0, OP.i32_eqz, OP.br_if, 1];
  for (let i = 0; i < forwardPasses; i++) forward.push(CALL, ...uleb(i));
  forward.push(OP.local_get, 0, OP.i32_const, 1, OP.i32_sub, OP.local_set, 0, OP.br, 0, OP.end, OP.end, OP.end);
  bodies.push(forward);
  return new Uint8Array([
    ...HEADER,
    ...section(SECTION.type, vector([[TYPE.func, 0, 0], [TYPE.func, 1, TYPE.i32, 0]])),
    ...section(SECTION.function, vector([...passes.map(() => [0]), [1], [1]])),
    ...section(SECTION.memory, vector([[0x00, ...uleb(pages)]])),
    ...section(SECTION.export, vector([[...name("chain"), 0x00, ...uleb(passes.length)], [...name("forward"), 0x00, ...uleb(passes.length + 1)], [...name("memory"), 0x02, 0]])),
    ...section(SECTION.code, vector(bodies.map((b) => [...uleb(b.length), ...b]))),
  ]);
}

/**
 * The gemm ceiling for a network (shapes.mjs), checked once against plain JS: { run(blocks), error, mb }.
 * Options: mb (samples per block, multiple of 4·V lanes' worth; 64), rows R (4) and vectors V (2) of the
 * forward tile, backRows / backVectors of the backward tile (default the forward's), strides (mlpgrad's;
 * paddedStride by default), kBlock (the backward's k block; blockForT by default), rowAdds (the forward's
 * row addresses by i32.add, not memarg offsets), panel ("splat" | "shuffle": the forward reads a copy of
 * W in 4-row panels [block][k][4], by four splat loads or one load and four shuffles; f32, rows 4),
 * checkColumns (the
 * samples checked: [0, 1, 5, mb - 1]), breakIt (a deliberately wrong module, to see the check fail).
 */
export async function createGemmCeiling(net, options = {}) {
  const precision = options.precision ?? "f32";
  const t = LANES[precision];
  const e = t.bytes;
  const mb = options.mb ?? 64;
  const mbBytes = mb * e;
  const R = options.rows ?? 4, V = options.vectors ?? 2;
  const RB = options.backRows ?? R, VB = options.backVectors ?? V;
  if (mbBytes % (16 * V) !== 0 || mbBytes % (16 * VB) !== 0) throw new Error(`mb = ${mb} is not a multiple of the tiles' ${V} / ${VB} vectors`);
  const sizes = net.sizes;
  const strides = options.strides ?? sizes.slice(0, -1).map((n) => paddedStride(n, precision));
  let at = 64;
  const take = (bytes) => ((at += Math.ceil(bytes / 64) * 64), at - Math.ceil(bytes / 64) * 64);
  const x = take(sizes[0] * mbBytes);
  const layers = [];
  let input = x;
  for (let l = 1; l < sizes.length; l++) {
    const rowBytes = strides[l - 1] * e;
    const layer = { rows: sizes[l], cols: sizes[l - 1], rowBytes, w: take(sizes[l] * rowBytes), xIn: input, zOut: take(sizes[l] * mbBytes) };
    layers.push(layer);
    input = layer.zOut;
  }
  layers.forEach((layer) => (layer.gOut = take(layer.cols * mbBytes)));
  layers.forEach((layer, i) => (layer.gIn = i + 1 < layers.length ? layers[i + 1].gOut : layer.zOut));
  const passes = [];
  for (const layer of layers) {
    // panel: a copy of W^[l]'s whole 4-row blocks as [block][k][4] for the forward (f32, R = 4).
    if (options.panel) layer.panel = take(Math.floor(layer.rows / 4) * layer.cols * 16);
    const panel = options.panel ? { w: layer.panel, shuffle: options.panel === "shuffle" } : undefined;
    passes.push({ out: layer.zOut, w: layer.w, x: layer.xIn, outRows: layer.rows, K: layer.cols, wr: layer.rowBytes, ws: e, mbBytes, kBlock: layer.cols, R, V, rowAdds: options.rowAdds, panel });
  }
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    const kBlock = options.kBlock ?? blockForT(layer.rowBytes, mbBytes);
    // breakIt: the backward's weight step one element short (reads W[k, r + k]): the check must fail.
    passes.push({ out: layer.gOut, w: layer.w, x: layer.gIn, outRows: layer.cols, K: layer.rows, wr: e, ws: layer.rowBytes - (options.breakIt ? e : 0), mbBytes, kBlock, R: RB, V: VB });
  }
  const pages = Math.ceil(at / PAGE_BYTES) + 1;
  const bytes = buildGemmCeilingModule(precision, passes, pages, layers.length);
  if (!WebAssembly.validate(bytes)) throw new Error(`gemm ceiling module (${precision}) does not validate`);
  const { exports } = await WebAssembly.instantiate(await WebAssembly.compile(bytes));
  const view = new (precision === "f64" ? Float64Array : Float32Array)(exports.memory.buffer);
  // The block: the first mb inputs of the shape's batch (makeInputs order: row-major m × n_1), transposed.
  const xs = options.inputs;
  for (let c = 0; c < mb; c++) for (let j = 0; j < sizes[0]; j++) view[x / e + j * mb + c] = xs[c * sizes[0] + j];
  layers.forEach((layer, i) => {
    const stride = layer.rowBytes / e;
    net.layers[i].weights.forEach((v, k) => (view[layer.w / e + Math.floor(k / layer.cols) * stride + (k % layer.cols)] = v));
    if (layer.panel) {
      for (let r = 0; r < Math.floor(layer.rows / 4) * 4; r++) {
        for (let k = 0; k < layer.cols; k++) view[layer.panel / e + (r >> 2) * layer.cols * 4 + k * 4 + (r & 3)] = net.layers[i].weights[r * layer.cols + k];
      }
    }
  });
  exports.chain(1);
  // Plain JS sums in f64 on a few columns: z = W z forward, g = Wᵀ g backward. Without σ the chain's
  // sums cancel (f32 differs from f64 by ≈ 3e-4 of max |g| on S5), so the error is measured against the
  // same chain on |W| and |x| (the scale of the rounding errors). Measured: 2e-14 – 2e-11 for every tile
  // variant on S3–S5; with the backward step deliberately one element short (breakIt) 2e-8 (S4) to 2e-5 (S3).
  let error = 0;
  for (const c of options.checkColumns ?? [0, 1, 5, mb - 1]) {
    let z = Array.from({ length: sizes[0] }, (_, j) => view[x / e + j * mb + c]);
    let za = z.map(Math.abs);
    const product = (i, v, abs) => {
      const { rows, cols } = layers[i];
      const W = net.layers[i].weights;
      return Array.from({ length: rows }, (_, r) => { let s = 0; for (let k = 0; k < cols; k++) s += (abs ? Math.abs(W[r * cols + k]) : W[r * cols + k]) * v[k]; return s; });
    };
    const productT = (i, v, abs) => {
      const { rows, cols } = layers[i];
      const W = net.layers[i].weights;
      const next = new Array(cols).fill(0);
      v.forEach((gk, r) => { for (let k = 0; k < cols; k++) next[k] += gk * (abs ? Math.abs(W[r * cols + k]) : W[r * cols + k]); });
      return next;
    };
    for (let i = 0; i < layers.length; i++) [z, za] = [product(i, z, false), product(i, za, true)];
    let [g, ga] = [z, za];
    for (let i = layers.length - 1; i >= 0; i--) [g, ga] = [productT(i, g, false), productT(i, ga, true)];
    const got = g.map((_, j) => view[layers[0].gOut / e + j * mb + c]);
    const scale = Math.max(...ga);
    const err = Math.max(...got.map((v, j) => Math.abs(v - g[j]))) / scale;
    // f32: 1e-6 of the |W|,|x| chain. A correct module is off by 3e-8 (S1, all 64 columns), 1.5e-9 (S2),
    // 2e-11 (S3), 3e-14 (S4), 1.5e-12 (S5): shallow chains round to more of their |·| chain. The deliberate
    // break is caught on S1–S3 (1.5e-5 to 1.5e-2) but not on S4/S5 (3e-8, 7e-7), whose |·| chain dwarfs it.
    // (1e-9 here failed S1's correct module in a full run, and with it mlpgrad-f32's S1 batch row.)
    if (!(err <= (precision === "f64" ? 1e-15 : 1e-6))) throw new Error(`gemm ceiling (${precision}, column ${c}) off by ${err} of the chain on |W|, |x| (got ${got.slice(0, 3)}, want ${g.slice(0, 3)})`);
    error = Math.max(error, err);
  }
  return { run: (blocks) => exports.chain(blocks), forward: (blocks) => exports.forward(blocks), error, mb, bytes: bytes.length };
}

/** Tile variants timed by the script (forward R×V, backward R×V); the first is the default. */
export const VARIANTS = {
  "4×2 (gemm's tile)": { rows: 4, vectors: 2 },
  "2×4": { rows: 2, vectors: 4 },
  "6×2": { rows: 6, vectors: 2 },
  "4×2, mb 256": { rows: 4, vectors: 2, mb: 256 },
  "4×2, forward row addresses by adds (as gemm)": { rows: 4, vectors: 2, rowAdds: true },
  "4×2, forward on 4-row panels, 4 splat loads": { rows: 4, vectors: 2, panel: "splat" },
  "4×2, forward on 4-row panels, 1 load + 4 shuffles": { rows: 4, vectors: 2, panel: "shuffle" },
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const { makeNetwork, makeInputs, flopsPerGradient } = await import("./shapes.mjs");
  const { buildPeakModule, flopsPerIteration } = await import("./peak.mjs");
  const { init, createMLP } = await import("../dist/mlpgrad.node.js");
  const { loadavg } = await import("node:os");
  await init();
  const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const arg = (flag, fallback) => (process.argv.indexOf(flag) > 0 ? process.argv[process.argv.indexOf(flag) + 1] : fallback);
  const SAMPLES = Number(arg("--samples", 15));
  const BATCH = Number(arg("--batch", 256));
  const SPLIT = process.argv.includes("--split");
  const shapes = (process.argv[2] && !process.argv[2].startsWith("--") ? process.argv[2] : "S3,S4,S5").split(",");
  console.log(`node ${process.version}, load average ${loadavg().map((v) => v.toFixed(2)).join(" ")}, batch ${BATCH}, ${SAMPLES} samples`);
  if (process.argv.includes("--break")) {
    const net = makeNetwork("S3");
    await createGemmCeiling(net, { inputs: makeInputs("S3", 64), breakIt: true }).then(
      () => console.log("--break: the broken module passed the check (the check is defective)"),
      (error) => console.log(`--break: the check failed as it should: ${error.message}`),
    );
  }
  const { instance } = await WebAssembly.instantiate(buildPeakModule("f32x4"));
  const PEAK_ITERATIONS = 20000;
  const peakCall = () => instance.exports.peak(PEAK_ITERATIONS, 0.5, 0.5);
  for (const shape of shapes) {
    const net = makeNetwork(shape);
    const inputs = makeInputs(shape, BATCH);
    const mlp = createMLP({ sizes: net.sizes, activations: "sigmoid", precision: "f32", layers: net.layers.map((l) => ({ weights: Float32Array.from(l.weights), bias: Float32Array.from(l.bias) })) });
    const xs = Float32Array.from(inputs);
    const out = new Float32Array(BATCH * net.sizes[0]);
    const strides = mlp.layout?.layers.map((l) => l.stride);
    const parts = { peak: peakCall, "mlpgrad gradientBatch": () => mlp.gradientBatch(xs, out) };
    const flops = { peak: PEAK_ITERATIONS * flopsPerIteration("f32x4"), "mlpgrad gradientBatch": BATCH * flopsPerGradient(net.sizes) };
    for (const [label, options] of Object.entries(VARIANTS)) {
      const c = await createGemmCeiling(net, { ...options, strides, inputs });
      const blocks = Math.ceil(BATCH / c.mb);
      parts[`ceiling ${label}`] = () => c.run(blocks);
      flops[`ceiling ${label}`] = blocks * c.mb * flopsPerGradient(net.sizes);
      if (SPLIT && label === Object.keys(VARIANTS)[0]) {
        // Forward alone (half the flops), beside mlpgrad's forwardBatch: where the gap is.
        parts[`ceiling ${label} forward`] = () => c.forward(blocks);
        flops[`ceiling ${label} forward`] = flops[`ceiling ${label}`] / 2;
        const values = new Float32Array(BATCH * net.sizes.at(-1));
        parts["mlpgrad forwardBatch"] = () => mlp.forwardBatch(xs, values);
        flops["mlpgrad forwardBatch"] = flops["mlpgrad gradientBatch"] / 2;
      }
    }
    const times = timeParts(parts, SAMPLES);
    const gflops = (label) => flops[label] / median(times[label]) / 1e3;
    const peak = gflops("peak");
    console.log(`${shape} f32 b${BATCH}: peak ${peak.toFixed(1)} GFLOP/s; ` +
      Object.keys(parts).slice(1).map((label) => `${label} ${(median(times[label]) / 1000).toFixed(2)} ms = ${gflops(label).toFixed(1)} GFLOP/s (${((100 * gflops(label)) / peak).toFixed(0)}%)`).join("; "));
    mlp.dispose();
  }
  console.log(`load average after: ${loadavg().map((v) => v.toFixed(2)).join(" ")}`);
}
