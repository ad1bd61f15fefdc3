/**
 * Activation names and the codes the kernels know them by (assembly/activation.ts holds the maths).
 */
export const ACTIVATION_CODES = {
  identity: 0,
  sigmoid: 1,
  tanh: 2,
  relu: 3,
  leakyRelu: 4,
  softplus: 5,
} as const;

/** The name of an activation σ, applied elementwise: a^[l] = σ(z^[l]). */
export type ActivationName = keyof typeof ACTIVATION_CODES;

/** All known activation names, in code order. */
export const ACTIVATION_NAMES = Object.keys(ACTIVATION_CODES) as ActivationName[];

/** Whether `name` is a known activation. */
export function isActivationName(name: unknown): name is ActivationName {
  return typeof name === "string" && Object.prototype.hasOwnProperty.call(ACTIVATION_CODES, name);
}
