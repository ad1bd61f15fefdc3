/**
 * The Jacobian's backward pass: C of the n_L rows of ∂a^[L]/∂x at once, for one input.
 *
 * Column c of a block is output k = k0 + c, and per column the recurrence is the single-input one of
 * matvec.ts with g^[L] = s^[L]_k e_k:
 *
 *   G^[L-1](j, c) = s^[L-1]_j · W^[L]_{k j} · s^[L]_k          (jacobianTop: G^[L]'s zeros never multiplied)
 *   G^[l-1](j, c) = s^[l-1]_j · Σ_i W^[l]_{i j} G^[l](i, c)     (jacobianBack, l = L-1..3)
 *   J(k, j)       = Σ_i W^[2]_{i j} G^[2](i, c)                 (jacobianBack with s = 0)
 *
 * Layout ("column rows"): each column c is one contiguous vector over the features, element (j, c) at
 * c·columnBytes + j·size, columnBytes a multiple of 16 — so the last step writes J's rows as they are.
 * A vector load of W^[l] (adjacent columns j of row i) times a splat of G(i, c) adds to lanes features of
 * column c: n_L = 10 costs 10 multiply-adds per W vector, none wasted, where the feature-major blocks of
 * gemm.ts round 10 columns up to 12 in f32. C is even (the tile takes columns in pairs); the columns past
 * n_L hold zeros. Outputs are written for whole vectors of features (cols rounded up to lanes: W's padding
 * columns are zero, so those lanes are 0 or s's padding times 0); only rows i < rows of W and G are read.
 * Nothing here allocates or checks: src/ validates.
 *
 * Register tile: 4 vectors of features × 2 columns = 8 accumulators, + 4 vectors of W + 2 splats = 14.
 * TurboFan issues a step's loads together, so a tile of 10 columns × one W vector (13 registers if the
 * loads came one by one) spilled three accumulators and ran 30–50% slower than this one (measured).
 */

/** Rows of W (and G) per block of the sum: the strip of W a row of tiles walks (64 bytes a row) stays in
 * L1 while the C / 2 column pairs reuse it (64 measured better than 32, 128 and 256 on 784-512-512-256-10). */
const ROW_BLOCK: i32 = 64;

/** acc + w·x; one fused (or unfused, as the hardware does it) relaxed_madd in the relaxed build. */
// @ts-ignore: decorator
@inline function madd<T>(acc: v128, w: v128, x: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return v128.relaxed_madd<T>(w, x, acc);
  return v128.add<T>(acc, v128.mul<T>(w, x));
}

/**
 * Four vectors of features × columns c, c+1 over `rows` rows of the sum: out(·, c) (+)= Σ_i W[i, j..]ᵀ G(i, c),
 * times s at the last block. p: W at (first row, feature j); g: G at (first row, column c); out at (j, c);
 * s: s^[l-1] at j, or 0.
 */
// @ts-ignore: decorator
@inline function backTile4x2<T>(
  out: usize, outColumn: usize, p: usize, rowBytes: usize, g: usize, gColumn: usize, s: usize, rows: i32, first: bool, last: bool,
): void {
  const size = sizeof<T>();
  const out1 = out + outColumn;
  let a0: v128, a1: v128, a2: v128, a3: v128, b0: v128, b1: v128, b2: v128, b3: v128;
  if (first) {
    a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = v128.splat<T>(0);
  } else {
    a0 = v128.load(out); a1 = v128.load(out, 16); a2 = v128.load(out, 32); a3 = v128.load(out, 48);
    b0 = v128.load(out1); b1 = v128.load(out1, 16); b2 = v128.load(out1, 32); b3 = v128.load(out1, 48);
  }
  const gEnd = g + <usize>rows * size;
  do {
    const w0 = v128.load(p), w1 = v128.load(p, 16), w2 = v128.load(p, 32), w3 = v128.load(p, 48);
    const x = v128.load_splat<T>(g);
    const y = v128.load_splat<T>(g + gColumn);
    a0 = madd<T>(a0, w0, x); a1 = madd<T>(a1, w1, x); a2 = madd<T>(a2, w2, x); a3 = madd<T>(a3, w3, x);
    b0 = madd<T>(b0, w0, y); b1 = madd<T>(b1, w1, y); b2 = madd<T>(b2, w2, y); b3 = madd<T>(b3, w3, y);
    p += rowBytes;
    g += size;
  } while (g < gEnd);
  if (last && s != 0) {
    // The Hadamard product with the one input's σ'(z^[l-1]), the same for every column, at the store.
    const s0 = v128.load(s), s1 = v128.load(s, 16), s2 = v128.load(s, 32), s3 = v128.load(s, 48);
    a0 = v128.mul<T>(a0, s0); a1 = v128.mul<T>(a1, s1); a2 = v128.mul<T>(a2, s2); a3 = v128.mul<T>(a3, s3);
    b0 = v128.mul<T>(b0, s0); b1 = v128.mul<T>(b1, s1); b2 = v128.mul<T>(b2, s2); b3 = v128.mul<T>(b3, s3);
  }
  v128.store(out, a0); v128.store(out, a1, 16); v128.store(out, a2, 32); v128.store(out, a3, 48);
  v128.store(out1, b0); v128.store(out1, b1, 16); v128.store(out1, b2, 32); v128.store(out1, b3, 48);
}

