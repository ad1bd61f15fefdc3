/** Largest ‖∇ − ∇_ref‖₂ / ‖∇_ref‖₂ a contender may show before it is reported FAILED, per precision. */
export const TOLERANCE = Object.freeze({ f32: 1e-3, f64: 1e-9 });
