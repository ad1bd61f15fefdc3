/**
 * An engine is one instance of the kernel module with its own WebAssembly memory, shared by every
 * network created from it. Networks are blocks of that memory (see memory.ts); the engine re-derives its
 * typed-array views whenever the memory has grown, because growth detaches the old buffer.
 */
import { MLPError } from "./errors.js";
import { Arena } from "./memory.js";
import type { MLPSpec, MLPSpecLike, Precision, SpecNames } from "./model.js";
import { MLP, type VectorOf } from "./network.js";

/** The kernel module's exports: byte offsets and counts in, the output offset back. */
export interface Kernels {
  denseF32(aOut: number, sOut: number, w: number, b: number, aIn: number, rows: number, cols: number, act: number, p1: number, p2: number): number;
  denseF64(aOut: number, sOut: number, w: number, b: number, aIn: number, rows: number, cols: number, act: number, p1: number, p2: number): number;
  denseBackF32(gOut: number, w: number, g: number, s: number, rows: number, cols: number, part: number, half: number): number;
  denseBackF64(gOut: number, w: number, g: number, s: number, rows: number, cols: number, part: number, half: number): number;
  denseBackColsF32(gOut: number, w: number, g: number, s: number, rows: number, stride: number, width: number): number;
  denseBackColsF64(gOut: number, w: number, g: number, s: number, rows: number, stride: number, width: number): number;
  backRowsF32(gOut: number, w: number, g: number, rows: number, cols: number): number;
  backRowsF64(gOut: number, w: number, g: number, rows: number, cols: number): number;
  backCombineF32(g: number, part: number, s: number, count: number): number;
  backCombineF64(g: number, part: number, s: number, count: number): number;
  gemmF32(aOut: number, sOut: number, w: number, b: number, aIn: number, rows: number, cols: number, stride: number, mb: number, act: number, p1: number, p2: number): number;
  gemmF64(aOut: number, sOut: number, w: number, b: number, aIn: number, rows: number, cols: number, stride: number, mb: number, act: number, p1: number, p2: number): number;
  gemmTF32(gOut: number, w: number, g: number, s: number, rows: number, cols: number, stride: number, mb: number): number;
  gemmTF64(gOut: number, w: number, g: number, s: number, rows: number, cols: number, stride: number, mb: number): number;
  forwardNetF32(plan: number, count: number, x: number): number;
  forwardNetF64(plan: number, count: number, x: number): number;
  gradientNetF32(plan: number, count: number, x: number, grad: number): number;
  gradientNetF64(plan: number, count: number, x: number, grad: number): number;
  vjpNetF32(plan: number, count: number, x: number, out: number): number;
  vjpNetF64(plan: number, count: number, x: number, out: number): number;
  backwardNetF32(plan: number, count: number, out: number): number;
  backwardNetF64(plan: number, count: number, out: number): number;
  jvpNetF32(plan: number, count: number, x: number, u: number): number;
  jvpNetF64(plan: number, count: number, x: number, u: number): number;
  hvpNetF32(plan: number, count: number, x: number, u: number, out: number): number;
  hvpNetF64(plan: number, count: number, x: number, u: number, out: number): number;
  jacobianBackF32(out: number, w: number, g: number, s: number, rows: number, cols: number, stride: number, width: number, outColumn: number, gColumn: number): number;
  jacobianBackF64(out: number, w: number, g: number, s: number, rows: number, cols: number, stride: number, width: number, outColumn: number, gColumn: number): number;
  jacobianTopF32(out: number, w: number, sTop: number, s: number, k0: number, rows: number, cols: number, stride: number, width: number, outColumn: number): number;
  jacobianTopF64(out: number, w: number, sTop: number, s: number, k0: number, rows: number, cols: number, stride: number, width: number, outColumn: number): number;
  firstNonFiniteF32(x: number, n: number): number;
  firstNonFiniteF64(x: number, n: number): number;
  heapBase(): number;
  isSimdBuild(): number;
  isRelaxedBuild(): number;
}

/** Export names every kernel module must have. */
export const KERNEL_EXPORTS: readonly (keyof Kernels)[] = [
  "denseF32",
  "denseF64",
  "denseBackF32",
  "denseBackF64",
  "denseBackColsF32",
  "denseBackColsF64",
  "backRowsF32",
  "backRowsF64",
  "backCombineF32",
  "backCombineF64",
  "gemmF32",
  "gemmF64",
  "gemmTF32",
  "gemmTF64",
  "forwardNetF32",
  "forwardNetF64",
  "gradientNetF32",
  "gradientNetF64",
  "vjpNetF32",
  "vjpNetF64",
  "backwardNetF32",
  "backwardNetF64",
  "jvpNetF32",
  "jvpNetF64",
  "hvpNetF32",
  "hvpNetF64",
  "jacobianBackF32",
  "jacobianBackF64",
  "jacobianTopF32",
  "jacobianTopF64",
  "firstNonFiniteF32",
  "firstNonFiniteF64",
  "heapBase",
  "isSimdBuild",
  "isRelaxedBuild",
];

