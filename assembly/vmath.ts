/**
 * Vector forms (f32x4 / f64x2) of the activations the batched and 4-row kernels apply to whole vectors
 * of z at once. Only for the SIMD build; callers fall back to activation.ts lane by lane otherwise.
 *
 * expNeg(x) = e^x for x ≤ 0 (the sigmoid and softplus only ever need e^−|z|):
 *   k = round(x / ln 2), r = x − k·ln 2 (ln 2 in two parts, so r is exact), |r| ≤ ln 2 / 2;
 *   e^r by its Taylor polynomial — degree 7 in f32 (remainder < 6e−9 relative), degree 13 in f64
 *   (< 1e−18) — and 2^k from the exponent bits in two halves, so that results in the subnormal range
 *   (k below the smallest normal exponent) round once more instead of overflowing the exponent field.
 * sigmoid: e = expNeg(−|z|), r = 1/(1+e), σ = r or e·r by the sign of z, σ' = e·r² — the forms of
 * activation.ts, so both paths agree to rounding.
 * swish: from the same s = sigmoid(z) and q = e·r² = s(1 − s): σ = z·s, σ' = s + z·q (f32 only; the
 * scalar path evaluates swish in f64, so the two agree to a few f32 ulps rather than to rounding).
 */

/** acc + w·x; one relaxed_madd in the relaxed build (fused where the hardware has FMA). */
// @ts-ignore: decorator
@inline function madd<T>(acc: v128, w: v128, x: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return v128.relaxed_madd<T>(w, x, acc);
  return v128.add<T>(acc, v128.mul<T>(w, x));
}

// The constants of expNeg, the polynomials and the sigmoid, splatted by one load from these tables
// (v128.load32_splat / load64_splat: one vbroadcastss or movddup) instead of v128.splat of a literal:
// V8 rebuilds each literal v128 inside the loop with three instructions (movq, vmovq, vpunpcklqdq),
// and a sigmoid vector needs about twenty of them (f64 sigmoid pass: ~140 instructions per vector).
// Slots: 0 clamp, 1 1/ln 2, 2 shifter, 3 ln 2 rounded short, 4 ln 2 minus slot 3, 5 unused,
// 6.. the Taylor coefficients 1/n! from n = 0 (so slot 6 is also the sigmoid's 1).
const C32 = memory.data<f32>([
  -104.0, 1.44269504088896341, 12582912.0, 0.693359375, -2.12194440e-4, 0,
  1.0, 1.0, 0.5, 0.16666666666666666, 0.041666666666666664, 0.008333333333333333, 0.001388888888888889, 0.0001984126984126984,
]);
const C64 = memory.data<f64>([
  -746.0, 1.4426950408889634, 6755399441055744.0, 6.93147180369123816490e-01, 1.90821492927058770002e-10, 0,
  1.0, 1.0, 0.5, 0.16666666666666666, 0.041666666666666664, 0.008333333333333333, 0.001388888888888889, 0.0001984126984126984,
  2.48015873015873e-05, 2.7557319223985893e-06, 2.755731922398589e-07, 2.505210838544172e-08, 2.08767569878681e-09, 1.6059043836821613e-10,
  0.5,
]);
const CLAMP = 0, LOG2E = 1, SHIFT = 2, LN2_HI = 3, LN2_LO = 4, TAYLOR = 6;
/** Slot of 0.5 in C64 (f64's halving of k). */
const HALF64 = 20;

/** The exponent biases as integers (2^k from k's bits: f32 k + 127, f64 k + 1023 − the shifter's bits). */
const BIAS32 = memory.data<i32>([127]);
const BIAS64 = memory.data<i64>([1023 - 0x4338000000000000]);

/** Slot i of the precision's table, splatted. */
// @ts-ignore: decorator
@inline function constant<T>(i: i32): v128 {
  if (sizeof<T>() == 4) return v128.load32_splat(C32 + <usize>i * 4);
  return v128.load64_splat(C64 + <usize>i * 8);
}

// e^r on |r| ≤ ln 2 / 2: the Taylor coefficients 1/n! by Estrin's scheme (pairs c_2k + c_2k+1·r, then
// pairs of those with r², r⁴, r⁸), not Horner's: the same accuracy (the terms are all below 1 − |r| and
// the last additions are 1 + r and its r² term, as in Horner), but a chain of 3 (f32) or 4 (f64)
// multiply-adds after r² instead of 7 or 13 — the sigmoid pass over a layer was latency-bound
// (f64: ~60 cycles per vector with Horner).
// @ts-ignore: decorator
@inline function pair<T>(n: i32, r: v128): v128 {
  return madd<T>(constant<T>(TAYLOR + n), constant<T>(TAYLOR + n + 1), r);
}

