/**
 * Single-input kernels: one pass over W^[l] per layer and direction.
 *
 * Layout (planned by src/memory.ts): W^[l] is row-major [n_l][stride], where stride = n_{l-1}
 * rounded up to a whole number of 16-byte vectors (4 f32 or 2 f64) and the padding columns are 0.
 * Every vector (a^[l], σ'(z^[l]), g^[l]) is padded to its stride with zeros, and every buffer starts on a
 * 16-byte boundary, so the column loops never need a scalar tail and never read past a row.
 * All arguments are byte offsets into linear memory and element counts; each kernel writes into its
 * first argument and returns it. Nothing here allocates or checks: src/ validates at the boundary.
 *
 *   dense      a^[l] = σ(W^[l] a^[l-1] + b^[l]) and s^[l] = σ'(z^[l])          (eqs. 3.1–3.2)
 *   dense2     the same and σ''(z^[l])                                      (Hessian-vector products)
 *   tangent    ż^[l] = W^[l] ȧ^[l-1], ȧ^[l] = s^[l] ⊙ ż^[l]                  (forward mode)
 *   denseBack  g^[l] = ((W^[l+1])ᵀ g^[l+1]) ⊙ s^[l]; with s = 0 just (W^[2])ᵀ g^[2] = ∇ₓ a^[L];
 *              a large layer sums its rows in two halves, g^[l] = (P + G) ⊙ s^[l] with
 *              P = Σ_{k<half} g_k W[k,:] and G = Σ_{k≥half} g_k W[k,:] (backRows, backCombine)
 */
import { SIGMOID, activate, activate2 } from "./activation";
import { sigmoidVector } from "./vmath";

// @ts-ignore: decorator
@inline function hsum<T>(v: v128): T {
  if (sizeof<T>() == 4) {
    return <T>(
      (v128.extract_lane<f32>(v, 0) + v128.extract_lane<f32>(v, 1)) +
      (v128.extract_lane<f32>(v, 2) + v128.extract_lane<f32>(v, 3))
    );
  }
  return <T>(v128.extract_lane<f64>(v, 0) + v128.extract_lane<f64>(v, 1));
}

/** [Σ t0, Σ t1, Σ t2, Σ t3] of four f32x4 vectors: two rounds of pairwise shuffles and adds. */
// @ts-ignore: decorator
@inline function sum4(t0: v128, t1: v128, t2: v128, t3: v128): v128 {
  const v01 = v128.add<f32>(v128.shuffle<f32>(t0, t1, 0, 4, 1, 5), v128.shuffle<f32>(t0, t1, 2, 6, 3, 7));
  const v23 = v128.add<f32>(v128.shuffle<f32>(t2, t3, 0, 4, 1, 5), v128.shuffle<f32>(t2, t3, 2, 6, 3, 7));
  return v128.add<f32>(v128.shuffle<f32>(v01, v23, 0, 1, 4, 5), v128.shuffle<f32>(v01, v23, 2, 3, 6, 7));
}

/** [Σ t0, Σ t1] of two f64x2 vectors, each sum in hsum's order. */
// @ts-ignore: decorator
@inline function sum2(t0: v128, t1: v128): v128 {
  return v128.add<f64>(v128.shuffle<f64>(t0, t1, 0, 2), v128.shuffle<f64>(t0, t1, 1, 3));
}

/** acc + w·x; one fused (or unfused, as the hardware does it) relaxed_madd in the relaxed build. */
// @ts-ignore: decorator
@inline export function madd<T>(acc: v128, w: v128, x: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return v128.relaxed_madd<T>(w, x, acc);
  return v128.add<T>(acc, v128.mul<T>(w, x));
}

