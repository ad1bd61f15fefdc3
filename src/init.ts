/**
 * Loading the kernels: compile once, instantiate per engine.
 *
 * The SIMD and scalar builds come embedded in the package (base64, generated at build time), so
 * init() needs no file system or network. The SIMD build is used when WebAssembly.validate accepts it.
 * In the browser and default bundles they are embedded gzip-compressed (scripts/embed-wasm.mjs: a third
 * fewer bytes for a browser app to download; the scalar one in a module imported only where SIMD is
 * missing) and unpacked once, by DecompressionStream where the runtime has it, else by inflate.ts; the
 * node bundles embed the SIMD build's bytes as they are (the CommonJS one the other two as well; the ESM
 * one imports dist/mlpgrad.scalar.js and dist/mlpgrad.relaxed.js, compressed, when they are used).
 * A fourth build, `relaxed`, is the SIMD build whose multiply-adds are relaxed-SIMD `relaxed_madd` (one
 * fused multiply-add where the hardware has FMA, so results differ from the SIMD build's in the last bits,
 * within the same tolerances). It is used where WebAssembly.validate accepts a relaxed-SIMD probe (Chromium
 * by default; Node 20 behind --experimental-wasm-relaxed-simd), and embedded like the scalar build, in a
 * module imported only where it is used (dist/mlpgrad.relaxed.js beside the browser bundle).
 * Compiled modules are cached as promises, so concurrent first calls share one compile. Edge runtimes
 * that forbid compiling from bytes pass the compiled WebAssembly.Module they import instead.
 *
 * A third build, `threads`, is the SIMD build on an imported *shared* memory: worker threads instantiate
 * the same compiled module on the same memory (see pool.ts), so they read the weights where they are.
 * It differs from the SIMD build only in that import (asc --target threads: `(memory 1 16384 shared)`
 * instead of `(memory 1)`), so it is not embedded: sharedMemoryBuild() derives it from the SIMD bytes —
 * from the relaxed bytes where the relaxed build runs, so that a pool's threads and its main thread run
 * the same multiply-adds and agree to the last bit.
 */
import { Engine, checkKernelExports, type GradientFunction } from "./engine.js";
import { MLPError, describe, show } from "./errors.js";
import type { MLPSpec, MLPSpecLike, Precision, SpecNames } from "./model.js";
import type { MLP } from "./network.js";
import { gunzip } from "./inflate.js";
import { SIMD_WASM } from "./wasm.generated.js";

/** Where the kernel module comes from: compiled already, bytes, a URL, or a fetch Response. */
export type WasmSource = WebAssembly.Module | BufferSource | URL | string | Response | PromiseLike<Response>;

/** Options for init() and createEngine(). */
export interface InitOptions {
  /** A kernel module to use instead of the embedded builds (either the SIMD or the scalar build). */
  source?: WasmSource;
  /** Embedded builds only: true demands SIMD, false forces the scalar build; default: SIMD when supported. */
  simd?: boolean;
  /**
   * Embedded builds only: true demands the relaxed-SIMD build (fused multiply-adds), false forces the plain
   * SIMD build; default: relaxed where the runtime validates relaxed SIMD (see hasRelaxedSimd()).
   */
  relaxed?: boolean;
  /**
   * true: run the threads build on a shared WebAssembly.Memory, which worker threads can instantiate
   * the kernels on too (createMLPPool does). Throws E_NO_THREADS where shared memory is unavailable
   * (see hasThreads()). With `source`, that module must be built with shared memory (asc --target threads).
   */
  shared?: boolean;
}

// Pages the engine's memory starts with; it grows as networks are created.
const INITIAL_PAGES = 4;
/**
 * The maximum of a shared memory, in pages (1 GiB), as declared by the threads build (asconfig.json):
 * the two must agree. A shared memory cannot move when it grows (other threads hold its address), so
 * runtimes reserve address space for the whole maximum up front; 1 GiB holds the largest networks
 * mlpgrad is for many times over ([1024, 1024, 1024, 1] in f64 with its batch buffers ≈ 18 MiB per
 * thread) where 4 GiB reservations fail on 32-bit and memory-constrained (mobile) browsers.
 */
export const SHARED_MAX_PAGES = 16384;

