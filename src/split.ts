/**
 * One input on several threads: the pool's single-input calls (pool.ts) split every layer's work
 * across the main thread and the workers, on the shared memory where W^[l], b^[l] and the network's
 * single-input buffers already live, with no message per layer.
 *
 *   forward   phase l (l = 0..count−1): thread t computes rows [r_t, r_{t+1}) of a^[l] and s^[l]
 *             (matvec.ts's dense on a row range; r_t multiples of 4, so the 4-row blocks, and with them
 *             every bit of the result, are those of one thread)
 *   backward  phase count + i: thread t computes columns [c_t, c_{t+1}) of g^[l] = ((W^[l+1])ᵀ g^[l+1]) ⊙ s^[l],
 *             and last of ∇ₓ = (W^[2])ᵀ g^[2] (split.ts's denseBackCols: the same sum, in the same order,
 *             for each column as one thread's denseBack)
 *
 * Synchronisation is a 16-byte control block of Int32 words in the shared memory:
 *   GO    phases released so far: the main thread stores p + 1 (and notifies) to start phase p
 *   DONE  workers' arrivals in this call: a worker adds 1 (and notifies) after each phase
 *   CALL  the call's number: a worker serves only the call it was posted for
 *   ABORT 1 when the main thread gave up on a call (a worker died): the others leave at once
 * One message per call and worker starts it (a worker cannot listen for messages while it waits on
 * GO); between phases the main thread may run serial steps (g^[L] from v) before it releases the next.
 */
import type { Kernels } from "./engine.js";
import type { NetworkLayout } from "./memory.js";
import { PLAN_WORDS } from "./memory.js";
import type { Precision } from "./model.js";

/** Bytes of the control block (four Int32 words). */
export const CONTROL_BYTES = 16;
const GO = 0;
const DONE = 1;
const CALL = 2;
const ABORT = 3;

/** What the threads of a split call share: the network's layout and kernels, and each layer's activation. */
export interface SplitTask {
  layout: NetworkLayout;
  precision: Precision;
  kernels: Kernels;
  memory: WebAssembly.Memory;
  /** Per layer: the activation code and parameters p1, p2, as the one-thread kernels read them from the plan. */
  acts: { code: number; p1: number; p2: number }[];
}

/** A SplitTask for the network at `layout` (its plan already written). */
export function splitTask(layout: NetworkLayout, precision: Precision, kernels: Kernels, memory: WebAssembly.Memory): SplitTask {
  const acts = layout.layers.map((_, i) => {
    const entry = layout.plan + i * PLAN_WORDS * 4;
    const params = new Float64Array(memory.buffer, entry + 56, 2);
    return { code: new Uint32Array(memory.buffer, entry, 8)[7], p1: params[0], p2: params[1] };
  });
  return { layout, precision, kernels, memory, acts };
}

/**
 * A layer with fewer weight bytes than this is done by the main thread alone: it takes less time
 * (≈ 3 µs at 20 GB/s) than the barrier a shared phase needs. (The pool lowers it to its minSplitBytes.)
 */
export const MIN_SHARED_LAYER_BYTES = 1 << 16;

/**
 * The phases of a call on T threads: the forward layers, then the backward ones; `threads` 1 for a layer
 * small enough for the main thread alone. Phase p is forward for p < layers, else layer 2·layers − 1 − p backward.
 */
export function schedule(layout: NetworkLayout, T: number, minLayerBytes: number): number[] {
  const count = layout.layers.length;
  const threads: number[] = [];
  for (let p = 0; p < 2 * count; p++) {
    const layer = layout.layers[p < count ? p : 2 * count - 1 - p];
    threads.push(layer.rows * layer.stride * layout.elementBytes < minLayerBytes ? 1 : T);
  }
  return threads;
}

/** [from, to) of `n` items for thread t of T, in whole units of 4 (the last range ends at n). */
function range(n: number, t: number, T: number): [number, number] {
  if (t >= T) return [n, n];
  const units = Math.ceil(n / 4);
  return [Math.min(n, 4 * Math.floor((units * t) / T)), Math.min(n, 4 * Math.floor((units * (t + 1)) / T))];
}

/** Whether thread t has work in a phase shared by T threads. */
export function takesPart(task: SplitTask, phase: number, t: number, T: number): boolean {
  const count = task.layout.layers.length;
  const layer = task.layout.layers[phase < count ? phase : 2 * count - 1 - phase];
  const [from, to] = range(phase < count ? layer.rows : layer.stride, t, T);
  return to > from;
}

