/**
 * The cold path alone: dist/mlpgrad.node.js with everything a cold start does not execute taken out,
 * timed by bench/cold.mjs as the contender `mlpgrad-lean` beside mlpgrad-f32 and the cold-start floor.
 *
 * The floor (bench/cold-floor.mjs) says what Node 20 allows a program with no API; this says what
 * mlpgrad's own cold path allows, however its code were arranged. V8 compiles JavaScript by the byte:
 * it pre-parses every function of a module when the module is imported and compiles each one in full
 * on its first call, so code a cold start never runs still costs its pre-parse, and the error branches
 * of the code it does run cost their full compile. Taking all of that out is the most that loading the
 * rest of the API later, or moving every error message out of line, could ever save; what remains is
 * the JavaScript the path executes: reading the spec, the checks that pass, planning the layout, the
 * engine, the network and the first gradient.
 *
 * How: one cold start of the real bundle (`node bench/cold.mjs mlpgrad-f32`, the same path the suite
 * times) under NODE_V8_COVERAGE gives, for every function, the ranges of its code that ran zero times.
 * Then, in the bundle's text (parsed with acorn):
 * - a function that was never called keeps its name and parameters, and its body becomes `{}`;
 * - a statement that was never reached, in a function that was, becomes `{}` — but declarations stay
 *   (a `let`, `const`, `function` or `class` binding, and any statement holding a `var`, which is
 *   hoisted out of it), so that no name the executed code reads goes missing.
 * The result is written to build/cold-lean/mlpgrad.node.js (under the package's `"type": "module"`),
 * with a stamp naming the bundle it came from; bench/cold.mjs refuses a stale one. It computes the same
 * gradient as the bundle (cold.mjs checks it against the f64 reference like every contender, and
 * tests/cold-lean.test.ts compares it bit for bit), and it is not a library anyone could use: an error
 * in it throws 0, and every API the cold start does not call returns undefined.
 *
 * `node bench/cold-lean.mjs` writes it and prints what was taken out; `npm run bench` does so before
 * the cold starts.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import * as acorn from "acorn";
import { LEAN_STAMP_URL, LEAN_URL, leanStamp } from "./contenders/lean.mjs";

/** The bundle a cold start imports (bench/cold.mjs, mlpgrad-f32). */
export const BUNDLE_URL = new URL("../dist/mlpgrad.node.js", import.meta.url);

/**
 * The [start, end) offsets of the bundle's code that one cold start of `node bench/cold.mjs mlpgrad-f32`
 * ran zero times, from V8's block coverage (NODE_V8_COVERAGE), and the shape it ran on.
 */
export function unexecutedRanges(shape = "S3") {
  const dir = mkdtempSync(`${tmpdir()}/mlpgrad-cold-lean-`);
  try {
    const child = spawnSync(process.execPath, [fileURLToPath(new URL("cold.mjs", import.meta.url)), "mlpgrad-f32", "--shape", shape], {
      env: { ...process.env, NODE_V8_COVERAGE: dir },
      encoding: "utf8",
    });
    const line = child.stdout.trim().split("\n").pop() ?? "";
    let result;
    try {
      result = JSON.parse(line);
    } catch {}
    if (child.status !== 0 || result?.status !== "ok") {
      throw new Error(`the cold start to cover failed (exit ${child.status}): ${result?.error ?? result?.status ?? (child.stderr || line).slice(0, 400)}`);
    }
    const scripts = readdirSync(dir).flatMap((file) => JSON.parse(readFileSync(`${dir}/${file}`, "utf8")).result);
    const bundle = scripts.find((script) => script.url === BUNDLE_URL.href);
    if (!bundle) throw new Error(`V8's coverage of the cold start does not include ${BUNDLE_URL.pathname}`);
    return bundle.functions.flatMap((fn) => fn.ranges.filter((range) => range.count === 0).map((range) => [range.startOffset, range.endOffset]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const isFunction = (node) => node.type === "FunctionDeclaration" || node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression";
/** The keys under which a node holds statements: a block's or program's body, a loop's body, if and switch branches. */
const STATEMENT_KEYS = new Set(["body", "consequent", "alternate"]);

/** Each child node of a node, with the key it hangs under. */
function* children(node) {
  for (const key of Object.keys(node)) {
    const value = node[key];
    if (Array.isArray(value)) {
      for (const child of value) if (child && typeof child.type === "string") yield [key, child];
    } else if (value && typeof value.type === "string") yield [key, value];
  }
}

/** Whether a statement holds a `var` declaration of its own function (which is hoisted out of it). */
function holdsVar(node) {
  if (node.type === "VariableDeclaration" && node.kind === "var") return true;
  for (const [, child] of children(node)) if (!isFunction(child) && holdsVar(child)) return true;
  return false;
}

/**
 * The source with what never ran taken out: `unexecuted` holds [start, end) offsets of code that ran zero
 * times. Returns { text, functions, statements }: the new text and how many function bodies and
 * statements were emptied.
 */
export function stripUnexecuted(source, unexecuted) {
  const within = (node) => unexecuted.some(([start, end]) => start <= node.start && node.end <= end);
  const edits = [];
  let functions = 0;
  let statements = 0;
  const visit = (node, key) => {
    if (within(node)) {
      if (isFunction(node) && node.body.type === "BlockStatement") {
        if (node.body.body.length) edits.push([node.body.start, node.body.end]), functions++;
        return;
      }
      // Declarations (let, const, var, function, class) are not ESTree "…Statement"s, so they stay.
      if (STATEMENT_KEYS.has(key) && node.type.endsWith("Statement") && !holdsVar(node)) {
        if (!(node.type === "BlockStatement" && node.body.length === 0)) edits.push([node.start, node.end]), statements++;
        return;
      }
    }
    for (const [childKey, child] of children(node)) visit(child, childKey);
  };
  visit(acorn.parse(source, { ecmaVersion: "latest", sourceType: "module" }), "");
  let text = source;
  for (const [start, end] of edits.sort((a, b) => b[0] - a[0])) text = `${text.slice(0, start)}{}${text.slice(end)}`;
  return { text, functions, statements };
}

/**
 * Writes build/cold-lean/mlpgrad.node.js from the current dist/mlpgrad.node.js (or `out`, for tests) and
 * its stamp; returns what was taken out.
 */
export function writeLeanBundle({ out = LEAN_URL, stampOut = LEAN_STAMP_URL, shape = "S3" } = {}) {
  let source;
  try {
    source = readFileSync(BUNDLE_URL, "utf8");
  } catch {
    throw new Error(`${BUNDLE_URL.pathname} is missing: run \`npm run build\` first`);
  }
  const unexecuted = unexecutedRanges(shape);
  const { text, functions, statements } = stripUnexecuted(source, unexecuted);
  // The source map describes the bundle's text, not this one's.
  const lean = text.replace(/\n\/\/# sourceMappingURL=\S*\s*$/, "\n");
  mkdirSync(new URL(".", out), { recursive: true });
  writeFileSync(out, lean);
  writeFileSync(stampOut, JSON.stringify(leanStamp(source)) + "\n");
  return { bundleBytes: Buffer.byteLength(source), leanBytes: Buffer.byteLength(lean), functions, statements };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const made = writeLeanBundle();
  console.log(
    `${fileURLToPath(LEAN_URL)}: ${made.leanBytes} bytes from the bundle's ${made.bundleBytes} ` +
      `(${made.functions} function bodies never called and ${made.statements} statements never reached emptied)`,
  );
}
