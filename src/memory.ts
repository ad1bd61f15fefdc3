/**
 * One place plans memory: the arena hands out blocks of an engine's WebAssembly memory, and
 * planLayout lays one network out inside its block.
 *
 * Layout of a network (all offsets 64-byte aligned, so 16-byte SIMD loads never straddle a vector):
 *   plan     PLAN_WORDS u32 per layer: the offsets below, for the whole-network kernels
 *   x, u     a^[1] and a tangent direction            stride_1
 *   grad     ∇ₓ a^[L] (or vᵀJ, H u)                   stride_1
 *   for l = 2..L:
 *     W^[l]  n_l × stride_{l-1}, row-major [out][in], padding columns 0
 *     b^[l], a^[l], s^[l] = σ'(z^[l]), g^[l], ż^[l], ȧ^[l], σ''(z^[l]), ġ^[l], h^[l]   stride_l each
 *   P0, P1   if a layer's backward is halved (backwardHalf): scratch of the longest stride; layer l
 *            uses P_(l mod 2), so a split call's phase can write its P while the next reads the last
 * where stride_l = n_l rounded up to whole 16-byte vectors (4 f32 or 2 f64), plus one more vector when
 * that is a multiple of 1 KiB (against cache-set aliasing). Padding is zero and the kernels never write
 * it, so padded columns contribute exact zeros to every sum.
 */
import { MLPError } from "./errors.js";
import type { Precision } from "./model.js";

/** SIMD vector width in bytes. */
export const VECTOR_BYTES = 16;
/** Alignment of every block and buffer (a cache line). */
export const BLOCK_ALIGN = 64;
/** WebAssembly page size. */
export const PAGE_BYTES = 65536;
/** Row lengths that are multiples of this many bytes get one more vector of padding (see planLayout). */
export const ALIAS_BYTES = 1024;
/** wasm32 addresses stop at 4 GiB. */
export const MAX_MEMORY_BYTES = 65536 * PAGE_BYTES;

/** Byte offsets (absolute, in linear memory) of one layer l = 2..L. */
export interface LayerLayout {
  /** n_l */
  rows: number;
  /** n_{l-1} */
  cols: number;
  /** Padded n_{l-1}: the row length of W^[l] in elements. */
  stride: number;
  w: number;
  b: number;
  a: number;
  s: number;
  g: number;
  /** Buffers of the derivative products (jvp, hvp): ż^[l], ȧ^[l], σ''(z^[l]), ġ^[l], scratch h^[l]. */
  zDot: number;
  aDot: number;
  s2: number;
  gDot: number;
  h: number;
  /** The backward sums rows [half, rows) and [0, half) apart, then adds them; 0: one sum (backwardHalf). */
  half: number;
  /** The scratch vector P of that sum; 0 when half is 0. */
  part: number;
}

/** Where a network's buffers live. */
export interface NetworkLayout {
  /** Total bytes of the block. */
  bytes: number;
  elementBytes: number;
  /** The layer table the whole-network kernels read (assembly/network.ts): PLAN_WORDS u32 per layer. */
  plan: number;
  x: number;
  /** Tangent direction u for jvp and hvp. */
  u: number;
  grad: number;
  layers: LayerLayout[];
}

/** u32 words per layer in a plan (assembly/network.ts reads them): rows, stride, w, b, a, s, g,
 * activation code, zDot, aDot, s2, gDot, h, one unused word, then the activation's parameters p1 and p2
 * as two f64 (words 14–17, 8-byte aligned), then part and half (words 18, 19; entries are 80 bytes). */
export const PLAN_WORDS = 20;

/** Weight bytes from which a layer's backward is halved (backwardHalf); the pool shares layers from 64 KiB. */
export const HALF_BACKWARD_BYTES = 16 * 1024;

/**
 * Where a layer's backward splits its sum over rows (assembly/matvec.ts's denseBack), so two threads can
 * each sweep whole rows of W and give one thread's bits: a multiple of 4 near rows / 2, or 0 (one sum)
 * under HALF_BACKWARD_BYTES or 5 rows. Shape and precision alone decide, so every pool sums as createMLP.
 */
export function backwardHalf(rows: number, stride: number, elementBytes: number): number {
  if (rows < 5 || rows * stride * elementBytes < HALF_BACKWARD_BYTES) return 0;
  return 4 * Math.round(rows / 8);
}