const compiled = new Map<string, Promise<WebAssembly.Module>>();
let simdSupport: boolean | undefined;
let relaxedSupport: boolean | undefined;
let threadsProblem: string | null | undefined; // null: available
let defaultEngine: Engine | undefined;
let defaultPromise: Promise<Engine> | undefined;

function requireWebAssembly(): void {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
    throw new MLPError("E_NO_WASM", "mlpgrad needs WebAssembly, which this runtime does not provide");
  }
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  // Node's Buffer decodes natively; elsewhere atob and a loop (which runs once, unoptimised: about a
  // millisecond for the SIMD build, the largest part of init() in Node before this).
  const NodeBuffer = (globalThis as { Buffer?: { from(text: string, encoding: string): Uint8Array } }).Buffer;
  if (NodeBuffer !== undefined) {
    const decoded = NodeBuffer.from(text, "base64");
    return new Uint8Array(decoded.buffer.slice(decoded.byteOffset, decoded.byteOffset + decoded.byteLength) as ArrayBuffer);
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// The smallest module that uses SIMD: (func (result v128) (v128.const i32x4 0 0 0 0)). Validating it is
// far cheaper than validating the whole SIMD build.
// The probes' bytes are written out: building them with spreads and flatMap ran in V8's interpreter
// while the module was evaluated, 0.13 ms of a cold start's import (docs/cold-start.md, fourth round).
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section
  0x0a, 0x16, 0x01, 0x14, 0x00, // code section: one body of 20 bytes, no locals
  0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // v128.const 0
  0x0b, // end
]);

/** Whether this runtime supports WebAssembly SIMD (checked once). */
export function hasSimd(): boolean {
  requireWebAssembly();
  simdSupport ??= WebAssembly.validate(SIMD_PROBE);
  return simdSupport;
}

// A module that uses relaxed SIMD: (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0)
// (v128.const 0))), relaxed_madd being the opcode 0xfd 0x105 (LEB128: 0x85 0x02).
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section
  0x0a, 0x3d, 0x01, 0x3b, 0x00, // code section: one body of 59 bytes, no locals
  0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // v128.const 0
  0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // v128.const 0
  0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // v128.const 0
  0xfd, 0x85, 0x02, 0x0b, // f32x4.relaxed_madd, end
]);

/** Whether this runtime supports relaxed SIMD (checked once): the relaxed build then runs by default. */
export function hasRelaxedSimd(): boolean {
  requireWebAssembly();
  relaxedSupport ??= hasSimd() && WebAssembly.validate(RELAXED_PROBE);
  return relaxedSupport;
}

// The smallest module with a shared memory: (import "env" "memory" (memory 1 1 shared)).
const THREADS_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x02, 0x10, 0x01, // import section, 16 bytes, one import
  0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, // "env" "memory"
  0x02, 0x03, 0x01, 0x01, // memory, limits flags 3 = has maximum | shared, initial 1, maximum 1
]);

/**
 * Why shared-memory threads are unavailable here, or undefined when they are: the threads build needs
 * SIMD, WebAssembly shared memory and SharedArrayBuffer, which browsers only give cross-origin isolated
 * pages. Worker support itself is checked where workers start (pool.ts).
 */
export function threadsUnavailable(): string | undefined {
  if (threadsProblem === undefined) {
    requireWebAssembly();
    const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
    const headers =
      "serve the page cross-origin isolated, with the headers Cross-Origin-Opener-Policy: same-origin and " +
      "Cross-Origin-Embedder-Policy: require-corp (or credentialless)";
    if (typeof SharedArrayBuffer !== "function") {
      threadsProblem = `SharedArrayBuffer is not available in this runtime${isolated === undefined ? "" : `; ${headers}`}`;
    } else if (isolated === false) {
      threadsProblem = `the page is not cross-origin isolated (crossOriginIsolated is false), so it cannot share memory with workers; ${headers}`;
    } else if (!hasSimd()) {
      threadsProblem = "the threads build needs WebAssembly SIMD, which this runtime does not support";
    } else if (!WebAssembly.validate(THREADS_PROBE)) {
      threadsProblem = "this runtime's WebAssembly has no shared memory (the threads proposal)";
    } else {
      threadsProblem = null;
    }
  }
  return threadsProblem ?? undefined;
}

