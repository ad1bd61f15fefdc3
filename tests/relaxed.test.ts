// The relaxed-SIMD build (asc --target relaxed): where it is used and where not. In plain Node 20, which
// does not validate relaxed SIMD, every engine falls back to the SIMD build and { relaxed: true } is a clear
// error; then the case table of tests/relaxed.flagged.ts runs in a child `node
// --experimental-wasm-relaxed-simd`, where the relaxed build is the default (the browser suite checks the
// same in Chromium, which validates relaxed SIMD by default).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createEngine, createMLPPool, hasRelaxedSimd, init, type Engine } from "../src/index.node.js";
import { closeTo, randomCase } from "./helpers.js";
import * as ref from "./reference.js";

const at = (file: string) => new URL(`../../${file}`, import.meta.url);
const flagged = process.execArgv.includes("--experimental-wasm-relaxed-simd");
// Node 20's V8 (11.3) validates relaxed SIMD only behind the flag; later V8s (11.4 on) ship it, and there
// the fallback cannot be seen, so that test checks Node 20 and says so elsewhere.
const nodeMajor = Number(process.versions.node.split(".")[0]);

test("the relaxed build uses relaxed_madd and the SIMD build does not; the probe agrees with the build", () => {
  const wat = (name: string) => readFileSync(at(`build/mlpgrad.${name}.wat`), "utf8");
  assert.ok((wat("relaxed").match(/relaxed_madd/g) ?? []).length >= 20, "the relaxed build has few relaxed_madd");
  for (const name of ["simd", "scalar", "threads"]) assert.not.ok(wat(name).includes("relaxed"), `the ${name} build uses relaxed SIMD`);
  assert.is(hasRelaxedSimd(), WebAssembly.validate(readFileSync(at("build/mlpgrad.relaxed.wasm"))), "hasRelaxedSimd() disagrees with validating the relaxed build");
});

test("plain Node 20: no relaxed SIMD, so init(), createEngine() and pools run the SIMD build; { relaxed: true } is E_NO_SIMD", async () => {
  if (flagged || nodeMajor > 20) {
    console.log(`  (fallback not checked: Node ${process.versions.node}${flagged ? " with the flag" : " validates relaxed SIMD"})`);
    return;
  }
  assert.not.ok(hasRelaxedSimd());
  const engine: Engine = await init();
  assert.ok(engine.simd && !engine.relaxed, `init(): simd ${engine.simd}, relaxed ${engine.relaxed}`);
  assert.not.ok((await createEngine()).relaxed);
  assert.not.ok((await createEngine({ shared: true })).relaxed);
  for (const options of [{ relaxed: true }, { relaxed: true, simd: true }, { relaxed: true, shared: true }]) {
    try {
      await createEngine(options);
      assert.unreachable(`${JSON.stringify(options)} was accepted`);
    } catch (error) {
      const e = error as { code?: string; message?: string };
      assert.is(e.code, "E_NO_SIMD", e.message);
      assert.match(e.message ?? "", /--experimental-wasm-relaxed-simd/);
    }
  }
  try {
    await createEngine({ relaxed: "yes" as unknown as boolean });
    assert.unreachable("{ relaxed: \"yes\" } was accepted");
  } catch (error) {
    const e = error as { code?: string; message?: string };
    assert.is(e.code, "E_OPTIONS", e.message);
    assert.match(e.message ?? "", /relaxed must be true, false or unset, got "yes"/);
  }
  const c = randomCase([17, 5, 1], ["tanh", "sigmoid"], "f32", 3);
  const pool = await createMLPPool({ spec: c.spec, threads: 2 });
  try {
    closeTo((await pool.gradientBatch(c.x)), ref.gradient(c.ref, c.x), 1e-4, "pool on the SIMD build");
  } finally {
    await pool.dispose();
  }
});

test("with --experimental-wasm-relaxed-simd (a child process): the relaxed build's case table against the reference", () => {
  const child = spawnSync(
    process.execPath,
    ["--experimental-wasm-relaxed-simd", fileURLToPath(at("node_modules/uvu/bin.js")), "dist/tests", "relaxed\\.flagged\\.js$"],
    { cwd: fileURLToPath(at("")), encoding: "utf8", timeout: 120_000, env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" } },
  );
  const out = `${child.stdout}\n${child.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1]);
  const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1]);
  assert.ok(child.status === 0 && total >= 9 && passed === total, `the flagged child failed (exit ${child.status}, ${passed}/${total}):\n${out.slice(-3000)}`);
});

test.run();
