/**
 * Batched kernels: one pass over W^[l] for a block of mb inputs (matrix·matrix).
 *
 * Layout ("feature-major block"): mb samples of an n-vector are stored as [n][mb], element (feature j,
 * sample c) at j*mb + c, so one 16-byte vector holds 4 (f32) or 2 (f64) samples of the same feature.
 * mb is a multiple of 8 and every buffer starts on a 16-byte boundary, so the sample loops never need
 * a tail. (The Jacobian, whose n_L columns are no multiple of 8, has kernels of its own: jacobian.ts.) W^[l] is row-major [rows][stride] exactly as in matvec.ts (stride = padded n_{l-1}, padding
 * columns 0); cols is the true n_{l-1}, because a [cols][mb] block has no padding rows to multiply them with.
 * rows and cols are at least 1. Outputs must not overlap any input: gemm writes row blocks of aOut while
 * later ones still read aIn, and gemmT keeps partial sums in gOut before it reads s.
 * All arguments are byte offsets into linear memory and element counts; each kernel writes into its
 * first argument and returns it. Nothing here allocates or checks: src/ validates at the boundary.
 *
 * Column by column (sample c) these are the single-input equations of matvec.ts:
 *   gemm   A^[l] = σ(W^[l] A^[l-1] + b^[l] 1ᵀ),  S^[l] = σ'(Z^[l])                      (eqs. 3.1–3.2)
 *          (σ with code act and parameters p1, p2: see activation.ts)
 *   gemmT  G^[l] = ((W^[l+1])ᵀ G^[l+1]) ⊙ S^[l];  with s = 0 just (W^[2])ᵀ G^[2] = ∇ₓ a^[L] per sample
 *
 * Register tile: 4 output rows × 32 bytes of samples (8 f32 or 4 f64) = 8 v128 accumulators. Each step of
 * the inner loop loads the 32-byte sample slice of one input row once and multiplies it by 4 splatted
 * weights; 8 accumulators + 2 inputs + a splat stay within V8's 16 xmm registers (more spills and halves
 * the throughput). Tiles run row block by row block, samples inside, so the 4 weight rows (gemm) or the
 * weight strip (gemmT) are reused from L1 by every sample tile. gemm sums over all of cols in one go
 * (blocking that sum measured no faster for 256–1024 columns, mb 64–256); gemmT walks W down columns and
 * blocks its sum (see blockForT), keeping partial sums in gOut between blocks.
 */
import { GELU, SIGMOID, SWISH, activate, extra, extraDerivative } from "./activation";
import { GELU_VECTOR_MAX, SWISH_VECTOR_MAX, geluVector, sigmoidVector, swishVector } from "./vmath";

/** Bytes of samples in one register tile: two v128 per output row. */
const TILE_BYTES: usize = 32;
/** gemmT: bytes of the [block][mb] slice of g that one block of the sum keeps in L1 … */
const BLOCK_BYTES: usize = 16384;
/** … but at least this many rows (partial sums cost 8 loads and 8 stores per tile and block) … */
const BLOCK_MIN: i32 = 16;
/** … and, where W's stride crowds its rows into few L1 sets, at least this many (see blockForT). */
const BLOCK_T_MIN: i32 = 8;
/** Bytes after which L1 set indices repeat (64 sets × 64-byte lines), and the number of sets. */
const LINE_PERIOD: usize = 4096;
const L1_SETS: usize = 64;

/** acc + w·x; one fused (or unfused, as the hardware does it) relaxed_madd in the relaxed build. */
// @ts-ignore: decorator
@inline function madd<T>(acc: v128, w: v128, x: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return v128.relaxed_madd<T>(w, x, acc);
  return v128.add<T>(acc, v128.mul<T>(w, x));
}

/**
 * gemmT's block: it walks W down columns, and the strip of W it reuses (one cache line per row of the
 * block) must stay in L1. Rows rowBytes apart fall into only 4096 / gcd(rowBytes, 4096) of L1's 64 sets
 * (4 KiB per way on every current x86 and most ARM cores): 1 set at a stride of 1024 f32, where 8-way L1
 * keeps just 8 of the lines. So the block is at most 4 lines per set reached (and at least 8 rows), and
 * otherwise as long as fits BLOCK_BYTES of g.
 * Measured at 1024 × 1024 f32: 8 rows ≈ 1.25× faster than 64; at 256 × 256, 16 beat 8 and 64.
 */