/** Thread t's share of phase `phase` (of T threads), the backward pass starting from g^[L] at gTop. */
export function runPhase(task: SplitTask, phase: number, gTop: number, t: number, T: number): void {
  const { layout, kernels } = task;
  const f32 = task.precision === "f32";
  const e = f32 ? 4 : 8;
  const layers = layout.layers;
  const count = layers.length;
  if (phase < count) {
    const layer = layers[phase];
    const [r0, r1] = range(layer.rows, t, T);
    if (r1 <= r0) return;
    const { code, p1, p2 } = task.acts[phase];
    const input = phase === 0 ? layout.x : layers[phase - 1].a;
    const at = r0 * e;
    (f32 ? kernels.denseF32 : kernels.denseF64)(layer.a + at, layer.s + at, layer.w + at * layer.stride, layer.b + at, input, r1 - r0, layer.stride, code, p1, p2);
    return;
  }
  const i = 2 * count - 1 - phase;
  const layer = layers[i];
  const [c0, c1] = range(layer.stride, t, T);
  if (c1 <= c0) return;
  const at = c0 * e;
  const g = i === count - 1 ? gTop : layer.g;
  const out = i > 0 ? layers[i - 1].g : layout.grad;
  const s = i > 0 ? layers[i - 1].s + at : 0;
  (f32 ? kernels.denseBackColsF32 : kernels.denseBackColsF64)(out + at, layer.w + at, g, s, layer.rows, layer.stride, c1 - c0);
}

/** The job a worker is posted for one split call. */
export interface SplitJob {
  id: number;
  kind: "split";
  /** Byte offset of the control block. */
  control: number;
  /** The call's number (CALL). */
  call: number;
  /** This worker's thread index (1..threads−1; the main thread is 0). */
  index: number;
  threads: number;
  gTop: number;
  /** Layers of fewer weight bytes run on the main thread alone (schedule). */
  minLayerBytes: number;
}

// A waiter spins this long before it sleeps: a shared phase of a large layer takes tens of µs, and a
// futex wake-up costs about as much again.
const SPIN_MS = 0.2;
// A worker left waiting this long for the next phase gives up on the call (the main thread is gone).
const WORKER_PATIENCE_MS = 60_000;

/** A worker's part of one call: each phase it has work in, once the main thread releases it; false if it left early. */
export function serveSplit(task: SplitTask, job: SplitJob): boolean {
  const control = new Int32Array(task.memory.buffer, job.control, CONTROL_BYTES / 4);
  const phases = schedule(task.layout, job.threads, job.minLayerBytes);
  for (let phase = 0; phase < phases.length; phase++) {
    if (!takesPart(task, phase, job.index, phases[phase])) continue;
    let waited = 0;
    let deadline = 0;
    for (let spin = 0; ; spin++) {
      if (Atomics.load(control, CALL) !== job.call || Atomics.load(control, ABORT) !== 0) return false;
      const go = Atomics.load(control, GO);
      if (go > phase) break;
      if ((spin & 255) === 255) {
        const now = performance.now();
        if (deadline === 0) deadline = now + SPIN_MS;
        else if (now > deadline && Atomics.wait(control, GO, go, 50) === "timed-out" && (waited += 50) > WORKER_PATIENCE_MS) return false;
      }
    }
    runPhase(task, phase, job.gTop, job.index, phases[phase]);
    Atomics.add(control, DONE, 1);
    Atomics.notify(control, DONE);
  }
  return true;
}

/** Whether this thread may block in Atomics.wait (Node's main thread may, a browser's main thread may not). */
export function canBlock(control: Int32Array): boolean {
  try {
    Atomics.wait(control, ABORT, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** The main thread's side of the control block. */
export class SplitControl {
  private readonly words: Int32Array;
  private readonly blocking: boolean;
  private call = 0;

  constructor(memory: WebAssembly.Memory, readonly offset: number) {
    this.words = new Int32Array(memory.buffer, offset, CONTROL_BYTES / 4);
    this.blocking = canBlock(this.words);
  }

  /** Starts a call: phase 0 released, no arrivals; returns its number for the workers' jobs. */
  begin(): number {
    const words = this.words;
    Atomics.store(words, ABORT, 0);
    Atomics.store(words, DONE, 0);
    Atomics.store(words, GO, 1);
    this.call = (this.call + 1) | 0 || 1;
    Atomics.store(words, CALL, this.call);
    return this.call;
  }

  /** Releases phase p (p ≥ 1; phase 0 is released by begin). */
  release(phase: number): void {
    Atomics.store(this.words, GO, phase + 1);
    Atomics.notify(this.words, GO);
  }

  /**
   * Waits up to `budgetMs` until `arrivals` workers' arrivals have been counted; true when they have.
   * Blocks where the thread may (Node's main thread), else spins: either way only briefly, so the caller
   * can let the event loop run (a dead worker is only reported there) and try again.
   */
  wait(arrivals: number, budgetMs: number): boolean {
    const words = this.words;
    let start = 0;
    for (let spin = 0; ; spin++) {
      const done = Atomics.load(words, DONE);
      if (done >= arrivals) return true;
      if ((spin & 255) !== 255) continue;
      const now = performance.now();
      if (start === 0) start = now;
      else if (now - start > budgetMs) return false;
      else if (this.blocking && now - start > SPIN_MS) Atomics.wait(words, DONE, done, 1);
    }
  }

  /** Gives up on the current call: the workers leave at their next check. */
  abort(): void {
    Atomics.store(this.words, ABORT, 1);
    Atomics.store(this.words, GO, 0x7fffffff);
    Atomics.notify(this.words, GO);
  }
}
