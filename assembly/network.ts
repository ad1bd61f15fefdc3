/**
 * Whole-network passes in one call, so a small network costs one JS→WebAssembly transition per
 * result instead of two per layer.
 *
 * A plan (written by src/memory.ts) holds, for each layer l = 2..L in order, PLAN_BYTES of u32 words:
 *   rows = n_l, stride = padded n_{l-1}, then byte offsets of W^[l], b^[l], a^[l], s^[l] = σ'(z^[l]),
 *   g^[l], the activation code, and the buffers of the derivative products: ż^[l], ȧ^[l], σ''(z^[l]),
 *   ġ^[l] and a scratch vector h^[l]; one unused word; then, as f64 at bytes 56 and 64, the activation's
 *   parameters p1, p2 (activation.ts); then at bytes 72 and 76 the scratch vector P of this layer's
 *   backward pass and the row where its sum is halved (0: not halved; matvec.ts's denseBack).
 *
 *   forward   a^[l] = σ(W^[l] a^[l-1] + b^[l]),  s^[l] = σ'(z^[l])          l = 2..L, a^[1] = x
 *   backward  g^[L] given;  g^[l] = ((W^[l+1])ᵀ g^[l+1]) ⊙ s^[l]  l = L-1..2;  result (W^[2])ᵀ g^[2]
 *     gradient: g^[L] = s^[L] (n_L = 1);   vjp: g^[L] = v ⊙ s^[L];   backwardNet: g^[L] as written by the caller
 *     (src/network.ts: e_k ⊙ s^[L] for one output, Jᵀv through a softmax, e_k for a logit)
 *   tangent   ȧ^[1] = u;  ż^[l] = W^[l] ȧ^[l-1],  ȧ^[l] = s^[l] ⊙ ż^[l];  jvp = ȧ^[L]
 *   hvp       differentiating the backward pass along u (forward-over-reverse), with h^[l] = (W^[l+1])ᵀ g^[l+1]:
 *             ġ^[L] = σ''(z^[L]) ⊙ ż^[L];
 *             ġ^[l] = ((W^[l+1])ᵀ ġ^[l+1]) ⊙ s^[l] + h^[l] ⊙ σ''(z^[l]) ⊙ ż^[l];   H u = (W^[2])ᵀ ġ^[2]
 */
import { dense, dense2, denseBack, tangent } from "./matvec";

const ROWS: usize = 0;
const STRIDE: usize = 4;
const W: usize = 8;
const B: usize = 12;
const A: usize = 16;
const S: usize = 20;
const G: usize = 24;
const ACT: usize = 28;
const Z_DOT: usize = 32;
const A_DOT: usize = 36;
const S2: usize = 40;
const G_DOT: usize = 44;
const H: usize = 48;
const P1: usize = 56;
const P2: usize = 64;
const PART: usize = 72;
const HALF: usize = 76;
/** Bytes of one layer's entry in a plan (a multiple of 8, so p1 and p2 stay aligned). */
export const PLAN_BYTES: usize = 80;

// @ts-ignore: decorator
@inline function word(p: usize, field: usize): usize {
  return <usize>load<u32>(p + field);
}

// @ts-ignore: decorator
@inline function count32(p: usize, field: usize): i32 {
  return load<i32>(p + field);
}

/** Forward pass over `count` layers from x; returns the offset of a^[L]. */
export function forwardNet<T>(plan: usize, count: i32, x: usize): usize {
  let input = x;
  for (let i = 0; i < count; i++) {
    const p = plan + <usize>i * PLAN_BYTES;
    input = dense<T>(word(p, A), word(p, S), word(p, W), word(p, B), input, count32(p, ROWS), count32(p, STRIDE), count32(p, ACT),
      load<f64>(p + P1), load<f64>(p + P2));
  }
  return input;
}

/** Backward pass from g^[L] at `top` (after a forward pass); writes (W^[2])ᵀ g^[2] to out. */
function backwardFrom<T>(plan: usize, count: i32, top: usize, out: usize): usize {
  let p = plan + <usize>(count - 1) * PLAN_BYTES;
  let g = top;
  for (let i = count - 1; i >= 1; i--) {
    const below = p - PLAN_BYTES;
    g = back<T>(p, word(below, G), g, word(below, S));
    p = below;
  }
  return back<T>(p, out, g, 0);
}

/** denseBack of the layer whose plan entry is at p: gOut = ((W^[l])ᵀ g) ⊙ s, halved as the plan says. */
// @ts-ignore: decorator
@inline function back<T>(p: usize, gOut: usize, g: usize, s: usize): usize {
  return denseBack<T>(gOut, word(p, W), g, s, count32(p, ROWS), count32(p, STRIDE), word(p, PART), count32(p, HALF));
}

/** ∇ₓ a^[L](x) into grad (n_L must be 1): forward, then backward from g^[L] = σ'(z^[L]). */
export function gradientNet<T>(plan: usize, count: i32, x: usize, grad: usize): usize {
  forwardNet<T>(plan, count, x);
  return backwardFrom<T>(plan, count, word(plan + <usize>(count - 1) * PLAN_BYTES, S), grad);
}