// @ts-ignore: decorator
@inline function blockForT(rowBytes: usize, mbBytes: usize): i32 {
  let g: usize = LINE_PERIOD;
  let r = rowBytes & (LINE_PERIOD - 1);
  while (r != 0) {
    const t = g % r;
    g = r;
    r = t;
  }
  const sets = <i32>min<usize>(L1_SETS, LINE_PERIOD / g);
  const fill = max<i32>(BLOCK_MIN, <i32>(BLOCK_BYTES / mbBytes));
  return min<i32>(fill, max<i32>(BLOCK_T_MIN, 4 * sets));
}

/** σ and σ' over `bytes` of z values stored contiguously at `out` (whole rows of the [rows][mb] block). */
function activateRows<T>(out: usize, sOut: usize, bytes: usize, act: i32, p1: f64, p2: f64): void {
  // Deliberately not @inline: inside gemm's body this loop (with its calls to exp) cost the tile loops
  // registers and the whole kernel ≈ 13% at 256 × 256 (measured); one call per row block costs nothing.
  if (ASC_FEATURE_SIMD && act == SIGMOID) {
    // Whole vectors at a time (vmath.ts): 1.6× the scalar form per element in f32, and in f64 too since
    // vmath.ts loads its constants from tables (the two-lane form once measured slower than scalar exp).
    for (let e: usize = 0; e < bytes; e += 16) sigmoidVector<T>(v128.load(out + e), out + e, sOut + e);
    return;
  }
  if (ASC_FEATURE_SIMD && sizeof<T>() == 4 && (act == SWISH || act == GELU)) {
    // Four lanes at a time too, except for a vector with some |z| beyond the vector form's range
    // (saturated: rare in a trained network), which takes the f64 form lane by lane.
    const limit = f32x4.splat(act == SWISH ? SWISH_VECTOR_MAX : GELU_VECTOR_MAX);
    for (let e: usize = 0; e < bytes; e += 16) {
      const z = v128.load(out + e);
      if (v128.any_true(f32x4.gt(f32x4.abs(z), limit))) {
        for (let j: usize = 0; j < 16; j += 4) {
          store<f32>(out + e + j, <f32>extra(<f64>load<f32>(out + e + j), act, 0, 0));
          store<f32>(sOut + e + j, <f32>extraDerivative());
        }
      } else if (act == SWISH) {
        swishVector(z, out + e, sOut + e);
      } else {
        geluVector(z, out + e, sOut + e);
      }
    }
    return;
  }
  for (let e: usize = 0; e < bytes; e += sizeof<T>()) activate<T>(load<T>(out + e), act, p1, p2, out + e, sOut + e);
}

/**
 * z for four rows of a gemm tile: out = b[4 rows] + W[4 rows, 0..n) · x[0..n, 32 bytes], n ≥ 1.
 * p: W at row i; b: b at i; x: aIn at sample c; out: aOut at (row i, sample c).
 */
// @ts-ignore: decorator
@inline function gemmTile4<T>(out: usize, p: usize, rowBytes: usize, b: usize, x: usize, mbBytes: usize, n: i32): void {
  const size = sizeof<T>();
  let c0 = v128.load_splat<T>(b), c1 = c0;
  let c2 = v128.load_splat<T>(b, size), c3 = c2;
  let c4 = v128.load_splat<T>(b, 2 * size), c5 = c4;
  let c6 = v128.load_splat<T>(b, 3 * size), c7 = c6;
  // Bumped pointers and a test on x alone: the fewest integer operations per step. (Indexing four row
  // pointers by a counter, or unrolling, measured 15–40% slower: V8 spills or re-derives addresses.)
  const xEnd = x + <usize>n * mbBytes;
  do {
    const x0 = v128.load(x);
    const x1 = v128.load(x, 16);
    let w = v128.load_splat<T>(p);
    c0 = madd<T>(c0, w, x0);
    c1 = madd<T>(c1, w, x1);
    const p1 = p + rowBytes;
    w = v128.load_splat<T>(p1);
    c2 = madd<T>(c2, w, x0);
    c3 = madd<T>(c3, w, x1);
    const p2 = p1 + rowBytes;
    w = v128.load_splat<T>(p2);
    c4 = madd<T>(c4, w, x0);
    c5 = madd<T>(c5, w, x1);
    w = v128.load_splat<T>(p2 + rowBytes);
    c6 = madd<T>(c6, w, x0);
    c7 = madd<T>(c7, w, x1);
    p += size;
    x += mbBytes;
  } while (x < xEnd);
  const o1 = out + mbBytes, o2 = o1 + mbBytes, o3 = o2 + mbBytes;
  v128.store(out, c0); v128.store(out, c1, 16);
  v128.store(o1, c2); v128.store(o1, c3, 16);
  v128.store(o2, c4); v128.store(o2, c5, 16);
  v128.store(o3, c6); v128.store(o3, c7, 16);
}

