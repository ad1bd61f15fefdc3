/**
 * The multilayer perceptron of Higham & Higham (SIAM Review 2019, eqs. 3.1–3.2) and its input gradient.
 *
 *   a^[1] = x,   z^[l] = W^[l] a^[l-1] + b^[l],   a^[l] = σ_l(z^[l]),   l = 2..L
 *
 * With n_L = 1 and s^[l] = σ_l'(z^[l]) kept by the forward pass, the backward pass is
 *
 *   g^[L] = s^[L],   g^[l] = ((W^[l+1])ᵀ g^[l+1]) ⊙ s^[l]  (l = L-1..2),   ∇ₓ a^[L] = (W^[2])ᵀ g^[2]
 *
 * where g^[l] = ∂a^[L]/∂z^[l]. With softmax or logSoftmax as the last layer's activation the kernels run
 * that layer with the identity (a^[L] there holds the logits z^[L]) and this file applies the output
 * function and its Jacobian J (activation.ts): forward a^[L] = softmax(z^[L]); vjp g^[L] = Jᵀv; jvp and
 * jacobian J·(∂z^[L]/∂x). gradientOf(x, k) is the vjp with v = e_k: one backward pass.
 * Both passes run inside one kernel call (assembly/network.ts walks the
 * layer plan; assembly/matvec.ts fuses each layer into one sweep over W^[l]). This file validates at the
 * boundary, copies x in and the result out.
 */
import { applyOutput, pullBack, pushForward, type ActivationName, type ActivationSpec, type OutputKind } from "./activation.js";
import type { Engine, Kernels } from "./engine.js";
import { MLPError, count, describe, show } from "./errors.js";
import { BatchRunner, type Pick } from "./batch.js";
import { planBlock, planLayout, writePlan, type LayerLayout, type NetworkLayout } from "./memory.js";
import {
  badWeight,
  checkLayer,
  checkParameters,
  checkSpec,
  type CheckedWeights,
  type MLPSpecLike,
  type ModelJSON,
  type Precision,
  type WeightReader,
  type WeightsLike,
} from "./model.js";

/** A result vector: Float32Array for f32 networks, Float64Array for f64 ones. */
export type Vector = Float32Array | Float64Array;

/** The result vectors of a network of precision P: Float64Array for "f64", Float32Array for "f32", either for Precision. */
export type VectorOf<P extends Precision> = P extends "f64" ? Float64Array : Float32Array;

/** What valueAndGradient returns. */
export interface ValueAndGradient<V extends Vector = Vector> {
  value: number;
  gradient: V;
}

type View = Float32Array | Float64Array;
type ForwardNet = Kernels["forwardNetF32"];
type GradientNet = Kernels["gradientNetF32"];
type VjpNet = Kernels["vjpNetF32"];
type JvpNet = Kernels["jvpNetF32"];
type HvpNet = Kernels["hvpNetF32"];
type BackwardNet = Kernels["backwardNetF32"];


/** The batch methods, by name (for batchJob). */
export type BatchMethod = "gradientBatch" | "valueAndGradientBatch" | "forwardBatch" | "gradientOfBatch";

/** Options of gradientOf and gradientOfBatch. */
/** @internal The single-input calls a pool can split across its threads (MLP.splitBegin, MLPPool). */
export type SplitMethod = "gradient" | "valueAndGradient" | "vjp" | "gradientOf" | "jacobian";

export interface GradientOfOptions {
  /**
   * true: the gradient of the last layer's pre-activation z_k^[L] (a classifier's class score, the logit
   * before softmax) instead of the output a_k^[L]. Default false.
   */
  logit?: boolean;
}

/** A checked batch call: m inputs, and where each kind of result goes (null: not asked for). */
export interface BatchJob<V extends Vector = Vector> {
  m: number;
  values: V | null;
  gradients: V | null;
  outputs: V | null;
  /** gradientOfBatch: which output each row's gradient is of. */
  pick?: Pick;
}

/** What parameterGradient returns: ∂a^[L]/∂W^[l] and ∂a^[L]/∂b^[l] in the model's own layout. */
export interface ParameterGradient<V extends Vector = Vector> {
  layers: { weights: V; bias: V }[];
}

const ONE = [1];

// Networks dropped without dispose() hand their memory back when they are garbage-collected.
const finalizer =
  typeof FinalizationRegistry === "undefined"
    ? undefined
    : new FinalizationRegistry<Blocks>(releaseBlocks);

/** A network's blocks of engine memory (its layout, and its batch buffers once used). */
interface Blocks {
  engine: Engine;
  list: { start: number; bytes: number }[];
}

function releaseBlocks({ engine, list }: Blocks): void {
  for (const { start, bytes } of list.splice(0)) engine.arena.release(start, bytes);
}

/**
 * A network living in an engine's WebAssembly memory. Create it with createMLP(spec). P is its
 * precision: results are VectorOf<P> (Float32Array for "f32", Float64Array for "f64").
 */
