/**
 * The batched passes: many inputs at once through the matrix·matrix kernels (assembly/gemm.ts), on
 * feature-major blocks [n][mb] of up to BATCH_BLOCK inputs. Column c of every block is one input, and
 * per column the recurrence is the single-input one of network.ts:
 *
 *   A^[l] = σ(W^[l] A^[l-1] + b^[l] 1ᵀ), S^[l] = σ'(Z^[l]);   G^[L] = S^[L];
 *   G^[l] = ((W^[l+1])ᵀ G^[l+1]) ⊙ S^[l];   ∇ₓ per column = (W^[2])ᵀ G^[2]
 *
 * The Jacobian is the same backward pass for one input with the n_L unit vectors as columns:
 * G^[L] = diag(σ'(z^[L])) and σ'(z^[l]) of the one input on every column; it runs on the layout of
 * assembly/jacobian.ts (each column a contiguous vector of features, so no columns rounded up to a
 * vector) in the same buffers, and starts from G^[L-1] (G^[L]'s zeros are never multiplied).
 * gradientOfBatch (a Pick) starts instead from one-hot columns: G^[L]_{k_c, c} = σ'(z_{k_c}^[L]) for
 * output k_c of sample c, 1 for its logit, or the column Jᵀe_k of softmax / logSoftmax (activation.ts).
 * With softmax / logSoftmax the last layer runs with the identity (A^[L] = logits), and forward outputs
 * and the Jacobian are mapped through the output function here.
 * A BatchRunner holds no state but offsets, so a worker thread can run one over shared memory.
 */
import { applyOutput, pushForward, type OutputKind } from "./activation.js";
import type { Kernels } from "./engine.js";
import { MLPError, describe } from "./errors.js";
import { BLOCK_COLUMNS, VECTOR_BYTES, alignUp, type BlockLayout, type NetworkLayout } from "./memory.js";
import type { Precision } from "./model.js";

type View = Float32Array | Float64Array;
/** Most columns (outputs) per round of the Jacobian's backward pass: C columns of n features take
 * ⌈n / lanes⌉·lanes·C elements, within the n·BATCH_BLOCK of a block's buffer for C ≤ 16. */
export const JACOBIAN_COLUMNS = 16;
/** Where batch results go: any indexable array of numbers. */
export type Sink = { [index: number]: number; length: number };

/** Which output each row's gradient is of (gradientOfBatch): one index for all rows or one per row. */
export interface Pick {
  k: number | Int32Array;
  /** true: of the logit z_k^[L] instead of a_k^[L]. */
  logit: boolean;
}

/** What a BatchRunner needs: the kernels, where the network and its block live, and a fresh view. */
export interface BatchContext {
  kernels: Kernels;
  precision: Precision;
  sizes: readonly number[];
  codes: readonly number[];
  /** Each layer's activation parameters (kernel arguments p1, p2). */
  params: readonly { p1: number; p2: number }[];
  output: OutputKind;
  layout: NetworkLayout;
  block: BlockLayout;
  view: () => View;
}

export class BatchRunner {
  private readonly gemm: Kernels["gemmF32"];
  private readonly gemmT: Kernels["gemmTF32"];
  private readonly forwardNet: Kernels["forwardNetF32"];
  private readonly firstNonFinite: Kernels["firstNonFiniteF32"];
  private readonly shift: number;
  private readonly p: Float64Array; // softmax scratch, n_L
  private readonly column: Float64Array; // one column of the output block, n_L

  constructor(private readonly ctx: BatchContext) {
    const nL = ctx.sizes[ctx.sizes.length - 1];
    this.p = new Float64Array(nL);
    this.column = new Float64Array(nL);
    const k = ctx.kernels;
    const f32 = ctx.precision === "f32";
    this.gemm = f32 ? k.gemmF32 : k.gemmF64;
    this.gemmT = f32 ? k.gemmTF32 : k.gemmTF64;
    this.forwardNet = f32 ? k.forwardNetF32 : k.forwardNetF64;
    this.firstNonFinite = f32 ? k.firstNonFiniteF32 : k.firstNonFiniteF64;
    this.shift = f32 ? 2 : 3;
  }