/** vᵀJ into out, with v already in g^[L]'s buffer: forward, g^[L] = v ⊙ s^[L], backward. */
export function vjpNet<T>(plan: usize, count: i32, x: usize, out: usize): usize {
  forwardNet<T>(plan, count, x);
  const top = plan + <usize>(count - 1) * PLAN_BYTES;
  const g = word(top, G);
  multiplyInto<T>(g, g, word(top, S), count32(top, ROWS));
  return backwardFrom<T>(plan, count, g, out);
}

/** The backward pass alone, from the g^[L] the caller wrote (after a forward pass); writes ∇ₓ (g^[L])ᵀz^[L] to out. */
export function backwardNet<T>(plan: usize, count: i32, out: usize): usize {
  return backwardFrom<T>(plan, count, word(plan + <usize>(count - 1) * PLAN_BYTES, G), out);
}

/** J u (forward mode) with u at `u`; returns the offset of ȧ^[L] (n_L entries). */
export function jvpNet<T>(plan: usize, count: i32, x: usize, u: usize): usize {
  forwardNet<T>(plan, count, x);
  return tangentPass<T>(plan, count, u);
}

function tangentPass<T>(plan: usize, count: i32, u: usize): usize {
  let input = u;
  for (let i = 0; i < count; i++) {
    const p = plan + <usize>i * PLAN_BYTES;
    input = tangent<T>(word(p, Z_DOT), word(p, A_DOT), word(p, W), word(p, S), input, count32(p, ROWS), count32(p, STRIDE));
  }
  return input;
}

/** (∇²ₓ a^[L]) u into out (n_L must be 1), forward-over-reverse. */
export function hvpNet<T>(plan: usize, count: i32, x: usize, u: usize, out: usize): usize {
  let input = x;
  for (let i = 0; i < count; i++) {
    const p = plan + <usize>i * PLAN_BYTES;
    input = dense2<T>(word(p, A), word(p, S), word(p, S2), word(p, W), word(p, B), input,
      count32(p, ROWS), count32(p, STRIDE), count32(p, ACT), load<f64>(p + P1), load<f64>(p + P2));
  }
  tangentPass<T>(plan, count, u);
  let p = plan + <usize>(count - 1) * PLAN_BYTES;
  let g = word(p, S);
  let gDot = word(p, G_DOT);
  multiplyInto<T>(gDot, word(p, S2), word(p, Z_DOT), count32(p, ROWS));
  for (let i = count - 1; i >= 1; i--) {
    const below = p - PLAN_BYTES;
    const h = back<T>(p, word(below, H), g, 0);
    gDot = back<T>(p, word(below, G_DOT), gDot, word(below, S));
    const n = count32(below, ROWS);
    const size = sizeof<T>();
    const s2 = word(below, S2), zDot = word(below, Z_DOT);
    for (let j = 0; j < n; j++) {
      const at = <usize>j * size;
      store<T>(gDot + at, load<T>(gDot + at) + load<T>(h + at) * load<T>(s2 + at) * load<T>(zDot + at));
    }
    g = word(below, G);
    multiplyInto<T>(g, h, word(below, S), n);
    p = below;
  }
  return back<T>(p, out, gDot, 0);
}

/** out = a ⊙ b over n elements (out may be a). */
function multiplyInto<T>(out: usize, a: usize, b: usize, n: i32): void {
  const size = sizeof<T>();
  for (let j = 0; j < n; j++) {
    const at = <usize>j * size;
    store<T>(out + at, load<T>(a + at) * load<T>(b + at));
  }
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
/** vjpNet<f32>. */
export function vjpNetF32(plan: usize, count: i32, x: usize, out: usize): usize {
  return vjpNet<f32>(plan, count, x, out);
}
/** vjpNet<f64>. */
export function vjpNetF64(plan: usize, count: i32, x: usize, out: usize): usize {
  return vjpNet<f64>(plan, count, x, out);
}
/** backwardNet<f32>. */
export function backwardNetF32(plan: usize, count: i32, out: usize): usize {
  return backwardNet<f32>(plan, count, out);
}
/** backwardNet<f64>. */
export function backwardNetF64(plan: usize, count: i32, out: usize): usize {
  return backwardNet<f64>(plan, count, out);
}
/** jvpNet<f32>. */
export function jvpNetF32(plan: usize, count: i32, x: usize, u: usize): usize {
  return jvpNet<f32>(plan, count, x, u);
}
/** jvpNet<f64>. */
export function jvpNetF64(plan: usize, count: i32, x: usize, u: usize): usize {
  return jvpNet<f64>(plan, count, x, u);
}
/** hvpNet<f32>. */
export function hvpNetF32(plan: usize, count: i32, x: usize, u: usize, out: usize): usize {
  return hvpNet<f32>(plan, count, x, u, out);
}
/** hvpNet<f64>. */
export function hvpNetF64(plan: usize, count: i32, x: usize, u: usize, out: usize): usize {
  return hvpNet<f64>(plan, count, x, u, out);
}