/** A gradient function from grad(): df(x, out?) = ∇ₓ a^[L](x); `network` is the MLP behind it. */
export interface GradientFunction<P extends Precision = Precision> {
  <V extends VectorOf<P> = VectorOf<P>>(x: Readonly<ArrayLike<number>>, out?: V): V;
  readonly network: MLP<P>;
}

/** One kernel instance and its memory; create networks with engine.createMLP(spec). */
export class Engine {
  /** @internal */ readonly kernels: Kernels;
  /** @internal */ readonly arena: Arena;
  /** Whether this engine runs the SIMD build (else the scalar one). */
  readonly simd: boolean;
  /** Whether it runs the relaxed-SIMD build (fused multiply-adds: last bits differ from the SIMD build's). */
  readonly relaxed: boolean;
  /** Whether its memory is shared (createEngine({ shared: true })), so worker threads can run on it. */
  readonly shared: boolean;
  /** The WebAssembly memory all of this engine's networks live in. */
  readonly memory: WebAssembly.Memory;
  private buffer: ArrayBuffer;
  private f32: Float32Array;
  private f64: Float64Array;

  /** @internal Use init() or createEngine(). */
  constructor(
    readonly module: WebAssembly.Module,
    instance: WebAssembly.Instance,
    memory: WebAssembly.Memory,
  ) {
    const exports = instance.exports as unknown as Kernels;
    this.simd = exports.isSimdBuild() === 1;
    this.relaxed = exports.isRelaxedBuild() === 1;
    this.shared = typeof SharedArrayBuffer === "function" && memory.buffer instanceof SharedArrayBuffer;
    this.kernels = exports;
    this.memory = memory;
    this.arena = new Arena(memory, exports.heapBase(), () => this.refresh());
    this.buffer = memory.buffer;
    this.f32 = new Float32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
  }

  /** Builds a network from a model (see MLPSpec); its parameters are copied into WebAssembly memory. */
  createMLP<P extends Precision = "f32">(spec: MLPSpec<P>): MLP<P>;
  /** A model read from JSON (names typed string) builds a network whose precision is known at run time. */
  createMLP<S extends MLPSpecLike>(spec: S & SpecNames<S>): MLP;
  createMLP(spec: MLPSpecLike): MLP {
    return new MLP(this, spec);
  }

  /** A drop-in gradient function df(x, out?) for the network `spec` describes (n_L must be 1). */
  grad<P extends Precision = "f32">(spec: MLPSpec<P>): GradientFunction<P>;
  /** As above, for a model read from JSON. */
  grad<S extends MLPSpecLike>(spec: S & SpecNames<S>): GradientFunction;
  grad(spec: MLPSpecLike): GradientFunction {
    const network: MLP = this.createMLP(spec);
    try {
      network.requireScalar("grad");
    } catch (error) {
      network.dispose();
      throw error;
    }
    const df = (x: Readonly<ArrayLike<number>>, out?: Float32Array | Float64Array) => network.gradient(x, out);
    return Object.assign(df, { network }) as GradientFunction;
  }

  /** Bytes of WebAssembly memory this engine holds (it grows as networks are created, never shrinks). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** @internal A Float32Array over the whole memory, valid until the next allocation. */
  viewF32(): Float32Array {
    // The arena refreshes the views when it grows the memory; should anything else grow it, the old
    // buffer is detached, and a detached view has length 0 (cheaper to test than memory.buffer).
    if (this.f32.length === 0) this.refresh();
    return this.f32;
  }

  /** @internal A Float64Array over the whole memory, valid until the next allocation. */
  viewF64(): Float64Array {
    if (this.f64.length === 0) this.refresh();
    return this.f64;
  }

  private refresh(): void {
    this.buffer = this.memory.buffer;
    this.f32 = new Float32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
  }
}

/** Checks that an instance exports what mlpgrad needs. */
export function checkKernelExports(instance: WebAssembly.Instance): void {
  for (const name of KERNEL_EXPORTS) {
    if (typeof (instance.exports as Record<string, unknown>)[name] !== "function") {
      throw new MLPError("E_SOURCE", `init: the WebAssembly module is not mlpgrad's kernel module (it has no export "${name}")`);
    }
  }
}