export class MLP<P extends Precision = Precision> {
  /** n_1 … n_L. */
  readonly sizes: readonly number[];
  /** σ for layer 2..L (canonical names; parameters are in toJSON()). */
  readonly activations: readonly ActivationName[];
  /** What the last layer applies to its logits z^[L]: "softmax", "logSoftmax" or "none" (elementwise σ). */
  readonly outputActivation: OutputKind;
  readonly precision: P;
  /** n_1: length of x and of the gradient. */
  readonly inputSize: number;
  /** n_L: length of forward(x). */
  readonly outputSize: number;

  private readonly engine: Engine;
  private readonly layout: NetworkLayout;
  private readonly blocks: Blocks;
  private runner?: BatchRunner; // batch buffers and their driver, made on first use
  private readonly codes: number[];
  private readonly shift: number; // log2 of the element size: byte offset >> shift = view index
  private readonly forwardNet: ForwardNet;
  private readonly gradientNet: GradientNet;
  private readonly vjpNet: VjpNet;
  private readonly jvpNet: JvpNet;
  private readonly hvpNet: HvpNet;
  private readonly backwardNet: BackwardNet;
  private readonly params: { p1: number; p2: number }[];
  private readonly probabilities: Float64Array; // p = softmax(z^[L]) scratch (n_L)
  private readonly direction: Float64Array; // v scratch (n_L)
  private readonly scratch: Float64Array; // a^[L] scratch (n_L)
  private readonly ArrayType: Float32ArrayConstructor | Float64ArrayConstructor;
  private readonly activationSpec: ActivationSpec | ActivationSpec[];
  private disposed = false;

  /** @internal Use createMLP(spec) or engine.createMLP(spec). */
  constructor(engine: Engine, spec: MLPSpecLike) {
    const checked = checkSpec(spec);
    const { sizes, precision } = checked;
    this.engine = engine;
    this.sizes = Object.freeze(sizes.slice());
    this.activations = Object.freeze(checked.activations);
    // checkSpec read the activations field once (a getter could answer differently a second time).
    this.activationSpec = checked.activationsJSON;
    this.outputActivation = checked.output;
    this.codes = checked.codes;
    this.params = checked.layerActivations.map(({ p1, p2 }) => ({ p1, p2 }));
    this.precision = precision as P;
    this.inputSize = sizes[0];
    this.outputSize = sizes[sizes.length - 1];
    this.shift = precision === "f32" ? 2 : 3;
    const k = engine.kernels;
    this.forwardNet = precision === "f32" ? k.forwardNetF32 : k.forwardNetF64;
    this.gradientNet = precision === "f32" ? k.gradientNetF32 : k.gradientNetF64;
    this.vjpNet = precision === "f32" ? k.vjpNetF32 : k.vjpNetF64;
    this.jvpNet = precision === "f32" ? k.jvpNetF32 : k.jvpNetF64;
    this.hvpNet = precision === "f32" ? k.hvpNetF32 : k.hvpNetF64;
    this.backwardNet = precision === "f32" ? k.backwardNetF32 : k.backwardNetF64;

    this.ArrayType = precision === "f32" ? Float32Array : Float64Array;

    // Check the size, then every layer, before touching memory; then reserve and fill the block.
    const bytes = planLayout(sizes, precision).bytes;
    const what = `the ${precision} network [${sizes.join(", ")}]`;
    engine.arena.checkFits(bytes, what);
    // Scratch for softmax outputs, allocated only once the sizes are known to fit.
    this.probabilities = new Float64Array(this.outputSize);
    this.direction = new Float64Array(this.outputSize);
    this.scratch = new Float64Array(this.outputSize);
    const layerChecks: CheckedWeights[] = [];
    for (let i = 1; i < sizes.length; i++) {
      layerChecks.push(checkLayer(i + 1, checked.layers[i - 1], sizes[i], sizes[i - 1], precision, true));
    }
    const start = engine.arena.alloc(bytes, what);
    this.blocks = { engine, list: [{ start, bytes }] };
    this.layout = planLayout(sizes, precision, start);
    writePlan(engine.memory, this.layout, this.codes, this.params);
    for (let i = 0; i < layerChecks.length; i++) {
      this.writeLayer(i, layerChecks[i].read, layerChecks[i].bias);
      if (layerChecks[i].deferred) {
        const bad = this.firstNonFinite(this.layout.layers[i]);
        if (bad >= 0) {
          releaseBlocks(this.blocks);
          throw badWeight(i + 2, bad, sizes[i], layerChecks[i].at(bad), precision);
        }
      }
    }
    finalizer?.register(this, this.blocks, this);
  }

  /**
   * ∇ₓ a^[L](x) (n_L must be 1). Written into `out` and returned when given (nothing allocates then),
   * else into a new Float32Array / Float64Array of length n_1.
   */
  gradient<V extends VectorOf<P> = VectorOf<P>>(x: Readonly<ArrayLike<number>>, out?: V): V {
    this.requireScalar("gradient");
    const result = this.output(out, this.inputSize, "n_1");
    this.loadInput(x);
    const layout = this.layout;
    this.gradientNet(layout.plan, layout.layers.length, layout.x, layout.grad);
    return this.copyOut(layout.grad, result);
  }