/** Writes the plan for `layout` (activation code and parameters p1, p2 per layer) into memory. */
export function writePlan(
  memory: WebAssembly.Memory,
  layout: NetworkLayout,
  codes: readonly number[],
  params: readonly { p1: number; p2: number }[] = [],
): void {
  const words = new Uint32Array(memory.buffer, layout.plan, layout.layers.length * PLAN_WORDS);
  const f64 = new Float64Array(memory.buffer, layout.plan, (layout.layers.length * PLAN_WORDS) / 2);
  layout.layers.forEach((layer, i) => {
    const entry = [layer.rows, layer.stride, layer.w, layer.b, layer.a, layer.s, layer.g, codes[i]];
    entry.push(layer.zDot, layer.aDot, layer.s2, layer.gDot, layer.h);
    words.set(entry, i * PLAN_WORDS);
    words.set([layer.part, layer.half], i * PLAN_WORDS + 18);
    f64[(i * PLAN_WORDS + 14) / 2] = params[i]?.p1 ?? 0;
    f64[(i * PLAN_WORDS + 16) / 2] = params[i]?.p2 ?? 0;
  });
}

export function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** Plans a network's buffers relative to `base`. Byte counts may exceed 4 GiB; the arena rejects those. */
export function planLayout(sizes: readonly number[], precision: Precision, base = 0): NetworkLayout {
  const elementBytes = precision === "f32" ? 4 : 8;
  const lanes = VECTOR_BYTES / elementBytes;
  // Rows whose length is a multiple of 1 KiB fall into a few L1 cache sets (the set index repeats
  // every 4 KiB), so walking W down its columns (gemmT) or four rows at once thrashes them: one extra
  // vector of padding spreads the rows over all sets (gemmT at 256 × 256 f32: 28.8 → 34.6 GFLOP/s).
  const stride = (n: number): number => {
    const padded = alignUp(n, lanes);
    return (padded * elementBytes) % ALIAS_BYTES === 0 ? padded + lanes : padded;
  };
  let at = base;
  const take = (elements: number): number => {
    const start = at;
    at = alignUp(at + elements * elementBytes, BLOCK_ALIGN);
    return start;
  };
  const plan = at;
  at = alignUp(at + (sizes.length - 1) * PLAN_WORDS * 4, BLOCK_ALIGN);
  const x = take(stride(sizes[0]));
  const u = take(stride(sizes[0]));
  const grad = take(stride(sizes[0]));
  const layers: LayerLayout[] = [];
  for (let i = 1; i < sizes.length; i++) {
    const rows = sizes[i];
    const cols = sizes[i - 1];
    const padded = stride(cols);
    layers.push({
      rows,
      cols,
      stride: padded,
      w: take(rows * padded),
      b: take(stride(rows)),
      a: take(stride(rows)),
      s: take(stride(rows)),
      g: take(stride(rows)),
      zDot: take(stride(rows)),
      aDot: take(stride(rows)),
      s2: take(stride(rows)),
      gDot: take(stride(rows)),
      // h^[l] = (W^[l+1])ᵀ g^[l+1] has n_l entries but is written over the padded stride of W^[l+1].
      h: take(stride(rows)),
      half: backwardHalf(rows, padded, elementBytes),
      part: 0,
    });
  }
  if (layers.some((layer) => layer.half > 0)) {
    const longest = Math.max(...layers.map((layer) => layer.stride));
    const parts = [take(longest), take(longest)];
    for (const [i, layer] of layers.entries()) if (layer.half > 0) layer.part = parts[i % 2];
  }
  return { bytes: at - base, elementBytes, plan, x, u, grad, layers };
}

/** Bytes rendered for people: 1.5 MiB, 12.0 GiB. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * First-fit allocator over one WebAssembly.Memory. Freed blocks are coalesced and reused; the memory
 * grows only when no free block fits (WebAssembly memory never shrinks). Growth detaches every view of
 * the old buffer, so users of the memory compare `memory.buffer` before each use (see Engine.view).
 */
