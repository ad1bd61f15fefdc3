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
 *   relu      σ' = 1 for z > 0, else 0;   leakyRelu  slope 0.01 for z ≤ 0;   identity  σ' = 1.
 * Second derivatives σ'' (for Hessian-vector products), from the same intermediates:
 *   sigmoid   σ'' = σ'·(1 − 2σ) = −sign(z)·σ'·(1−e)/(1+e), with 1−e = −expm1(−|z|) when |z| is small;
 *   tanh      σ'' = −2·t·σ';   softplus  σ'' = sigmoid'(z) = e/(1+e)²;   relu, leakyRelu, identity  0.
 * The codes are part of the kernel ABI; src/activation.ts holds the same table.
 */

export const IDENTITY: i32 = 0;
export const SIGMOID: i32 = 1;
export const TANH: i32 = 2;
export const RELU: i32 = 3;
export const LEAKY_RELU: i32 = 4;
export const SOFTPLUS: i32 = 5;

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
@inline export function activate<T>(z: T, act: i32, a: usize, s: usize): void {
  activateAll<T>(z, act, a, s, 0, false);
}

/** As activate, and σ''(z) at `s2`. */
// @ts-ignore: decorator
@inline export function activate2<T>(z: T, act: i32, a: usize, s: usize, s2: usize): void {
  activateAll<T>(z, act, a, s, s2, true);
}

// @ts-ignore: decorator
@inline function activateAll<T>(z: T, act: i32, a: usize, s: usize, s2: usize, second: bool): void {
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
    y = z > zero ? z : <T>0.01 * z;
    d = z > zero ? one : <T>0.01;
  } else if (act == SOFTPLUS) {
    const e = expT<T>(-m);
    const r = one / (one + e);
    y = max<T>(z, zero) + log1pT<T>(e);
    d = z >= zero ? r : e * r;
    if (second) dd = e * r * r;
  }
  store<T>(a, y);
  store<T>(s, d);
  if (second) store<T>(s2, dd);
}