/** One row of a gemm tile (the rows % 4 tail); arguments as in gemmTile4. */
// @ts-ignore: decorator
@inline function gemmTile1<T>(out: usize, p: usize, b: usize, x: usize, mbBytes: usize, n: i32): void {
  let c0 = v128.load_splat<T>(b), c1 = c0;
  const xEnd = x + <usize>n * mbBytes;
  do {
    const w = v128.load_splat<T>(p);
    c0 = madd<T>(c0, w, v128.load(x));
    c1 = madd<T>(c1, w, v128.load(x, 16));
    p += sizeof<T>();
    x += mbBytes;
  } while (x < xEnd);
  v128.store(out, c0);
  v128.store(out, c1, 16);
}

/**
 * aOut = σ(W·aIn + b 1ᵀ), sOut = σ'(W·aIn + b 1ᵀ) for a block of mb samples: W is rows × cols of a
 * [rows][stride] matrix, aIn is [cols][mb], aOut and sOut are [rows][mb].
 */
export function gemm<T>(
  aOut: usize, sOut: usize, w: usize, b: usize, aIn: usize, rows: i32, cols: i32, stride: i32, mb: i32, act: i32, p1: f64, p2: f64,
): usize {
  const size = sizeof<T>();
  const rowBytes = <usize>stride * size;
  const mbBytes = <usize>mb * size;
  if (ASC_FEATURE_SIMD) {
    let i: i32 = 0;
    for (; i + 4 <= rows; i += 4) {
      const at = <usize>i * mbBytes;
      const p = w + <usize>i * rowBytes;
      const bi = b + <usize>i * size;
      for (let c: usize = 0; c < mbBytes; c += TILE_BYTES) gemmTile4<T>(aOut + at + c, p, rowBytes, bi, aIn + c, mbBytes, cols);
      // σ over the finished row block (4 rows × mb, contiguous and still in L1).
      activateRows<T>(aOut + at, sOut + at, 4 * mbBytes, act, p1, p2);
    }
    // Remaining rows (1–3): one row per tile.
    for (; i < rows; i++) {
      const at = <usize>i * mbBytes;
      const p = w + <usize>i * rowBytes;
      const bi = b + <usize>i * size;
      for (let c: usize = 0; c < mbBytes; c += TILE_BYTES) gemmTile1<T>(aOut + at + c, p, bi, aIn + c, mbBytes, cols);
      activateRows<T>(aOut + at, sOut + at, mbBytes, act, p1, p2);
    }
  } else {
    // Row by row: out[i,:] = b_i, then out[i,:] += W_ij·aIn[j,:] (contiguous in the samples), then σ, σ'.
    for (let i: i32 = 0; i < rows; i++) {
      const out = aOut + <usize>i * mbBytes;
      const row = w + <usize>i * rowBytes;
      const bi = load<T>(b + <usize>i * size);
      for (let c: usize = 0; c < mbBytes; c += size) store<T>(out + c, bi);
      for (let j: i32 = 0; j < cols; j++) {
        const wij = load<T>(row + <usize>j * size);
        const x = aIn + <usize>j * mbBytes;
        for (let c: usize = 0; c < mbBytes; c += size) store<T>(out + c, load<T>(out + c) + wij * load<T>(x + c));
      }
      activateRows<T>(out, sOut + <usize>i * mbBytes, mbBytes, act, p1, p2);
    }
  }
  return aOut;
}

