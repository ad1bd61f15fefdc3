/**
 * One input on several threads: the pool's single-input calls (pool.ts) split every layer's work
 * across the main thread and the workers, on the shared memory where W^[l], b^[l] and the network's
 * single-input buffers already live, with no message per layer.
 *
 *   forward   phase l (l = 0..L−2, layer l + 2): chunks of rows [r_c, r_{c+1}) of a^[l] = σ(W^[l] a^[l-1] + b^[l])
 *             and s^[l] (matvec.ts's dense on a row range; r_c multiples of 4, so the 4-row blocks, and
 *             with them every bit of the result, are those of one thread)
 *   backward  then, from the top: a layer whose backward sum is halved (layer.half, memory.ts) is two
 *             chunks, rows [half, n) into g^[l]'s buffer and rows [0, half) into P (backRows), and
 *             g^[l] = (P + g^[l]) ⊙ s^[l] (backCombine) is added by the chunks of the next phase, each for
 *             the entries it reads, else by the main thread between phases (finishHalves); a third
 *             thread idles in such a phase. Other layers: chunks of columns of g^[l]
 *             (assembly/split.ts's denseBackCols: per column one thread's sum, in its order)
 *
 * The Jacobian (kind JACOBIAN) has the same forward phases, then per round of up to 16 outputs
 * (batch.ts: the columns of one backward pass) the main thread's jacobianTopStep and one phase per
 * layer below the top, from the top down: jacobianStep cut into ranges of the features of the layer's
 * input, one range per thread, in whole 64-byte tiles (assembly/jacobian.ts's 4-vector tiles line up;
 * columns start 16-byte aligned, so two threads share at most the line at a range's edge in a column);
 * each feature's sum over rows is one thread's, in its order. Its
 * buffers are the main network's batch block (SplitTask.block); the main thread copies each round's
 * rows of J out before the next round's top step.
 *
 * A phase is cut into chunks (forward 4 per thread, backward 1: see CHUNKS_PER_THREAD), and threads take chunks as they come free
 * (compare-and-swap on a counter), so a worker that starts late does less and nobody waits for it to
 * begin; what each chunk computes depends on its bounds only, so results equal one thread's bit for
 * bit whoever runs it. A layer under MIN_SHARED_LAYER_BYTES is one chunk, the main thread's.
 *
 * Synchronisation is a control block of Int32 words in the shared memory (controlBytes):
 *   GO      phases released so far: the main thread stores p + 1 (and notifies) to start phase p
 *   CALL    the call's number;  ABORT 1 when the main thread gave up on it (a worker died)
 *   THREADS, GTOP, MIN_LAYER, KIND  the call's thread count, g^[L]'s offset, schedule's layer threshold
 *   and which schedule it runs (GRADIENT or JACOBIAN)
 *   per phase: NEXT (the call's tag and the chunks taken) and DONE (the chunks finished)
 *   per worker slot: STATE (AWAY in its event loop, PARKED waiting for a call, CLAIMED given one) and
 *   LEFT (the last call it has left)
 * A worker that finishes a call parks for PARK_MS: a call that starts meanwhile claims it with a
 * compare-and-swap PARKED → CLAIMED and a notify, no message; otherwise the call posts it a message.
 * Between phases the main thread may run serial steps (g^[L] from v) before it releases the next.
 */
import { JACOBIAN_COLUMNS, jacobianRounds, jacobianStep, jacobianWidth } from "./batch.js";
import type { Kernels } from "./engine.js";
import type { BlockLayout, NetworkLayout } from "./memory.js";
import { PLAN_WORDS } from "./memory.js";
import type { Precision } from "./model.js";

const GO = 0;
const CALL = 1;
const ABORT = 2;
const THREADS = 3;
const GTOP = 4;
const MIN_LAYER = 5;
const KIND = 6;
const HEADER_WORDS = 8;
/** KIND of a gradient, valueAndGradient, vjp or gradientOf call (phases: schedule). */
export const GRADIENT = 0;
/** KIND of a jacobian call (phases: jacobianSchedule). */
export const JACOBIAN = 1;
// Per phase p, at HEADER_WORDS + 2p: NEXT (the call's tag in the high half, chunks taken in the low
// half, so a thread still in an earlier call can never take one) and DONE (chunks finished).
const NEXT = 0;
const DONE = 1;
// Per worker slot s, after the phases: STATE, LEFT (the last call it has left).
const STATE = 0;
const LEFT = 1;
const AWAY = 0;
const PARKED = 1;
const CLAIMED = 2;

