// The CLI as users meet it: `npm pack`, the tarball installed in a temporary project, and the real
// binary run there (node_modules/.bin/mlpgrad, and once through `npx mlpgrad`). Every command, both row
// formats, stdin, --threads, exit codes and one-line errors, and a file of 10⁵ rows whose peak RSS must
// stay near that of a 10³-row file (the input is streamed). Numbers are checked against the independent
// f64 reference (tests/reference.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { closeTo, randomCase, rng, type Case } from "./helpers.js";
import * as ref from "./reference.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "mlpgrad-cli-"));
const project = join(dir, "project");

// Pack and install once for the whole suite.
const packed = sh("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], root); // the build is current: prepare need not run
const tarball = join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0].filename);
writeFileSync(join(dir, "package.json"), "{}");
spawnSync("mkdir", ["-p", project]);
writeFileSync(join(project, "package.json"), JSON.stringify({ name: "cli-test", private: true, type: "module" }));
sh("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], project);
const bin = join(project, "node_modules", ".bin", "mlpgrad");

function sh(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_loglevel: "error" } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  return result;
}

/** Runs the installed binary; stdin from `input`. */
function cli(args: string[], input?: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(bin, args, { cwd: project, encoding: "utf8", input, env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
}

/** A model file from a random case (written as the JSON model format). */
function model(name: string, c: Case): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(c.spec));
  return path;
}

/** Rows of U(−1, 1) numbers, rounded to 6 decimals (so the text is the number). */
function inputs(n: number, m: number, seed: number): number[][] {
  const random = rng(seed);
  return Array.from({ length: m }, () => Array.from({ length: n }, () => Math.round((2 * random() - 1) * 1e6) / 1e6));
}

const csv = (rows: number[][]) => rows.map((r) => r.join(",")).join("\n") + "\n";
const parseCsv = (text: string) => text.trim().split("\n").map((line) => line.split(",").map(Number));
const parseLines = (text: string) => text.trim().split("\n").map((line) => JSON.parse(line) as number[]);

/** Exit code `code`, stdout empty, and exactly one line on stderr matching every pattern (no stack trace). */
function fails(result: SpawnSyncReturns<string>, code: number, ...patterns: RegExp[]): void {
  assert.is(result.status, code, `exit code: stderr was ${result.stderr}`);
  const lines = result.stderr.trim().split("\n");
  assert.is(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0], /^mlpgrad: /);
  assert.not.match(result.stderr, /\n\s+at |Error:/, "no stack trace");
  for (const p of patterns) assert.match(lines[0], p);
}

const scalar64 = randomCase([5, 7, 1], ["tanh", "sigmoid"], "f64", 101);
const scalar32 = randomCase([3, 17, 1], ["softplus", "identity"], "f32", 102);
const vector64 = randomCase([7, 4, 3], ["tanh", "sigmoid"], "f64", 103);
const scalar64Path = model("scalar64.json", scalar64);
const scalar32Path = model("scalar32.json", scalar32);
const vector64Path = model("vector64.json", vector64);

