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
 *   within f32's range) refused without calling user code (no valueOf, no toString) — by the same
 *   native calls createMLP makes, the fastest way measured (copy() below); create returns false when a
 *   value is refused;
 * - gradient(x, out): x in, gradientNetF32 (one kernel call: the forward pass, then the backward), the
 *   gradient out.
 */
import { SIMD_WASM } from "../build/embed-raw/wasm.generated.js";

const F32_MAX = 3.4028234663852886e38;
const PLAN_BYTES = 80;
const BASE = 65536; // the network's block: above the kernels' own data (bench/cold.mjs checks heapBase())
const SIGMOID = 1;
const toSpliced = Array.prototype.toSpliced;
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
    if (!Array.isArray(weights) || !Array.isArray(bias)) return false;
    if (!copy(weights, rows, cols, stride, w >> 2) || !copy(bias, 1, rows, rows, b >> 2)) return false;
  }
  return true;
}

/**
 * An Array of rows × cols values into memory from element `to`, rows `stride` apart; false unless every
 * value is a number with |v| ≤ F32_MAX. toSpliced reads each element once (holes become undefined) into
 * a private copy that nothing else can reach; every(Number.isFinite) refuses anything but a finite number
 * without converting it (native code calling a native function: no valueOf, no toString); set converts the
 * checked copy; then the f32 range, on the copy in memory: a value beyond it became ±Infinity, or ±F32_MAX
 * if it rounded down, so those few are compared exactly. (A loop that reads, tests and stores, called on
 * 1024 values at a time, ties with this on an idle machine and loses 0.9 ms at load 3.5: V8 optimises it
 * on the other core, docs/cold-start.md, fourth round.)
 */
function copy(values, rows, cols, stride, to) {
  const own = toSpliced.call(values);
  if (own.length !== rows * cols || !own.every(Number.isFinite)) return false;
  if (stride === cols) f32.set(own, to);
  else for (let r = 0; r < rows; r++) f32.set(own.slice(r * cols, (r + 1) * cols), to + r * stride);
  const copied = f32.subarray(to, to + rows * stride);
  if (copied.includes(Infinity) || copied.includes(-Infinity)) return false;
  for (const edge of [F32_MAX, -F32_MAX]) {
    for (let k = copied.indexOf(edge); k >= 0; k = copied.indexOf(edge, k + 1)) {
      if (!(Math.abs(own[Math.floor(k / stride) * cols + (k % stride)]) <= F32_MAX)) return false;
    }
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