  /** a^[L](x) and ∇ₓ a^[L](x) from one forward and one backward pass (n_L must be 1). */
  valueAndGradient<V extends VectorOf<P> = VectorOf<P>>(x: Readonly<ArrayLike<number>>, out?: V): ValueAndGradient<V> {
    this.requireScalar("valueAndGradient");
    const result = this.output(out, this.inputSize, "n_1");
    this.loadInput(x);
    const layout = this.layout;
    this.gradientNet(layout.plan, layout.layers.length, layout.x, layout.grad);
    const value = this.view()[layout.layers[layout.layers.length - 1].a >> this.shift];
    return { value, gradient: this.copyOut(layout.grad, result) };
  }

  /** a^[L](x), length n_L; into `out` when given. */
  forward<V extends VectorOf<P> = VectorOf<P>>(x: Readonly<ArrayLike<number>>, out?: V): V {
    this.requireLive("forward");
    const result = this.output(out, this.outputSize, "n_L");
    this.loadInput(x);
    const layout = this.layout;
    const top = this.forwardNet(layout.plan, layout.layers.length, layout.x);
    if (this.outputActivation === "none") return this.copyOut(top, result);
    applyOutput(this.outputActivation, this.view(), top >> this.shift, this.outputSize, this.probabilities, result, 0);
    return result;
  }

  /**
   * Per-sample gradients of m inputs: xs is row-major m × n_1 (flat), the result row-major m × n_1 with
   * row i = ∇ₓ a^[L](x_i) (n_L must be 1). Runs the batched (matrix·matrix) kernels on blocks of up to
   * 64 inputs, so any m fits in a fixed amount of memory. Into `out` when given.
   */
  gradientBatch<V extends VectorOf<P> = VectorOf<P>>(xs: Readonly<ArrayLike<number>>, out?: V): V {
    const job = this.batchJob("gradientBatch", xs, out);
    this.batchRunner().run(xs, 0, job.m, null, job.gradients, null);
    return job.gradients!;
  }

  /** a^[L](x_i) and ∇ₓ a^[L](x_i) for m inputs (n_L must be 1): values length m, gradients m × n_1. */
  valueAndGradientBatch<V extends VectorOf<P> = VectorOf<P>>(xs: Readonly<ArrayLike<number>>, values?: V, gradients?: V): { values: V; gradients: V } {
    const job = this.batchJob("valueAndGradientBatch", xs, values, gradients);
    this.batchRunner().run(xs, 0, job.m, job.values, job.gradients, null);
    return { values: job.values!, gradients: job.gradients! };
  }

  /** a^[L](x_i) for m inputs: row-major m × n_L. */
  forwardBatch<V extends VectorOf<P> = VectorOf<P>>(xs: Readonly<ArrayLike<number>>, out?: V): V {
    const job = this.batchJob("forwardBatch", xs, out);
    this.batchRunner().run(xs, 0, job.m, null, null, job.outputs);
    return job.outputs!;
  }

  /**
   * @internal The checks of a batch call, shared with MLPPool: m, and the arrays the results go into
   * (`first`/`second` are the caller's out arguments; null where the method has no such result).
   */
  batchJob<V extends VectorOf<P> = VectorOf<P>>(
    method: BatchMethod,
    xs: Readonly<ArrayLike<number>>,
    first?: V,
    second?: V,
    k?: number | Readonly<ArrayLike<number>>,
    options?: GradientOfOptions,
  ): BatchJob<V> {
    if (method === "forwardBatch" || method === "gradientOfBatch") this.requireLive(method);
    else this.requireScalar(method);
    if (method === "gradientOfBatch") {
      const logit = this.checkOptions(method, options);
      const m = this.batchSize(xs);
      const ks = this.checkOutputIndices(method, k, m);
      const gradients = this.output(first, m * this.inputSize, "m × n_1");
      return { m, values: null, gradients, outputs: null, pick: { k: ks, logit } };
    }
    const m = this.batchSize(xs);
    if (method === "forwardBatch") return { m, values: null, gradients: null, outputs: this.output(first, m * this.outputSize, "m × n_L") };
    const values = method === "valueAndGradientBatch" ? this.output(first, m, "m") : null;
    const gradients = this.output(method === "gradientBatch" ? first : second, m * this.inputSize, "m × n_1");
    return { m, values, gradients, outputs: null };
  }

  /** @internal Where the network lives, for worker threads that run its batches on a shared memory. */
  get batchPlan(): { layout: NetworkLayout; codes: readonly number[]; params: readonly { p1: number; p2: number }[]; output: OutputKind } {
    return { layout: this.layout, codes: this.codes, params: this.params, output: this.outputActivation };
  }