/** Dot product of one padded row with a padded vector; `bytes` is a multiple of 16. */
// @ts-ignore: decorator
@inline function dot<T>(w: usize, x: usize, bytes: usize): T {
  if (ASC_FEATURE_SIMD) {
    let c0 = v128.splat<T>(0);
    let c1 = v128.splat<T>(0);
    let j: usize = 0;
    const pairs = bytes & ~(<usize>31);
    for (; j < pairs; j += 32) {
      c0 = madd<T>(c0, v128.load(w + j), v128.load(x + j));
      c1 = madd<T>(c1, v128.load(w + j, 16), v128.load(x + j, 16));
    }
    if (j < bytes) c0 = madd<T>(c0, v128.load(w + j), v128.load(x + j));
    return hsum<T>(v128.add<T>(c0, c1));
  } else {
    // Strides are whole vectors, so the element count is even: two chains, no tail.
    let c0: T = <T>0;
    let c1: T = <T>0;
    const size = sizeof<T>();
    for (let j: usize = 0; j < bytes; j += 2 * size) {
      c0 += load<T>(w + j) * load<T>(x + j);
      c1 += load<T>(w + j, size) * load<T>(x + j, size);
    }
    return c0 + c1;
  }
}

// What a row's dot product acc = (W x)_i becomes (compile-time constants: each inlined copy keeps one).
const ACT: i32 = 0; // out = σ(acc + b_i), out2 = σ'(…)
const ACT2: i32 = 1; // and out3 = σ''(…)
const TANGENT: i32 = 2; // out = acc, out2 = acc · s_i with s = out3 (forward-mode tangent: ż, ȧ = σ' ⊙ ż)

// @ts-ignore: decorator
@inline function finishRow<T>(mode: i32, out: usize, out2: usize, out3: usize, b: usize, i: i32, acc: T, act: i32, par1: f64, par2: f64): void {
  const at = <usize>i * sizeof<T>();
  if (mode == ACT) {
    activate<T>(acc + load<T>(b + at), act, par1, par2, out + at, out2 + at);
  } else if (mode == ACT2) {
    activate2<T>(acc + load<T>(b + at), act, par1, par2, out + at, out2 + at, out3 + at);
  } else {
    store<T>(out + at, acc);
    store<T>(out2 + at, acc * load<T>(out3 + at));
  }
}

/** The row loop shared by dense, dense2 and tangent; `mode` says how each row finishes. */
// @ts-ignore: decorator
@inline function denseRows<T>(mode: i32, out: usize, out2: usize, out3: usize, w: usize, b: usize, x: usize, rows: i32, cols: i32, act: i32, par1: f64, par2: f64): void {
  const rowBytes = <usize>cols * sizeof<T>();
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    // 4 rows × 2 vectors per step, the two products of a row summed before they meet its accumulator:
    // 4 accumulators + 2 slices of x + 8 loads of W = 14 live vectors. TurboFan hoists all ten loads to
    // the top of the loop, so the 8-accumulator form (one per row and vector) needed 18 of V8's 15
    // allocatable xmm registers and spilled three of them every step: this form is 20–28% faster
    // (f32, 256×100 to 512×784), and each accumulator still sees one add per 8 multiplies.
    const pairs = rowBytes & ~(<usize>31);
    let p = w;
    for (; i + 4 <= rows; i += 4) {
      let c0 = v128.splat<T>(0), c1 = v128.splat<T>(0);
      let c2 = v128.splat<T>(0), c3 = v128.splat<T>(0);
      const p1 = p + rowBytes, p2 = p1 + rowBytes, p3 = p2 + rowBytes;
      let j: usize = 0;
      for (; j < pairs; j += 32) {
        const x0 = v128.load(x + j);
        const x1 = v128.load(x + j, 16);
        c0 = v128.add<T>(c0, madd<T>(v128.mul<T>(v128.load(p + j), x0), v128.load(p + j, 16), x1));
        c1 = v128.add<T>(c1, madd<T>(v128.mul<T>(v128.load(p1 + j), x0), v128.load(p1 + j, 16), x1));
        c2 = v128.add<T>(c2, madd<T>(v128.mul<T>(v128.load(p2 + j), x0), v128.load(p2 + j, 16), x1));
        c3 = v128.add<T>(c3, madd<T>(v128.mul<T>(v128.load(p3 + j), x0), v128.load(p3 + j, 16), x1));
      }
      if (j < rowBytes) {
        // One 16-byte vector left over when the stride is an odd number of vectors.
        const x0 = v128.load(x + j);
        c0 = madd<T>(c0, v128.load(p + j), x0);
        c1 = madd<T>(c1, v128.load(p1 + j), x0);
        c2 = madd<T>(c2, v128.load(p2 + j), x0);
        c3 = madd<T>(c3, v128.load(p3 + j), x0);
      }
      if (mode == ACT && act == SIGMOID) {
        // Sigmoid: z of the four rows as whole vectors into out, σ and σ' for all of them after the
        // loop (below). Applied here, block by block, σ's dependency chain (a degree-7 or -13 polynomial
        // and a division, ~90 cycles) stalled each block; in one pass the vectors overlap.
        const at = <usize>i * sizeof<T>();
        if (sizeof<T>() == 4) {
          v128.store(out + at, v128.add<f32>(sum4(c0, c1, c2, c3), v128.load(b + at)));
        } else {
          v128.store(out + at, v128.add<f64>(sum2(c0, c1), v128.load(b + at)));
          v128.store(out + at, v128.add<f64>(sum2(c2, c3), v128.load(b + at, 16)), 16);
        }
      } else {
        finishRow<T>(mode, out, out2, out3, b, i, hsum<T>(c0), act, par1, par2);
        finishRow<T>(mode, out, out2, out3, b, i + 1, hsum<T>(c1), act, par1, par2);
        finishRow<T>(mode, out, out2, out3, b, i + 2, hsum<T>(c2), act, par1, par2);
        finishRow<T>(mode, out, out2, out3, b, i + 3, hsum<T>(c3), act, par1, par2);
      }
      p = p3 + rowBytes;
    }
    if (mode == ACT && act == SIGMOID) {
      // The whole 4-row blocks hold z: σ(z) over it in place, σ'(z) into out2 (vmath.ts).
      const end = <usize>i * sizeof<T>();
      for (let at: usize = 0; at < end; at += 16) sigmoidVector<T>(v128.load(out + at), out + at, out2 + at);
    }
  }
  // Remaining rows (1–3 with SIMD, all of them in the scalar build).
  for (; i < rows; i++) {
    finishRow<T>(mode, out, out2, out3, b, i, dot<T>(w + <usize>i * rowBytes, x, rowBytes), act, par1, par2);
  }
}

