/**
 * mlpgrad: exact, fast input gradients ∇ₓ a^[L](x) of multilayer perceptrons, from SIMD WebAssembly.
 */
export * from "./api.js";
export { createMLPPool, MLPPool, type MLPPoolOptions } from "./pool.js";