test("npx mlpgrad --help lists the commands; each command has --help (exit 0); --version", () => {
  const npx = spawnSync("npx", ["mlpgrad", "--help"], { cwd: project, encoding: "utf8" });
  assert.is(npx.status, 0, npx.stderr);
  for (const command of ["grad", "value", "jacobian", "check", "info", "bench"]) {
    assert.match(npx.stdout, new RegExp(`^  ${command} `, "m"));
    const help = cli([command, "--help"]);
    assert.is(help.status, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^mlpgrad ${command} MODEL`));
  }
  const version = cli(["--version"]);
  assert.is(version.stdout.trim(), JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version);
  const grad = spawnSync("npx", ["mlpgrad", "grad", scalar64Path, "--x", scalar64.x.join(","), "--json"], { cwd: project, encoding: "utf8" });
  assert.is(grad.status, 0, grad.stderr);
  closeTo(JSON.parse(grad.stdout).gradient, ref.gradient(scalar64.ref, scalar64.x), 1e-13, "npx grad");
});

test("grad --x: table and --json against the f64 reference, f64 and f32", () => {
  const xs = inputs(5, 3, 1);
  const json = cli(["grad", scalar64Path, ...xs.flatMap((x) => ["--x", x.join(",")]), "--json"]);
  assert.is(json.status, 0, json.stderr);
  const lines = json.stdout.trim().split("\n").map((l) => JSON.parse(l) as { x: number[]; gradient: number[] });
  assert.is(lines.length, 3);
  lines.forEach((line, i) => {
    assert.equal(line.x, xs[i]);
    closeTo(line.gradient, ref.gradient(scalar64.ref, xs[i]), 1e-13, `row ${i}`);
  });
  const table = cli(["grad", scalar64Path, "--x", xs[0].join(",")]);
  assert.is(table.status, 0, table.stderr);
  assert.match(table.stdout, /^x\s+∇ₓ a\^\[L\]\(x\)\n─/);
  const shown = table.stdout.trim().split("\n")[2].split(/\s{3,}/)[1].split(", ").map(Number);
  closeTo(shown, ref.gradient(scalar64.ref, xs[0]), 1e-15, "table");
  // f32: the network holds f32-rounded weights (randomCase rounds them), so the reference is exact for it.
  const x32 = inputs(3, 1, 2)[0].map(Math.fround);
  const f32 = cli(["grad", scalar32Path, `--x=${x32.join(",")}`, "--json"]);
  assert.is(f32.status, 0, f32.stderr);
  closeTo(JSON.parse(f32.stdout).gradient, ref.gradient(scalar32.ref, x32), 1e-5, "f32");
  // A negative first number after --x works without "=".
  const negative = cli(["grad", scalar64Path, "--x", "-0.5,0.25,0,1,-1", "--json"]);
  assert.is(negative.status, 0, negative.stderr);
  closeTo(JSON.parse(negative.stdout).gradient, ref.gradient(scalar64.ref, [-0.5, 0.25, 0, 1, -1]), 1e-13, "negative x");
});

test("grad --output K on a vector network is row K of the reference Jacobian; value and jacobian", () => {
  const x = inputs(7, 1, 3)[0];
  const J = ref.jacobian(vector64.ref, x);
  for (const k of [0, 2]) {
    const r = cli(["grad", vector64Path, "--x", x.join(","), "--output", String(k), "--json"]);
    assert.is(r.status, 0, r.stderr);
    closeTo(JSON.parse(r.stdout).gradient, J[k], 1e-13, `output ${k}`);
  }
  const value = cli(["value", vector64Path, "--x", x.join(","), "--json"]);
  closeTo(JSON.parse(value.stdout).value, ref.forward(vector64.ref, x), 1e-14, "value");
  const one = cli(["value", vector64Path, "--x", x.join(","), "--output", "1", "--json"]);
  closeTo(JSON.parse(one.stdout).value, [ref.forward(vector64.ref, x)[1]], 1e-14, "value --output 1");
  const jacobian = cli(["jacobian", vector64Path, "--x", x.join(","), "--json"]);
  assert.is(jacobian.status, 0, jacobian.stderr);
  const rows = JSON.parse(jacobian.stdout).jacobian as number[][];
  assert.is(rows.length, 3);
  rows.forEach((row, k) => closeTo(row, J[k], 1e-13, `jacobian row ${k}`));
  const table = cli(["jacobian", vector64Path, "--x", x.join(",")]);
  assert.is(table.status, 0);
  assert.match(table.stdout, /∇ₓ a_2\^\[L\]/);
});

test("--x-file: CSV in, CSV out; JSON in (JSON Lines or a whole array), JSON Lines out; stdin; --out", () => {
  const xs = inputs(7, 67, 4);
  const J = xs.map((x) => ref.jacobian(vector64.ref, x));
  const csvPath = join(dir, "rows.csv");
  writeFileSync(csvPath, "# a comment\n" + csv(xs).replace(/\n/, "\n\n")); // a comment and a blank line are skipped
  const fromCsv = cli(["grad", vector64Path, "--x-file", csvPath, "--output", "1"]);
  assert.is(fromCsv.status, 0, fromCsv.stderr);
  const got = parseCsv(fromCsv.stdout);
  assert.is(got.length, 67);
  got.forEach((row, i) => closeTo(row, J[i][1], 1e-13, `csv row ${i}`));

  const jsonPath = join(dir, "rows.json");
  writeFileSync(jsonPath, "[\n" + xs.map((x) => `  ${JSON.stringify(x)}`).join(",\n") + "\n]\n");
  const jsonl = join(dir, "rows.jsonl");
  writeFileSync(jsonl, xs.map((x) => JSON.stringify(x)).join("\n")); // no final newline
  for (const path of [jsonPath, jsonl]) {
    const r = cli(["jacobian", vector64Path, "--x-file", path]);
    assert.is(r.status, 0, r.stderr);
    const lines = parseLines(r.stdout);
    assert.is(lines.length, 67, path);
    lines.forEach((line, i) => closeTo(line, J[i].flat(), 1e-13, `${path} row ${i}`));
  }
  const oneLine = join(dir, "one-line.json");
  writeFileSync(oneLine, JSON.stringify(xs.slice(0, 5)));
  assert.is(parseLines(cli(["value", vector64Path, "--x-file", oneLine]).stdout).length, 5);

  const stdin = cli(["value", vector64Path, "--x-file", "-"], csv(xs));
  assert.is(stdin.status, 0, stdin.stderr);
  parseCsv(stdin.stdout).forEach((row, i) => closeTo(row, ref.forward(vector64.ref, xs[i]), 1e-14, `stdin row ${i}`));
  const stdinJson = cli(["value", vector64Path, "--x-file", "-", "--format", "json"], xs.map((x) => JSON.stringify(x)).join("\n"));
  assert.is(parseLines(stdinJson.stdout).length, 67);
  const asJson = cli(["value", vector64Path, "--x-file", csvPath, "--json"]);
  assert.equal(parseLines(asJson.stdout), parseCsv(stdin.stdout), "--json turns CSV rows into JSON Lines of the same numbers");

  const outPath = join(dir, "out.csv");
  const toFile = cli(["grad", scalar64Path, "--x-file", "-", "-o", outPath], csv(inputs(5, 9, 5)));
  assert.is(toFile.status, 0, toFile.stderr);
  assert.is(toFile.stdout, "");
  assert.is(parseCsv(readFileSync(outPath, "utf8")).length, 9);
});

test("--precision f32 rounds to f32 and prints the shortest f32 decimals; --threads 2 equals one thread bit for bit", () => {
  const xs = inputs(5, 3000, 6);
  const path = join(dir, "threads.csv");
  writeFileSync(path, csv(xs));
  const one = cli(["grad", scalar64Path, "--x-file", path, "--precision", "f32"]);
  const two = cli(["grad", scalar64Path, "--x-file", path, "--precision", "f32", "--threads", "2", "--batch", "1024"]);
  assert.is(one.status, 0, one.stderr);
  assert.is(two.status, 0, two.stderr);
  assert.is(two.stdout, one.stdout);
  const rows = parseCsv(one.stdout);
  assert.is(rows.length, 3000);
  for (const i of [0, 1234, 2999]) {
    closeTo(rows[i], ref.gradient(scalar64.ref, xs[i]), 1e-5, `f32 row ${i}`);
    // At most 9 significant digits (enough for any f32), and fewer where fewer round back to the same f32.
    for (const v of rows[i]) assert.ok(String(v).replace(/^-?0\.0*|e.*$|[-.]/g, "").length <= 9, `${v} is an f32 printed short`);
  }
  const vectorPath = join(dir, "threads-vector.csv");
  writeFileSync(vectorPath, csv(inputs(7, 3000, 10)));
  const pick = cli(["grad", vector64Path, "--x-file", vectorPath, "--output", "1"]);
  assert.is(pick.status, 0, pick.stderr);
  assert.is(cli(["grad", vector64Path, "--x-file", vectorPath, "--output", "1", "--threads", "2", "--batch", "1024"]).stdout, pick.stdout);
  const values = cli(["value", scalar64Path, "--x-file", path, "--threads", "2"]);
  assert.equal(values.stdout, cli(["value", scalar64Path, "--x-file", path]).stdout);
});

test("check agrees with finite differences (exit 0); info and bench report the network and build", () => {
  const ok = cli(["check", vector64Path, "--json"]);
  assert.is(ok.status, 0, ok.stderr);
  const report = JSON.parse(ok.stdout) as { ok: boolean; error: number; points: { x: number[]; derivative: number[][] }[] };
  assert.ok(report.ok && report.error < 1e-8, `error ${report.error}`);
  assert.is(report.points.length, 5);
  // The derivative it checked is the reference Jacobian.
  report.points[0].derivative.forEach((row, k) => closeTo(row, ref.jacobian(vector64.ref, report.points[0].x)[k], 1e-13, `check row ${k}`));
  const at = cli(["check", scalar32Path, "--x", "0.1,0.2,0.3"]);
  assert.is(at.status, 0, at.stderr);
  assert.match(at.stdout, /^ok: largest error/m);

  const info = cli(["info", vector64Path, "--json"]);
  assert.is(info.status, 0, info.stderr);
  const facts = JSON.parse(info.stdout);
  assert.equal(facts.sizes, [7, 4, 3]);
  assert.equal(facts.activations, ["tanh", "sigmoid"]);
  assert.is(facts.parameters, 4 * 8 + 3 * 5);
  assert.is(facts.parameterBytes, 8 * (4 * 8 + 3 * 5));
  assert.ok(facts.build === "simd" || facts.build === "scalar");
  assert.match(cli(["info", scalar32Path]).stdout, /^sizes\s+3-17-1/m);
  const leaky = join(dir, "leaky.json");
  writeFileSync(leaky, JSON.stringify({ ...scalar64.spec, activations: [{ name: "leakyRelu", alpha: 0.2 }, "sigmoid"] }));
  assert.match(cli(["info", leaky]).stdout, /^activations\s+leakyRelu\(alpha=0\.2\); sigmoid \(layers 2\.\.3\)$/m);

  const bench = cli(["bench", scalar64Path, "--batch", "64", "--json"]);
  assert.is(bench.status, 0, bench.stderr);
  const timings = JSON.parse(bench.stdout).results as { method: string; microseconds: number }[];
  assert.is(timings.length, 3);
  for (const t of timings) assert.ok(t.microseconds > 0 && t.microseconds < 1e4, `${t.method}: ${t.microseconds} µs`);
  assert.match(cli(["bench", vector64Path, "--output", "2"]).stdout, /(gradientOf\(x, 2, out\)|vjp\(x, e_2, out\))\s+\d/);
});

test("bad arguments exit 2, bad models and inputs exit 1, with one line and no stack trace", () => {
  fails(cli([]), 2);
  fails(cli(["gradient", scalar64Path]), 2, /unknown command "gradient"/);
  fails(cli(["grad", scalar64Path, "--x", "1,2,3,4,5", "--bogus"]), 2, /unknown option --bogus/);
  fails(cli(["grad", scalar64Path]), 2, /no input/);
  fails(cli(["grad", "--x", "1"]), 2, /expected one MODEL/);
  fails(cli(["grad", scalar64Path, "--x", "1,2,3,4,5", "--precision", "f16"]), 2, /f32 or f64/);
  fails(cli(["grad", vector64Path, "--x", "1,2,3,4,5,6,7"]), 2, /n_L = 3 outputs; pick one with --output K/);
  fails(cli(["grad", vector64Path, "--x", "1,2,3,4,5,6,7", "--output", "3"]), 2, /--output must be an integer from 0 to 2/);
  fails(cli(["grad", scalar64Path, "--x-file", "-", "--threads", "0"], ""), 2, /--threads must be a positive integer/);
  fails(cli(["grad", join(dir, "missing.json"), "--x-file", "-", "--batch", "1.5"], ""), 2, /--batch must be a positive integer, got "1\.5"/);
  fails(cli(["value", scalar64Path, "--x", "1,2,3,4,5", "--output", "-1"]), 2, /--output must be a non-negative integer/);

  fails(cli(["grad", join(dir, "missing.json"), "--x", "1"]), 1, /cannot read model file .*missing\.json: ENOENT/);
  const broken = join(dir, "broken.json");
  writeFileSync(broken, '{"sizes": [2, 1], ');
  fails(cli(["info", broken]), 1, /broken\.json: not a JSON model file/);
  const wrong = join(dir, "wrong.json");
  writeFileSync(wrong, JSON.stringify({ sizes: [2, 1], layers: [{ weights: [1, 2, 3], bias: [0] }] }));
  fails(cli(["info", wrong]), 1, /wrong\.json: layer 2 weights: expected 1×2 = 2 numbers/);
  fails(cli(["grad", scalar64Path, "--x", "1,2"]), 1, /expected 5 numbers \(n_1/);
  fails(cli(["grad", scalar64Path, "--x", "1,2,x,4,5"]), 1, /number 3 is "x"/);
  fails(cli(["grad", join(dir, "nothing.safetensors"), "--x", "1"]), 2, /--activations/);
  // A file the ONNX importer cannot read (or, in a build without importers, that says so): one line, exit 1.
  const onnx = join(dir, "garbage.onnx");
  writeFileSync(onnx, "not onnx");
  fails(cli(["info", onnx]), 1);
});

test("a malformed row names its line number (CSV, JSON, stdin) and nothing after it runs", () => {
  const rows = csv(inputs(5, 10, 7)).split("\n");
  rows[6] = "0.1,0.2,oops,0.4,0.5"; // line 7
  fails(cli(["grad", scalar64Path, "--x-file", "-"], rows.join("\n")), 1, /stdin line 7: field 3 is "oops"; expected a finite number/);
  rows[6] = "0.1,0.2,0.3";
  fails(cli(["grad", scalar64Path, "--x-file", "-"], rows.join("\n")), 1, /stdin line 7: expected 5 numbers \(n_1.*got 3/);
  const path = join(dir, "bad.json");
  writeFileSync(path, "[1,2,3,4,5]\n[1,2,3,4,5]\n[1,2,3,4,\n");
  fails(cli(["grad", scalar64Path, "--x-file", path]), 1, /bad\.json line 3: not a JSON array/);
  writeFileSync(path, "[1,2,3,4,5]\n[1,2,null,4,5]\n");
  fails(cli(["grad", scalar64Path, "--x-file", path]), 1, /bad\.json line 2: element 2 is null/);
  fails(cli(["grad", scalar32Path, "--x-file", "-"], "1,2,3\n1e39,0,0\n"), 1, /line 2: field 1 is "1e39" outside the f32 range/);
  fails(cli(["grad", scalar32Path, "--x-file", "-"], "x1,x2,x3\n1,2,3\n"), 1, /stdin line 1: field 1 is "x1"; expected a finite number \(CSV input has no header line: remove it\)/);
  fails(cli(["grad", scalar32Path, "--x-file", "-"], "1,2,3\n1,NaN,3\n"), 1, /stdin line 2: field 2 is "NaN"; expected a finite number$/);
  fails(cli(["grad", scalar64Path, "--x-file", join(dir, "none.csv")]), 1, /cannot read input file .*none\.csv: ENOENT/);
});

/** Little-endian f64 bytes of numbers. */
function f64Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float64Array.from(values).buffer);
}

/** A safetensors file (8-byte header length, JSON header, data) of F64 tensors named 0.weight, 0.bias, 2.weight… */
function safetensors(c: Case): Uint8Array {
  const header: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let offset = 0;
  const sizes = c.spec.sizes as number[];
  c.ref.W.forEach((W, l) => {
    for (const [name, shape, values] of [[`${2 * l}.weight`, [sizes[l + 1], sizes[l]], W.flat()], [`${2 * l}.bias`, [sizes[l + 1]], c.ref.b[l]]] as const) {
      const bytes = f64Bytes(values);
      header[name] = { dtype: "F64", shape, data_offsets: [offset, offset + bytes.length] };
      parts.push(bytes);
      offset += bytes.length;
    }
  });
  const json = new TextEncoder().encode(JSON.stringify(header));
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(json.length), true);
  return concat([length, json, ...parts]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A TF.js layers model.json (Sequential Dense layers, kernels [n_in][n_out]) and its weights.bin, f32. */
function tfjsModel(c: Case, folder: string): string {
  const sizes = c.spec.sizes as number[];
  const acts = c.ref.activations as string[];
  const layers = c.ref.W.map((_, l) => ({
    class_name: "Dense",
    config: { name: `dense_${l}`, units: sizes[l + 1], activation: acts[l] === "identity" ? "linear" : acts[l], use_bias: true, ...(l === 0 ? { batch_input_shape: [null, sizes[0]] } : {}) },
  }));
  const weights: { name: string; shape: number[]; dtype: string }[] = [];
  const values: number[] = [];
  c.ref.W.forEach((W, l) => {
    weights.push({ name: `dense_${l}/kernel`, shape: [sizes[l], sizes[l + 1]], dtype: "float32" });
    for (let i = 0; i < sizes[l]; i++) for (let o = 0; o < sizes[l + 1]; o++) values.push(W[o][i]);
    weights.push({ name: `dense_${l}/bias`, shape: [sizes[l + 1]], dtype: "float32" });
    values.push(...c.ref.b[l]);
  });
  writeFileSync(join(folder, "weights.bin"), new Uint8Array(Float32Array.from(values).buffer));
  const path = join(folder, "model.json");
  writeFileSync(path, JSON.stringify({ format: "layers-model", modelTopology: { class_name: "Sequential", config: { name: "seq", layers } }, weightsManifest: [{ paths: ["weights.bin"], weights }] }));
  return path;
}

/** An ONNX model (onnx.proto field numbers): Gemm(transB = 1) and an activation node per layer, DOUBLE initializers. */
function onnxModel(c: Case): Uint8Array {
  const sizes = c.spec.sizes as number[];
  const OPS: Record<string, string> = { tanh: "Tanh", sigmoid: "Sigmoid", relu: "Relu", softplus: "Softplus" };
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int64(8); // ir_version
  w.tag(8, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string("").tag(2, WireType.Varint).int64(13).join(); // opset 13
  w.tag(7, WireType.LengthDelimited).fork(); // graph
  const valueInfo = (field: number, name: string, width: number) =>
    w.tag(field, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(name)
      .tag(2, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int32(11)
      .tag(2, WireType.LengthDelimited).fork()
      .tag(1, WireType.LengthDelimited).fork().tag(2, WireType.LengthDelimited).string("batch").join()
      .tag(1, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int64(width).join()
      .join().join().join().join();
  let input = "x";
  c.ref.W.forEach((W, l) => {
    const node = (op: string, inputs: string[], output: string, transB = false) => {
      w.tag(1, WireType.LengthDelimited).fork();
      for (const name of inputs) w.tag(1, WireType.LengthDelimited).string(name);
      w.tag(2, WireType.LengthDelimited).string(output).tag(3, WireType.LengthDelimited).string(output).tag(4, WireType.LengthDelimited).string(op);
      if (transB) w.tag(5, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string("transB").tag(3, WireType.Varint).int64(1).tag(20, WireType.Varint).int32(2).join();
      w.join();
    };
    node("Gemm", [input, `W${l}`, `b${l}`], `z${l}`, true);
    const op = OPS[c.ref.activations[l] as string];
    node(op, [`z${l}`], `a${l}`);
    input = `a${l}`;
  });
  c.ref.W.forEach((W, l) => {
    for (const [name, dims, values] of [[`W${l}`, [sizes[l + 1], sizes[l]], W.flat()], [`b${l}`, [sizes[l + 1]], c.ref.b[l]]] as const) {
      w.tag(5, WireType.LengthDelimited).fork();
      for (const d of dims) w.tag(1, WireType.Varint).int64(d);
      w.tag(2, WireType.Varint).int32(11).tag(8, WireType.LengthDelimited).string(name).tag(9, WireType.LengthDelimited).bytes(f64Bytes(values));
      w.join();
    }
  });
  valueInfo(11, "x", sizes[0]);
  valueInfo(12, input, sizes[sizes.length - 1]);
  w.join();
  return w.finish();
}

test("model files by type: .safetensors (with --activations), TF.js model.json, .onnx, through the importers", () => {
  const c = randomCase([5, 4, 3, 1], ["tanh", "relu", "sigmoid"], "f32", 105); // f32-exact weights, so every format holds the same numbers
  const x = inputs(5, 1, 9)[0];
  const expected = ref.gradient(c.ref, x);
  const st = join(dir, "model.safetensors");
  writeFileSync(st, safetensors(c));
  const folder = mkdtempSync(join(dir, "tfjs-"));
  const files: [string, string, string[]][] = [
    [st, "safetensors", ["--activations", "tanh,relu,sigmoid"]],
    [tfjsModel(c, folder), "TF.js model.json", []],
    [join(dir, "model.onnx"), "ONNX", []],
  ];
  writeFileSync(files[2][0], onnxModel(c));
  for (const [path, format, extra] of files) {
    const info = cli(["info", path, ...extra, "--json"]);
    assert.is(info.status, 0, `${format}: ${info.stderr}`);
    const facts = JSON.parse(info.stdout);
    assert.is(facts.format, format);
    assert.equal(facts.sizes, [5, 4, 3, 1], format);
    assert.equal(facts.activations, ["tanh", "relu", "sigmoid"], format);
    const grad = cli(["grad", path, ...extra, "--x", x.join(","), "--precision", "f64", "--json"]);
    assert.is(grad.status, 0, `${format}: ${grad.stderr}`);
    closeTo(JSON.parse(grad.stdout).gradient, expected, 1e-13, `${format} gradient`);
  }
  // The same file without --activations is a usage error; a truncated one a bad model.
  fails(cli(["info", st]), 2, /--activations/);
  writeFileSync(st, safetensors(c).subarray(0, 40));
  fails(cli(["info", st, "--activations", "tanh"]), 1, /model\.safetensors/);
});

test("10⁵ rows stream with bounded memory: a 32 MB heap suffices, peak RSS within 48 MB of a 10³-row run", async () => {
  const wide = randomCase([17, 8, 1], ["tanh", "sigmoid"], "f64", 104);
  const widePath = model("wide.json", wide);
  const big = join(dir, "big.csv");
  const small = join(dir, "small.csv");
  const random = rng(8);
  const row = () => Array.from({ length: 17 }, () => (2 * random() - 1).toFixed(6)).join(",") + "\n";
  await new Promise<void>((resolve, reject) => {
    const stream = createWriteStream(big);
    stream.on("error", reject);
    let chunk = "";
    for (let i = 0; i < 100_000; i++) {
      chunk += row();
      if (chunk.length > 1 << 16) {
        stream.write(chunk);
        chunk = "";
      }
    }
    stream.end(chunk, resolve);
  });
  writeFileSync(small, readFileSync(big, "utf8").split("\n").slice(0, 1000).join("\n") + "\n");
  // Peak RSS of the CLI's own process, recorded by a preloaded hook at exit (KB; no /usr/bin/time needed).
  // The heap is capped at 32 MB: reading the 15 MB file whole (or --batch 1000000) runs out of it and
  // aborts, while streamed batches finish. RSS grows some way with the file anyway (V8 collects lazily).
  const hook = join(dir, "rss.cjs");
  writeFileSync(hook, 'process.on("exit", () => require("fs").writeFileSync(process.env.MLPGRAD_RSS_FILE, String(process.resourceUsage().maxRSS)));');
  const peak = (input: string, out: string): number => {
    const file = join(dir, "rss.txt");
    const r = cli(["grad", widePath, "--x-file", input, "-o", out], undefined, { NODE_OPTIONS: `--max-old-space-size=32 --require=${hook}`, MLPGRAD_RSS_FILE: file });
    assert.is(r.status, 0, r.stderr);
    return Number(readFileSync(file, "utf8")) / 1024;
  };
  const bigOut = join(dir, "big-out.csv");
  // stderr is a pipe here: no progress line.
  const quiet = cli(["grad", widePath, "--x-file", small, "-o", join(dir, "quiet.csv")]);
  assert.is(quiet.status, 0, quiet.stderr);
  assert.is(quiet.stderr, "", "nothing on stderr when it is not a terminal");
  const base = peak(small, join(dir, "small-out.csv"));
  const high = peak(big, bigOut);
  console.log(`    peak RSS: ${base.toFixed(1)} MB for 10³ rows, ${high.toFixed(1)} MB for 10⁵ rows (input ${(readFileSync(big).length / 2 ** 20).toFixed(1)} MB)`);
  assert.ok(high - base < 48, `peak RSS grew by ${(high - base).toFixed(1)} MB from 10³ to 10⁵ rows`);
  const lines = readFileSync(bigOut, "utf8").trim().split("\n");
  assert.is(lines.length, 100_000);
  const xs = readFileSync(big, "utf8").trim().split("\n");
  for (const i of [0, 4095, 4096, 99_999]) {
    closeTo(lines[i].split(",").map(Number), ref.gradient(wide.ref, xs[i].split(",").map(Number)), 1e-13, `row ${i}`);
  }
});

test("a progress line on stderr when it is a terminal (util-linux script gives the CLI a pty)", () => {
  const path = join(dir, "progress.csv");
  writeFileSync(path, csv(inputs(5, 200_000, 11)));
  const command = `${bin} grad ${scalar64Path} --x-file ${path} -o ${join(dir, "progress-out.csv")} --batch 512`;
  const pty = spawnSync("script", ["-qec", command, "/dev/null"], { cwd: project, encoding: "utf8" });
  if (pty.error !== undefined) {
    console.log(`    skipped: no util-linux script (${pty.error.message})`);
    return;
  }
  assert.is(pty.status, 0, pty.stdout);
  assert.match(pty.stdout, /\] +\d+%  [\d,]+ rows  [\d,]+ rows\/s  ETA \d+ s/, `a progress line: ${JSON.stringify(pty.stdout.slice(0, 300))}`);
  assert.match(pty.stdout, /200,000 rows in \d+\.\d s/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
