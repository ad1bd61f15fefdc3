/**
 * The bandwidth floor on several threads: does the memory system let T threads read one network's
 * weights faster than one thread does? floor.mjs's module (sweep(base, bytes): [base, base + bytes)
 * read forward, then backward, v128.load into 8 accumulators) is instantiated on one shared
 * WebAssembly.Memory holding the weights in mlpgrad's padded layout, in the main thread and in T − 1
 * worker_threads, and two things are timed, interleaved A B A B in blocks of `calls` calls, medians:
 *
 *   A  one thread:  the main thread sweeps all sweptBytes, `calls` times (floor.mjs's floor)
 *   S  one thread, by parts: the main thread sweeps part 0 `calls` times, then part 1 `calls` times, …
 *                   (each thread's reads in B, in its order, one after the other: what B gains over S
 *                   is concurrency alone)
 *   B  T threads:   the sweptBytes cut into T parts [b_t, b_{t+1}) (b_t multiples of STEP_BYTES, as equal
 *                   as that allows); the main thread stores the block's number in a shared Int32 word
 *                   and notifies, then sweeps part 0 `calls` times while each worker, woken by the
 *                   notify, sweeps its part `calls` times; timed until the last thread stores "done"
 *
 * speedup = A ÷ B (per call); concurrency = S ÷ B. Each turn of a sweep (end of forward → start of
 * backward, end of backward → the next call's forward) re-reads what the core's private L2 still holds,
 * a larger share of a smaller part: A ÷ S is that cache effect, and speedup = (A ÷ S) × concurrency can
 * exceed T (the gradient's passes turn the same way, and each thread of pool.gradient works on a part of
 * every layer; its backward columns are not its forward rows, so it re-reads less than B does). Within a block the threads do not wait for each other between calls, so a
 * thread that falls behind finishes alone with the whole memory system to itself: B is a lower bound of
 * what T threads need per call, and the speed-up an upper bound of what splitting one input can gain
 * from bandwidth alone (pool.gradient also synchronises once per layer, src/split.ts). Each part is one
 * contiguous range read forward then backward, not each layer's rows: the same bytes, the same count.
 * Before timing, the parts' sums must add up to the whole sweep's (every byte read, once per pass).
 *
 * `node bench/floor2.mjs [S4,S5] [--threads 2] [--rounds 15] [--block-ms 20]` prints one JSON line;
 * bench/split.mjs times it beside pool.gradient on every row.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { createFloor, STEP_BYTES } from "./floor.mjs";

/** Words of the control block: GO (the block's number; 0 = none yet), CALLS, STOP, then DONE per worker. */
const GO = 0;
const CALLS = 1;
const STOP = 2;
const DONE = 3;
/** How long the main thread waits for a worker's block before it gives up. */
const WAIT_MS = 30_000;

/** The cut of `sweptBytes` into `parts` ranges [bounds[t], bounds[t+1]), multiples of STEP_BYTES. */
export function cutRanges(sweptBytes, parts) {
  const steps = sweptBytes / STEP_BYTES;
  return Array.from({ length: parts + 1 }, (_, t) => Math.round((steps * t) / parts) * STEP_BYTES);
}

/**
 * Builds the floor of `net` (floor.mjs's createFloor on a shared memory, `strides` as there) for one
 * thread and for `threads` threads. Resolves { one(calls), serial(calls), many(calls) → ms, check(), dispose(),
 * bytes, sweptBytes, threads }; many() starts the workers together and returns when all are done.
 */
export async function createFloor2(net, precision, strides, { threads = 2 } = {}) {
  if (!(Number.isInteger(threads) && threads >= 2)) throw new Error(`floor2: threads must be an integer ≥ 2, got ${threads}`);
  const floor = await createFloor(net, precision, strides, { shared: true });
  const bounds = cutRanges(floor.sweptBytes, threads);
  if (bounds[0] !== 0 || bounds[threads] !== floor.sweptBytes) throw new Error(`floor2: the parts ${bounds} do not cover [0, ${floor.sweptBytes})`);
  const control = new Int32Array(new SharedArrayBuffer(4 * (DONE + threads)));
  const sums = new Float64Array(new SharedArrayBuffer(8 * threads));
  const workers = [];
  try {
    for (let w = 1; w < threads; w++) {
      const worker = new Worker(new URL(import.meta.url), {
        workerData: { floor2: true, slot: w, module: floor.module, memory: floor.memory, control, sums, base: bounds[w], bytes: bounds[w + 1] - bounds[w] },
      });
      await new Promise((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
        worker.once("exit", (code) => reject(new Error(`floor2 worker ${w} exited (${code}) before it was ready`)));
      });
      worker.removeAllListeners();
      workers.push(worker);
    }
  } catch (error) {
    for (const worker of workers) await worker.terminate();
    throw error;
  }
  let block = 0;
  const one = (calls) => {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) floor.sweep();
    return performance.now() - t0;
  };
  const serial = (calls) => {
    const t0 = performance.now();
    for (let t = 0; t < threads; t++) {
      for (let c = 0; c < calls; c++) floor.sweepRange(bounds[t], bounds[t + 1] - bounds[t]);
    }
    return performance.now() - t0;
  };
  const many = (calls) => {
    block++;
    control[CALLS] = calls;
    const t0 = performance.now();
    Atomics.store(control, GO, block);
    Atomics.notify(control, GO);
    let sum = 0;
    for (let c = 0; c < calls; c++) sum += floor.sweepRange(bounds[0], bounds[1] - bounds[0]);
    for (let w = 1; w < threads; w++) {
      for (;;) {
        const done = Atomics.load(control, DONE + w);
        if (done === block) break;
        // The event loop is blocked here, so a dead worker can only show as silence.
        if (Atomics.wait(control, DONE + w, done, WAIT_MS) === "timed-out") throw new Error(`floor2: worker ${w} did not finish block ${block} within ${WAIT_MS} ms`);
      }
    }
    const ms = performance.now() - t0;
    sums[0] = sum / calls;
    return ms;
  };
  /**
   * One call on every thread: each part's sum must equal, bit for bit, the main thread's sweep of that
   * part (the same code on the same bytes), and the parts' sums must add up to one whole sweep's.
   */
  const check = () => {
    many(1);
    let total = 0;
    for (let t = 0; t < threads; t++) {
      const want = floor.sweepRange(bounds[t], bounds[t + 1] - bounds[t]);
      if (!Object.is(sums[t], want)) throw new Error(`floor2 (${precision}): thread ${t} summed ${sums[t]} over [${bounds[t]}, ${bounds[t + 1]}), the main thread ${want}`);
      total += sums[t];
    }
    const tolerance = (precision === "f64" ? 1e-9 : 1e-3) * floor.scale;
    if (!(Math.abs(total - floor.expected) <= tolerance)) throw new Error(`floor2 (${precision}): the ${threads} parts summed ${total}, expected ${floor.expected}`);
  };
  const dispose = async () => {
    Atomics.store(control, STOP, 1);
    block++;
    Atomics.store(control, GO, block);
    Atomics.notify(control, GO);
    await Promise.all(workers.map((worker) => new Promise((resolve) => (worker.exitCode !== null ? resolve() : worker.once("exit", resolve)))));
  };
  return { one, serial, many, check, dispose, bytes: floor.bytes, sweptBytes: floor.sweptBytes, passes: floor.passes, threads, bounds };
}