  /**
   * Runs m inputs (rows of xs from `from`) block by block: values (length m, may be null) get a^[L]
   * (n_L = 1), gradients (m × n_1, may be null) get ∇ₓ a^[L], outputs (m × n_L, may be null) get a^[L].
   * Row numbers in errors count from `rowBase`. With `pick`, gradients get row i = ∇ₓ a_{k_i}^[L] (k_i
   * indexed from row `from`/n_1 of this call, i.e. pick.k[i] for the i-th row run here).
   */
  run(
    xs: Readonly<ArrayLike<number>>,
    from: number,
    m: number,
    values: Sink | null,
    gradients: Sink | null,
    outputs: Sink | null,
    rowBase = 0,
    pick?: Pick,
  ): void {
    const { block, layout, codes, params, sizes, output } = this.ctx;
    const layers = layout.layers;
    const n1 = sizes[0];
    const nL = sizes[sizes.length - 1];
    const top = block.layers[layers.length - 1];
    for (let r0 = 0; r0 < m; r0 += block.mb) {
      const rows = Math.min(block.mb, m - r0);
      const mb = alignUp(rows, BLOCK_COLUMNS);
      this.loadBlock(xs, from + r0 * n1, rows, mb, rowBase + r0);
      let input = block.x;
      for (let i = 0; i < layers.length; i++) {
        const layer = layers[i];
        const out = block.layers[i];
        this.gemm(out.a, out.s, layer.w, layer.b, input, layer.rows, layer.cols, layer.stride, mb, codes[i], params[i].p1, params[i].p2);
        input = out.a;
      }
      if (values !== null) this.storeBlock(top.a, 1, rows, mb, values, r0);
      if (outputs !== null) {
        if (output === "none") this.storeBlock(top.a, nL, rows, mb, outputs, r0);
        else this.storeOutputs(top.a, rows, mb, outputs, r0);
      }
      if (gradients !== null) {
        let g = top.s;
        if (pick !== undefined) g = this.pickTop(pick, r0, rows, mb);
        for (let i = layers.length - 1; i >= 1; i--) {
          const layer = layers[i];
          const below = block.layers[i - 1];
          g = this.gemmT(below.g, layer.w, g, below.s, layer.rows, layer.cols, layer.stride, mb);
        }
        const first = layers[0];
        this.gemmT(block.grad, first.w, g, 0, first.rows, first.cols, first.stride, mb);
        this.storeBlock(block.grad, n1, rows, mb, gradients, r0);
      }
    }
  }

  /**
   * G^[L] of a gradientOfBatch block in the top layer's g buffer: column c one-hot at k = pick's index for
   * row r0 + c, holding σ'(z_k) (1 for a logit), or Jᵀe_k through softmax / logSoftmax. Returns its offset.
   */
  private pickTop(pick: Pick, r0: number, rows: number, mb: number): number {
    const { block, sizes, output } = this.ctx;
    const count = sizes.length - 1;
    const nL = sizes[count];
    const view = this.ctx.view();
    const shift = this.shift;
    const top = block.layers[count - 1];
    const g = top.g >> shift;
    const s = top.s >> shift;
    const a = top.a >> shift;
    view.fill(0, g, g + nL * mb);
    const p = this.p;
    const column = this.column;
    for (let c = 0; c < rows; c++) {
      const k = typeof pick.k === "number" ? pick.k : pick.k[r0 + c];
      if (pick.logit) {
        view[g + k * mb + c] = 1;
      } else if (output === "none") {
        view[g + k * mb + c] = view[s + k * mb + c];
      } else {
        for (let i = 0; i < nL; i++) column[i] = view[a + i * mb + c];
        applyOutput(output, column, 0, nL, p, column, 0);
        const scale = output === "softmax" ? p[k] : 1;
        for (let i = 0; i < nL; i++) view[g + i * mb + c] = scale * ((i === k ? 1 : 0) - p[i]);
      }
    }
    return top.g;
  }

