/**
 * The memory-bandwidth floor of one single-input gradient, measured with a tiny WebAssembly module
 * written byte by byte here (no assembler, no dependency; the encoding helpers are bench/wasm-encoding.mjs, shared with peak.mjs).
 * A gradient ∇ₓ a^[L](x) must read every weight W^[l] twice — forward (z^[l] = W^[l] a^[l-1] + b^[l])
 * and backward (g^[l-1] = σ'(z^[l-1]) ∘ (W^[l])ᵀ g^[l]) — so no gradient can be faster than reading the
 * network's weight bytes twice. The module's one function, sweep(base, bytes), reads [base, base + bytes)
 * twice with v128.load — forward, then backward from the end, the order of the gradient's two passes
 * (which reuses what is still in cache) — ACCUMULATORS vectors per loop step, each added
 * into its own accumulator (f32x4.add or f64x2.add, the precision's own add): eight independent add
 * chains cover the add latency, so the loop is bound by loads, not by adds. It returns lane 0 of the
 * accumulators' sum, so no load is dead code.
 *
 * The buffer holds the network's weights as mlpgrad lays them out: W^[l] row-major n_l × stride_{l-1}
 * with zero padding columns (bench/contenders/mlpgrad.mjs reads the strides from the built network),
 * the layers back to back, the total rounded up to one loop step (STEP_BYTES, at most 127 bytes more).
 *
 * `node bench/floor.mjs [S1,S3,…] [--ms N]` prints one JSON line with µs and GB/s per shape and precision.
 */
import { finish, parseOptions } from "./child-io.mjs";
import { HEADER, name, OP, SECTION, section, simd, sleb, TYPE, uleb, vector } from "./wasm-encoding.mjs";
import { makeNetwork, SHAPES } from "./shapes.mjs";

/** Independent accumulators, one v128.load each per loop step. */
export const ACCUMULATORS = 8;
/** Bytes read per loop step. */
export const STEP_BYTES = 16 * ACCUMULATORS;
/** Reads of the weights a gradient makes: forward, then backward. */
export const PASSES = 2;

/** SIMD opcodes (after the 0xfd prefix). */
const V128_LOAD = 0x00;
const LANES = {
  f32: { scalar: TYPE.f32, bytes: 4, add: 0xe4, extractLane: 0x1f },
  f64: { scalar: TYPE.f64, bytes: 8, add: 0xf0, extractLane: 0x21 },
};
const PAGE_BYTES = 65536;

/**
 * Bytes of a module with its own memory of `pages` 64 KiB pages, exporting "memory" and
 * sweep(base: i32, bytes: i32) -> T, T = f32 or f64 by `precision`: [base, base + bytes) read forward,
 * then backward. `bytes` must be a multiple of STEP_BYTES and base 16-byte aligned. With `shared` the
 * memory is instead imported as env.memory, shared, exactly `pages` pages (for several threads: floor2.mjs).
 */
export function buildFloorModule(precision, pages, { shared = false } = {}) {
  const t = LANES[precision];
  // Locals: 0 base, 1 bytes (parameters); 2 p, 3 end (i32); then the accumulators (v128).
  const P = 2;
  const END = 3;
  const ACC = 4;
  const body = [];
  const loads = () => {
    for (let k = 0; k < ACCUMULATORS; k++) {
      // acc_k ← acc_k + load(p + 16k); memarg: alignment 2^4, offset 16k.
      body.push(OP.local_get, ACC + k, OP.local_get, P, ...simd(V128_LOAD), 4, ...uleb(16 * k));
      body.push(...simd(t.add), OP.local_set, ACC + k);
    }
  };
  body.push(OP.local_get, 0, OP.local_get, 1, OP.i32_add, OP.local_set, END);
  // Forward: p = base, base + STEP, …, up to end.
  body.push(OP.local_get, 0, OP.local_set, P);
  body.push(OP.block, TYPE.void, OP.loop, TYPE.void);
  body.push(OP.local_get, P, OP.local_get, END, OP.i32_ge_u, OP.br_if, 1);
  loads();
  body.push(OP.local_get, P, OP.i32_const, ...sleb(STEP_BYTES), OP.i32_add, OP.local_set, P, OP.br, 0);
  body.push(OP.end, OP.end);
  // Backward: p = end - STEP, …, down to base (the most recently read bytes first, as the backward
  // pass reads W^[L] first: the order that reuses the most cache, so the floor stays a lower bound).
  body.push(OP.block, TYPE.void, OP.loop, TYPE.void);
  body.push(OP.local_get, P, OP.local_get, 0, OP.i32_le_u, OP.br_if, 1);
  body.push(OP.local_get, P, OP.i32_const, ...sleb(STEP_BYTES), OP.i32_sub, OP.local_set, P);
  loads();
  body.push(OP.br, 0);
  body.push(OP.end, OP.end);
  body.push(OP.local_get, ACC);
  for (let k = 1; k < ACCUMULATORS; k++) body.push(OP.local_get, ACC + k, ...simd(t.add));
  body.push(...simd(t.extractLane), 0, OP.end);

  const locals = vector([[2, TYPE.i32], [ACCUMULATORS, TYPE.v128]]);
  const code = [...locals, ...body];
  return new Uint8Array([
    ...HEADER,
    ...section(SECTION.type, vector([[TYPE.func, ...vector([TYPE.i32, TYPE.i32]), ...vector([t.scalar])]])),
    // Limits flag 0x03: shared, with a maximum (a shared memory must have one).
    ...(shared ? section(SECTION.import, vector([[...name("env"), ...name("memory"), 0x02, 0x03, ...uleb(pages), ...uleb(pages)]])) : []),
    ...section(SECTION.function, vector([[0]])),
    ...(shared ? [] : section(SECTION.memory, vector([[0x00, ...uleb(pages)]]))),
    ...section(SECTION.export, vector([[...name("sweep"), 0x00, 0], [...name("memory"), 0x02, 0]])),
    ...section(SECTION.code, vector([[...uleb(code.length), ...code]])),
  ]);
}

