/**
 * Activations: the names and parameters the model format accepts, and the codes the kernels know them
 * by (assembly/activation.ts holds the maths and the definitions at the kinks; docs/model-format.md
 * documents them for users).
 *
 * An activation in a model is a name ("relu") or an object with its parameters
 * ({ name: "leakyRelu", alpha: 0.3 }). Elementwise ones run in the kernels with their parameters in the
 * layer plan (p1, p2); softmax and logSoftmax (last layer only) run the last layer's kernel with the
 * identity, so a^[L] = z^[L] there are the logits, and are applied here in TypeScript:
 *   softmax     p = exp(z − max z) / Σ exp(z − max z);   J = diag(p) − p pᵀ
 *   logSoftmax  z − max z − log Σ exp(z − max z);         J = I − 1 pᵀ
 * Both are stable for any finite logits: every exponent is ≤ 0 and the sum is ≥ 1.
 */
import { MLPError, describe } from "./errors.js";

/** Kernel codes, parameters (name and default) and placement of every activation. */
const TABLE = {
  identity: { code: 0, params: [] },
  sigmoid: { code: 1, params: [] },
  tanh: { code: 2, params: [] },
  relu: { code: 3, params: [] },
  leakyRelu: { code: 4, params: [["alpha", 0.01]] },
  softplus: { code: 5, params: [] },
  elu: { code: 6, params: [["alpha", 1]] },
  selu: { code: 7, params: [] },
  gelu: { code: 8, params: [] },
  geluTanh: { code: 9, params: [] },
  swish: { code: 10, params: [] },
  mish: { code: 11, params: [] },
  relu6: { code: 12, params: [] },
  softsign: { code: 13, params: [] },
  hardSigmoid: { code: 14, params: [["slope", 0.2], ["offset", 0.5]] },
  // Not elementwise: the last layer runs with the identity (code 0) and src/network.ts applies these.
  softmax: { code: 0, params: [] },
  logSoftmax: { code: 0, params: [] },
} as const satisfies Record<string, { code: number; params: readonly (readonly [string, number])[] }>;

/** The name of an activation σ: a^[l] = σ(z^[l]) (elementwise, or softmax/logSoftmax over the last layer). */
export type ActivationName = keyof typeof TABLE;

/** An activation in the model format: a name (or alias), or an object with its name and parameters. */
export type ActivationSpec =
  | ActivationName
  | ActivationAlias
  | { name: ActivationName | ActivationAlias; alpha?: number; slope?: number; offset?: number };

/** All known activation names, in code order (softmax and logSoftmax last). */
export const ACTIVATION_NAMES = Object.keys(TABLE) as ActivationName[];

/**
 * Names of other tools accepted on input (Keras, TF.js, PyTorch, ONNX spellings); each maps to one
 * activation with that activation's own default parameters. toJSON writes the canonical name.
 */
const ALIASES = {
  linear: "identity",
  leaky_relu: "leakyRelu",
  hard_sigmoid: "hardSigmoid",
  silu: "swish",
  gelu_new: "geluTanh",
  gelu_tanh: "geluTanh",
  log_softmax: "logSoftmax",
} as const satisfies Record<string, ActivationName>;

/** A name of another tool that the model format accepts for one of its activations. */
export type ActivationAlias = keyof typeof ALIASES;

/** Aliases and the activation each stands for. */
export const ACTIVATION_ALIASES: Readonly<Record<string, ActivationName>> = Object.freeze({ ...ALIASES });

/** Kernel codes by name (for the kernels' ABI; softmax and logSoftmax run as the identity). */
export const ACTIVATION_CODES: Readonly<Record<ActivationName, number>> = Object.freeze(
  Object.fromEntries(ACTIVATION_NAMES.map((n) => [n, TABLE[n].code])) as Record<ActivationName, number>,
);