  /** As storeBlock for a^[L] through softmax / logSoftmax: each column's logits mapped to the output. */
  private storeOutputs(offset: number, rows: number, mb: number, out: Sink, r0: number): void {
    const { sizes, output } = this.ctx;
    const nL = sizes[sizes.length - 1];
    const view = this.ctx.view();
    const at = offset >> this.shift;
    const column = this.column;
    for (let c = 0; c < rows; c++) {
      for (let j = 0; j < nL; j++) column[j] = view[at + j * mb + c];
      applyOutput(output, column, 0, nL, this.p, out, (r0 + c) * nL);
    }
  }

  /**
   * The Jacobian (n_L × n_1, row-major) at the x already loaded into the network's input buffer: one
   * forward pass, then the backward pass of assembly/jacobian.ts for up to JACOBIAN_COLUMNS outputs at a
   * time (jacobianTopStep, then jacobianStep per layer from the top down), each column one contiguous
   * vector of features in the block's g buffers, and J's rows in its grad buffer. The pool's split calls
   * (split.ts) run the same steps, each jacobianStep cut into ranges of features.
   */
  jacobian(out: Sink): void {
    const { layout, sizes } = this.ctx;
    const count = layout.layers.length;
    const nL = sizes[count];
    this.forwardNet(layout.plan, count, layout.x);
    for (let k0 = 0; k0 < nL; k0 += JACOBIAN_COLUMNS) {
      const width = jacobianWidth(nL, k0);
      jacobianTopStep(this.ctx, k0, width);
      for (let i = count - 2; i >= 0; i--) jacobianStep(this.ctx, i, width, 0, layout.layers[i].cols);
      this.jacobianRows(out, k0);
    }
    this.jacobianOutput(out);
  }

  /** @internal The BlockLayout this runner works in (the pool's split Jacobian writes into the main network's). */
  get block(): BlockLayout {
    return this.ctx.block;
  }

  /** @internal Rows k0.. of J (this round's) from the block's grad buffer into out (row-major n_L × n_1). */
  jacobianRows(out: Sink, k0: number): void {
    const { block, sizes } = this.ctx;
    const shift = this.shift;
    const n1 = sizes[0];
    const nL = sizes[sizes.length - 1];
    const rows = Math.min(JACOBIAN_COLUMNS, nL - k0);
    const view = this.ctx.view();
    const at = block.grad >> shift;
    const stride = columnBytes(n1, 1 << shift) >> shift;
    if (out instanceof Float32Array || out instanceof Float64Array) {
      for (let c = 0; c < rows; c++) out.set(view.subarray(at + c * stride, at + c * stride + n1), (k0 + c) * n1);
    } else {
      for (let c = 0; c < rows; c++) {
        const row = (k0 + c) * n1;
        const from = at + c * stride;
        for (let i = 0; i < n1; i++) out[row + i] = view[from + i];
      }
    }
  }

  /** @internal With softmax / logSoftmax outputs, maps out (then ∂z^[L]/∂x) through the output's Jacobian at p. */
  jacobianOutput(out: Sink): void {
    const { layout, sizes, output } = this.ctx;
    if (output === "none") return;
    const count = layout.layers.length;
    const n1 = sizes[0];
    const nL = sizes[count];
    const view = this.ctx.view();
    applyOutput(output, view, layout.layers[count - 1].a >> this.shift, nL, this.p, this.column, 0);
    for (let i = 0; i < n1; i++) pushForward(output, this.p, nL, out, i, n1);
  }

