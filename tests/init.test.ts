// Loading: concurrent first calls compile once; createMLP before init() has finished is a clear error;
// init accepts a compiled Module, bytes, a URL and a Response; bad sources are typed errors.
// Each test imports a fresh copy of src/init.js (a query string makes a new module instance), so the
// module-level compile cache starts empty.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { throwsCode, randomCase, closeTo } from "./helpers.js";
import * as ref from "./reference.js";

type InitModule = typeof import("../src/init.js");
let fresh = 0;
const freshInit = async (): Promise<InitModule> => {
  const url = new URL(`../src/init.js?fresh=${++fresh}`, import.meta.url).href;
  return (await import(url)) as InitModule;
};
const wasm = (name: string) => new Uint8Array(readFileSync(new URL(`../../build/mlpgrad.${name}.wasm`, import.meta.url)));
const c = randomCase([5, 4, 1], "sigmoid", "f64", 41);
const expected = ref.gradient(c.ref, c.x);

test("the threads build derived from the SIMD bytes equals asc's own threads build byte for byte", async () => {
  const { sharedMemoryBuild, SHARED_MAX_PAGES } = await freshInit();
  const derived = sharedMemoryBuild(wasm("simd"));
  assert.equal(Array.from(derived), Array.from(wasm("threads")));
  assert.is(SHARED_MAX_PAGES, 16384);
  // A module with a function import before its memory, and a memory with a maximum already: both parsed.
  const withFunction = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
    0x02, 0x18, 0x02, // import section, 24 bytes, two imports
    0x03, 0x65, 0x6e, 0x76, 0x01, 0x66, 0x00, 0x00, // "env" "f" func type 0
    0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x01, 0x02, 0x05, // "env" "memory" min 2 max 5
  ]);
  const patched = sharedMemoryBuild(withFunction);
  assert.ok(WebAssembly.validate(patched), "the patched module validates");
  const memory = new WebAssembly.Memory({ initial: 2, maximum: SHARED_MAX_PAGES, shared: true });
  await WebAssembly.instantiate(patched, { env: { memory, f() {} } });
  assert.equal(Array.from(patched.subarray(-6)), [0x02, 0x03, 0x02, 0x80, 0x80, 0x01]);
});

test("250 concurrent init() calls compile once and share one engine", async () => {
  const m = await freshInit();
  const compile = WebAssembly.compile;
  let compiles = 0;
  WebAssembly.compile = (bytes) => {
    compiles++;
    return compile(bytes);
  };
  try {
    const engines = await Promise.all(Array.from({ length: 250 }, () => m.init()));
    assert.is(compiles, 1);
    assert.ok(engines.every((e) => e === engines[0]));
    assert.is(await m.init(), engines[0]);
    assert.is(compiles, 1);
  } finally {
    WebAssembly.compile = compile;
  }
});

test("createMLP before init() has finished is E_NOT_INITIALIZED; after, it works", async () => {
  const m = await freshInit();
  throwsCode(() => m.createMLP(c.spec), "E_NOT_INITIALIZED", /await init\(\)/);
  const pending = m.init();
  throwsCode(() => m.createMLP(c.spec), "E_NOT_INITIALIZED", /has not finished/);
  await pending;
  const net = m.createMLP(c.spec);
  closeTo(net.gradient(c.x), expected, 1e-12);
  net.dispose();
});

test("grad() initialises by itself", async () => {
  const m = await freshInit();
  const df = await m.grad(c.spec);
  closeTo(df(c.x), expected, 1e-12);
});

test("init accepts a compiled WebAssembly.Module, bytes, a URL and a Response", async () => {
  for (const build of ["simd", "scalar"]) {
    const bytes = wasm(build);
    const module = await WebAssembly.compile(bytes);
    const url = `data:application/wasm;base64,${Buffer.from(bytes).toString("base64")}`;
    const sources = [module, bytes, bytes.slice().buffer, new URL(url), url, new Response(bytes), fetch(url)];
    for (const source of sources) {
      const m = await freshInit();
      const engine = await m.init(source);
      assert.is(engine.simd, build === "simd", `${build} from ${source.constructor.name}`);
      closeTo(m.createMLP(c.spec).gradient(c.x), expected, 1e-12, `${build} from ${source.constructor.name}`);
    }
  }
});

test("bad sources are E_SOURCE errors", async () => {
  const m = await freshInit();
  const cases: [unknown, RegExp][] = [
    [new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1]), /did not compile/],
    [new Uint8Array([1, 2, 3]), /did not compile/],
    [await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])), /not mlpgrad's kernel module/],
    [new Response("nope", { status: 404 }), /HTTP 404/],
    [42, /expected a WebAssembly.Module, bytes, a URL or a Response/],
  ];
  for (const [source, pattern] of cases) {
    try {
      await m.init(source as never);
      assert.unreachable("init should have rejected");
    } catch (error) {
      const e = error as { code?: string; message: string };
      assert.is(e.code, "E_SOURCE", e.message);
      assert.match(e.message, pattern);
    }
  }
  // A failed init does not poison later ones.
  const engine = await m.init();
  assert.ok(engine.memoryBytes > 0);
});

test("createEngine({ simd }) picks the build; hasSimd() reports the runtime", async () => {
  const m = await freshInit();
  assert.is(m.hasSimd(), true, "Node 20 supports WebAssembly SIMD");
  assert.is((await m.createEngine({ simd: false })).simd, false);
  assert.is((await m.createEngine({ simd: true })).simd, true);
  assert.is((await m.createEngine()).simd, true);
});

test("without DecompressionStream (Safari before 16.4), inflate.ts unpacks the embedded builds", async () => {
  const m = await freshInit();
  const saved = globalThis.DecompressionStream;
  (globalThis as { DecompressionStream?: unknown }).DecompressionStream = undefined;
  try {
    for (const simd of [true, false]) {
      const engine = await m.createEngine({ simd });
      assert.is(engine.simd, simd);
      closeTo(engine.createMLP(c.spec).gradient(c.x), expected, 1e-12, `${simd ? "SIMD" : "scalar"} build unpacked by inflate.ts`);
    }
    const shared = await m.createEngine({ shared: true });
    closeTo(shared.createMLP(c.spec).gradient(c.x), expected, 1e-12, "threads build from the unpacked SIMD bytes");
  } finally {
    globalThis.DecompressionStream = saved;
  }
});

test("without WebAssembly, init rejects with E_NO_WASM", async () => {
  const m = await freshInit();
  const saved = globalThis.WebAssembly;
  (globalThis as { WebAssembly?: unknown }).WebAssembly = undefined;
  try {
    await m.init();
    assert.unreachable("init should have rejected");
  } catch (error) {
    assert.is((error as { code?: string }).code, "E_NO_WASM");
  } finally {
    globalThis.WebAssembly = saved;
  }
});



test("the published bundles (ESM and CommonJS) load and compute the same gradient", async () => {
  const esm = (await import(new URL("../mlpgrad.js", import.meta.url).href)) as typeof import("../src/index.js");
  const { createRequire } = (await import("node:module")).default;
  const cjs = createRequire(import.meta.url)("../mlpgrad.cjs") as typeof import("../src/index.js");
  for (const lib of [esm, cjs]) {
    await lib.init();
    const net = lib.createMLP(c.spec);
    closeTo(net.gradient(c.x), expected, 1e-12);
    net.dispose();
  }
});
test.run();
