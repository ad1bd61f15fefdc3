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

/** What one call computes: the whole forward pass, then the backward pass from g^[L] at byte offset gTop. */
export interface SplitTask {
  layout: NetworkLayout;
  precision: Precision;
  kernels: Kernels;
  memory: WebAssembly.Memory;
}

/** [from, to) of `n` items for thread t of T, in whole units of 4 (the last range ends at n). */
function range(n: number, t: number, T: number): [number, number] {
  const units = Math.ceil(n / 4);
  return [Math.min(n, 4 * Math.floor((units * t) / T)), Math.min(n, 4 * Math.floor((units * (t + 1)) / T))];
}

/** Phases of a call: the forward layers, then the backward ones. */
export function phaseCount(layout: NetworkLayout): number {
  return 2 * layout.layers.length;
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
    // The activation code and its parameters as the one-thread kernels read them: from the plan.
    const entry = layout.plan + phase * PLAN_WORDS * 4;
    const words = new Uint32Array(task.memory.buffer, entry, 8);
    const params = new Float64Array(task.memory.buffer, entry + 56, 2);
    const input = phase === 0 ? layout.x : layers[phase - 1].a;
    const at = r0 * e;
    (f32 ? kernels.denseF32 : kernels.denseF64)(layer.a + at, layer.s + at, layer.w + at * layer.stride, layer.b + at, input, r1 - r0, layer.stride, words[7], params[0], params[1]);
    return;
  }
  const i = count - 1 - (phase - count);
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
}

// A waiter spins this many loads before it sleeps: a phase of a large layer takes ~100 µs, and a futex
// wake-up costs tens of µs.
const SPINS = 2000;
// A worker left waiting this long for the next phase gives up on the call (the main thread is gone).
const WORKER_PATIENCE_MS = 60_000;

/** A worker's part of one call: every phase the main thread releases, in order; false if it left early. */
export function serveSplit(task: SplitTask, job: SplitJob): boolean {
  const control = new Int32Array(task.memory.buffer, job.control, CONTROL_BYTES / 4);
  const phases = phaseCount(task.layout);
  for (let phase = 0; phase < phases; phase++) {
    let waited = 0;
    for (let spin = 0; ; spin++) {
      if (Atomics.load(control, CALL) !== job.call || Atomics.load(control, ABORT) !== 0) return false;
      const go = Atomics.load(control, GO);
      if (go > phase) break;
      if (spin >= SPINS) {
        if (Atomics.wait(control, GO, go, 50) === "timed-out" && (waited += 50) > WORKER_PATIENCE_MS) return false;
      }
    }
    runPhase(task, phase, job.gTop, job.index, job.threads);
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
    let spin = 0;
    let start = 0;
    for (;;) {
      const done = Atomics.load(words, DONE);
      if (done >= arrivals) return true;
      if (++spin < SPINS) continue;
      const now = performance.now();
      if (start === 0) start = now;
      else if (now - start > budgetMs) return false;
      if (this.blocking) Atomics.wait(words, DONE, done, 1);
    }
  }

  /** Gives up on the current call: the workers leave at their next check. */
  abort(): void {
    Atomics.store(this.words, ABORT, 1);
    Atomics.store(this.words, GO, 0x7fffffff);
    Atomics.notify(this.words, GO);
  }
}