  /**
   * Copies `rows` inputs of xs (from element `from`) into the block [n_1][mb], checking every value:
   * eight inputs at a time (2.7× one at a time with the check below, bench/batch-parts.mjs), then one
   * SIMD pass (firstNonFinite; an f64 beyond f32's range is stored as ±Infinity); checkBlock finds the
   * first bad value in row-major order if there is one.
   */
  private loadBlock(xs: Readonly<ArrayLike<number>>, from: number, rows: number, mb: number, firstRow: number): void {
    const n = this.ctx.sizes[0];
    const view = this.ctx.view();
    const at = this.ctx.block.x >> this.shift;
    if (!(xs instanceof Float32Array || xs instanceof Float64Array)) {
      for (let i = from; i < from + rows * n; i++) if (typeof xs[i] !== "number") this.checkBlock(xs, from, rows, mb, firstRow);
    }
    let c = 0;
    for (; c + 8 <= rows; c += 8) {
      const r0 = from + c * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n, r4 = r3 + n, r5 = r4 + n, r6 = r5 + n, r7 = r6 + n;
      for (let j = 0, to = at + c; j < n; j++, to += mb) {
        view[to] = xs[r0 + j]; view[to + 1] = xs[r1 + j]; view[to + 2] = xs[r2 + j]; view[to + 3] = xs[r3 + j];
        view[to + 4] = xs[r4 + j]; view[to + 5] = xs[r5 + j]; view[to + 6] = xs[r6 + j]; view[to + 7] = xs[r7 + j];
      }
    }
    for (; c < rows; c++) {
      const row = from + c * n;
      for (let j = 0, to = at + c; j < n; j++, to += mb) view[to] = xs[row + j];
    }
    // Padding columns hold zeros, so they stay finite through every layer.
    for (let j = 0; rows < mb && j < n; j++) view.fill(0, at + j * mb + rows, at + j * mb + mb);
    if (this.firstNonFinite(this.ctx.block.x, n * mb) >= 0) this.checkBlock(xs, from, rows, mb, firstRow);
  }

  /** loadBlock one value at a time, throwing for the first bad value (there is one). */
  private checkBlock(xs: Readonly<ArrayLike<number>>, from: number, rows: number, mb: number, firstRow: number): never {
    const n = this.ctx.sizes[0];
    const view = this.ctx.view();
    const at = this.ctx.block.x >> this.shift;
    for (let c = 0; c < rows; c++) {
      const row = from + c * n;
      for (let j = 0; j < n; j++) {
        const value = xs[row + j];
        const to = at + j * mb + c;
        view[to] = value;
        const stored = view[to];
        if (typeof value !== "number" || stored - stored !== 0) throw badBatchValue(value, firstRow + c, j, n, this.ctx.precision);
      }
    }
    throw new Error("mlpgrad: checkBlock found no bad value");
  }

  /**
   * Copies the first `rows` columns of a block [n][mb] into rows r0.. of a row-major m × n result,
   * eight columns at a time (2× one at a time, bench/batch-parts.mjs).
   */
  private storeBlock(offset: number, n: number, rows: number, mb: number, out: Sink, r0: number): void {
    const view = this.ctx.view();
    const at = offset >> this.shift;
    let c = 0;
    for (; c + 8 <= rows; c += 8) {
      const o0 = (r0 + c) * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n, o4 = o3 + n, o5 = o4 + n, o6 = o5 + n, o7 = o6 + n;
      for (let j = 0, from = at + c; j < n; j++, from += mb) {
        out[o0 + j] = view[from]; out[o1 + j] = view[from + 1]; out[o2 + j] = view[from + 2]; out[o3 + j] = view[from + 3];
        out[o4 + j] = view[from + 4]; out[o5 + j] = view[from + 5]; out[o6 + j] = view[from + 6]; out[o7 + j] = view[from + 7];
      }
    }
    for (; c < rows; c++) {
      const to = (r0 + c) * n;
      for (let j = 0; j < n; j++) out[to + j] = view[at + j * mb + c];
    }
  }
}