const median = (values) => values.slice().sort((a, b) => a - b)[values.length >> 1];

/**
 * Times floor2's one(), serial() and many() interleaved, `rounds` blocks each of about `blockMs` (calls per
 * block from a warm-up, the same for all three). Resolves { oneUs, serialUs, twoUs (per call, medians),
 * speedup (one ÷ two), minSpeedup (fastest blocks), concurrency (serial ÷ two), oneGbps, twoGbps, calls }.
 */
export function measureFloor2(floor2, { rounds = 15, blockMs = 20 } = {}) {
  floor2.check();
  let calls = 1;
  for (let k = 0; k < 30; k++) {
    const elapsed = floor2.one(calls) + floor2.many(calls);
    if (elapsed > blockMs && k >= 3) break;
    calls = Math.max(calls + 1, Math.ceil(calls * Math.min(10, (1.2 * blockMs) / Math.max(elapsed, 0.01))));
  }
  calls = Math.max(1, Math.round(calls / 2));
  const one = [];
  const serial = [];
  const many = [];
  for (let r = 0; r < rounds; r++) {
    one.push((floor2.one(calls) * 1000) / calls);
    serial.push((floor2.serial(calls) * 1000) / calls);
    many.push((floor2.many(calls) * 1000) / calls);
  }
  const oneUs = median(one);
  const serialUs = median(serial);
  const twoUs = median(many);
  const bytesRead = floor2.passes * floor2.sweptBytes;
  return {
    oneUs, serialUs, twoUs, speedup: oneUs / twoUs, minSpeedup: Math.min(...one) / Math.min(...many), concurrency: serialUs / twoUs,
    oneGbps: bytesRead / oneUs / 1e3, twoGbps: bytesRead / twoUs / 1e3, calls, rounds,
  };
}

/** A worker: instantiates the module on the shared memory, then sweeps its part once per block until STOP. */
async function workerMain({ slot, module, memory, control, sums, base, bytes }) {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const { sweep } = instance.exports;
  sweep(base, bytes); // warm: the first call of a WASM function runs unoptimised code
  parentPort.postMessage("ready");
  let seen = 0;
  for (;;) {
    Atomics.wait(control, GO, seen);
    const block = Atomics.load(control, GO);
    if (block === seen) continue;
    seen = block;
    if (Atomics.load(control, STOP)) break;
    const calls = control[CALLS];
    let sum = 0;
    for (let c = 0; c < calls; c++) sum += sweep(base, bytes);
    sums[slot] = sum / calls;
    Atomics.store(control, DONE + slot, block);
    Atomics.notify(control, DONE + slot);
  }
  parentPort.close();
}

if (!isMainThread && workerData?.floor2) {
  await workerMain(workerData);
} else if (isMainThread && import.meta.url === `file://${process.argv[1]}`) {
  const { finish, fail, parseOptions } = await import("./child-io.mjs");
  const { makeNetwork } = await import("./shapes.mjs");
  const { loadavg } = await import("node:os");
  const { positional, options } = parseOptions(process.argv.slice(2));
  const shapes = (positional[0] ?? "S4,S5").split(",");
  const threads = Number(options.threads ?? 2);
  const result = { status: "ok", threads, rounds: Number(options.rounds ?? 15), blockMs: Number(options["block-ms"] ?? 20), loadBefore: loadavg()[0], rows: [] };
  try {
    for (const precision of ["f32", "f64"]) {
      for (const shape of shapes) {
        const floor2 = await createFloor2(makeNetwork(shape), precision, undefined, { threads });
        try {
          result.rows.push({ shape, precision, bytes: floor2.bytes, ...measureFloor2(floor2, result) });
        } finally {
          await floor2.dispose();
        }
      }
    }
    result.loadAfter = loadavg()[0];
    finish(result);
  } catch (error) {
    fail(result, error);
  }
}
