/**
 * Value checks that src/ runs natively on large typed-array inputs after copying them in (weights of a
 * new network): the index of the first NaN or ±Infinity, or −1. x − x is 0 for every finite x and NaN
 * otherwise, and NaN is the one value unequal to itself.
 */

/** Index of the first non-finite element of x[0..n), or −1. */
export function firstNonFinite<T>(x: usize, n: i32): i32 {
  const size = sizeof<T>();
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    const lanes = <i32>(16 / <i32>size);
    for (; i + lanes <= n; i += lanes) {
      const v = v128.load(x + <usize>i * size);
      const d = v128.sub<T>(v, v);
      if (v128.any_true(v128.ne<T>(d, d))) break; // the scalar loop below finds the lane
    }
  }
  for (; i < n; i++) {
    const v = load<T>(x + <usize>i * size);
    if (v - v != v - v) return i;
  }
  return -1;
}

/** firstNonFinite<f32>. */
export function firstNonFiniteF32(x: usize, n: i32): i32 {
  return firstNonFinite<f32>(x, n);
}
/** firstNonFinite<f64>. */
export function firstNonFiniteF64(x: usize, n: i32): i32 {
  return firstNonFinite<f64>(x, n);
}