/** Bytes of the control block of a pool with `workers` worker threads, for calls of `phases` phases. */
export function controlBytes(workers: number, phases: number): number {
  return 4 * (HEADER_WORDS + 2 * phases + 4 * workers);
}

function slotWord(phases: number, slot: number, field: number): number {
  return HEADER_WORDS + 2 * phases + 4 * slot + field;
}

/** The call's tag in NEXT's high half (15 bits, so the word stays positive). */
function tag(call: number): number {
  return (call & 0x7fff) << 16;
}

/** What the threads of a split call share: the network's layout and kernels, and each layer's activation. */
export interface SplitTask {
  layout: NetworkLayout;
  precision: Precision;
  kernels: Kernels;
  memory: WebAssembly.Memory;
  /** Per layer: the activation code and parameters p1, p2, as the one-thread kernels read them from the plan. */
  acts: { code: number; p1: number; p2: number }[];
  /** The main network's batch block, where a split Jacobian's columns live (absent: no Jacobian calls). */
  block?: BlockLayout;
}

/** A SplitTask for the network at `layout` (its plan already written); block: its batch block, for Jacobian calls. */
export function splitTask(layout: NetworkLayout, precision: Precision, kernels: Kernels, memory: WebAssembly.Memory, block?: BlockLayout): SplitTask {
  const acts = layout.layers.map((_, i) => {
    const entry = layout.plan + i * PLAN_WORDS * 4;
    const params = new Float64Array(memory.buffer, entry + 56, 2);
    return { code: new Uint32Array(memory.buffer, entry, 8)[7], p1: params[0], p2: params[1] };
  });
  return { layout, precision, kernels, memory, acts, block };
}

/** Phases the control block of a pool over `layout` must hold: the gradient's 2·(L − 1), or the Jacobian's, if more. */
export function splitPhases(layout: NetworkLayout): number {
  const count = layout.layers.length;
  return Math.max(2 * count, count + jacobianRounds(layout.layers[count - 1].rows) * (count - 1));
}

/**
 * A layer with fewer weight bytes than this is done by the main thread alone: it takes less time
 * (≈ 3 µs at 20 GB/s) than the barrier a shared phase needs. (The pool lowers it to its minSplitBytes.)
 */
export const MIN_SHARED_LAYER_BYTES = 1 << 16;

// Chunks per thread in a shared phase: threads take chunks as they come free, so one that starts late
// (descheduled on a busy machine, or still waking up) takes fewer, and nobody waits for it to begin.
// Backward chunks are column ranges of every row of W: narrower ones cost more than they balance (S5 f32
// on 2 threads, median µs of the two backward phases: 87 and 108 with 1 chunk per thread, 120 and 135
// with 4), so the backward pass takes one per thread, and so do the Jacobian's backward steps (ranges
// of features: see jacobianSchedule); the forward's row ranges are contiguous in W.
const CHUNKS_PER_THREAD = 4;
const BACKWARD_CHUNKS_PER_THREAD = 1;

/**
 * Chunks of each phase of a call on T threads: the forward layers, then the backward ones (phase p is
 * forward for p < layers, else layer 2·layers − 1 − p backward); 1 for a layer small enough for the main
 * thread alone (workers take no part in those); 2 for the backward phase of a layer whose sum is halved.
 */
export function schedule(layout: NetworkLayout, T: number, minLayerBytes: number): number[] {
  const count = layout.layers.length;
  const chunks: number[] = [];
  for (let p = 0; p < 2 * count; p++) {
    const layer = layout.layers[p < count ? p : 2 * count - 1 - p];
    const units = Math.ceil((p < count ? layer.rows : layer.stride) / 4);
    const small = T === 1 || layer.rows * layer.stride * layout.elementBytes < minLayerBytes;
    const perThread = p < count ? CHUNKS_PER_THREAD : BACKWARD_CHUNKS_PER_THREAD;
    if (small) chunks.push(1);
    else if (p >= count && layer.half > 0) chunks.push(2);
    else chunks.push(Math.max(1, Math.min(units, perThread * T)));
  }
  return chunks;
}

