/**
 * Whole-network passes in one call, so a small network costs one JS→WebAssembly transition per
 * gradient instead of two per layer.
 *
 * A plan (written by src/memory.ts) holds, for each layer l = 2..L in order, PLAN_WORDS u32 words:
 *   rows = n_l, stride = padded n_{l-1}, W^[l], b^[l], a^[l], s^[l], g^[l] (byte offsets), activation code.
 *
 *   forward:   a^[l] = σ(W^[l] a^[l-1] + b^[l]),  s^[l] = σ'(z^[l])          for l = 2..L, a^[1] = x
 *   backward:  g^[L] = s^[L];  g^[l] = ((W^[l+1])ᵀ g^[l+1]) ⊙ s^[l]  for l = L-1..2;  ∇ₓ = (W^[2])ᵀ g^[2]
 */
import { dense, denseBack } from "./matvec";

const ROWS: usize = 0;
const STRIDE: usize = 4;
const W: usize = 8;
const B: usize = 12;
const A: usize = 16;
const S: usize = 20;
const G: usize = 24;
const ACT: usize = 28;
/** Bytes of one layer's entry in a plan. */
export const PLAN_BYTES: usize = 32;

/** Forward pass over `count` layers from x; returns the offset of a^[L]. */
export function forwardNet<T>(plan: usize, count: i32, x: usize): usize {
  let input = x;
  for (let i = 0; i < count; i++) {
    const p = plan + <usize>i * PLAN_BYTES;
    input = dense<T>(load<u32>(p + A), load<u32>(p + S), load<u32>(p + W), load<u32>(p + B), input,
      load<i32>(p + ROWS), load<i32>(p + STRIDE), load<i32>(p + ACT));
  }
  return input;
}

/** Forward then backward pass: writes ∇ₓ a^[L](x) to grad (n_L must be 1) and returns grad. */
export function gradientNet<T>(plan: usize, count: i32, x: usize, grad: usize): usize {
  forwardNet<T>(plan, count, x);
  let p = plan + <usize>(count - 1) * PLAN_BYTES;
  let g: usize = load<u32>(p + S); // g^[L] = σ'(z^[L])
  for (let i = count - 1; i >= 1; i--) {
    const below = p - PLAN_BYTES;
    g = denseBack<T>(load<u32>(below + G), load<u32>(p + W), g, load<u32>(below + S), load<i32>(p + ROWS), load<i32>(p + STRIDE));
    p = below;
  }
  return denseBack<T>(grad, load<u32>(p + W), g, 0, load<i32>(p + ROWS), load<i32>(p + STRIDE));
}

/** forwardNet<f32>. */
export function forwardNetF32(plan: usize, count: i32, x: usize): usize {
  return forwardNet<f32>(plan, count, x);
}
/** forwardNet<f64>. */
export function forwardNetF64(plan: usize, count: i32, x: usize): usize {
  return forwardNet<f64>(plan, count, x);
}
/** gradientNet<f32>. */
export function gradientNetF32(plan: usize, count: i32, x: usize, grad: usize): usize {
  return gradientNet<f32>(plan, count, x, grad);
}
/** gradientNet<f64>. */
export function gradientNetF64(plan: usize, count: i32, x: usize, grad: usize): usize {
  return gradientNet<f64>(plan, count, x, grad);
}