/** What the last layer does after the kernels: nothing, softmax or logSoftmax over the n_L logits. */
export type OutputKind = "none" | "softmax" | "logSoftmax";

/** One layer's checked activation: canonical name, kernel code, parameters p1 and p2, and its JSON form. */
export interface Activation {
  name: ActivationName;
  code: number;
  p1: number;
  p2: number;
  /** Its model-format form: the name when every parameter has its default, else { name, …all parameters }. */
  json: ActivationSpec;
}

const F32_MAX = 3.4028234663852886e38;

/** Whether `name` is a known canonical activation name. */
export function isActivationName(name: unknown): name is ActivationName {
  return typeof name === "string" && Object.prototype.hasOwnProperty.call(TABLE, name);
}

/** The canonical name for a name or alias, or undefined. */
function resolve(name: string): ActivationName | undefined {
  if (isActivationName(name)) return name;
  return Object.prototype.hasOwnProperty.call(ACTIVATION_ALIASES, name) ? ACTIVATION_ALIASES[name] : undefined;
}

/** Levenshtein distance, case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next.push(Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    row = next;
  }
  return row[b.length];
}

/** The known name (or alias) nearest to `name` by edit distance. */
export function nearestActivation(name: string): string {
  let best = "sigmoid";
  let bestDistance = Infinity;
  for (const candidate of [...ACTIVATION_NAMES, ...Object.keys(ACTIVATION_ALIASES)]) {
    const d = distance(name.slice(0, 64), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** A value shown in a message without running user code (no toString, no getters). */
function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (typeof value === "number") return String(value);
  if (typeof value === "bigint") return `the BigInt ${value}n`;
  if (typeof value === "symbol" || typeof value === "function" || value === undefined) return typeof value;
  try {
    return describe(value);
  } catch {
    return "object";
  }
}

/** Allowed range of each parameter, as tested and as said in messages. */
const RANGES: Record<string, { ok: (v: number) => boolean; text: string }> = {
  alpha: { ok: (v) => Math.abs(v) <= F32_MAX, text: "a finite number with |alpha| ≤ 3.4e38" },
  slope: { ok: (v) => v > 0 && v <= F32_MAX, text: "a finite number > 0 (≤ 3.4e38)" },
  offset: { ok: (v) => Math.abs(v) <= F32_MAX, text: "a finite number with |offset| ≤ 3.4e38" },
};

/**
 * Checks one activation (a name or { name, …parameters }) of layer `layer` (2..L); `where` prefixes
 * messages. Throws E_ACTIVATION for anything else, including objects whose properties throw.
 */
export function checkActivation(value: unknown, layer: number | undefined, where: string): Activation {
  const fail = (message: string, actual?: unknown): MLPError =>
    new MLPError("E_ACTIVATION", `${where}: ${message}`, { layer, expected: ACTIVATION_NAMES, actual });
  const unknown = (name: string): MLPError =>
    fail(`unknown activation ${show(name)}; did you mean "${nearestActivation(name)}"? Known: ${ACTIVATION_NAMES.join(", ")} ` +
      `(and the aliases ${Object.keys(ACTIVATION_ALIASES).join(", ")})`, name);
  if (typeof value === "string") {
    const name = resolve(value);
    if (name === undefined) throw unknown(value);
    return make(name, {});
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw fail(`expected an activation name such as "relu" or an object such as { name: "leakyRelu", alpha: 0.2 }, got ${show(value)}`);
  }
  // Read every property once, as plain data: a getter or a proxy that throws becomes E_ACTIVATION.
  let entries: [string, unknown][];
  try {
    entries = Object.keys(value).map((key) => [key, (value as Record<string, unknown>)[key]]);
  } catch (cause) {
    throw new MLPError("E_ACTIVATION", `${where}: the activation object could not be read (${cause instanceof Error ? cause.message : "it threw"})`, {
      layer,
      cause,
    });
  }
  const fields = new Map(entries);
  const rawName = fields.get("name");
  if (typeof rawName !== "string") {
    throw fail(`an activation object needs a string "name" (e.g. { name: "elu", alpha: 1 }), got name ${show(rawName)}`, rawName);
  }
  const name = resolve(rawName);
  if (name === undefined) throw unknown(rawName);
  const allowed = TABLE[name].params.map(([key]) => key);
  const params: Record<string, number> = {};
  for (const [key, v] of entries) {
    if (key === "name") continue;
    if (!allowed.includes(key as never)) {
      const takes = allowed.length === 0 ? `${name} takes no parameters` : `${name} takes ${allowed.join(", ")}`;
      throw fail(`unknown key ${JSON.stringify(key)} in the activation object: ${takes}`, key);
    }
    const range = RANGES[key];
    if (typeof v !== "number" || !Number.isFinite(v) || !range.ok(v)) {
      throw fail(`${name} ${key} must be ${range.text}, got ${show(v)}`, v);
    }
    params[key] = v;
  }
  return make(name, params);
}

function make(name: ActivationName, given: Record<string, number>): Activation {
  const spec = TABLE[name].params;
  const values = spec.map(([key, fallback]) => (key in given ? given[key] : fallback));
  const defaults = spec.every(([, fallback], i) => Object.is(values[i], fallback));
  const json: ActivationSpec = defaults ? name : (Object.fromEntries([["name", name], ...spec.map(([key], i) => [key, values[i]])]) as ActivationSpec);
  return { name, code: TABLE[name].code, p1: values[0] ?? 0, p2: values[1] ?? 0, json };
}

/** The checked activations of layers 2..L, and what the output layer does after the kernels. */
export interface CheckedActivations {
  layers: Activation[];
  output: OutputKind;
  /** The model-format form for toJSON: one spec when one was given for all layers, else one per layer. */
  json: ActivationSpec | ActivationSpec[];
}

/**
 * Checks the activations field of a model: undefined (sigmoid everywhere), one activation for all
 * layers 2..L, or an array of L − 1. softmax / logSoftmax only as the last layer's, and only with n_L ≥ 2.
 */
export function checkActivations(activations: unknown, sizes: readonly number[]): CheckedActivations {
  const L = sizes.length;
  let layers: Activation[];
  let single = false;
  if (activations === undefined) {
    layers = new Array<Activation>(L - 1).fill(make("sigmoid", {}));
    single = true;
  } else if (!Array.isArray(activations)) {
    // A known name, the common case, without compiling checkActivation (createMLP runs cold: V8 compiles
    // each function the first time it runs).
    const known = typeof activations === "string" ? resolve(activations) : undefined;
    const one = known !== undefined ? make(known, {}) : checkActivation(activations, undefined, "activations");
    if ((one.name === "softmax" || one.name === "logSoftmax") && L > 2) {
      throw new MLPError(
        "E_ACTIVATION",
        `activations: "${one.name}" is the last layer's activation only, but a single name applies it to all ${L - 1} layers 2..${L}; ` +
          `give an array of ${L - 1}, e.g. [${new Array(L - 2).fill('"relu"').join(", ")}, "${one.name}"]`,
        { expected: L - 1, actual: one.name },
      );
    }
    layers = new Array<Activation>(L - 1).fill(one);
    single = true;
  } else {
    let length: number;
    try {
      length = activations.length;
    } catch (cause) {
      throw new MLPError("E_ACTIVATION", "activations: the array could not be read", { cause });
    }
    if (length !== L - 1) {
      throw new MLPError(
        "E_ACTIVATION",
        `activations: expected ${L - 1} names (one for each layer 2..${L}), got ${length}`,
        { expected: L - 1, actual: length },
      );
    }
    layers = [];
    for (let i = 0; i < length; i++) {
      let value: unknown;
      let hole: boolean;
      try {
        value = activations[i];
        hole = value === undefined && !(i in activations);
      } catch (cause) {
        throw new MLPError("E_ACTIVATION", `layer ${i + 2} activation: activations[${i}] could not be read`, { layer: i + 2, cause });
      }
      if (hole) {
        throw new MLPError("E_ACTIVATION", `layer ${i + 2} activation: activations[${i}] is a hole in the array; give a name for every layer 2..${L}`, {
          layer: i + 2,
        });
      }
      const where = `layer ${i + 2} activation (activations[${i}])`;
      const one = checkActivation(value, i + 2, where);
      if ((one.name === "softmax" || one.name === "logSoftmax") && i !== length - 1) {
        throw new MLPError("E_ACTIVATION", `${where}: "${one.name}" is allowed only as the last layer's (layer ${L}) activation`, {
          layer: i + 2,
          actual: one.name,
        });
      }
      layers.push(one);
    }
  }
  const last = layers[layers.length - 1];
  const output: OutputKind = last.name === "softmax" || last.name === "logSoftmax" ? last.name : "none";
  if (output !== "none" && sizes[L - 1] < 2) {
    throw new MLPError(
      "E_ACTIVATION",
      `layer ${L} activation: ${output} over n_L = 1 output is the constant ${output === "softmax" ? 1 : 0}; ` +
        `use "sigmoid" for one probability, or give the last layer n_L ≥ 2 outputs`,
      { layer: L, expected: 2, actual: sizes[L - 1] },
    );
  }
  return { layers, output, json: single ? layers[0].json : layers.map((a) => a.json) };
}

/** Any indexable array of numbers (typed arrays, plain arrays). */
type Numbers = { [index: number]: number; readonly length: number };

/**
 * The output layer after the kernels: reads the n logits z at `logits[from…]`, leaves p = softmax(z) in
 * `p` (f64) and writes a^[L] (p, or log p for logSoftmax) to `out[at…]`. Max-shifted: every exponent is
 * ≤ 0 and the sum s ≥ 1, so nothing overflows for any finite logits; log p = (z − max) − log s.
 */
export function applyOutput(kind: OutputKind, logits: Readonly<Numbers>, from: number, n: number, p: Float64Array, out: Numbers, at: number): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[from + i]);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += p[i] = Math.exp(logits[from + i] - max);
  const logSum = Math.log(sum);
  for (let i = 0; i < n; i++) {
    p[i] /= sum;
    out[at + i] = kind === "logSoftmax" ? logits[from + i] - max - logSum : p[i];
  }
}