/**
 * Four output rows (features j..j+3) of a gemmT tile over n ≥ 1 steps of the summed index k:
 * out (+)= W[block, j..j+3]ᵀ · g[block, 32 bytes]. p: W at (first row of the block, column j);
 * g: at (first row of the block, sample c); out, s: (row j, sample c), s = 0 for no Hadamard product.
 */
// @ts-ignore: decorator
@inline function gemmTTile4<T>(
  out: usize, p: usize, rowBytes: usize, g: usize, s: usize, mbBytes: usize, n: i32, first: bool, last: bool,
): void {
  const size = sizeof<T>();
  const o1 = out + mbBytes, o2 = o1 + mbBytes, o3 = o2 + mbBytes;
  let c0: v128, c1: v128, c2: v128, c3: v128, c4: v128, c5: v128, c6: v128, c7: v128;
  if (first) {
    c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = v128.splat<T>(0);
  } else {
    c0 = v128.load(out); c2 = v128.load(o1); c4 = v128.load(o2); c6 = v128.load(o3);
    c1 = v128.load(out, 16); c3 = v128.load(o1, 16); c5 = v128.load(o2, 16); c7 = v128.load(o3, 16);
  }
  const gEnd = g + <usize>n * mbBytes;
  do {
    // W[k, j..j+3] are adjacent: four splats with immediate offsets from one address.
    const x0 = v128.load(g);
    let w = v128.load_splat<T>(p);
    c0 = madd<T>(c0, w, x0);
    w = v128.load_splat<T>(p, size);
    c2 = madd<T>(c2, w, x0);
    w = v128.load_splat<T>(p, 2 * size);
    c4 = madd<T>(c4, w, x0);
    w = v128.load_splat<T>(p, 3 * size);
    c6 = madd<T>(c6, w, x0);
    const x1 = v128.load(g, 16);
    w = v128.load_splat<T>(p);
    c1 = madd<T>(c1, w, x1);
    w = v128.load_splat<T>(p, size);
    c3 = madd<T>(c3, w, x1);
    w = v128.load_splat<T>(p, 2 * size);
    c5 = madd<T>(c5, w, x1);
    w = v128.load_splat<T>(p, 3 * size);
    c7 = madd<T>(c7, w, x1);
    p += rowBytes;
    g += mbBytes;
  } while (g < gEnd);
  if (last && s != 0) {
    // The Hadamard product with σ'(z) is fused into the final store.
    const s1 = s + mbBytes, s2 = s1 + mbBytes, s3 = s2 + mbBytes;
    c0 = v128.mul<T>(c0, v128.load(s)); c2 = v128.mul<T>(c2, v128.load(s1));
    c4 = v128.mul<T>(c4, v128.load(s2)); c6 = v128.mul<T>(c6, v128.load(s3));
    c1 = v128.mul<T>(c1, v128.load(s, 16)); c3 = v128.mul<T>(c3, v128.load(s1, 16));
    c5 = v128.mul<T>(c5, v128.load(s2, 16)); c7 = v128.mul<T>(c7, v128.load(s3, 16));
  }
  v128.store(out, c0); v128.store(o1, c2); v128.store(o2, c4); v128.store(o3, c6);
  v128.store(out, c1, 16); v128.store(o1, c3, 16); v128.store(o2, c5, 16); v128.store(o3, c7, 16);
}

/** One output row of a gemmT tile (the cols % 4 tail); arguments as in gemmTTile4. */
// @ts-ignore: decorator
@inline function gemmTTile1<T>(
  out: usize, p: usize, rowBytes: usize, g: usize, s: usize, mbBytes: usize, n: i32, first: bool, last: bool,
): void {
  let c0: v128, c1: v128;
  if (first) {
    c0 = c1 = v128.splat<T>(0);
  } else {
    c0 = v128.load(out);
    c1 = v128.load(out, 16);
  }
  const gEnd = g + <usize>n * mbBytes;
  do {
    const w = v128.load_splat<T>(p);
    c0 = madd<T>(c0, w, v128.load(g));
    c1 = madd<T>(c1, w, v128.load(g, 16));
    p += rowBytes;
    g += mbBytes;
  } while (g < gEnd);
  if (last && s != 0) {
    c0 = v128.mul<T>(c0, v128.load(s));
    c1 = v128.mul<T>(c1, v128.load(s, 16));
  }
  v128.store(out, c0);
  v128.store(out, c1, 16);
}