/** One vector of features × two columns (the tail of a row of tiles); arguments as in backTile4x2. */
// @ts-ignore: decorator
@inline function backTile1x2<T>(
  out: usize, outColumn: usize, p: usize, rowBytes: usize, g: usize, gColumn: usize, s: usize, rows: i32, first: bool, last: bool,
): void {
  const size = sizeof<T>();
  const out1 = out + outColumn;
  let a0: v128, b0: v128;
  if (first) {
    a0 = b0 = v128.splat<T>(0);
  } else {
    a0 = v128.load(out);
    b0 = v128.load(out1);
  }
  const gEnd = g + <usize>rows * size;
  do {
    const w0 = v128.load(p);
    a0 = madd<T>(a0, w0, v128.load_splat<T>(g));
    b0 = madd<T>(b0, w0, v128.load_splat<T>(g + gColumn));
    p += rowBytes;
    g += size;
  } while (g < gEnd);
  if (last && s != 0) {
    const s0 = v128.load(s);
    a0 = v128.mul<T>(a0, s0);
    b0 = v128.mul<T>(b0, s0);
  }
  v128.store(out, a0);
  v128.store(out1, b0);
}

/**
 * G^[l-1] = diag(s) (W^[l])ᵀ G^[l] for `width` columns (width even; s = 0: no product): W is rows × cols
 * of a [rows][stride] matrix, g holds `rows` features per column (gColumn bytes apart), out `cols`
 * (outColumn bytes apart).
 */
export function jacobianBack<T>(
  out: usize, w: usize, g: usize, s: usize, rows: i32, cols: i32, stride: i32, width: i32, outColumn: usize, gColumn: usize,
): usize {
  const size = sizeof<T>();
  const rowBytes = <usize>stride * size;
  if (ASC_FEATURE_SIMD) {
    const lanes = <i32>(16 / size);
    const vectors = (cols + lanes - 1) / lanes;
    for (let k0: i32 = 0; k0 < rows; k0 += ROW_BLOCK) {
      const k1 = min<i32>(rows, k0 + ROW_BLOCK);
      const first = k0 == 0;
      const last = k1 == rows;
      const pk = w + <usize>k0 * rowBytes;
      const gk = g + <usize>k0 * size;
      let v: i32 = 0;
      for (; v + 4 <= vectors; v += 4) {
        const at = <usize>v * 16;
        const sv = s == 0 ? 0 : s + at;
        for (let c: i32 = 0; c < width; c += 2) {
          backTile4x2<T>(out + <usize>c * outColumn + at, outColumn, pk + at, rowBytes, gk + <usize>c * gColumn, gColumn, sv, k1 - k0, first, last);
        }
      }
      for (; v < vectors; v++) {
        const at = <usize>v * 16;
        const sv = s == 0 ? 0 : s + at;
        for (let c: i32 = 0; c < width; c += 2) {
          backTile1x2<T>(out + <usize>c * outColumn + at, outColumn, pk + at, rowBytes, gk + <usize>c * gColumn, gColumn, sv, k1 - k0, first, last);
        }
      }
    }
  } else {
    // Column by column, W row by row (contiguous): out(·, c) = Σ_i G(i, c) W[i, ·], then ⊙ s.
    const bytes = <usize>cols * size;
    for (let c: i32 = 0; c < width; c++) {
      const gc = g + <usize>c * gColumn;
      const oc = out + <usize>c * outColumn;
      for (let e: usize = 0; e < bytes; e += size) store<T>(oc + e, <T>0);
      for (let i: i32 = 0; i < rows; i++) {
        const gi = load<T>(gc + <usize>i * size);
        const row = w + <usize>i * rowBytes;
        for (let e: usize = 0; e < bytes; e += size) store<T>(oc + e, load<T>(oc + e) + load<T>(row + e) * gi);
      }
      if (s != 0) for (let e: usize = 0; e < bytes; e += size) store<T>(oc + e, load<T>(oc + e) * load<T>(s + e));
    }
  }
  return out;
}