// @ts-ignore: decorator
@inline function polyF32(r: v128): v128 {
  const r2 = f32x4.mul(r, r);
  const r4 = f32x4.mul(r2, r2);
  const s0 = madd<f32>(pair<f32>(0, r), pair<f32>(2, r), r2);
  const s1 = madd<f32>(pair<f32>(4, r), pair<f32>(6, r), r2);
  return madd<f32>(s0, s1, r4);
}

// @ts-ignore: decorator
@inline function polyF64(r: v128): v128 {
  const r2 = f64x2.mul(r, r);
  const r4 = f64x2.mul(r2, r2);
  const r8 = f64x2.mul(r4, r4);
  const s0 = madd<f64>(pair<f64>(0, r), pair<f64>(2, r), r2);
  const s1 = madd<f64>(pair<f64>(4, r), pair<f64>(6, r), r2);
  const s2 = madd<f64>(pair<f64>(8, r), pair<f64>(10, r), r2);
  const s3 = pair<f64>(12, r);
  return madd<f64>(madd<f64>(s0, s1, r4), madd<f64>(s2, s3, r4), r8);
}

/** e^x lane by lane for x ≤ 0 (any finite or −∞ lane gives a value in [0, 1]). */
// @ts-ignore: decorator
@inline export function expNeg<T>(x: v128): v128 {
  // k = round(x / ln 2) by the shifter trick: adding 1.5·2^(p−1) (p = mantissa bits) rounds to an
  // integer and leaves k in the low bits of the sum, so no float→int conversion (which V8 expands
  // into long sequences) is needed, and pmax (one instruction) does the clamp.
  if (sizeof<T>() == 4) {
    const shifter = constant<f32>(SHIFT); // 1.5 · 2^23, bits 0x4B400000
    const xc = f32x4.pmax(x, constant<f32>(CLAMP)); // below −104, e^x is under half the least subnormal
    const t = f32x4.add(f32x4.mul(xc, constant<f32>(LOG2E)), shifter);
    const k = f32x4.sub(t, shifter);
    let r = f32x4.sub(xc, f32x4.mul(k, constant<f32>(LN2_HI)));
    r = f32x4.sub(r, f32x4.mul(k, constant<f32>(LN2_LO)));
    const ki = i32x4.sub(t, shifter);
    const half = i32x4.shr_s(ki, 1);
    const bias = v128.load32_splat(BIAS32);
    const s1 = i32x4.shl(i32x4.add(half, bias), 23);
    const s2 = i32x4.shl(i32x4.add(i32x4.sub(ki, half), bias), 23);
    return f32x4.mul(f32x4.mul(polyF32(r), s1), s2);
  } else {
    const shifter = constant<f64>(SHIFT); // 1.5 · 2^52, bits 0x4338000000000000
    const xc = f64x2.pmax(x, constant<f64>(CLAMP)); // below −746, e^x is under half the least subnormal
    const t = f64x2.add(f64x2.mul(xc, constant<f64>(LOG2E)), shifter);
    const k = f64x2.sub(t, shifter);
    let r = f64x2.sub(xc, f64x2.mul(k, constant<f64>(LN2_HI)));
    r = f64x2.sub(r, f64x2.mul(k, constant<f64>(LN2_LO)));
    // 2^k as 2^h · 2^(k−h) with h = round(k/2), each half a normal exponent even when 2^k is not.
    const th = f64x2.add(f64x2.nearest(f64x2.mul(k, constant<f64>(HALF64))), shifter);
    const tk = f64x2.add(f64x2.sub(k, f64x2.sub(th, shifter)), shifter);
    const bias = v128.load64_splat(BIAS64);
    const s1 = i64x2.shl(i64x2.add(th, bias), 52);
    const s2 = i64x2.shl(i64x2.add(tk, bias), 52);
    return f64x2.mul(f64x2.mul(polyF64(r), s1), s2);
  }
}

