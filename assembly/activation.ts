/**
 * Activations σ and their derivatives σ' (Higham & Higham, eq. 3.1: a^[l] = σ(z^[l])).
 *
 * Every form here is chosen so that any finite z, in f32 or f64, gives a finite σ(z) and σ'(z)
 * without catastrophic cancellation:
 *   sigmoid   σ = 1/(1+e) or e/(1+e) with e = exp(−|z|)  (the sign split never overflows);
 *             σ' = σ(z)·σ(−z) = e/(1+e)², not σ(1−σ), which rounds to 0 in f32 past |z| ≈ 17;
 *   tanh      small |z|: t = −m/(2+m) with m = expm1(−2|z|), σ' = 1 − t² (t² < ¼, no cancellation);
 *             large |z|: E = exp(−2|z|), t = (1−E)/(1+E), σ' = 4E/(1+E)², which keeps its tiny value;
 *   softplus  σ = max(z,0) + log1p(exp(−|z|)), σ' = sigmoid(z);
 *   relu      σ' = 1 for z > 0, else 0;   leakyRelu  slope α (the layer's p1) for z ≤ 0;   identity  σ' = 1.
 * Second derivatives σ'' (for Hessian-vector products), from the same intermediates:
 *   sigmoid   σ'' = σ'·(1 − 2σ) = −sign(z)·σ'·(1−e)/(1+e), with 1−e = −expm1(−|z|) when |z| is small;
 *   tanh      σ'' = −2·t·σ';   softplus  σ'' = sigmoid'(z) = e/(1+e)²;   relu, leakyRelu, identity  0.
 * The activations from ELU on (codes ≥ ELU) are evaluated in f64 by one out-of-line function, extra(),
 * whatever T is: an f32 layer rounds the f64 results once (so they are as accurate as f32 can hold), and
 * the inlined hot path of the six activations above keeps its size. Parameters p1, p2 (f64, from the
 * layer plan or a kernel argument) are α for leakyRelu and elu, slope and offset for hardSigmoid, else 0.
 *   elu       z > 0: z, 1, 0;  else α·expm1(z), α·eᶻ, α·eᶻ            (σ'(0) = α: the z ≤ 0 branch)
 *   selu      λ·elu with α = 1.6732632423543772, λ = 1.0507009873554805 (λα = 1.7580993408473768)
 *   gelu      z·Φ(z);  σ' = Φ(z) + z·φ(z);  σ'' = φ(z)·(2 − z²);  Φ: see normalCdf
 *   geluTanh  z·s with s = sigmoid(2u) = ½(1 + tanh u), u = √(2/π)(z + 0.044715 z³) (no 1 + tanh cancellation);
 *             q = s(1−s);  σ' = s + 2z·q·u';  σ'' = 2q·(2u' − 2z·tanh(u)·u'² + z·u'')
 *   swish     z·s with s = sigmoid(z), q = s(1−s) = e/(1+e)²;  σ' = s + z·q;  σ'' = q·(2 − z·tanh(z/2))
 *   mish      z·t with t = tanh(softplus(z)) = N/(N+2), N = w(w+2), w = eᶻ (z ≤ 0), or
 *             t = (1+2e)/(1+2e+2e²), e = e⁻ᶻ (z > 0): neither cancels; 1 − t² from the same pieces;
 *             σ' = t + z·s·(1−t²);  σ'' = (1−t²)·s·(2 + z(1−s) − 2z·t·s)  (s = sigmoid(z))
 *   relu6     min(max(z, 0), 6);  σ' = 1 on 0 < z < 6, else 0 (0 at both kinks, as relu'(0) = 0)
 *   softsign  z/(1+|z|);  σ' = r², σ'' = −2 sign(z) r³ with r = 1/(1+|z|) (r² never overflows)
 *   hardSigmoid  clip(p1·z + p2, 0, 1);  σ' = p1 where 0 < p1·z + p2 < 1, else 0 (0 at the clip points)
 * Wherever a factor underflows to 0 the products that multiply it by a huge z are skipped, so no
 * 0·∞ = NaN appears for any finite z.
 * The codes are part of the kernel ABI; src/activation.ts holds the same table.
 */