/** Whether this runtime can run the kernels on a memory shared with worker threads (checked once). */
export function hasThreads(): boolean {
  return threadsUnavailable() === undefined;
}

/**
 * An embedded build's bytes from its base64: gzip-compressed in the browser and default bundles (unpacked
 * here), the bytes themselves in the node bundles (scripts/build-bundles.mjs swaps the generated modules:
 * a Node process skips both node:zlib's import and the unpacking at start-up).
 */
async function unpack(base64: string): Promise<Uint8Array<ArrayBuffer>> {
  const packed = decodeBase64(base64);
  if (packed[0] !== 0x1f || packed[1] !== 0x8b) return packed; // not gzip: "\0asm"
  try {
    if (typeof DecompressionStream !== "function") return new Uint8Array(gunzip(packed));
    // Native where there is one. Streamed by hand, not through Response: Node's Response compiles a
    // WebAssembly HTTP parser on first use.
    const stream = new DecompressionStream("gzip");
    const writer = stream.writable.getWriter();
    void writer.write(packed);
    void writer.close();
    const reader = stream.readable.getReader();
    const chunks: Uint8Array[] = [];
    let length = 0;
    for (let part = await reader.read(); !part.done; part = await reader.read()) {
      chunks.push(part.value);
      length += part.value.length;
    }
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    return bytes;
  } catch (cause) {
    throw new MLPError("E_SOURCE", `init: an embedded build could not be unpacked (${(cause as Error).message})`, { cause });
  }
}

/** The embedded builds; the two threads builds are derived from the SIMD and the relaxed bytes. */
type Build = "simd" | "scalar" | "threads" | "relaxed" | "relaxed-threads";

function compileEmbedded(build: Build): Promise<WebAssembly.Module> {
  let module = compiled.get(build);
  if (module === undefined) {
    // The scalar and relaxed builds are imported only here: runtimes that do not use them never load them
    // (each its own chunk in a bundle).
    const chunk = (name: string, cause: unknown): never => {
      throw new MLPError(
        "E_SOURCE",
        `init: the ${build} build's module (${name} beside the bundle) could not be loaded (${(cause as Error)?.message ?? String(cause)}); ` +
          `deploy it with the bundle${build.startsWith("relaxed") ? ", or pass { relaxed: false }" : ""}`,
        { cause },
      );
    };
    const packed =
      build === "scalar"
        ? import("./wasm-scalar.generated.js").then((m) => m.SCALAR_WASM, (cause) => chunk("mlpgrad.scalar.js", cause))
        : build === "relaxed" || build === "relaxed-threads"
          ? import("./wasm-relaxed.generated.js").then((m) => m.RELAXED_WASM, (cause) => chunk("mlpgrad.relaxed.js", cause))
          : Promise.resolve(SIMD_WASM);
    const shared = build === "threads" || build === "relaxed-threads";
    module = packed.then(unpack).then((bytes) => compileBytes(shared ? sharedMemoryBuild(bytes) : bytes));
    compiled.set(build, module);
    module.catch(() => compiled.delete(build));
  }
  return module;
}

/** Reads an unsigned LEB128 at `at`: [value, next offset]. */
function readLeb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= bytes.length) break;
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, at];
  }
  throw new MLPError("E_SOURCE", "init: the embedded SIMD build is malformed (a LEB128 number runs past its end)");
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/**
 * @internal The threads build from the SIMD build's bytes: the same module with its imported memory
 * declared shared, with maximum SHARED_MAX_PAGES. Only the import section changes:
 *
 *   section 2 (imports): …, "env" "memory" 0x02 limits            limits = 0x00 initial           (SIMD)
 *                                                                 limits = 0x03 initial maximum   (threads)
 *
 * and its byte length, which is re-encoded. Returns the SIMD bytes unchanged when there is no memory import
 * (the caller's instantiation then fails with E_SOURCE).
 */