/** Elements per 16-byte vector. */
const lanesOf = (precision) => 16 / LANES[precision].bytes;

/**
 * mlpgrad's row stride for rows of n elements (src/memory.ts planLayout): n rounded up to whole
 * vectors, plus one vector when the row is a multiple of 1 KiB. Used only when the built network
 * does not say (see strideOf in bench/contenders/mlpgrad.mjs).
 */
export function paddedStride(n, precision) {
  const lanes = lanesOf(precision);
  let stride = Math.ceil(n / lanes) * lanes;
  if ((stride * LANES[precision].bytes) % 1024 === 0) stride += lanes;
  return stride;
}

/**
 * Builds the floor for a network: its weights copied into the module's memory in mlpgrad's layout,
 * `strides[l-2]` the row length of W^[l] (default paddedStride). Returns { sweep() → the sum read,
 * bytes (weight bytes, with padding), sweptBytes (rounded up to STEP_BYTES), precision }; one sweep()
 * reads the weights twice: forward, then backward. With `{ shared: true }` the memory is a shared
 * WebAssembly.Memory, and the result also has sweepRange(base, bytes), the compiled `module` and the
 * `memory`, for other threads to instantiate the same module on the same bytes (floor2.mjs).
 */
export async function createFloor(net, precision, strides, { shared = false } = {}) {
  strides ??= net.sizes.slice(0, -1).map((n) => paddedStride(n, precision));
  const FloatArray = precision === "f64" ? Float64Array : Float32Array;
  const elementBytes = LANES[precision].bytes;
  let bytes = 0;
  for (let l = 1; l < net.sizes.length; l++) bytes += net.sizes[l] * strides[l - 1] * elementBytes;
  const sweptBytes = Math.ceil(bytes / STEP_BYTES) * STEP_BYTES;
  const base = 0;
  const pages = Math.ceil((base + sweptBytes) / PAGE_BYTES) + 1;
  const bytesOfModule = buildFloorModule(precision, pages, { shared });
  if (!WebAssembly.validate(bytesOfModule)) throw new Error(`floor module (${precision}) does not validate`);
  const module = await WebAssembly.compile(bytesOfModule);
  const imports = shared ? { env: { memory: new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }) } } : {};
  const instance = await WebAssembly.instantiate(module, imports);
  const { sweep, memory } = instance.exports;
  const view = new FloatArray(memory.buffer, base, sweptBytes / elementBytes);
  let at = 0;
  let expected = 0;
  net.layers.forEach((layer, i) => {
    const rows = net.sizes[i + 1];
    const cols = net.sizes[i];
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) view[at + r * strides[i] + c] = layer.weights[r * cols + c];
    }
    at += rows * strides[i];
  });
  const lanes = lanesOf(precision);
  let scale = 0;
  for (let k = 0; k < view.length; k += lanes) {
    expected += view[k];
    scale += Math.abs(view[k]);
  }
  // The sweep must read what was written: lane 0 of its sum is that of every lanes-th weight, PASSES times.
  const got = sweep(base, sweptBytes);
  const want = PASSES * expected;
  if (!(Math.abs(got - want) <= (precision === "f64" ? 1e-9 : 1e-3) * PASSES * scale)) {
    throw new Error(`floor module (${precision}) summed ${got}, expected ${want}`);
  }
  const floor = { sweep: () => sweep(base, sweptBytes), bytes, sweptBytes, precision, accumulators: ACCUMULATORS, passes: PASSES };
  return shared ? { ...floor, sweepRange: sweep, base, module, memory, expected: want, scale: PASSES * scale } : floor;
}

/** Median µs of one sweep() after a warm-up, each sample about `callMs` long. */
export async function measureFloor(floor, { callMs = 20, samples = 15 } = {}) {
  let calls = 1;
  for (let k = 0; k < 30; k++) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) floor.sweep();
    const elapsed = performance.now() - t0;
    if (elapsed > callMs / 2 && k >= 3) break;
    calls = Math.ceil(calls * Math.max(1.1, Math.min(10, callMs / Math.max(elapsed, 0.01))));
  }
  const times = [];
  for (let k = 0; k < samples; k++) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) floor.sweep();
    times.push(((performance.now() - t0) * 1000) / calls);
  }
  times.sort((a, b) => a - b);
  const us = times[times.length >> 1];
  return { us, gbps: (PASSES * floor.sweptBytes) / us / 1e3, calls };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { positional, options } = parseOptions(process.argv.slice(2));
  const shapes = positional[0] ? positional[0].split(",") : Object.keys(SHAPES);
  const callMs = Number(options.ms ?? 20);
  try {
    const result = { status: "ok", accumulators: ACCUMULATORS, passes: PASSES, shapes: {} };
    for (const shape of shapes) {
      const net = makeNetwork(shape);
      result.shapes[shape] = {};
      for (const precision of ["f32", "f64"]) {
        const floor = await createFloor(net, precision);
        result.shapes[shape][precision] = { bytes: floor.bytes, ...(await measureFloor(floor, { callMs })) };
      }
    }
    finish(result);
  } catch (error) {
    finish({ status: "ERROR", error: String(error?.stack ?? error) });
  }
}
