/**
 * Kernels for one input split across threads (src/split.ts drives them): each thread computes a slice
 * of every layer, on the same shared memory, and the slices together equal the one-thread result bit
 * for bit.
 *
 *   forward   rows [r0, r1) of a^[l] = σ(W^[l] a^[l-1] + b^[l]): matvec.ts's dense on W + r0·rowBytes
 *             (no kernel here; r0 a multiple of 4, so the 4-row blocks are those of one thread)
 *   backward  a layer whose sum denseBack halves (half > 0): rows [half, rows) into g^[l] and rows
 *             [0, half) into the scratch P, on two threads (backRowsF32/F64: matvec.ts's backRows, each
 *             sweeping whole rows), then g^[l] = (P + g^[l]) ⊙ s^[l] by ranges of entries (backCombineF32/F64)
 *             as the next phase's chunks come to read them;
 *             any other layer: columns [c0, c1) of g^[l] = ((W^[l+1])ᵀ g^[l+1]) ⊙ s^[l]: denseBackCols
 *             below, which is matvec.ts's denseBack (half = 0) with the row stride of W apart from the
 *             width it sweeps
 *
 * Every output element of denseBack is a sum over the rows k of W in a fixed order (last rows one at a
 * time, then blocks of four from the top down; rows 0 → n−1 in the scalar build), lane by lane, so a
 * column slice repeats exactly the operations one thread does for those columns. The four-row step
 * (rowsTimes4) and madd are matvec.ts's own; keep denseBackCols's loop in step with denseBack's: any
 * change to their order of operations must be made in both, or the pool's results stop equalling one
 * thread's (tests/split.test.ts checks).
 */

import { backCombine, backRows, madd, rowsTimes4 } from "./matvec";

/**
 * Columns of gOut = (Wᵀ g) ⊙ s (or Wᵀ g when s = 0) for a slice of `width` columns: gOut, w and s point at
 * the slice's first column, rows of W are `stride` elements apart, width is a whole number of vectors.
 */
export function denseBackCols<T>(gOut: usize, w: usize, g: usize, s: usize, rows: i32, stride: i32, width: i32): usize {
  const size = sizeof<T>();
  const rowBytes = <usize>stride * size;
  const bytes = <usize>width * size;
  if (ASC_FEATURE_SIMD) {
    const blocks = rows & ~3;
    for (let k = rows - 1; k >= blocks; k--) {
      const gk = v128.splat<T>(load<T>(g + <usize>k * size));
      const row = w + <usize>k * rowBytes;
      if (k == rows - 1) {
        for (let j: usize = 0; j < bytes; j += 16) v128.store(gOut + j, v128.mul<T>(gk, v128.load(row + j)));
      } else {
        for (let j: usize = 0; j < bytes; j += 16) {
          v128.store(gOut + j, madd<T>(v128.load(gOut + j), gk, v128.load(row + j)));
        }
      }
    }
    for (let k = blocks - 4; k >= 0; k -= 4) {
      const p = w + <usize>k * rowBytes;
      if (k + 4 == rows) rowsTimes4<T>(gOut, p, rowBytes, bytes, g + <usize>k * size, false);
      else rowsTimes4<T>(gOut, p, rowBytes, bytes, g + <usize>k * size, true);
    }
    if (s != 0) {
      for (let j: usize = 0; j < bytes; j += 16) {
        v128.store(gOut + j, v128.mul<T>(v128.load(gOut + j), v128.load(s + j)));
      }
    }
  } else {
    for (let j: usize = 0; j < bytes; j += size) store<T>(gOut + j, load<T>(g) * load<T>(w + j));
    for (let k = 1; k < rows; k++) {
      const gk = load<T>(g + <usize>k * size);
      const row = w + <usize>k * rowBytes;
      for (let j: usize = 0; j < bytes; j += size) {
        store<T>(gOut + j, load<T>(gOut + j) + gk * load<T>(row + j));
      }
    }
    if (s != 0) {
      for (let j: usize = 0; j < bytes; j += size) {
        store<T>(gOut + j, load<T>(gOut + j) * load<T>(s + j));
      }
    }
  }
  return gOut;
}

/** denseBackCols<f32>. */
export function denseBackColsF32(gOut: usize, w: usize, g: usize, s: usize, rows: i32, stride: i32, width: i32): usize {
  return denseBackCols<f32>(gOut, w, g, s, rows, stride, width);
}
/** denseBackCols<f64>. */
export function denseBackColsF64(gOut: usize, w: usize, g: usize, s: usize, rows: i32, stride: i32, width: i32): usize {
  return denseBackCols<f64>(gOut, w, g, s, rows, stride, width);
}
/** backRows<f32>: gOut = Σ_k g_k·W[k,:] over `rows` rows, one thread's order (matvec.ts). */
export function backRowsF32(gOut: usize, w: usize, g: usize, rows: i32, cols: i32): usize {
  backRows<f32>(gOut, w, g, rows, cols);
  return gOut;
}
/** backRows<f64>. */
export function backRowsF64(gOut: usize, w: usize, g: usize, rows: i32, cols: i32): usize {
  backRows<f64>(gOut, w, g, rows, cols);
  return gOut;
}
/** backCombine<f32>: g = (part + g) ⊙ s over `count` elements (s = 0: part + g). */
export function backCombineF32(g: usize, part: usize, s: usize, count: i32): usize {
  backCombine<f32>(g, part, s, count);
  return g;
}
/** backCombine<f64>. */
export function backCombineF64(g: usize, part: usize, s: usize, count: i32): usize {
  backCombine<f64>(g, part, s, count);
  return g;
}