export function sharedMemoryBuild(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  let at = 8; // magic, version
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, contentStart] = readLeb(bytes, at + 1);
    const end = contentStart + size;
    if (id === 2) {
      let [count, p] = readLeb(bytes, contentStart);
      for (; count > 0; count--) {
        for (let name = 0; name < 2; name++) {
          const [length, next] = readLeb(bytes, p);
          p = next + length;
        }
        const kind = bytes[p++];
        if (kind === 0x02) {
          const flags = bytes[p];
          const [initial, afterInitial] = readLeb(bytes, p + 1);
          const limitsEnd = flags & 1 ? readLeb(bytes, afterInitial)[1] : afterInitial;
          const content = [...bytes.subarray(contentStart, p), 0x03, ...leb(initial), ...leb(SHARED_MAX_PAGES), ...bytes.subarray(limitsEnd, end)];
          const head = [...bytes.subarray(0, at), 2, ...leb(content.length)];
          const out = new Uint8Array(head.length + content.length + (bytes.length - end));
          out.set(head, 0);
          out.set(content, head.length);
          out.set(bytes.subarray(end), head.length + content.length);
          return out;
        }
        // Other import kinds: function (type index), table (type, limits), global (type, mutability).
        if (kind === 0x00) p = readLeb(bytes, p)[1];
        else if (kind === 0x01) p = bytes[p + 1] & 1 ? readLeb(bytes, readLeb(bytes, p + 2)[1])[1] : readLeb(bytes, p + 2)[1];
        else if (kind === 0x03) p += 2;
        else break;
      }
    }
    at = end;
  }
  return new Uint8Array(bytes);
}

async function compileBytes(bytes: BufferSource): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes);
  } catch (cause) {
    throw new MLPError("E_SOURCE", `init: the WebAssembly bytes did not compile (${(cause as Error).message})`, { cause });
  }
}

async function compileSource(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return compileBytes(source);
  if (typeof source === "string" || source instanceof URL) {
    if (typeof fetch !== "function") throw new MLPError("E_SOURCE", "init: a URL source needs fetch(), which this runtime lacks; pass the bytes instead");
    let response: Response;
    try {
      response = await fetch(source);
    } catch (cause) {
      throw new MLPError("E_SOURCE", `init: could not fetch ${String(source)} (${(cause as Error).message}); pass the bytes or a WebAssembly.Module instead`, { cause });
    }
    return compileSource(response);
  }
  if (typeof Response !== "undefined" && source instanceof Response) {
    if (!source.ok) throw new MLPError("E_SOURCE", `init: fetching ${source.url || "the module"} failed with HTTP ${source.status}`);
    return compileBytes(await source.arrayBuffer());
  }
  if (source !== null && typeof (source as PromiseLike<Response>).then === "function") {
    return compileSource(await (source as PromiseLike<Response>));
  }
  throw new MLPError("E_SOURCE", `init: expected a WebAssembly.Module, bytes, a URL or a Response, got ${describe(source)}`);
}

/** Exported for the tests of concurrent first calls: how many embedded compiles have started. */
export function compiledCount(): number {
  return compiled.size;
}

/**
 * A new engine: one instance of the kernels with its own memory. Most code wants init() and
 * createMLP(); a separate engine is for isolating networks or for running the scalar build.
 */
