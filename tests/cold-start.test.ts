// The node ESM bundle after scripts/eager-compile.mjs: the functions a cold start runs are marked for
// eager compilation (V8's parenthesised-function hint), the bundle still computes the same gradients in a
// fresh process (where those functions run for the first time), and its source map still leads back to
// the right lines of src/ although each mark shifted the rest of the (one-line) bundle.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as acorn from "acorn";
import { randomCase } from "./helpers.js";
import { gradient as referenceGradient } from "./reference.js";

const at = (file: string) => new URL(`../../${file}`, import.meta.url);
const BUNDLE = "dist/mlpgrad.node.js";
const CJS = "dist/mlpgrad.cjs";
const bundle = readFileSync(at(BUNDLE), "utf8");
const texts: Record<string, string> = { [BUNDLE]: bundle, [CJS]: readFileSync(at(CJS), "utf8") };

/** Functions that every cold start calls, one or more from each module on the path (a sample of the build's list). */
const MARKED = ["init", "createEngine", "unpack", "compileBytes", "checkKernelExports", "planLayout", "writePlan", "checkSpec", "checkActivations", "checkLayer", "checkParameters", "snapshot", "copyFast", "isNumberTypedArray"];

for (const file of [BUNDLE, CJS]) {
  test(`the functions a cold start runs are marked for eager compilation in ${file}`, () => {
    const text = texts[file];
    for (const name of MARKED) {
      assert.match(text, new RegExp(`var ${name}=\\((async )?function ${name}\\(`), `${name} is a parenthesised function expression`);
      assert.not.match(text, new RegExp(`(^|[;}])(async )?function ${name}\\(`), `${name} is no longer a declaration`);
    }
    // Functions off that path stay lazy: marking everything would make V8 compile all of it at import.
    for (const name of ["sharedMemoryBuild", "nestedWeights", "copyChecked", "badWeight"]) {
      assert.match(text, new RegExp(`function ${name}\\(`), `${name} is in the bundle`);
      assert.not.match(text, new RegExp(`var ${name}=\\(`), `${name} is not marked`);
    }
  });
}

// A fresh process: the bundle's import, init(), createMLP from number[] weights (as JSON.parse gives them),
// gradients in f32 and f64, the scalar build, and a bad weight's error — each marked function's first run.
const CHILD = `
const mlpgrad = process.argv[2] === "require"
  ? (await import("node:module")).createRequire(import.meta.url)(${JSON.stringify(at(CJS).pathname)})
  : await import(${JSON.stringify(at(BUNDLE).href)});
const cases = JSON.parse(process.argv[1]);
await mlpgrad.init();
const out = [];
for (const c of cases) {
  const mlp = mlpgrad.createMLP(c.spec);
  out.push(Array.from(mlp.gradient(c.x)));
}
const scalar = await mlpgrad.createEngine({ simd: false });
out.push(Array.from(scalar.createMLP(cases[0].spec).gradient(cases[0].x)));
const bad = structuredClone(cases[0].spec);
bad.layers[1].weights[5] = "0.5";
try { mlpgrad.createMLP(bad); out.push("no error"); } catch (e) { out.push([e.constructor === mlpgrad.MLPError, e.code, e.layer, e.index, e.message]); }
console.log(JSON.stringify(out));
`;

for (const how of ["import", "require"]) {
  test(`a fresh process gets the reference's gradients from the marked bundle by ${how} (f32, f64, the scalar build) and its errors`, () => {
    const cases = [
      randomCase([5, 17, 7, 1], "sigmoid", "f32", 101),
      randomCase([67, 8, 3, 1], "tanh", "f32", 102),
      randomCase([4, 1], "softplus", "f64", 103),
      randomCase([17, 67, 5, 1], ["relu", "swish", "sigmoid"], "f64", 104),
    ];
    const input = JSON.stringify(cases.map((c) => ({ spec: c.spec, x: c.x })));
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", CHILD, input, how], { encoding: "utf8", timeout: 20000 });
    assert.is(run.status, 0, run.stderr);
    const results = JSON.parse(run.stdout.trim().split("\n").pop()!);
    const check = (actual: number[], i: number, what: string) => {
      const expected = referenceGradient(cases[i].ref, cases[i].x);
      const tol = cases[i].spec.precision === "f32" ? 1e-5 : 1e-12;
      const scale = Math.max(...expected.map(Math.abs), 1e-30);
      actual.forEach((v, k) => assert.ok(Math.abs(v - expected[k]) <= tol * scale, `${what}: gradient[${k}] = ${v}, reference ${expected[k]}`));
    };
    cases.forEach((_, i) => check(results[i], i, `case ${i} (${(cases[i].spec.sizes as number[]).join("-")}, ${cases[i].spec.precision})`));
    check(results[cases.length], 0, "the scalar build");
    const [isMLPError, code, layer, index, message] = results[cases.length + 1];
    assert.ok(isMLPError, "an MLPError");
    assert.is(code, "E_NONFINITE");
    assert.is(layer, 3);
    assert.is(index, 5);
    assert.match(message, /layer 3 weights\[5\] \(row 0, column 5\) is "0\.5"/);
  });
}