/**
 * aOut = σ(W·aIn + b), sOut = σ'(W·aIn + b); W is rows × cols (cols = padded stride); par1, par2 are the
 * activation's parameters p1, p2 (activation.ts; not named p1, p2 here, where those are row pointers).
 */
export function dense<T>(aOut: usize, sOut: usize, w: usize, b: usize, aIn: usize, rows: i32, cols: i32, act: i32, par1: f64, par2: f64): usize {
  denseRows<T>(ACT, aOut, sOut, 0, w, b, aIn, rows, cols, act, par1, par2);
  return aOut;
}

/** As dense, and s2Out = σ''(W·aIn + b) for Hessian-vector products. */
export function dense2<T>(aOut: usize, sOut: usize, s2Out: usize, w: usize, b: usize, aIn: usize, rows: i32, cols: i32, act: i32, par1: f64, par2: f64): usize {
  denseRows<T>(ACT2, aOut, sOut, s2Out, w, b, aIn, rows, cols, act, par1, par2);
  return aOut;
}

/** Forward-mode tangent of one layer: zDot = W·aDotIn, aDot = s ⊙ zDot. */
export function tangent<T>(zDot: usize, aDot: usize, w: usize, s: usize, aDotIn: usize, rows: i32, cols: i32): usize {
  denseRows<T>(TANGENT, zDot, aDot, s, w, 0, aDotIn, rows, cols, 0, 0, 0);
  return aDot;
}

/**
 * gOut = (Wᵀ g) ⊙ s, or Wᵀ g when s = 0; W is rows × cols (cols = padded stride), g has rows entries.
 * half = 0: one sum over all rows into gOut. half > 0 (a multiple of 4, from src/memory.ts's
 * backwardHalf: the layer's shape and precision alone decide it): rows [half, rows) are summed into gOut
 * and rows [0, half) into the scratch vector `part`, each as backRows sums, then gOut = (part + gOut) ⊙ s
 * (backCombine). The pool (src/split.ts) sums the two halves on two threads, each sweeping whole rows,
 * and combines them the same way, so both give the same bits.
 */