/**
 * g = Jᵀv for the output layer's Jacobian J at p (v at `v[from…]`, g to `g[at…]`; g may not alias v):
 * softmax J = diag(p) − p pᵀ (symmetric): g_i = p_i (v_i − pᵀv);  logSoftmax J = I − 1pᵀ: g_i = v_i − p_i Σ_j v_j.
 */
export function pullBack(kind: OutputKind, p: Float64Array, n: number, v: Readonly<Numbers>, from: number, g: Numbers, at: number): void {
  let dot = 0;
  for (let i = 0; i < n; i++) dot += (kind === "softmax" ? p[i] : 1) * v[from + i];
  for (let i = 0; i < n; i++) g[at + i] = kind === "softmax" ? p[i] * (v[from + i] - dot) : v[from + i] - p[i] * dot;
}

/**
 * w ← J w in place for the output layer's Jacobian J at p, over n entries `stride` apart from `from`:
 * softmax: p_i (w_i − pᵀw);  logSoftmax: w_i − pᵀw.
 */
export function pushForward(kind: OutputKind, p: Float64Array, n: number, w: Numbers, from: number, stride = 1): void {
  let dot = 0;
  for (let i = 0; i < n; i++) dot += p[i] * w[from + i * stride];
  for (let i = 0; i < n; i++) {
    const at = from + i * stride;
    w[at] = kind === "softmax" ? p[i] * (w[at] - dot) : w[at] - dot;
  }
}
