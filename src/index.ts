/**
 * mlpgrad: exact, fast input gradients ∇ₓ a^[L](x) of multilayer perceptrons, from SIMD WebAssembly.
 */
export { init, createEngine, createMLP, grad, hasSimd, hasRelaxedSimd, hasThreads, type WasmSource, type InitOptions } from "./init.js";
export { Engine, type GradientFunction } from "./engine.js";
export { MLP, type Vector, type VectorOf, type ValueAndGradient, type ParameterGradient, type GradientOfOptions } from "./network.js";
export { createMLPPool, MLPPool, type MLPPoolOptions } from "./pool.js";
export { MLPError, type MLPErrorCode, type MLPErrorDetails } from "./errors.js";
export { squaredError, squaredErrorGradient, sgdStep, type CostGradient, type LayerGradient } from "./train.js";
export {
  ACTIVATION_NAMES,
  ACTIVATION_ALIASES,
  type ActivationName,
  type ActivationAlias,
  type ActivationSpec,
  type OutputKind,
} from "./activation.js";
export type { MLPSpec, MLPSpecLike, SpecNames, LayerSpec, ModelJSON, Precision, WeightsLike } from "./model.js";