/** σ(z) and σ'(z) of the sigmoid for one vector of z, stored at a and s (16-byte aligned). */
// @ts-ignore: decorator
@inline export function sigmoidVector<T>(z: v128, a: usize, s: usize): void {
  const e = expNeg<T>(v128.neg<T>(v128.abs<T>(z)));
  const one = constant<T>(TAYLOR);
  const r = v128.div<T>(one, v128.add<T>(one, e));
  const er = v128.mul<T>(e, r);
  // Lanes with z ≥ 0 take r, the others e·r.
  v128.store(a, v128.bitselect(r, er, v128.ge<T>(z, v128.splat<T>(<T>0))));
  v128.store(s, v128.mul<T>(er, r));
}

/**
 * swish σ(z) = z·sigmoid(z) and σ'(z) for one f32x4 of z, stored at a and s. Every lane must have
 * |z| ≤ SWISH_VECTOR_MAX: beyond, e^−|z| nears f32's subnormals and expNeg's clamp, where z·e^−|z| would
 * lose its digits; callers take the scalar path for such vectors.
 */
// @ts-ignore: decorator
@inline export function swishVector(z: v128, a: usize, s: usize): void {
  const e = expNeg<f32>(f32x4.neg(f32x4.abs(z)));
  const one = f32x4.splat(1);
  const r = f32x4.div(one, f32x4.add(one, e));
  const er = f32x4.mul(e, r);
  const sig = v128.bitselect(r, er, f32x4.ge(z, f32x4.splat(0)));
  v128.store(a, f32x4.mul(z, sig));
  v128.store(s, f32x4.add(sig, f32x4.mul(z, f32x4.mul(er, r))));
}

/** Largest |z| swishVector takes (e^−80 ≈ 1.8e−35 is still a normal f32). */
export const SWISH_VECTOR_MAX: f32 = 80;

// Mills ratio R(t) = Q(t)/φ(t) (Q = 1 − Φ) on 0 ≤ t ≤ 12.3 as P(w)/(1 + t), w = t/(t + 2) ∈ [0, 0.86]:
// P is the degree-12 Chebyshev fit of R(t)(1 + t) (40-digit arithmetic; |error| < 6.1e−10, ≈ 0.01 f32
// ulp), coefficients highest degree first. Horner in f32 then costs ≈ 3 ulps of R.
const GELU_R: StaticArray<f32> = [
  -0.32847737571779884, 1.4075121751630681, -2.4714081765017157, 2.482239722861984, -1.7050465647598092,
  0.6852424266299, -0.17261302036798065, 0.2282615984517342, 0.23421678501403528, -0.13312316467527036,
  -0.9867591254715185, 0.5066285149267843, 1.2533141367043146,
];

/** Largest |z| geluVector takes: beyond, φ(z) nears f32's subnormals. */
export const GELU_VECTOR_MAX: f32 = 12;

/**
 * gelu σ(z) = z·Φ(z) and σ'(z) = Φ(z) + z·φ(z) for one f32x4 of z with every |z| ≤ GELU_VECTOR_MAX,
 * stored at a and s. With t = |z|: φ(t) = e^(−t²/2)/√(2π), t² split as in activation.ts (th = t cut to 12
 * bits, th² exact; two expNeg), Q(t) = φ(t)·R(t) from the fit above, Φ = 1 − Q (z ≥ 0) or Q (z < 0):
 * no cancellation in the tail. Within ≈ 8 f32 ulps of the exact values (the scalar path: 1 ulp).
 */
// @ts-ignore: decorator
@inline export function geluVector(z: v128, a: usize, s: usize): void {
  const t = f32x4.abs(z);
  const th = v128.and(t, i32x4.splat(0xfffff000));
  const half = f32x4.splat(-0.5);
  const e = f32x4.mul(
    expNeg<f32>(f32x4.mul(half, f32x4.mul(th, th))),
    expNeg<f32>(f32x4.mul(half, f32x4.mul(f32x4.sub(t, th), f32x4.add(t, th)))),
  );
  const pdf = f32x4.mul(e, f32x4.splat(0.3989422804014327));
  const one = f32x4.splat(1);
  const w = f32x4.div(t, f32x4.add(t, f32x4.splat(2)));
  let p = f32x4.splat(unchecked(GELU_R[0]));
  for (let i = 1; i < 13; i++) p = f32x4.add(f32x4.mul(p, w), f32x4.splat(unchecked(GELU_R[i])));
  const q = f32x4.mul(pdf, f32x4.div(p, f32x4.add(one, t)));
  const cdf = v128.bitselect(f32x4.sub(one, q), q, f32x4.ge(z, f32x4.splat(0)));
  v128.store(a, f32x4.mul(z, cdf));
  v128.store(s, f32x4.add(cdf, f32x4.mul(z, pdf)));
}