export const IDENTITY: i32 = 0;
export const SIGMOID: i32 = 1;
export const TANH: i32 = 2;
export const RELU: i32 = 3;
export const LEAKY_RELU: i32 = 4;
export const SOFTPLUS: i32 = 5;
export const ELU: i32 = 6;
export const SELU: i32 = 7;
export const GELU: i32 = 8;
export const GELU_TANH: i32 = 9;
export const SWISH: i32 = 10;
export const MISH: i32 = 11;
export const RELU6: i32 = 12;
export const SOFTSIGN: i32 = 13;
export const HARD_SIGMOID: i32 = 14;

// Below this |z| the expm1 form of tanh is exact enough and 1 − t² cannot cancel.
const TANH_SPLIT: f64 = 0.5;

// @ts-ignore: decorator
@inline function expT<T>(x: T): T {
  if (sizeof<T>() == 4) return <T>Mathf.exp(<f32>x);
  return <T>Math.exp(<f64>x);
}

// @ts-ignore: decorator
@inline function expm1T<T>(x: T): T {
  if (sizeof<T>() == 4) return <T>Mathf.expm1(<f32>x);
  return <T>Math.expm1(<f64>x);
}

// @ts-ignore: decorator
@inline function log1pT<T>(x: T): T {
  if (sizeof<T>() == 4) return <T>Mathf.log1p(<f32>x);
  return <T>Math.log1p(<f64>x);
}

/** Stores σ(z) at `a` and σ'(z) at `s` for the activation with code `act`. */
// @ts-ignore: decorator
@inline export function activate<T>(z: T, act: i32, p1: f64, p2: f64, a: usize, s: usize): void {
  activateAll<T>(z, act, p1, p2, a, s, 0, false);
}

/** As activate, and σ''(z) at `s2`. */
// @ts-ignore: decorator
@inline export function activate2<T>(z: T, act: i32, p1: f64, p2: f64, a: usize, s: usize, s2: usize): void {
  activateAll<T>(z, act, p1, p2, a, s, s2, true);
}

// @ts-ignore: decorator
@inline function activateAll<T>(z: T, act: i32, p1: f64, p2: f64, a: usize, s: usize, s2: usize, second: bool): void {
  const one = <T>1;
  const zero = <T>0;
  const m = abs<T>(z);
  let y: T = z;
  let d: T = one;
  let dd: T = zero;
  if (act == SIGMOID) {
    const e = expT<T>(-m);
    const r = one / (one + e);
    y = z >= zero ? r : e * r;
    d = e * r * r;
    if (second) {
      // 1 − e without cancellation: expm1 when e is close to 1.
      const oneMinusE = m < <T>TANH_SPLIT ? -expm1T<T>(-m) : one - e;
      dd = d * oneMinusE * r;
      if (z >= zero) dd = -dd;
    }
  } else if (act == TANH) {
    let t: T;
    if (m < <T>TANH_SPLIT) {
      const e = expm1T<T>(<T>-2 * m);
      t = -e / (<T>2 + e);
      d = one - t * t;
    } else {
      const e = expT<T>(<T>-2 * m);
      const r = one / (one + e);
      t = (one - e) * r;
      d = <T>4 * e * r * r;
    }
    y = z < zero ? -t : t;
    if (second) dd = <T>-2 * y * d;
  } else if (act == RELU) {
    y = z > zero ? z : zero;
    d = z > zero ? one : zero;
  } else if (act == LEAKY_RELU) {
    const alpha = <T>p1;
    y = z > zero ? z : alpha * z;
    d = z > zero ? one : alpha;
  } else if (act == SOFTPLUS) {
    const e = expT<T>(-m);
    const r = one / (one + e);
    y = max<T>(z, zero) + log1pT<T>(e);
    d = z >= zero ? r : e * r;
    if (second) dd = e * r * r;
  } else if (act >= ELU) {
    y = <T>extra(<f64>z, act, p1, p2);
    d = <T>extraD;
    dd = <T>extraD2;
  }
  store<T>(a, y);
  store<T>(s, d);
  if (second) store<T>(s2, dd);
}