test("every top-level function a cold start runs is marked (V8's coverage of a fresh process's import → init → createMLP → gradient)", () => {
  const dir = mkdtempSync(join(tmpdir(), "mlpgrad-coverage-"));
  try {
    const script = `
      const mlpgrad = await import(${JSON.stringify(at(BUNDLE).href)});
      await mlpgrad.init();
      const n = 17 * 5 + 5 + 5 + 1;
      const numbers = JSON.parse(JSON.stringify(Array.from({ length: n }, (_, i) => Math.sin(i) / 4)));
      const mlp = mlpgrad.createMLP({ sizes: [17, 5, 1], activations: "sigmoid", layers: [
        { weights: numbers.slice(0, 85), bias: numbers.slice(85, 90) }, { weights: numbers.slice(90, 95), bias: numbers.slice(95) }] });
      mlp.gradient(new Float32Array(17).fill(0.5));`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20000, env: { ...process.env, NODE_V8_COVERAGE: dir } });
    assert.is(run.status, 0, run.stderr);
    const results = readdirSync(dir).flatMap((file) => JSON.parse(readFileSync(join(dir, file), "utf8")).result as { url: string; functions: { functionName: string; ranges: { startOffset: number; count: number }[] }[] }[]);
    const coverage = results.find((entry) => entry.url === at(BUNDLE).href);
    assert.ok(coverage !== undefined, "the bundle's coverage was recorded");
    const ran = new Set(coverage!.functions.filter((f) => f.ranges[0].count > 0).map((f) => f.ranges[0].startOffset));
    const ast = acorn.parse(bundle, { ecmaVersion: "latest", sourceType: "module" });
    const unmarked = (ast.body as acorn.Node[])
      .filter((node): node is acorn.FunctionDeclaration => node.type === "FunctionDeclaration" && ran.has(node.start))
      .map((node) => node.id.name);
    assert.equal(unmarked, [], `cold-path functions still compiled twice (add them to COLD_START_FUNCTIONS in scripts/build-bundles.mjs): ${unmarked.join(", ")}`);
    // The marked ones did run (the coverage sees through the parentheses).
    const marked = (ast.body as acorn.Node[]).flatMap((node) =>
      node.type === "VariableDeclaration" ? (node as acorn.VariableDeclaration).declarations.filter((d) => d.init?.type === "FunctionExpression") : [],
    );
    assert.ok(marked.length >= MARKED.length, "the marks are there");
    for (const d of marked) assert.ok(ran.has(d.init!.start), `${(d.id as acorn.Identifier).name} ran on the cold path`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Source-map mappings → per generated line, segments [column, source, line, column] (absolute). */
function decodeMappings(mappings: string): number[][][] {
  const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const state = [0, 0, 0, 0];
  return mappings.split(";").map((line) => {
    state[0] = 0;
    if (line === "") return [];
    return line.split(",").map((segment) => {
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = digits.indexOf(char);
        value += (digit & 31) * 2 ** shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value % 2 ? -(value - 1) / 2 : value / 2);
          value = 0;
          shift = 0;
        }
      }
      fields.forEach((f, i) => (state[i] += f));
      return state.slice(0, Math.max(fields.length, 1));
    });
  });
}

for (const file of [BUNDLE, CJS]) {
  test(`the source map of ${file} leads each marked function, and code after all the marks, to its line in src/`, () => {
    const bundle = texts[file];
    const map = JSON.parse(readFileSync(at(`${file}.map`), "utf8")) as { sources: string[]; sourcesContent: string[]; mappings: string };
    const lines = decodeMappings(map.mappings);
    const bundleLines = bundle.split("\n");
    /** The original line of the segment that starts exactly at the generated position of `needle`. */
    const original = (needle: string, offset = 0): { source: string; text: string } => {
      const line = bundleLines.findIndex((l) => l.includes(needle));
      assert.ok(line >= 0, `${needle} is in the bundle`);
      const column = bundleLines[line].indexOf(needle) + offset;
      const segment = lines[line].find((s) => s[0] === column);
      assert.ok(segment !== undefined && segment.length >= 4, `a mapping starts at ${needle} (line ${line}, column ${column})`);
      const [, source, sourceLine] = segment!;
      return { source: map.sources[source], text: map.sourcesContent[source].split("\n")[sourceLine] };
    };
    for (const name of MARKED) {
      const marked = `var ${name}=(`;
      const { source, text } = original(bundle.includes(`${marked}async function ${name}(`) ? `${marked}async function ${name}(` : `${marked}function ${name}(`, marked.length);
      assert.match(text, new RegExp(`function ${name}\\b`), `${name} maps to its declaration in ${source}: ${text}`);
    }
    // Past every mark on the line: a message of getEngine's, the last thing init.ts declares before train.ts.
    const late = original('"E_NOT_INITIALIZED"');
    assert.match(late.source, /src\/init\.ts$/);
    assert.match(late.text, /"E_NOT_INITIALIZED"/);
  });
}

test.run();