/** Features of a Jacobian range unit: one 64-byte tile of assembly/jacobian.ts (16 f32, 8 f64). */
function tileFeatures(layout: NetworkLayout): number {
  return 64 / layout.elementBytes;
}

/**
 * Chunks of each phase of a Jacobian call on T threads: the forward phases as schedule's, then for each
 * round (batch.ts's jacobianRounds) one phase per layer i = L−2 … 0 (jacobianStep through W of layer i),
 * in ranges of whole tiles of its input's features, one per thread; 1 for a layer the main thread does
 * alone. (J4 f32 on 2 threads, median µs per call: 326 with 1 range per thread, 334 with 2, 353 with 4
 * or 8 — each thread's ranges then alternate with the other's along every row of W, and the three
 * backward phases ran ≈ 15% slower per thread than their share, where on one thread 8 ranges cost
 * only 2–3% more than the whole step.)
 */
export function jacobianSchedule(layout: NetworkLayout, T: number, minLayerBytes: number): number[] {
  const count = layout.layers.length;
  const chunks = schedule(layout, T, minLayerBytes).slice(0, count);
  const rounds = jacobianRounds(layout.layers[count - 1].rows);
  for (let r = 0; r < rounds; r++) {
    for (let i = count - 2; i >= 0; i--) {
      const layer = layout.layers[i];
      const small = T === 1 || layer.rows * layer.stride * layout.elementBytes < minLayerBytes;
      chunks.push(small ? 1 : Math.max(1, Math.min(Math.ceil(layer.cols / tileFeatures(layout)), BACKWARD_CHUNKS_PER_THREAD * T)));
    }
  }
  return chunks;
}

/** Round and layer (i = L−2 … 0) of backward phase p ≥ L − 1 of a Jacobian call. */
export function jacobianPhase(layout: NetworkLayout, p: number): { round: number; i: number } {
  const count = layout.layers.length;
  const b = p - count;
  const round = Math.floor(b / (count - 1));
  return { round, i: count - 2 - (b - round * (count - 1)) };
}

/** Chunk c of phase `phase` of a Jacobian call (of jacobianSchedule's chunks[phase]). */
export function runJacobianChunk(task: SplitTask, chunks: readonly number[], phase: number, c: number): void {
  const { layout } = task;
  if (phase < layout.layers.length) return forwardChunk(task, chunks, phase, c);
  const { round, i } = jacobianPhase(layout, phase);
  const cols = layout.layers[i].cols;
  const [c0, c1] = range(cols, c, chunks[phase], tileFeatures(layout));
  if (c1 <= c0) return;
  const nL = layout.layers[layout.layers.length - 1].rows;
  jacobianStep(task as SplitTask & { block: BlockLayout }, i, jacobianWidth(nL, JACOBIAN_COLUMNS * round), c0, c1);
}

/** Whether phase p is a backward phase that sums the two halves of its rows as two chunks (its result then awaits backCombine). */
function inHalves(layout: NetworkLayout, chunks: readonly number[], p: number): boolean {
  const count = layout.layers.length;
  return p >= count && p < chunks.length && chunks[p] === 2 && layout.layers[2 * count - 1 - p].half > 0;
}

/**
 * The main thread's step before it releases phase p (p = chunks.length: after the last): if phase p − 1
 * left its result as two halves and phase p does not add them chunk by chunk, adds them (g = (P + g) ⊙ s).
 */
export function finishHalves(task: SplitTask, chunks: readonly number[], p: number): void {
  const { layout } = task;
  if (!inHalves(layout, chunks, p - 1) || inHalves(layout, chunks, p)) return;
  const layers = layout.layers;
  const i = 2 * layers.length - p;
  const layer = layers[i];
  const out = i > 0 ? layers[i - 1].g : layout.grad;
  const s = i > 0 ? layers[i - 1].s : 0;
  (task.precision === "f32" ? task.kernels.backCombineF32 : task.kernels.backCombineF64)(out, layer.part, s, layer.stride);
}