// σ'(z) and σ''(z) of the last extra() call (module globals: the kernels never allocate).
let extraD: f64 = 0;
let extraD2: f64 = 0;

const SELU_LAMBDA: f64 = 1.0507009873554805;
const SELU_LAMBDA_ALPHA: f64 = 1.7580993408473768; // λα, rounded once
const INV_SQRT_2PI: f64 = 0.3989422804014327; // 1/√(2π)
const SQRT_2_OVER_PI: f64 = 0.7978845608028654; // √(2/π)
const GELU_CUBIC: f64 = 0.044715;

/**
 * e^(−t²/2) for t ≥ 0 to f64 rounding: t² rounds, and at t = 37 the rounding of t² alone would cost
 * ≈ 700 ulps of the result. With th = t cut to 26 significant bits, th² is exact and
 * t² = th² + (t − th)(t + th); e^(−th²/2) · e^(−(t−th)(t+th)/2) then rounds only twice.
 */
function expNegHalfSquare(t: f64): f64 {
  if (t > 39.0) return 0; // e^(−t²/2)/√(2π) is below the least subnormal from t ≈ 38.6
  const th = reinterpret<f64>(reinterpret<u64>(t) & 0xfffffffff8000000);
  const tl = t - th;
  return Math.exp(-0.5 * th * th) * Math.exp(-0.5 * tl * (t + th));
}

/** The standard normal density φ(z). */
// @ts-ignore: decorator
@inline function normalPdf(z: f64): f64 {
  return expNegHalfSquare(abs<f64>(z)) * INV_SQRT_2PI;
}

/**
 * The upper tail Q(t) = 1 − Φ(t) for t ≥ 1, as ½ t φ(t) / f with f the continued fraction of the upper
 * incomplete gamma function Γ(½, t²/2) (Legendre's, in its even form: b_i = x + ½ + 2(i−1),
 * a_i = −i(i − ½), x = t²/2), evaluated backwards from a fixed depth: backward evaluation does not
 * accumulate rounding as the forward (Lentz) one does. Depths checked against 40-digit values: ≤ 2 ulps.
 */
function upperTail(t: f64): f64 {
  if (t > 39.0) return 0; // Q(t) < φ(t)/t underflows
  const x = 0.5 * t * t;
  const depth: i32 = t < 1.5 ? 250 : t < 2.5 ? 80 : 40;
  let f = x + 0.5 + 2.0 * <f64>depth;
  for (let i = depth; i >= 1; i--) {
    const fi = <f64>i;
    f = x + 0.5 + 2.0 * (fi - 1.0) - fi * (fi - 0.5) / f;
  }
  return 0.5 * t / f * normalPdf(t);
}

/**
 * Φ(z), the standard normal distribution function, accurate to a few ulps for every finite z (so also
 * erf(x) = 2Φ(x√2) − 1, erfc(x) = 2Q(x√2)): for |z| < 1 the series Φ(z) = ½ + φ(z) Σ z^(2n+1)/(2n+1)!!
 * (positive terms, cancellation in ½ + … at most 3×), else Q(|z|) from upperTail, Φ = Q or 1 − Q.
 * Working in z rather than erf's x = z/√2 avoids rounding the argument by 1/√2.
 */
function normalCdf(z: f64): f64 {
  const m = abs<f64>(z);
  if (m < 1.0) {
    const z2 = z * z;
    let term = z;
    let sum = z;
    for (let n = 1; n < 40; n++) {
      term *= z2 / <f64>(2 * n + 1);
      const next = sum + term;
      if (next == sum) break;
      sum = next;
    }
    return 0.5 + normalPdf(z) * sum;
  }
  const q = upperTail(m);
  return z < 0 ? q : 1.0 - q;
}

/** 1 − e^(−m) for m ≥ 0 without cancellation, given e = e^(−m). */
// @ts-ignore: decorator
@inline function oneMinusExpNeg(m: f64, e: f64): f64 {
  return m < 0.5 ? -Math.expm1(-m) : 1.0 - e;
}

/**
 * σ(z) of the activations with codes ≥ ELU, in f64 (see the header for the forms); σ'(z) and σ''(z) go
 * to extraD and extraD2. Out of line on purpose: one copy serves f32 and f64 and every kernel.
 */