export class Arena {
  /** Free blocks [start, end), sorted by start, never adjacent. */
  private readonly free: { start: number; end: number }[] = [];
  private readonly base: number;
  private top: number;

  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
    /** Called right after the memory grows: views of the old buffer are detached (or, for shared
     * memory, too short) and must be re-derived. */
    private readonly onGrow: () => void = () => {},
  ) {
    this.base = alignUp(base, BLOCK_ALIGN);
    this.top = this.base;
  }

  /** Throws E_TOO_LARGE if a block of `bytes` can never fit in wasm32 memory, whatever is freed. */
  checkFits(bytes: number, what: string): void {
    if (this.base + alignUp(bytes, BLOCK_ALIGN) > MAX_MEMORY_BYTES) {
      throw new MLPError(
        "E_TOO_LARGE",
        `${what} needs ${formatBytes(bytes)} of WebAssembly memory; wasm32 memory stops at 4 GiB: use a smaller network, or f32 instead of f64`,
        { expected: MAX_MEMORY_BYTES, actual: bytes },
      );
    }
  }

  /** Reserves `bytes` (rounded up to 64) and returns the block's start; zeroes it. */
  alloc(bytes: number, what: string): number {
    const size = alignUp(Math.max(bytes, 1), BLOCK_ALIGN);
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i];
      if (block.end - block.start >= size) {
        const start = block.start;
        block.start += size;
        if (block.start === block.end) this.free.splice(i, 1);
        return this.zero(start, size);
      }
    }
    const start = this.top;
    const end = start + size;
    if (end > MAX_MEMORY_BYTES) {
      throw new MLPError(
        "E_TOO_LARGE",
        `${what} needs ${formatBytes(size)} of WebAssembly memory (${formatBytes(end)} in all with what is already in use); ` +
          `wasm32 memory stops at 4 GiB: use a smaller network, or f32 instead of f64`,
        { expected: MAX_MEMORY_BYTES, actual: end },
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE_BYTES));
        this.onGrow();
      } catch (cause) {
        throw new MLPError(
          "E_TOO_LARGE",
          `${what} needs ${formatBytes(size)} of WebAssembly memory (${formatBytes(end)} in all); ` +
            `this runtime refused to grow memory beyond ${formatBytes(have)}: use a smaller network or dispose() others`,
          { expected: end, actual: have, cause },
        );
      }
    }
    this.top = end;
    // Pages that grow() just added are zero already; only what lay below the old end may be dirty.
    return this.zero(start, Math.max(0, Math.min(end, have) - start));
  }

  // Blocks are handed out zeroed: the kernels rely on zero padding, and released blocks are dirty.
  private zero(start: number, size: number): number {
    new Uint8Array(this.memory.buffer, start, size).fill(0);
    return start;
  }

  /** Returns a block from alloc(); its bytes may be handed out again. */
  release(start: number, bytes: number): void {
    let end = start + alignUp(Math.max(bytes, 1), BLOCK_ALIGN);
    let i = 0;
    while (i < this.free.length && this.free[i].start < start) i++;
    // Merge with the neighbours on either side.
    if (i < this.free.length && this.free[i].start === end) {
      end = this.free[i].end;
      this.free.splice(i, 1);
    }
    if (i > 0 && this.free[i - 1].end === start) {
      start = this.free[i - 1].start;
      this.free.splice(i - 1, 1);
      i--;
    }
    if (end === this.top) {
      this.top = start;
    } else {
      this.free.splice(i, 0, { start, end });
    }
  }

  /** Bytes of blocks currently handed out. */
  get inUse(): number {
    return this.top - this.base - this.free.reduce((sum, b) => sum + (b.end - b.start), 0);
  }
}

/** Samples per block of the batched kernels: large batches are processed BATCH_BLOCK at a time, so a
 * network's batch buffers have a fixed size however many inputs a call brings. */
export const BATCH_BLOCK = 64;

/** Columns of a block are padded to a multiple of this (the batched kernels' register tile). */
export const BLOCK_COLUMNS = 8;

/** Byte offsets of a network's batch buffers: feature-major blocks [n_l][mb] (see assembly/gemm.ts). */
export interface BlockLayout {
  bytes: number;
  /** Capacity in samples (columns). */
  mb: number;
  x: number;
  grad: number;
  /** A^[l], S^[l], G^[l] for l = 2..L. */
  layers: { a: number; s: number; g: number }[];
}

/** Plans the batch buffers of a network with these sizes, for blocks of up to mb samples. */
export function planBlock(sizes: readonly number[], precision: Precision, base: number, mb = BATCH_BLOCK): BlockLayout {
  const elementBytes = precision === "f32" ? 4 : 8;
  let at = base;
  const take = (n: number): number => {
    const start = at;
    at = alignUp(at + n * mb * elementBytes, BLOCK_ALIGN);
    return start;
  };
  const x = take(sizes[0]);
  const grad = take(sizes[0]);
  const layers = sizes.slice(1).map((n) => ({ a: take(n), s: take(n), g: take(n) }));
  return { bytes: at - base, mb, x, grad, layers };
}