/**
 * The first backward step without the zeros of G^[L]: out(j, c) = W[k0 + c, j] · sTop[k0 + c] · s[j]
 * (s = 0: no product with s) for c < width, zeros for the columns k0 + c ≥ rows (= n_L). W is rows × cols
 * of a [rows][stride] matrix; out's columns are outColumn bytes apart.
 */
export function jacobianTop<T>(
  out: usize, w: usize, sTop: usize, s: usize, k0: i32, rows: i32, cols: i32, stride: i32, width: i32, outColumn: usize,
): usize {
  const size = sizeof<T>();
  const rowBytes = <usize>stride * size;
  for (let c: i32 = 0; c < width; c++) {
    const k = k0 + c;
    const o = out + <usize>c * outColumn;
    const row = w + <usize>k * rowBytes;
    const sk: T = k < rows ? load<T>(sTop + <usize>k * size) : <T>0;
    if (ASC_FEATURE_SIMD) {
      const v = v128.splat<T>(sk);
      const bytes = <usize>cols * size;
      for (let e: usize = 0; e < bytes; e += 16) {
        let x = k < rows ? v128.mul<T>(v128.load(row + e), v) : v128.splat<T>(0);
        if (s != 0) x = v128.mul<T>(x, v128.load(s + e));
        v128.store(o + e, x);
      }
    } else {
      for (let j: i32 = 0; j < cols; j++) {
        let x: T = k < rows ? load<T>(row + <usize>j * size) * sk : <T>0;
        if (s != 0) x *= load<T>(s + <usize>j * size);
        store<T>(o + <usize>j * size, x);
      }
    }
  }
  return out;
}

/** jacobianBack<f32>. */
export function jacobianBackF32(
  out: usize, w: usize, g: usize, s: usize, rows: i32, cols: i32, stride: i32, width: i32, outColumn: usize, gColumn: usize,
): usize {
  return jacobianBack<f32>(out, w, g, s, rows, cols, stride, width, outColumn, gColumn);
}
/** jacobianBack<f64>. */
export function jacobianBackF64(
  out: usize, w: usize, g: usize, s: usize, rows: i32, cols: i32, stride: i32, width: i32, outColumn: usize, gColumn: usize,
): usize {
  return jacobianBack<f64>(out, w, g, s, rows, cols, stride, width, outColumn, gColumn);
}
/** jacobianTop<f32>. */
export function jacobianTopF32(out: usize, w: usize, sTop: usize, s: usize, k0: i32, rows: i32, cols: i32, stride: i32, width: i32, outColumn: usize): usize {
  return jacobianTop<f32>(out, w, sTop, s, k0, rows, cols, stride, width, outColumn);
}
/** jacobianTop<f64>. */
export function jacobianTopF64(out: usize, w: usize, sTop: usize, s: usize, k0: i32, rows: i32, cols: i32, stride: i32, width: i32, outColumn: usize): usize {
  return jacobianTop<f64>(out, w, sTop, s, k0, rows, cols, stride, width, outColumn);
}