/**
 * gOut = (Wᵀ g) ⊙ s, or Wᵀ g when s = 0, for a block of mb samples: W is rows × cols of a [rows][stride]
 * matrix, g is [rows][mb], gOut and s are [cols][mb].
 */
export function gemmT<T>(gOut: usize, w: usize, g: usize, s: usize, rows: i32, cols: i32, stride: i32, mb: i32): usize {
  const size = sizeof<T>();
  const rowBytes = <usize>stride * size;
  const mbBytes = <usize>mb * size;
  if (ASC_FEATURE_SIMD) {
    const block = blockForT(rowBytes, mbBytes);
    for (let k0: i32 = 0; k0 < rows; k0 += block) {
      const k1 = min<i32>(rows, k0 + block);
      const n = k1 - k0;
      const first = k0 == 0;
      const last = k1 == rows;
      const gk = g + <usize>k0 * mbBytes;
      const p = w + <usize>k0 * rowBytes;
      let j: i32 = 0;
      for (; j + 4 <= cols; j += 4) {
        const at = <usize>j * mbBytes;
        const pj = p + <usize>j * size;
        for (let c: usize = 0; c < mbBytes; c += TILE_BYTES) {
          gemmTTile4<T>(gOut + at + c, pj, rowBytes, gk + c, s == 0 ? 0 : s + at + c, mbBytes, n, first, last);
        }
      }
      // Remaining columns (1–3): one output row per tile.
      for (; j < cols; j++) {
        const at = <usize>j * mbBytes;
        const pj = p + <usize>j * size;
        for (let c: usize = 0; c < mbBytes; c += TILE_BYTES) {
          gemmTTile1<T>(gOut + at + c, pj, rowBytes, gk + c, s == 0 ? 0 : s + at + c, mbBytes, n, first, last);
        }
      }
    }
  } else {
    // Output row by output row: out[j,:] = Σ_k W_kj·g[k,:] (contiguous in the samples), then ⊙ s[j,:].
    for (let j: i32 = 0; j < cols; j++) {
      const out = gOut + <usize>j * mbBytes;
      for (let c: usize = 0; c < mbBytes; c += size) store<T>(out + c, <T>0);
      for (let k: i32 = 0; k < rows; k++) {
        const wkj = load<T>(w + <usize>k * rowBytes + <usize>j * size);
        const x = g + <usize>k * mbBytes;
        for (let c: usize = 0; c < mbBytes; c += size) store<T>(out + c, load<T>(out + c) + wkj * load<T>(x + c));
      }
      if (s != 0) {
        const sj = s + <usize>j * mbBytes;
        for (let c: usize = 0; c < mbBytes; c += size) store<T>(out + c, load<T>(out + c) * load<T>(sj + c));
      }
    }
  }
  return gOut;
}

/** gemm<f32>: f32 batched layer forward, keeps σ'. */
export function gemmF32(
  aOut: usize, sOut: usize, w: usize, b: usize, aIn: usize, rows: i32, cols: i32, stride: i32, mb: i32, act: i32, p1: f64, p2: f64,
): usize {
  return gemm<f32>(aOut, sOut, w, b, aIn, rows, cols, stride, mb, act, p1, p2);
}
/** gemm<f64>: f64 batched layer forward, keeps σ'. */
export function gemmF64(
  aOut: usize, sOut: usize, w: usize, b: usize, aIn: usize, rows: i32, cols: i32, stride: i32, mb: i32, act: i32, p1: f64, p2: f64,
): usize {
  return gemm<f64>(aOut, sOut, w, b, aIn, rows, cols, stride, mb, act, p1, p2);
}
/** gemmT<f32>: f32 batched transposed product fused with the Hadamard product. */
export function gemmTF32(gOut: usize, w: usize, g: usize, s: usize, rows: i32, cols: i32, stride: i32, mb: i32): usize {
  return gemmT<f32>(gOut, w, g, s, rows, cols, stride, mb);
}
/** gemmT<f64>: f64 batched transposed product fused with the Hadamard product. */
export function gemmTF64(gOut: usize, w: usize, g: usize, s: usize, rows: i32, cols: i32, stride: i32, mb: i32): usize {
  return gemmT<f64>(gOut, w, g, s, rows, cols, stride, mb);
}
