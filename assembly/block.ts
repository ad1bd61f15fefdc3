/**
 * Small helpers on feature-major blocks [n][mb] (see gemm.ts) that the Jacobian needs.
 */

/** out[j·mb + c] *= s[j] for j < rows, c < mb (mb a multiple of 8): the Hadamard product with σ'(z) of
 * one input, broadcast over the block's columns. */
export function scaleRows<T>(out: usize, s: usize, rows: i32, mb: i32): usize {
  const size = sizeof<T>();
  const rowBytes = <usize>mb * size;
  for (let j = 0; j < rows; j++) {
    const row = out + <usize>j * rowBytes;
    const sj = load<T>(s + <usize>j * size);
    if (ASC_FEATURE_SIMD) {
      const v = v128.splat<T>(sj);
      for (let c: usize = 0; c < rowBytes; c += 16) v128.store(row + c, v128.mul<T>(v128.load(row + c), v));
    } else {
      for (let c: usize = 0; c < rowBytes; c += size) store<T>(row + c, load<T>(row + c) * sj);
    }
  }
  return out;
}

/** scaleRows<f32>. */
export function scaleRowsF32(out: usize, s: usize, rows: i32, mb: i32): usize {
  return scaleRows<f32>(out, s, rows, mb);
}
/** scaleRows<f64>. */
export function scaleRowsF64(out: usize, s: usize, rows: i32, mb: i32): usize {
  return scaleRows<f64>(out, s, rows, mb);
}