export function denseBack<T>(gOut: usize, w: usize, g: usize, s: usize, rows: i32, cols: i32, part: usize, half: i32): usize {
  const size = sizeof<T>();
  const rowBytes = <usize>cols * size;
  // The rows above the half first: the forward pass has just read W from first to last, so its end is
  // what the cache still holds (backRows walks each range from its last row too).
  backRows<T>(gOut, w + <usize>half * rowBytes, g + <usize>half * size, rows - half, cols);
  if (half > 0) backRows<T>(part, w, g, half, cols);
  backCombine<T>(gOut, half > 0 ? part : 0, s, cols);
  return gOut;
}

/**
 * gOut = Σ_k g_k·W[k,:] over `rows` rows of W (rows × cols, cols = padded stride) and g (rows entries).
 * The order of the sum, which every path must repeat to give one thread's bits: with SIMD, the last
 * rows % 4 rows one at a time from the last (the first assigns gOut), then the blocks of 4 rows from the
 * top down (rowsTimes4: the four products summed pairwise, then added to gOut); in the scalar build rows
 * 0 → rows−1, one at a time. The first rows visited assign gOut, the rest accumulate into it: no zeroing
 * pass (V8's memory.fill is a runtime call that costs more than a small layer).
 */
export function backRows<T>(gOut: usize, w: usize, g: usize, rows: i32, cols: i32): void {
  const size = sizeof<T>();
  const rowBytes = <usize>cols * size;
  if (ASC_FEATURE_SIMD) {
    // Accumulate whole rows (gOut += g_k·W[k,:]) four at a time: contiguous loads at any stride,
    // where dot products down the columns collapse at power-of-two strides.
    const blocks = rows & ~3;
    for (let k = rows - 1; k >= blocks; k--) {
      const gk = v128.splat<T>(load<T>(g + <usize>k * size));
      const row = w + <usize>k * rowBytes;
      if (k == rows - 1) {
        for (let j: usize = 0; j < rowBytes; j += 16) v128.store(gOut + j, v128.mul<T>(gk, v128.load(row + j)));
      } else {
        for (let j: usize = 0; j < rowBytes; j += 16) {
          v128.store(gOut + j, madd<T>(v128.load(gOut + j), gk, v128.load(row + j)));
        }
      }
    }
    for (let k = blocks - 4; k >= 0; k -= 4) {
      // Constant flags, so each inlined copy has no branch in its loop.
      const p = w + <usize>k * rowBytes;
      if (k + 4 == rows) rowsTimes4<T>(gOut, p, rowBytes, rowBytes, g + <usize>k * size, false);
      else rowsTimes4<T>(gOut, p, rowBytes, rowBytes, g + <usize>k * size, true);
    }
  } else {
    for (let j: usize = 0; j < rowBytes; j += size) store<T>(gOut + j, load<T>(g) * load<T>(w + j));
    for (let k = 1; k < rows; k++) {
      const gk = load<T>(g + <usize>k * size);
      const row = w + <usize>k * rowBytes;
      for (let j: usize = 0; j < rowBytes; j += size) {
        store<T>(gOut + j, load<T>(gOut + j) + gk * load<T>(row + j));
      }
    }
  }
}

/**
 * g = (part + g) ⊙ s over `count` elements (a whole number of vectors); part = 0: g ⊙ s; s = 0: part + g.
 * A plain add and a plain multiply in every build (never madd): each is one IEEE rounding, the same
 * whichever thread does it and however many lanes at a time.
 */
export function backCombine<T>(g: usize, part: usize, s: usize, count: i32): void {
  const bytes = <usize>count * sizeof<T>();
  if (ASC_FEATURE_SIMD) {
    if (part != 0 && s != 0) {
      for (let j: usize = 0; j < bytes; j += 16) {
        v128.store(g + j, v128.mul<T>(v128.add<T>(v128.load(part + j), v128.load(g + j)), v128.load(s + j)));
      }
    } else if (part != 0) {
      for (let j: usize = 0; j < bytes; j += 16) v128.store(g + j, v128.add<T>(v128.load(part + j), v128.load(g + j)));
    } else if (s != 0) {
      for (let j: usize = 0; j < bytes; j += 16) v128.store(g + j, v128.mul<T>(v128.load(g + j), v128.load(s + j)));
    }
  } else {
    const size = sizeof<T>();
    if (part != 0) {
      for (let j: usize = 0; j < bytes; j += size) store<T>(g + j, load<T>(part + j) + load<T>(g + j));
    }
    if (s != 0) {
      for (let j: usize = 0; j < bytes; j += size) store<T>(g + j, load<T>(g + j) * load<T>(s + j));
    }
  }
}

