/**
 * The cold-start floor: the least a correct library must do in Node 20 between `import` and the first
 * f32 gradient of a sigmoid MLP given as plain number[] weights, written by hand with no API around it —
 * no shape checks, no error messages, no options, no engine or network objects. bench/cold.mjs times it
 * in fresh processes as the contender `mlpgrad-floor`, beside mlpgrad-f32 and tfjs-wasm, so that the
 * report can say what of mlpgrad's cold start is Node's and what is mlpgrad's own.
 *
 * What it does, and nothing else:
 * - import: this one module, holding the SIMD build's bytes as base64, as dist/mlpgrad.node.js embeds
 *   them (bench/cold.mjs inlines build/embed-raw/wasm.generated.js's string where the import below
 *   stands, into build/cold-floor.mjs, so that the floor is one module as the bundle is);
 * - init(sizes): decode, WebAssembly.compile, instantiate on a memory of the pages the network needs
 *   (no probe: Node 20 always has SIMD; no growth and no zeroing: the sizes are known before the memory
 *   is made);
 * - create(layers): lay the network out as the kernels read it (assembly/network.ts's plan of
 *   80-byte entries; W^[l] row-major n_l × stride with stride = n_{l-1} rounded up to 4, buffers 64-byte
 *   aligned; fresh memory is zero, so the padding is) and copy each value in with createMLP's
 *   guarantees: every element read once, and anything but a number with |v| ≤ F32_MAX (so finite and
 *   within f32's range) refused without calling user code (no valueOf, no toString: a `typeof` test
 *   before the number is stored), in a loop that reads, tests and stores, called on 1024 values at a
 *   time — the fastest way measured, tied with createMLP's native check (docs/cold-start.md, fourth
 *   round); create returns false when a value is refused;
 * - gradient(x, out): x in, gradientNetF32 (one kernel call: the forward pass, then the backward), the
 *   gradient out.
 */
import { SIMD_WASM } from "../build/embed-raw/wasm.generated.js";

const F32_MAX = 3.4028234663852886e38;
const PLAN_BYTES = 80;
const BASE = 65536; // the network's block: above the kernels' own data (bench/cold.mjs checks heapBase())
const SIGMOID = 1;
const CHUNK = 1024;
const align = (n) => (n + 63) & ~63;
const stride = (n) => (n + 3) & ~3;

let exports;
let f32;
let net;

/**
 * Where each buffer of a network of these sizes goes: the plan's entries at BASE, x, the gradient, then
 * per layer W^[l], b^[l], a^[l], s^[l], g^[l].
 */
function lay(sizes) {
  let at = align(BASE + (sizes.length - 1) * PLAN_BYTES);
  const take = (bytes) => {
    const start = at;
    at = align(at + bytes);
    return start;
  };
  const x = take(stride(sizes[0]) * 4);
  const grad = take(stride(sizes[0]) * 4);
  const layers = [];
  for (let i = 1; i < sizes.length; i++) {
    const vector = stride(sizes[i]) * 4;
    layers.push({ rows: sizes[i], cols: sizes[i - 1], stride: stride(sizes[i - 1]), w: take(sizes[i] * stride(sizes[i - 1]) * 4), b: take(vector), a: take(vector), s: take(vector), g: take(vector) });
  }
  return { x, grad, n: sizes[0], layers, bytes: at };
}

/** Compiles and instantiates the kernels on a memory that holds a network of these sizes. */
export async function init(sizes) {
  net = lay(sizes);
  const module = await WebAssembly.compile(Buffer.from(SIMD_WASM, "base64"));
  const memory = new WebAssembly.Memory({ initial: Math.ceil(net.bytes / 65536) });
  exports = (await WebAssembly.instantiate(module, { env: { memory } })).exports;
  f32 = new Float32Array(memory.buffer);
  return exports;
}

/** Writes the plan and copies the weights and biases in; false if a value is not an f32 number. */
export function create(layers) {
  const words = new Uint32Array(f32.buffer);
  for (let i = 0; i < net.layers.length; i++) {
    const { rows, cols, stride, w, b, a, s, g } = net.layers[i];
    const e = (BASE + i * PLAN_BYTES) >> 2;
    words[e] = rows;
    words[e + 1] = stride;
    words[e + 2] = w;
    words[e + 3] = b;
    words[e + 4] = a;
    words[e + 5] = s;
    words[e + 6] = g;
    words[e + 7] = SIGMOID; // p1, p2, part and half stay 0: no parameters, the backward sums in one pass
    const { weights, bias } = layers[i];
    if (!Array.isArray(weights) || weights.length !== rows * cols || !Array.isArray(bias) || bias.length !== rows) return false;
    if (stride === cols) {
      // In calls of CHUNK values: V8 optimises a small function called often sooner than one long loop
      // (S3: 3.1 → 2.0 ms, the same as toSpliced + every(Number.isFinite) + set, which we measured too).
      for (let k = 0; k < rows * cols; k += CHUNK) if (!copy(weights, k, Math.min(CHUNK, rows * cols - k), (w >> 2) + k)) return false;
    } else {
      for (let r = 0; r < rows; r++) if (!copy(weights, r * cols, cols, (w >> 2) + r * stride)) return false;
    }
    if (!copy(bias, 0, rows, b >> 2)) return false;
  }
  return true;
}

/** values[from … from + n) into memory from element `to`, each read once, refused unless a number with |v| ≤ F32_MAX. */
function copy(values, from, n, to) {
  for (let k = 0; k < n; k++) {
    const v = values[from + k];
    if (typeof v !== "number" || !(Math.abs(v) <= F32_MAX)) return false;
    f32[to + k] = v;
  }
  return true;
}

/** ∇ₓ a^[L](x) into out (a Float32Array of n_1). */
export function gradient(x, out) {
  f32.set(x, net.x >> 2);
  exports.gradientNetF32(BASE, net.layers.length, net.x, net.grad);
  out.set(f32.subarray(net.grad >> 2, (net.grad >> 2) + net.n));
  return out;
}