/** [from, to) of chunk c of C over `n` items, in whole units of `unit` (the last chunk ends at n). */
function range(n: number, c: number, C: number, unit = 4): [number, number] {
  const units = Math.ceil(n / unit);
  return [Math.min(n, unit * Math.floor((units * c) / C)), Math.min(n, unit * Math.floor((units * (c + 1)) / C))];
}

/** Chunk c of forward phase `phase`: rows [r0, r1) of a^[l] and s^[l] (matvec.ts's dense on a row range). */
function forwardChunk(task: SplitTask, chunks: readonly number[], phase: number, c: number): void {
  const { layout, kernels } = task;
  const f32 = task.precision === "f32";
  const e = f32 ? 4 : 8;
  const layer = layout.layers[phase];
  const [r0, r1] = range(layer.rows, c, chunks[phase]);
  if (r1 <= r0) return;
  const { code, p1, p2 } = task.acts[phase];
  const input = phase === 0 ? layout.x : layout.layers[phase - 1].a;
  const at = r0 * e;
  (f32 ? kernels.denseF32 : kernels.denseF64)(layer.a + at, layer.s + at, layer.w + at * layer.stride, layer.b + at, input, r1 - r0, layer.stride, code, p1, p2);
}

/** Chunk c of phase `phase` (of chunks[phase]), the backward pass starting from g^[L] at gTop. */
export function runChunk(task: SplitTask, chunks: readonly number[], phase: number, gTop: number, c: number): void {
  const { layout, kernels } = task;
  const f32 = task.precision === "f32";
  const e = f32 ? 4 : 8;
  const layers = layout.layers;
  const count = layers.length;
  const C = chunks[phase];
  if (phase < count) return forwardChunk(task, chunks, phase, c);
  const i = 2 * count - 1 - phase;
  const layer = layers[i];
  const g = i === count - 1 ? gTop : layer.g;
  const out = i > 0 ? layers[i - 1].g : layout.grad;
  const s = i > 0 ? layers[i - 1].s : 0;
  if (C === 1) {
    (f32 ? kernels.denseBackF32 : kernels.denseBackF64)(out, layer.w, g, s, layer.rows, layer.stride, layer.part, layer.half);
    return;
  }
  if (inHalves(layout, chunks, phase)) {
    const half = layer.half;
    const [r0, r1] = c === 0 ? [half, layer.rows] : [0, half];
    if (inHalves(layout, chunks, phase - 1)) {
      // g is still two halves: add the entries this chunk reads (chunk 0: and the padding).
      const above = layers[i + 1];
      const [e0, e1] = c === 0 ? [half, above.stride] : [0, half];
      (f32 ? kernels.backCombineF32 : kernels.backCombineF64)(g + e0 * e, above.part + e0 * e, layer.s + e0 * e, e1 - e0);
    }
    (f32 ? kernels.backRowsF32 : kernels.backRowsF64)(c === 0 ? out : layer.part, layer.w + r0 * e * layer.stride, g + r0 * e, r1 - r0, layer.stride);
    return;
  }
  const [c0, c1] = range(layer.stride, c, C);
  if (c1 <= c0) return;
  const at = c0 * e;
  (f32 ? kernels.denseBackColsF32 : kernels.denseBackColsF64)(out + at, layer.w + at, g, s === 0 ? 0 : s + at, layer.rows, layer.stride, c1 - c0);
}

/** The message that starts a split call on a worker that is not parked. */
export interface SplitJob {
  id: number;
  kind: "split";
  /** Byte offset of the control block. */
  control: number;
  /** The call's number (CALL): a message that arrives after its call has ended is ignored. */
  call: number;
  /** The worker's slot in the control block. */
  slot: number;
  /** Workers in the pool when it was created, and phases per call (the control block's size). */
  slots: number;
  phases: number;
}

// A waiter spins this long before it sleeps: a shared phase of a large layer takes tens of µs, and a
// futex wake-up costs about as much again.
const SPIN_MS = 0.2;
// How long a worker stays parked after a call, waiting for the next one (blocked in Atomics.wait, no CPU).
const PARK_MS = 20;
// A worker left waiting this long for the next phase gives up on the call (the main thread is gone).
const WORKER_PATIENCE_MS = 60_000;

