/**
 * The SIMD ceiling of this machine, measured with a tiny WebAssembly module written byte by byte here
 * (no assembler, no dependency). Its one function, peak(iterations, m, c), runs CHAINS independent
 * accumulator chains acc_k ← acc_k · m + c in f32x4 (or f64x2): a mul and an add per lane per chain,
 * so 2 · lanes · CHAINS flops per chain step. Twelve chains cover the mul→add latency, and 12
 * accumulators + m + c = 14 vector registers fit V8's 16 xmm registers without spilling. m and c are
 * arguments, not constants, so the compiler cannot fold the arithmetic away.
 *
 * `node bench/peak.mjs [--ms N]` prints one JSON line with GFLOP/s for f32x4 and f64x2.
 */
import { finish, parseOptions } from "./child-io.mjs";
import { HEADER, name, OP, SECTION, section, simd, TYPE, uleb, vector } from "./wasm-encoding.mjs";

/** Independent accumulator chains in the loop body. */
export const CHAINS = 12;
/** Copies of the chain step per loop iteration, so loop control is noise. */
export const UNROLL = 4;

/** SIMD opcodes (after the 0xfd prefix) per lane type. */
const LANES = {
  f32x4: { scalar: TYPE.f32, lanes: 4, splat: 0x13, extractLane: 0x1f, add: 0xe4, mul: 0xe6 },
  f64x2: { scalar: TYPE.f64, lanes: 2, splat: 0x14, extractLane: 0x21, add: 0xf0, mul: 0xf2 },
};

/** Bytes of a module exporting peak(iterations: i32, m: T, c: T) -> T for lane type "f32x4" | "f64x2". */
export function buildPeakModule(laneType, chains = CHAINS, unroll = UNROLL) {
  const t = LANES[laneType];
  // Locals: 0 iterations, 1 m, 2 c (parameters); then M, C and the accumulators (v128).
  const M = 3;
  const C = 4;
  const ACC = 5;
  const body = [];
  body.push(OP.local_get, 1, ...simd(t.splat), OP.local_set, M);
  body.push(OP.local_get, 2, ...simd(t.splat), OP.local_set, C);
  for (let k = 0; k < chains; k++) body.push(OP.local_get, C, OP.local_set, ...uleb(ACC + k));
  body.push(OP.block, TYPE.void, OP.loop, TYPE.void);
  body.push(OP.local_get, 0, OP.i32_eqz, OP.br_if, 1);
  for (let u = 0; u < unroll; u++) {
    for (let k = 0; k < chains; k++) {
      body.push(OP.local_get, ...uleb(ACC + k), OP.local_get, M, ...simd(t.mul));
      body.push(OP.local_get, C, ...simd(t.add), OP.local_set, ...uleb(ACC + k));
    }
  }
  body.push(OP.local_get, 0, OP.i32_const, 1, OP.i32_sub, OP.local_set, 0, OP.br, 0);
  body.push(OP.end, OP.end);
  // Sum the chains and return lane 0, so no chain is dead code.
  body.push(OP.local_get, ACC);
  for (let k = 1; k < chains; k++) body.push(OP.local_get, ...uleb(ACC + k), ...simd(t.add));
  body.push(...simd(t.extractLane), 0, OP.end);

  const locals = vector([[...uleb(2 + chains), TYPE.v128]]);
  const code = [...locals, ...body];
  return new Uint8Array([
    ...HEADER,
    ...section(SECTION.type, vector([[TYPE.func, ...vector([TYPE.i32, t.scalar, t.scalar]), ...vector([t.scalar])]])),
    ...section(SECTION.function, vector([[0]])),
    ...section(SECTION.export, vector([[...name("peak"), 0x00, 0]])),
    ...section(SECTION.code, vector([[...uleb(code.length), ...code]])),
  ]);
}

/** Flops one loop iteration of peak() performs. */
export function flopsPerIteration(laneType, chains = CHAINS, unroll = UNROLL) {
  return 2 * LANES[laneType].lanes * chains * unroll;
}

/**
 * Measures GFLOP/s for one lane type: warms the function up to the optimising tier, sizes a call
 * to about `callMs`, then reports the median and best of `calls` timed calls.
 */
export async function measurePeak(laneType, { callMs = 20, calls = 15 } = {}) {
  const bytes = buildPeakModule(laneType);
  if (!WebAssembly.validate(bytes)) throw new Error(`peak module (${laneType}) does not validate`);
  const { instance } = await WebAssembly.instantiate(bytes);
  const { peak } = instance.exports;
  // With m = c = 0.5 every chain converges to 1, far from overflow and denormals.
  const check = peak(10000, 0.5, 0.5);
  if (Math.abs(check - CHAINS) > 1e-3) throw new Error(`peak module (${laneType}) returned ${check}, expected ${CHAINS}`);
  let iterations = 1000;
  for (let k = 0; k < 30; k++) {
    const t0 = performance.now();
    peak(iterations, 0.5, 0.5);
    const elapsed = performance.now() - t0;
    if (elapsed > callMs / 2 && k >= 5) break;
    iterations = Math.min(2 ** 30, Math.ceil(iterations * Math.max(1.1, Math.min(10, callMs / Math.max(elapsed, 0.01)))));
  }
  const rates = [];
  for (let k = 0; k < calls; k++) {
    const t0 = performance.now();
    peak(iterations, 0.5, 0.5);
    const seconds = (performance.now() - t0) / 1000;
    rates.push((iterations * flopsPerIteration(laneType)) / seconds / 1e9);
  }
  rates.sort((a, b) => a - b);
  return { gflops: rates[rates.length >> 1], best: rates[rates.length - 1], iterations, calls };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { options } = parseOptions(process.argv.slice(2));
  const callMs = Number(options.ms ?? 20);
  try {
    const f32x4 = await measurePeak("f32x4", { callMs });
    const f64x2 = await measurePeak("f64x2", { callMs });
    finish({ status: "ok", chains: CHAINS, unroll: UNROLL, f32x4, f64x2 });
  } catch (error) {
    finish({ status: "ERROR", error: String(error?.stack ?? error) });
  }
}