/**
 * out (+)= g0·W[0,:] + g1·W[1,:] + g2·W[2,:] + g3·W[3,:] over `bytes` of four rows rowBytes apart at p
 * (bytes = rowBytes: whole rows; less: a slice of columns, split.ts's denseBackCols — the same
 * operations, so a slice equals those columns of the whole).
 */
// @ts-ignore: decorator
@inline export function rowsTimes4<T>(out: usize, p: usize, rowBytes: usize, bytes: usize, g: usize, accumulate: bool): void {
  const size = sizeof<T>();
  const g0 = v128.splat<T>(load<T>(g));
  const g1 = v128.splat<T>(load<T>(g, size));
  const g2 = v128.splat<T>(load<T>(g, 2 * size));
  const g3 = v128.splat<T>(load<T>(g, 3 * size));
  const p1 = p + rowBytes, p2 = p1 + rowBytes, p3 = p2 + rowBytes;
  const pairs = bytes & ~(<usize>31);
  let j: usize = 0;
  for (; j < pairs; j += 32) {
    const o = out + j;
    // v0 is stored before v1 is computed: 4 splats of g + 4 loads of W + 1 of out stay live instead of
    // 4 + 8 + 2, which spilled (as in denseRows): 0–17% faster, the same operations in the same order.
    let v0 = v128.add<T>(
      v128.add<T>(v128.mul<T>(g0, v128.load(p + j)), v128.mul<T>(g1, v128.load(p1 + j))),
      v128.add<T>(v128.mul<T>(g2, v128.load(p2 + j)), v128.mul<T>(g3, v128.load(p3 + j))),
    );
    if (accumulate) v0 = v128.add<T>(v128.load(o), v0);
    v128.store(o, v0);
    let v1 = v128.add<T>(
      v128.add<T>(v128.mul<T>(g0, v128.load(p + j, 16)), v128.mul<T>(g1, v128.load(p1 + j, 16))),
      v128.add<T>(v128.mul<T>(g2, v128.load(p2 + j, 16)), v128.mul<T>(g3, v128.load(p3 + j, 16))),
    );
    if (accumulate) v1 = v128.add<T>(v128.load(o, 16), v1);
    v128.store(o, v1, 16);
  }
  if (j < bytes) {
    // One 16-byte vector left over when the width is an odd number of vectors.
    const o = out + j;
    let v0 = v128.add<T>(
      v128.add<T>(v128.mul<T>(g0, v128.load(p + j)), v128.mul<T>(g1, v128.load(p1 + j))),
      v128.add<T>(v128.mul<T>(g2, v128.load(p2 + j)), v128.mul<T>(g3, v128.load(p3 + j))),
    );
    if (accumulate) v0 = v128.add<T>(v128.load(o), v0);
    v128.store(o, v0);
  }
}

/** dense<f32>: f32 layer forward, keeps σ'. */
export function denseF32(aOut: usize, sOut: usize, w: usize, b: usize, aIn: usize, rows: i32, cols: i32, act: i32, par1: f64, par2: f64): usize {
  return dense<f32>(aOut, sOut, w, b, aIn, rows, cols, act, par1, par2);
}
/** dense<f64>: f64 layer forward, keeps σ'. */
export function denseF64(aOut: usize, sOut: usize, w: usize, b: usize, aIn: usize, rows: i32, cols: i32, act: i32, par1: f64, par2: f64): usize {
  return dense<f64>(aOut, sOut, w, b, aIn, rows, cols, act, par1, par2);
}
/** denseBack<f32>: f32 transposed product fused with the Hadamard product. */
export function denseBackF32(gOut: usize, w: usize, g: usize, s: usize, rows: i32, cols: i32, part: usize, half: i32): usize {
  return denseBack<f32>(gOut, w, g, s, rows, cols, part, half);
}
/** denseBack<f64>: f64 transposed product fused with the Hadamard product. */
export function denseBackF64(gOut: usize, w: usize, g: usize, s: usize, rows: i32, cols: i32, part: usize, half: i32): usize {
  return denseBack<f64>(gOut, w, g, s, rows, cols, part, half);
}