  /** logit from gradientOf's options (undefined, or { logit?: boolean }), or E_OPTIONS. */
  private checkOptions(method: string, options: GradientOfOptions | undefined): boolean {
    if (options === undefined) return false;
    let logit: unknown;
    try {
      if (options === null || typeof options !== "object") throw new TypeError("not an object");
      logit = options.logit;
    } catch {
      throw new MLPError("E_OPTIONS", `${method}: options must be an object { logit?: boolean }, got ${describe(options)}`, { actual: options });
    }
    if (logit !== undefined && typeof logit !== "boolean") {
      throw new MLPError("E_OPTIONS", `${method}: options.logit must be true or false, got ${describe(logit)}`, { expected: "boolean", actual: logit });
    }
    return logit === true;
  }

  /** Checks an output index k (0-based, 0 ≤ k < n_L). */
  private checkOutputIndex(method: string, k: unknown, what: string, index?: number): number {
    const nL = this.outputSize;
    if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k >= nL) {
      throw new MLPError(
        "E_INPUT",
        `${method}: ${what} must be an output index, an integer from 0 to n_L − 1 = ${nL - 1}, got ${typeof k === "number" ? String(k) : describe(k)}`,
        { layer: this.sizes.length, index, expected: [0, nL - 1], actual: k },
      );
    }
    return k;
  }

  /** One output index for every row (a number), or m of them (an array-like of m indices), as given or as an Int32Array. */
  private checkOutputIndices(method: string, k: unknown, m: number): number | Int32Array {
    if (typeof k === "number") return this.checkOutputIndex(method, k, "k");
    if (k === null || typeof k !== "object" || typeof (k as ArrayLike<unknown>).length !== "number") {
      throw new MLPError("E_INPUT", `${method}: k must be an output index or an array of m = ${m} of them (one per row), got ${describe(k)}`, {
        expected: m,
      });
    }
    const list = k as ArrayLike<unknown>;
    if (list.length !== m) {
      throw new MLPError("E_INPUT", `${method}: k must hold one output index per row of xs: expected ${m}, got ${list.length}`, {
        expected: m,
        actual: list.length,
      });
    }
    const ks = new Int32Array(m);
    for (let i = 0; i < m; i++) ks[i] = this.checkOutputIndex(method, list[i], `k[${i}]`, i);
    return ks;
  }

  /**
   * The Jacobian ∂a^[L]/∂x, row-major n_L × n_1 (row k = ∇ₓ a_k^[L]): one forward pass, then one batched
   * backward pass with the n_L unit vectors as its columns, G^[L] = diag(σ'(z^[L])).
   */
  jacobian<V extends VectorOf<P> = VectorOf<P>>(x: Readonly<ArrayLike<number>>, out?: V): V {
    this.requireLive("jacobian");
    const result = this.output(out, this.outputSize * this.inputSize, "n_L × n_1");
    this.loadInput(x);
    this.batchRunner().jacobian(result);
    return result;
  }

  /** vᵀJ = Σ_k v_k ∇ₓ a_k^[L](x), length n_1 (v has n_L entries); gradient(x) is vjp(x, [1]). */
  vjp<V extends VectorOf<P> = VectorOf<P>>(x: Readonly<ArrayLike<number>>, v: Readonly<ArrayLike<number>>, out?: V): V {
    this.requireLive("vjp");
    const result = this.output(out, this.inputSize, "n_1");
    const layout = this.layout;
    const top = layout.layers[layout.layers.length - 1];
    this.loadVector(v, top.g, this.outputSize, "v", "n_L");
    this.loadInput(x);
    this.backpropagate(top.g);
    return this.copyOut(layout.grad, result);
  }

  /**
   * ∇ₓ a_k^[L](x), the gradient of output k (0-based, any n_L) at the cost of one gradient: the vjp with
   * v = e_k. With { logit: true }, the gradient of z_k^[L] (the class score before softmax or σ). Length
   * n_1; into `out` when given.
   */
  gradientOf<V extends VectorOf<P> = VectorOf<P>>(x: Readonly<ArrayLike<number>>, k: number, out?: V, options?: GradientOfOptions): V {
    this.requireLive("gradientOf");
    const logit = this.checkOptions("gradientOf", options);
    this.checkOutputIndex("gradientOf", k, "k");
    const result = this.output(out, this.inputSize, "n_1");
    this.loadInput(x);
    const layout = this.layout;
    const count = layout.layers.length;
    this.forwardNet(layout.plan, count, layout.x);
    this.gradientOfTop(k, logit);
    this.backwardNet(layout.plan, count, layout.grad);
    return this.copyOut(layout.grad, result);
  }

  /** @internal After a forward pass: g^[L] of gradientOf(x, k) (of z_k^[L] with logit) in its buffer. */
  gradientOfTop(k: number, logit: boolean): void {
    const top = this.layout.layers[this.layout.layers.length - 1];
    const view = this.view();
    const g = top.g >> this.shift;
    const nL = this.outputSize;
    if (logit) {
      view.fill(0, g, g + nL);
      view[g + k] = 1;
    } else if (this.outputActivation === "none") {
      view.fill(0, g, g + nL);
      view[g + k] = view[(top.s >> this.shift) + k];
    } else {
      // g^[L] = Jᵀe_k: p_k (e_k − p) for softmax, e_k − p for logSoftmax.
      const p = this.probabilities;
      this.logitsToProbabilities(top.a);
      for (let i = 0; i < nL; i++) view[g + i] = (this.outputActivation === "softmax" ? p[k] : 1) * ((i === k ? 1 : 0) - p[i]);
    }
  }

  /**
   * Row i = ∇ₓ a_{k_i}^[L](x_i) for m inputs (xs row-major m × n_1; result m × n_1): k one output index
   * for every row, or m of them (one per row). One batched backward pass; options as for gradientOf.
   */
  gradientOfBatch<V extends VectorOf<P> = VectorOf<P>>(xs: Readonly<ArrayLike<number>>, k: number | Readonly<ArrayLike<number>>, out?: V, options?: GradientOfOptions): V {
    const job = this.batchJob("gradientOfBatch", xs, out, undefined, k, options);
    this.batchRunner().run(xs, 0, job.m, null, job.gradients, null, 0, job.pick);
    return job.gradients!;
  }

  /**
   * @internal For the pool's split calls (pool.ts, split.ts): checks `out`, v (vjp), k and its options
   * (gradientOf) and x as `method` does, loads v into g^[L]'s buffer and x into a^[1], and returns the
   * result vector; then the pool runs the passes, splitTop (vjp) or gradientOfTop between them, and
   * copies the result out with splitResult (jacobian: the batch runner's jacobianRows, round by round).
   */
  splitBegin<V extends Vector>(
    method: SplitMethod,
    x: Readonly<ArrayLike<number>>,
    out: V | undefined,
    v?: Readonly<ArrayLike<number>>,
    k?: number,
    options?: GradientOfOptions,
  ): V {
    if (method === "gradientOf") {
      this.requireLive(method);
      this.checkOptions(method, options);
      this.checkOutputIndex(method, k, "k");
    } else if (method === "vjp" || method === "jacobian") this.requireLive(method);
    else this.requireScalar(method);
    const result = method === "jacobian" ? this.output(out, this.outputSize * this.inputSize, "n_L × n_1") : this.output(out, this.inputSize, "n_1");
    const top = this.layout.layers[this.layout.layers.length - 1];
    if (method === "vjp") this.loadVector(v!, top.g, this.outputSize, "v", "n_L");
    this.loadInput(x);
    return result;
  }

  /** @internal After a split forward pass, with v at g^[L]'s buffer: g^[L] as vjpNet or backpropagate makes it. */
  splitTop(): void {
    const layout = this.layout;
    const count = layout.layers.length;
    const top = layout.layers[count - 1];
    const view = this.view();
    const nL = this.outputSize;
    const g = top.g >> this.shift;
    if (this.outputActivation === "none") {
      // v ⊙ s^[L]: one rounding of an exact product, so the same bits as vjpNet's multiplication.
      const s = top.s >> this.shift;
      for (let i = 0; i < nL; i++) view[g + i] = view[g + i] * view[s + i];
      return;
    }
    const v = this.direction;
    for (let i = 0; i < nL; i++) v[i] = view[g + i];
    this.logitsToProbabilities(top.a);
    pullBack(this.outputActivation, this.probabilities, nL, v, 0, view, g);
  }

  /** @internal A split call's ∇ₓ into `out`, and a^[L]_0. */
  splitResult<V extends Vector>(out: V): { value: number; gradient: V } {
    const layout = this.layout;
    const value = this.view()[layout.layers[layout.layers.length - 1].a >> this.shift];
    return { value, gradient: this.copyOut(layout.grad, out) };
  }

  /** p = softmax(z^[L]) into this.probabilities, from the logits at byte offset `logits`. */
  private logitsToProbabilities(logits: number): void {
    applyOutput(this.outputActivation, this.view(), logits >> this.shift, this.outputSize, this.probabilities, this.scratch, 0);
  }

  /**
   * After loadInput and with v (n_L entries) at g^[L]'s buffer: vᵀ ∂a^[L]/∂x into layout.grad, leaving
   * g^[l] for every layer in its buffer. Through softmax / logSoftmax: forward, g^[L] = Jᵀv, backward.
   */
  private backpropagate(gTop: number): void {
    const layout = this.layout;
    const count = layout.layers.length;
    if (this.outputActivation === "none") {
      this.vjpNet(layout.plan, count, layout.x, layout.grad);
      return;
    }
    this.forwardNet(layout.plan, count, layout.x);
    const view = this.view();
    const nL = this.outputSize;
    const g = gTop >> this.shift;
    const v = this.direction;
    for (let i = 0; i < nL; i++) v[i] = view[g + i];
    this.logitsToProbabilities(layout.layers[count - 1].a);
    pullBack(this.outputActivation, this.probabilities, nL, v, 0, view, g);
    this.backwardNet(layout.plan, count, layout.grad);
  }

  /** J u, the directional derivative of a^[L] along u (forward mode), length n_L (u has n_1 entries). */
  jvp<V extends VectorOf<P> = VectorOf<P>>(x: Readonly<ArrayLike<number>>, u: Readonly<ArrayLike<number>>, out?: V): V {
    this.requireLive("jvp");
    const result = this.output(out, this.outputSize, "n_L");
    const layout = this.layout;
    this.loadVector(u, layout.u, this.inputSize, "u", "n_1");
    this.loadInput(x);
    this.copyOut(this.jvpNet(layout.plan, layout.layers.length, layout.x, layout.u), result);
    if (this.outputActivation !== "none") {
      // result holds ż^[L] = (∂z^[L]/∂x) u; the output layer's Jacobian at p turns it into J u.
      const top = layout.layers[layout.layers.length - 1];
      this.logitsToProbabilities(top.a);
      pushForward(this.outputActivation, this.probabilities, this.outputSize, result, 0);
    }
    return result;
  }

  /** (∇²ₓ a^[L](x)) u, the Hessian of the scalar output times u (n_L must be 1), length n_1. */
  hvp<V extends VectorOf<P> = VectorOf<P>>(x: Readonly<ArrayLike<number>>, u: Readonly<ArrayLike<number>>, out?: V): V {
    this.requireScalar("hvp");
    const result = this.output(out, this.inputSize, "n_1");
    const layout = this.layout;
    this.loadVector(u, layout.u, this.inputSize, "u", "n_1");
    this.loadInput(x);
    this.hvpNet(layout.plan, layout.layers.length, layout.x, layout.u, layout.grad);
    return this.copyOut(layout.grad, result);
  }

  /**
   * ∂(vᵀa^[L])/∂W^[l] = g^[l] (a^[l-1])ᵀ and ∂(vᵀa^[L])/∂b^[l] = g^[l] for l = 2..L, with g^[L] = v ⊙ σ'(z^[L]):
   * the back-propagation of Higham & Higham §5, reusing the g^[l] of one backward pass. v defaults to
   * [1] when n_L = 1 (the gradient of a^[L] itself); for a cost C(a^[L]) pass v = ∂C/∂a^[L], e.g.
   * a^[L] − y for ½‖y − a^[L]‖². Layer i of the result is layer l = i + 2, weights row-major
   * n_l × n_{l-1}. Allocates its result.
   */
  parameterGradient(x: Readonly<ArrayLike<number>>, v?: Readonly<ArrayLike<number>>): ParameterGradient<VectorOf<P>> {
    if (v === undefined) this.requireScalar("parameterGradient");
    else this.requireLive("parameterGradient");
    const layout = this.layout;
    const count = layout.layers.length;
    const top = layout.layers[count - 1];
    this.loadVector(v ?? ONE, top.g, this.outputSize, "v", "n_L");
    this.loadInput(x);
    this.backpropagate(top.g);
    const view = this.view();
    const shift = this.shift;
    return {
      layers: layout.layers.map((layer, i) => {
        const g = layer.g >> shift;
        const a = (i === 0 ? layout.x : layout.layers[i - 1].a) >> shift;
        const weights = new this.ArrayType(layer.rows * layer.cols);
        const bias = new this.ArrayType(layer.rows);
        for (let r = 0; r < layer.rows; r++) {
          const gr = view[g + r];
          bias[r] = gr;
          for (let c = 0; c < layer.cols; c++) weights[r * layer.cols + c] = gr * view[a + c];
        }
        return { weights: weights as VectorOf<P>, bias: bias as VectorOf<P> };
      }),
    };
  }

  /** W^[l] and b^[l] (l = 2..L) as new arrays: weights row-major n_l × n_{l-1}. */
  getLayer(l: number): { weights: VectorOf<P>; bias: VectorOf<P> } {
    this.requireLive("getLayer");
    const layer = this.layout.layers[this.layerIndex("getLayer", l)];
    const view = this.view();
    const w = layer.w >> this.shift;
    const weights = new this.ArrayType(layer.rows * layer.cols);
    for (let r = 0; r < layer.rows; r++) weights.set(view.subarray(w + r * layer.stride, w + r * layer.stride + layer.cols), r * layer.cols);
    const b = layer.b >> this.shift;
    return { weights: weights as VectorOf<P>, bias: view.slice(b, b + layer.rows) as VectorOf<P> };
  }

  /**
   * Replaces W^[l] and b^[l] in place (l = 2..L, as in the paper). Everything is checked first: a
   * failed call changes nothing.
   */
  setLayer(l: number, weights: WeightsLike, bias: ArrayLike<number>): this {
    this.requireLive("setLayer");
    this.layerIndex("setLayer", l);
    const checked = checkParameters(l, weights, bias, this.sizes[l - 1], this.sizes[l - 2], this.precision);
    this.writeLayer(l - 2, checked.read, checked.bias);
    return this;
  }

  /** The model as a plain object (the JSON model format): createMLP(net.toJSON()) rebuilds it. */
  toJSON(): ModelJSON<P> {
    this.requireLive("toJSON");
    const view = this.view();
    const layers = this.layout.layers.map((layer) => {
      const weights = new Array<number>(layer.rows * layer.cols);
      const w = layer.w >> this.shift;
      for (let i = 0; i < layer.rows; i++) {
        for (let j = 0; j < layer.cols; j++) weights[i * layer.cols + j] = view[w + i * layer.stride + j];
      }
      const b = layer.b >> this.shift;
      return { weights, bias: Array.from(view.subarray(b, b + layer.rows)) };
    });
    const copy = (a: ActivationSpec): ActivationSpec => (typeof a === "string" ? a : { ...a });
    const spec = this.activationSpec;
    const activations = Array.isArray(spec) ? spec.map(copy) : copy(spec as ActivationSpec);
    return { sizes: this.sizes.slice(), activations, precision: this.precision, layers };
  }

  /**
   * Releases the network's block of WebAssembly memory for reuse by later networks (the memory itself
   * never shrinks). Any later call throws E_DISPOSED; dispose() again is a no-op.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    finalizer?.unregister(this);
    releaseBlocks(this.blocks);
  }

  /** Whether dispose() has been called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** @internal Throws unless the network is live and has one output. */
  requireScalar(method: string): void {
    this.requireLive(method);
    if (this.outputSize !== 1) {
      throw new MLPError(
        "E_NOT_SCALAR",
        `${method}: the network's output a^[L] has n_L = ${this.outputSize} components, but ${method} needs n_L = 1; ` +
          `use gradientOf(x, k) for the gradient of output k, jacobian(x) for all n_L gradients, vjp(x, v) for one combination of them, or forward(x) for the outputs`,
        { expected: 1, actual: this.outputSize },
      );
    }
  }

  private requireLive(method: string): void {
    if (this.disposed) throw new MLPError("E_DISPOSED", `${method}: the network was disposed; create a new one with createMLP()`);
  }

  private view(): View {
    return this.shift === 2 ? this.engine.viewF32() : this.engine.viewF64();
  }

  private output<V extends Vector>(out: V | undefined, length: number, symbol: string): V {
    if (out === undefined) return new this.ArrayType(length) as V;
    if (!(out instanceof this.ArrayType)) {
      throw new MLPError(
        "E_OUTPUT",
        `out: expected a ${this.ArrayType.name} (precision "${this.precision}") of length ${length}, got ${describe(out)}`,
        { expected: this.ArrayType.name, actual: describe(out) },
      );
    }
    if (out.length !== length) {
      throw new MLPError("E_OUTPUT", `out: expected length ${length} (${symbol}), got ${out.length}`, { expected: length, actual: out.length });
    }
    return out;
  }

  /** m for a flat row-major batch xs of n_1-vectors, or E_INPUT. */
  private batchSize(xs: Readonly<ArrayLike<number>>): number {
    const n = this.inputSize;
    if (xs !== null && typeof xs === "object" && xs.length > 0 && xs[0] !== null && typeof xs[0] === "object") {
      throw new MLPError(
        "E_INPUT",
        `xs: xs[0] is ${describe(xs[0])}, but xs must be flat, row-major m × n_1 (m inputs of ${count(n, "number")}, one after another): ` +
          `flatten it, e.g. xs.flat() or a Float64Array of m·n_1 numbers`,
        { layer: 1, expected: "flat array of numbers", actual: describe(xs[0]) },
      );
    }
    if (xs === null || typeof xs !== "object" || typeof xs.length !== "number" || xs.length % n !== 0) {
      const got = xs !== null && typeof xs === "object" && typeof xs.length === "number" ? `${xs.length}` : describe(xs);
      throw new MLPError("E_INPUT", `xs: expected m rows of n_1 = ${count(n, "number")} (flat, row-major m × n_1), got ${got}`, {
        layer: 1,
        expected: n,
        actual: xs?.length,
      });
    }
    return xs.length / n;
  }

  /** @internal The batch runner and its buffers, planned (and memory grown, if need be) on first use. */
  batchRunner(): BatchRunner {
    if (this.runner === undefined) {
      const bytes = planBlock(this.sizes, this.precision, 0).bytes;
      const start = this.engine.arena.alloc(bytes, `the batch buffers of the ${this.precision} network [${this.sizes.join(", ")}]`);
      this.blocks.list.push({ start, bytes });
      this.runner = new BatchRunner({
        kernels: this.engine.kernels,
        precision: this.precision,
        sizes: this.sizes,
        codes: this.codes,
        params: this.params,
        output: this.outputActivation,
        layout: this.layout,
        block: planBlock(this.sizes, this.precision, start),
        view: () => this.view(),
      });
    }
    return this.runner;
  }

  /** Checks x and copies it into a^[1]. */
  private loadInput(x: Readonly<ArrayLike<number>>): void {
    const n = this.inputSize;
    if (x === null || typeof x !== "object" || x.length !== n) {
      throw new MLPError(
        "E_INPUT",
        `x: expected ${count(n, "number")} (n_1), got ${x !== null && typeof x === "object" && typeof x.length === "number" ? x.length : describe(x)}`,
        { layer: 1, expected: n, actual: x?.length },
      );
    }
    const bad = this.copyIn(x, this.layout.x, n);
    if (bad >= 0) throw this.badInput(x, bad, "x", 1);
  }

  /** Checks a direction vector (v or u) and copies it to `offset`. */
  private loadVector(values: Readonly<ArrayLike<number>>, offset: number, n: number, name: string, symbol: string): void {
    if (values === null || typeof values !== "object" || values.length !== n) {
      const got = values !== null && typeof values === "object" && typeof values.length === "number" ? values.length : describe(values);
      throw new MLPError("E_INPUT", `${name}: expected ${count(n, "number")} (${symbol}), got ${got}`, { expected: n, actual: values?.length });
    }
    const bad = this.copyIn(values, offset, n);
    if (bad >= 0) throw this.badInput(values, bad, name);
  }

  /**
   * Copies n values to `offset` and returns the index of the first that is not a finite number (of the
   * network's precision: for f32 a finite f64 beyond its range becomes ±Infinity), or −1.
   */
  private copyIn(values: Readonly<ArrayLike<number>>, offset: number, n: number): number {
    const view = this.view();
    const at = offset >> this.shift;
    if (n >= NATIVE_COPY_MIN && isNumberTypedArray(values)) {
      // One native copy (it rounds to f32 exactly as element assignment does), then the check on the copy:
      // the per-element JS loop below costs ~2.5 ns a value.
      view.set(values, at);
      if (n >= NATIVE_CHECK_MIN) return (this.shift === 2 ? this.engine.kernels.firstNonFiniteF32 : this.engine.kernels.firstNonFiniteF64)(offset, n);
      for (let i = 0; i < n; i++) {
        const stored = view[at + i];
        if (stored - stored !== 0) return i;
      }
      return -1;
    }
    for (let i = 0; i < n; i++) {
      const value = values[i];
      view[at + i] = value;
      // Reading back catches NaN, ±Infinity and (for f32) values outside the f32 range.
      const stored = view[at + i];
      if (typeof value !== "number" || stored - stored !== 0) return i;
    }
    return -1;
  }

  private copyOut<V extends Vector>(offset: number, out: V): V {
    const view = this.view();
    const at = offset >> this.shift;
    const n = out.length;
    if (n >= NATIVE_COPY_MIN) {
      // out is a Float32Array or Float64Array (output() checked it): one native copy. subarray() allocates
      // a view, which costs more than the loop below on short vectors.
      out.set(view.subarray(at, at + n));
      return out;
    }
    for (let i = 0; i < n; i++) out[i] = view[at + i];
    return out;
  }

  private badInput(values: Readonly<ArrayLike<number>>, i: number, name: string, layer?: number): MLPError {
    const value = values[i];
    const range = this.precision === "f32" && typeof value === "number" && Number.isFinite(value) ? " within the f32 range" : "";
    const shown = typeof value === "number" ? String(value) : typeof value === "string" ? `the string ${JSON.stringify(value)}` : describe(value);
    return new MLPError("E_NONFINITE", `${name}[${i}] is ${shown}: ${name} must hold finite numbers${range}`, {
      layer,
      index: i,
      actual: value,
    });
  }

  /** Index into layout.layers of layer l = 2..L, or E_LAYER_INDEX. */
  private layerIndex(method: string, l: number): number {
    const L = this.sizes.length;
    if (!Number.isInteger(l) || l < 2 || l > L) {
      throw new MLPError("E_LAYER_INDEX", `${method}: layer must be an integer from 2 to ${L} (layer 1 is the input x), got ${show(l)}`, {
        expected: [2, L],
        actual: l,
      });
    }
    return l - 2;
  }

  /** Flat index (row-major [out][in], unpadded) of the first non-finite weight of a layer, or −1. */
  private firstNonFinite(layer: LayerLayout): number {
    const k = this.engine.kernels;
    const padded = (this.shift === 2 ? k.firstNonFiniteF32 : k.firstNonFiniteF64)(layer.w, layer.rows * layer.stride);
    return padded < 0 ? -1 : Math.floor(padded / layer.stride) * layer.cols + (padded % layer.stride);
  }

  private writeLayer(i: number, read: WeightReader, bias: ArrayLike<number>): void {
    const layer = this.layout.layers[i];
    const view = this.view();
    const w = layer.w >> this.shift;
    for (let r = 0; r < layer.rows; r++) view.set(read(r), w + r * layer.stride);
    view.set(bias, layer.b >> this.shift);
  }

}

/** Vectors at least this long are copied in and out with one native set() (on short ones the call and,
 * for out, the subarray() view cost more than an element loop: S1 with n_1 = 2 measured 1.4× slower). */
const NATIVE_COPY_MIN = 16;

/** Inputs at least this long are checked by the firstNonFinite kernel after a native copy; shorter ones
 * by a JS loop over the copy (a kernel call costs about as much as checking a few dozen values). */
const NATIVE_CHECK_MIN = 32;

/** A typed array whose elements are numbers (not BigInts): view.set() copies it in one native call. */
function isNumberTypedArray(values: unknown): values is Float32Array | Float64Array {
  return (
    values instanceof Float64Array ||
    values instanceof Float32Array ||
    (ArrayBuffer.isView(values) && !(values instanceof DataView) && !(values instanceof BigInt64Array) && !(values instanceof BigUint64Array))
  );
}