/** Waits until words[at] is no longer `value` or `ms` have passed: spins SPIN_MS, then sleeps; the last value read. */
function waitWhile(words: Int32Array, at: number, value: number, ms: number, stop?: () => boolean): number {
  const start = performance.now();
  for (let spin = 0; ; spin++) {
    const now = Atomics.load(words, at);
    if (now !== value || stop?.()) return now;
    if ((spin & 255) !== 255) continue;
    const elapsed = performance.now() - start;
    if (elapsed > ms) return now;
    if (elapsed > SPIN_MS) Atomics.wait(words, at, value, Math.min(5, ms - elapsed));
  }
}

/**
 * Takes chunks of phase p of call `call` until none is left, running each; false if the call has ended.
 * Any thread may run any chunk: chunk boundaries, not threads, decide what each kernel call computes.
 */
function takeChunks(task: SplitTask, words: Int32Array, call: number, p: number, chunks: readonly number[], gTop: number, kind: number): boolean {
  const next = HEADER_WORDS + 2 * p + NEXT;
  const mine = tag(call);
  for (;;) {
    const v = Atomics.load(words, next);
    if ((v & ~0xffff) !== mine) return false;
    const c = v & 0xffff;
    if (c >= chunks[p]) return true;
    if (Atomics.compareExchange(words, next, v, v + 1) !== v) continue;
    if (kind === JACOBIAN) runJacobianChunk(task, chunks, p, c);
    else runChunk(task, chunks, p, gTop, c);
    Atomics.add(words, HEADER_WORDS + 2 * p + DONE, 1);
    Atomics.notify(words, HEADER_WORDS + 2 * p + DONE);
  }
}

/** A worker's part of the current call: chunks of each shared phase; false if the call was given up. */
function serveCall(task: SplitTask, words: Int32Array): boolean {
  const call = Atomics.load(words, CALL);
  const gTop = Atomics.load(words, GTOP);
  const kind = Atomics.load(words, KIND);
  const chunks = (kind === JACOBIAN ? jacobianSchedule : schedule)(task.layout, Atomics.load(words, THREADS), Atomics.load(words, MIN_LAYER));
  const stopped = () => Atomics.load(words, CALL) !== call || Atomics.load(words, ABORT) !== 0;
  for (let p = 0; p < chunks.length; p++) {
    if (chunks[p] === 1) continue; // the main thread's alone
    for (let waited = 0; ; waited += 50) {
      const go = Atomics.load(words, GO);
      if (stopped()) return false;
      if (go > p) break;
      if (waited > WORKER_PATIENCE_MS) return false;
      waitWhile(words, GO, go, 50, stopped);
    }
    if (!takeChunks(task, words, call, p, chunks, gTop, kind)) return false;
  }
  return true;
}

/**
 * A worker's side of split calls, from the message `job`: serves that call (if it is still the current
 * one), then parks, serving each call that claims it, until PARK_MS pass without one or the pool
 * dismisses it; then returns to the worker's event loop.
 */
export function serveSplit(task: SplitTask, job: SplitJob): void {
  const words = new Int32Array(task.memory.buffer, job.control, controlBytes(job.slots, job.phases) / 4);
  const state = slotWord(job.phases, job.slot, STATE);
  const left = slotWord(job.phases, job.slot, LEFT);
  if (Atomics.load(words, CALL) !== job.call) return;
  for (;;) {
    const call = Atomics.load(words, CALL);
    serveCall(task, words);
    Atomics.store(words, state, PARKED);
    Atomics.store(words, left, call);
    Atomics.notify(words, left);
    const now = waitWhile(words, state, PARKED, PARK_MS);
    if (now === AWAY) return; // dismissed by the pool
    if (now === PARKED && Atomics.compareExchange(words, state, PARKED, AWAY) === PARKED) return;
    // Claimed (just now, or as it tried to leave): serve that call.
  }
}