function extra(z: f64, act: i32, p1: f64, p2: f64): f64 {
  let y: f64 = z;
  let d: f64 = 1;
  let dd: f64 = 0;
  if (act == ELU || act == SELU) {
    const alpha = act == ELU ? p1 : SELU_LAMBDA_ALPHA;
    const lambda = act == ELU ? 1.0 : SELU_LAMBDA;
    if (z > 0) {
      y = lambda * z;
      d = lambda;
    } else {
      const w = Math.exp(z);
      y = alpha * Math.expm1(z);
      d = alpha * w;
      dd = d;
    }
  } else if (act == GELU) {
    const cdf = normalCdf(z);
    const pdf = normalPdf(z);
    y = z * cdf;
    d = cdf + z * pdf;
    dd = pdf == 0 ? 0 : pdf * (2.0 - z * z);
  } else if (act == GELU_TANH) {
    const z2 = z * z;
    const u = SQRT_2_OVER_PI * (z + GELU_CUBIC * z * z2);
    // s = sigmoid(2u) = ½(1 + tanh u) by the sign split of activation.ts; q = s(1 − s).
    const m = abs<f64>(2.0 * u);
    const e = Math.exp(-m);
    const r = 1.0 / (1.0 + e);
    const s = u >= 0 ? r : e * r;
    const q = e * r * r;
    y = z * s;
    if (q == 0) {
      d = s;
    } else {
      const u1 = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * z2);
      const u2 = SQRT_2_OVER_PI * 6.0 * GELU_CUBIC * z;
      let th = oneMinusExpNeg(m, e) * r; // tanh |u|
      if (u < 0) th = -th;
      d = s + 2.0 * z * q * u1;
      dd = 2.0 * q * (2.0 * u1 - 2.0 * z * th * u1 * u1 + z * u2);
    }
  } else if (act == SWISH) {
    const m = abs<f64>(z);
    const e = Math.exp(-m);
    const r = 1.0 / (1.0 + e);
    const s = z >= 0 ? r : e * r;
    const q = e * r * r;
    y = z * s;
    if (q == 0) {
      d = s;
    } else {
      let th = oneMinusExpNeg(m, e) * r; // tanh(|z|/2)
      if (z < 0) th = -th;
      d = s + z * q;
      dd = q * (2.0 - z * th);
    }
  } else if (act == MISH) {
    let t: f64, oneMinusT2: f64, s: f64, oneMinusS: f64;
    if (z <= 0) {
      const w = Math.exp(z);
      const n = w * (w + 2.0);
      const den = n + 2.0;
      t = n / den;
      oneMinusT2 = (4.0 * (n + 1.0)) / (den * den);
      s = w / (1.0 + w);
      oneMinusS = 1.0 / (1.0 + w);
    } else {
      const e = Math.exp(-z);
      const den = 1.0 + 2.0 * e + 2.0 * e * e;
      t = (1.0 + 2.0 * e) / den;
      const h = (2.0 * e * (1.0 + e)) / den;
      oneMinusT2 = h * h;
      s = 1.0 / (1.0 + e);
      oneMinusS = e / (1.0 + e);
    }
    y = z * t;
    const k = s * oneMinusT2;
    if (k == 0) {
      d = t;
    } else {
      d = t + z * k;
      dd = k * (2.0 + z * oneMinusS - 2.0 * z * t * s);
    }
  } else if (act == RELU6) {
    y = z > 0 ? (z < 6.0 ? z : 6.0) : 0;
    d = z > 0 && z < 6.0 ? 1.0 : 0;
  } else if (act == SOFTSIGN) {
    const m = abs<f64>(z);
    const r = 1.0 / (1.0 + m);
    y = z / (1.0 + m);
    d = r * r;
    dd = z > 0 ? -2.0 * d * r : z < 0 ? 2.0 * d * r : 0;
  } else if (act == HARD_SIGMOID) {
    const v = p1 * z + p2;
    y = v > 0 ? (v < 1.0 ? v : 1.0) : 0;
    d = v > 0 && v < 1.0 ? p1 : 0;
  }
  extraD = d;
  extraD2 = dd;
  return y;
}