export async function createEngine(options: InitOptions = {}): Promise<Engine> {
  requireWebAssembly();
  const shared = options.shared === true;
  if (shared) {
    const problem = threadsUnavailable();
    if (problem !== undefined) throw new MLPError("E_NO_THREADS", `createEngine: { shared: true } needs shared memory, but ${problem}`);
    if (options.simd === false && options.source === undefined) {
      throw new MLPError("E_NO_THREADS", "createEngine: the shared (threads) build is a SIMD build; { shared: true } cannot be combined with { simd: false }");
    }
  }
  if (options.relaxed !== undefined && typeof options.relaxed !== "boolean") {
    throw new MLPError("E_OPTIONS", `createEngine: relaxed must be true, false or unset, got ${show(options.relaxed)}`, { expected: "boolean", actual: options.relaxed });
  }
  if (options.relaxed === true && options.source === undefined) {
    if (options.simd === false) {
      throw new MLPError("E_OPTIONS", "createEngine: the relaxed build is a SIMD build; { relaxed: true } cannot be combined with { simd: false }", { expected: "simd unset or true", actual: false });
    }
    if (!hasRelaxedSimd()) {
      throw new MLPError(
        "E_NO_SIMD",
        "createEngine: { relaxed: true } was asked for, but this runtime does not validate relaxed SIMD " +
          "(Node 20 needs --experimental-wasm-relaxed-simd); leave relaxed unset to fall back to the SIMD build",
      );
    }
  }
  let module: WebAssembly.Module;
  if (options.source !== undefined) {
    module = await compileSource(options.source);
  } else if (shared) {
    module = await compileEmbedded((options.relaxed ?? hasRelaxedSimd()) ? "relaxed-threads" : "threads");
  } else {
    const simd = options.simd ?? hasSimd();
    if (simd && !hasSimd()) throw new MLPError("E_NO_SIMD", "init: { simd: true } was asked for, but this runtime does not support WebAssembly SIMD; leave simd unset to fall back to the scalar build");
    module = await compileEmbedded(!simd ? "scalar" : (options.relaxed ?? hasRelaxedSimd()) ? "relaxed" : "simd");
  }
  const memory = shared
    ? new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: SHARED_MAX_PAGES, shared: true })
    : new WebAssembly.Memory({ initial: INITIAL_PAGES });
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, { env: { memory } });
  } catch (cause) {
    throw new MLPError("E_SOURCE", `init: the WebAssembly module could not be instantiated as mlpgrad's kernels (${(cause as Error).message})`, { cause });
  }
  checkKernelExports(instance);
  return new Engine(module, instance, memory);
}

/**
 * Loads the kernels once and makes them the default engine for createMLP() and grad(). Concurrent
 * calls share one compile; later calls return the same engine. With a source or options it loads that
 * instead and makes it the default (networks created before keep their engine).
 */
export function init(source?: WasmSource | InitOptions, options: InitOptions = {}): Promise<Engine> {
  const opts: InitOptions = isOptions(source) ? source : { ...options, source };
  if (opts.source === undefined && opts.simd === undefined && opts.relaxed === undefined && opts.shared === undefined && defaultPromise !== undefined) return defaultPromise;
  const promise = createEngine(opts).then((engine) => {
    if (defaultPromise === promise) defaultEngine = engine;
    return engine;
  });
  defaultPromise = promise;
  promise.catch(() => {
    if (defaultPromise === promise) defaultPromise = undefined;
  });
  return promise;
}

/** @internal Whether init()'s first argument is options rather than a source. */
export function isOptions(value: unknown): value is InitOptions {
  return (
    value !== null &&
    typeof value === "object" &&
    !(value instanceof WebAssembly.Module) &&
    !(value instanceof ArrayBuffer) &&
    !ArrayBuffer.isView(value) &&
    !(value instanceof URL) &&
    !(typeof Response !== "undefined" && value instanceof Response) &&
    typeof (value as PromiseLike<unknown>).then !== "function"
  );
}

/** The default engine, or an E_NOT_INITIALIZED error that says to await init() first. */
export function getEngine(): Engine {
  if (defaultEngine === undefined) {
    throw new MLPError(
      "E_NOT_INITIALIZED",
      defaultPromise === undefined
        ? "createMLP: mlpgrad is not initialised; call `await init()` once before creating networks"
        : "createMLP: init() has not finished yet; `await init()` before creating networks",
    );
  }
  return defaultEngine;
}

/** Builds a network on the default engine (after `await init()`); see MLPSpec for the model format. */
export function createMLP<P extends Precision = "f32">(spec: MLPSpec<P>): MLP<P>;
/** A model read from JSON (names typed string): precision and activations are checked at run time. */
export function createMLP<S extends MLPSpecLike>(spec: S & SpecNames<S>): MLP;
export function createMLP(spec: MLPSpecLike): MLP {
  return getEngine().createMLP(spec);
}

/** Initialises if needed and returns a drop-in gradient function df(x, out?) = ∇ₓ a^[L](x). */
export function grad<P extends Precision = "f32">(spec: MLPSpec<P>): Promise<GradientFunction<P>>;
/** As above, for a model read from JSON. */
export function grad<S extends MLPSpecLike>(spec: S & SpecNames<S>): Promise<GradientFunction>;
export async function grad(spec: MLPSpecLike): Promise<GradientFunction> {
  return (await init()).grad(spec);
}