/** Whether this thread may block in Atomics.wait (Node's main thread may, a browser's main thread may not). */
export function canBlock(words: Int32Array): boolean {
  try {
    Atomics.wait(words, ABORT, 1, 0);
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
  private kind = GRADIENT;

  constructor(memory: WebAssembly.Memory, readonly offset: number, readonly slots: number, readonly phases: number) {
    this.words = new Int32Array(memory.buffer, offset, controlBytes(slots, phases) / 4);
    this.blocking = canBlock(this.words);
  }

  /** Starts a call of `kind` (GRADIENT, JACOBIAN) and `phases` phases on `threads` threads: counters reset, phase 0 released; returns its number. */
  begin(threads: number, gTop: number, minLayerBytes: number, kind = GRADIENT, phases = this.phases): number {
    const words = this.words;
    this.call = (this.call + 1) & 0x7fffffff || 1;
    Atomics.store(words, ABORT, 0);
    Atomics.store(words, THREADS, threads);
    Atomics.store(words, GTOP, gTop);
    Atomics.store(words, MIN_LAYER, Math.min(minLayerBytes, 0x7fffffff));
    Atomics.store(words, KIND, kind);
    this.kind = kind;
    // Phases past the call's keep an older call's tag: nobody can take their chunks.
    for (let p = 0; p < phases; p++) {
      Atomics.store(words, HEADER_WORDS + 2 * p + NEXT, tag(this.call));
      Atomics.store(words, HEADER_WORDS + 2 * p + DONE, 0);
    }
    Atomics.store(words, GO, 1);
    Atomics.store(words, CALL, this.call);
    return this.call;
  }

  /** The main thread's chunks of phase p (as many as it can take) of a call scheduled as `chunks`. */
  take(task: SplitTask, p: number, chunks: readonly number[], gTop: number): void {
    takeChunks(task, this.words, this.call, p, chunks, gTop, this.kind);
  }

  /**
   * Hands the current call to the worker in `slot` if it is parked (true), else false: then post it a
   * SplitJob. A worker still finishing the last call is given a moment to park.
   */
  claim(slot: number): boolean {
    const words = this.words;
    const state = slotWord(this.phases, slot, STATE);
    const start = performance.now();
    for (;;) {
      const now = Atomics.load(words, state);
      if (now === PARKED) {
        if (Atomics.compareExchange(words, state, PARKED, CLAIMED) === PARKED) {
          Atomics.notify(words, state);
          return true;
        }
      } else if (now === AWAY || performance.now() - start > 0.05) {
        return false;
      }
    }
  }

  /** Sends a parked worker back to its event loop (before a batch job is posted to it). */
  dismiss(slot: number): void {
    const state = slotWord(this.phases, slot, STATE);
    if (Atomics.compareExchange(this.words, state, PARKED, AWAY) === PARKED) Atomics.notify(this.words, state);
  }

  /** Whether the worker in `slot` has left the current call. */
  hasLeft(slot: number): boolean {
    return Atomics.load(this.words, slotWord(this.phases, slot, LEFT)) === this.call;
  }

  /** Releases phase p (p ≥ 1; phase 0 is released by begin). */
  release(phase: number): void {
    Atomics.store(this.words, GO, phase + 1);
    Atomics.notify(this.words, GO);
  }

  /**
   * Waits up to `budgetMs` until all `chunks` of phase p are finished; true when they are. Blocks where
   * the thread may (Node's main thread), else spins: either way only briefly, so the caller can let the
   * event loop run (a dead worker is only reported there) and try again.
   */
  wait(p: number, chunks: number, budgetMs: number): boolean {
    const words = this.words;
    const at = HEADER_WORDS + 2 * p + DONE;
    let start = 0;
    for (let spin = 0; ; spin++) {
      const done = Atomics.load(words, at);
      if (done >= chunks) return true;
      if ((spin & 255) !== 255) continue;
      const now = performance.now();
      if (start === 0) start = now;
      else if (now - start > budgetMs) return false;
      else if (this.blocking && now - start > SPIN_MS) Atomics.wait(words, at, done, 1);
    }
  }

  /** Gives up on the current call: the workers leave at their next check. */
  abort(): void {
    Atomics.store(this.words, ABORT, 1);
    Atomics.store(this.words, GO, 0x7fffffff);
    Atomics.notify(this.words, GO);
  }
}