/** Bytes from one column to the next in the Jacobian's buffers of n features (assembly/jacobian.ts's layout). */
function columnBytes(n: number, size: number): number {
  return alignUp(n * size, VECTOR_BYTES);
}

/** Rounds of the Jacobian's backward pass for n_L outputs: round r carries outputs 16r.. (JACOBIAN_COLUMNS). */
export function jacobianRounds(nL: number): number {
  return Math.ceil(nL / JACOBIAN_COLUMNS);
}

/** Columns of the round that starts at output k0: the outputs left, at most JACOBIAN_COLUMNS, in pairs (a column past n_L is zeros). */
export function jacobianWidth(nL: number, k0: number): number {
  return Math.min(JACOBIAN_COLUMNS, alignUp(nL - k0, 2));
}

/** What the Jacobian's steps need: the kernels, the network and the batch block whose buffers they use. */
export interface JacobianBuffers {
  kernels: Kernels;
  precision: Precision;
  layout: NetworkLayout;
  block: BlockLayout;
}

/**
 * The round's first step, G^[L-1] straight from rows k0.. of W^[L] (G^[L] = diag(s^[L]) is never
 * formed), or J's rows themselves when the network has one layer.
 */
export function jacobianTopStep(t: JacobianBuffers, k0: number, width: number): void {
  const { layout, block } = t;
  const f32 = t.precision === "f32";
  const size = f32 ? 4 : 8;
  const layers = layout.layers;
  const count = layers.length;
  const top = layers[count - 1];
  const kernel = f32 ? t.kernels.jacobianTopF32 : t.kernels.jacobianTopF64;
  if (count === 1) kernel(block.grad, top.w, top.s, 0, k0, top.rows, top.cols, top.stride, width, columnBytes(top.cols, size));
  else kernel(block.layers[count - 2].g, top.w, top.s, layers[count - 2].s, k0, top.rows, top.cols, top.stride, width, columnBytes(top.cols, size));
}

/**
 * The backward step through W of layer i (0-based; i = L−2 … 0 of the L − 1 layers) for features
 * [c0, c1) of its input: G^[i] (J's rows for i = 0) from G^[i+1], `width` columns. Each feature's sum
 * over rows runs in the same order whatever the range (assembly/jacobian.ts: lanes never mix), so
 * ranges that start on whole 64-byte tiles (and end on one, or at cols) give the whole step's bits.
 */
export function jacobianStep(t: JacobianBuffers, i: number, width: number, c0: number, c1: number): void {
  const { layout, block } = t;
  const f32 = t.precision === "f32";
  const size = f32 ? 4 : 8;
  const layer = layout.layers[i];
  const out = i > 0 ? block.layers[i - 1].g : block.grad;
  const s = i > 0 ? layout.layers[i - 1].s : 0;
  const at = c0 * size;
  (f32 ? t.kernels.jacobianBackF32 : t.kernels.jacobianBackF64)(
    out + at,
    layer.w + at,
    block.layers[i].g,
    s === 0 ? 0 : s + at,
    layer.rows,
    c1 - c0,
    layer.stride,
    width,
    columnBytes(layer.cols, size),
    columnBytes(layer.rows, size),
  );
}

/** The E_NONFINITE error for a bad xs value at (row, column) of a batch; also used by MLPPool. */
export function badBatchValue(value: unknown, row: number, column: number, n: number, precision: Precision): MLPError {
  const index = row * n + column;
  const shown = typeof value === "number" ? String(value) : typeof value === "string" ? `the string ${JSON.stringify(value)}` : describe(value);
  const range = precision === "f32" && typeof value === "number" && Number.isFinite(value) ? " within the f32 range" : "";
  return new MLPError("E_NONFINITE", `xs[${index}] (row ${row}, column ${column}) is ${shown}: xs must hold finite numbers${range}`, {
    layer: 1,
    index,
    actual: value,
  });
}
