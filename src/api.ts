/**
 * The API every entry shares, but for the thread pool (createMLPPool, MLPPool), which each entry adds
 * on its own threads: index.ts (Web Workers), index.node.ts (worker_threads, loaded on first use).
 */
export { init, createEngine, createMLP, grad, hasSimd, hasRelaxedSimd, hasThreads, type WasmSource, type InitOptions } from "./init.js";
export { Engine, type GradientFunction } from "./engine.js";
export { MLP, type Vector, type VectorOf, type ValueAndGradient, type ParameterGradient, type GradientOfOptions } from "./network.js";
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
