/**
 * `mlpgrad`, the command line: input gradients ∇ₓ a^[L](x), outputs a^[L](x) and Jacobians of a model
 * file, a finite-difference check, facts about the model and a benchmark.
 *
 *   mlpgrad grad     MODEL --x 0.3,0.7 [--output K]     mlpgrad value MODEL --x-file inputs.csv
 *   mlpgrad jacobian MODEL --x …                         mlpgrad check MODEL [--x …]
 *   mlpgrad info     MODEL                               mlpgrad bench MODEL [--batch 256]
 *
 * Many inputs (--x-file, "-" for stdin) are streamed: BATCH_ROWS rows at a time are parsed into one
 * reused buffer, run through the batch kernels (gradientBatch, forwardBatch, or the pool's) and written
 * out before the next are read, so memory does not grow with the file. Exit codes: 0 done, 1 a bad model
 * or input (or a failed check), 2 bad arguments; errors are one line on stderr, never a stack trace.
 */
import { parseArgs } from "node:util";
import { createWriteStream } from "node:fs";
import { createRequire } from "node:module";
import type { Writable } from "node:stream";
import { createMLP, createMLPPool, hasThreads, init, MLPError, type MLP, type MLPPool, type MLPSpec, type Precision, type Vector } from "./index.js";
import { InputError, UsageError, formatOf, numberFormatter, openInput, readRows, systemMessage, write, type RowFormat } from "./cli/io.js";
import { loadModel } from "./cli/models.js";
import { PlainMLP } from "./cli/plain.js";

type CommandName = "grad" | "value" | "jacobian" | "check" | "info" | "bench";
type OptionName = "x" | "x-file" | "out" | "output" | "json" | "precision" | "threads" | "batch" | "activations" | "format" | "help";

const OPTIONS = {
  x: { type: "string", multiple: true },
  "x-file": { type: "string" },
  out: { type: "string", short: "o" },
  output: { type: "string" },
  json: { type: "boolean" },
  precision: { type: "string" },
  threads: { type: "string" },
  batch: { type: "string" },
  activations: { type: "string" },
  format: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

// Rows per batch when streaming: big enough that the batch kernels run at full speed (64-row blocks) and a
// pool can split it, small enough that a batch of 67-wide rows is a few MB.
const BATCH_ROWS = 4096;
const F32_MAX = 3.4028234663852886e38;

const COMMON_MODEL_HELP = `  --precision f32|f64   arithmetic precision (default: the model's)
  --activations NAMES   activations for a .safetensors model (or to override): one name, or one per layer 2..L, comma-separated`;
const ROWS_HELP = `  --x 0.3,0.7           one input x (repeat for several); a readable table, or --json
  --x-file FILE         many inputs, one per line: .csv (numbers separated by commas) or .json (JSON arrays,
                        one per line); "-" reads stdin (CSV unless --format json). Results: one line per
                        input, in the same format, streamed in batches
  --format csv|json     format of --x-file rows and of the results (default: by file extension)
  -o, --out FILE        write results to FILE instead of stdout
  --json                JSON output: an object per --x input, JSON arrays per --x-file row`;

const COMMANDS: Record<CommandName, { options: OptionName[]; summary: string; help: string }> = {
  grad: {
    options: ["x", "x-file", "out", "output", "json", "precision", "threads", "batch", "activations", "format", "help"],
    summary: "∇ₓ a^[L](x), the gradient of the output with respect to the input",
    help: `mlpgrad grad MODEL (--x X | --x-file FILE) [options]

∇ₓ a^[L](x): the gradient of the network's scalar output with respect to its input x (n_1 numbers).
For a network with several outputs, --output K gives ∇ₓ a_K^[L](x), the gradient of output K.

${ROWS_HELP}
  --output K            which output (0-based, 0 ≤ K < n_L); needed when n_L > 1
  --threads N           run the batches on N threads (a worker pool), for --x-file
  --batch N             rows per batch for --x-file (default ${BATCH_ROWS})
${COMMON_MODEL_HELP}`,
  },
  value: {
    options: ["x", "x-file", "out", "output", "json", "precision", "threads", "batch", "activations", "format", "help"],
    summary: "a^[L](x), the network's output",
    help: `mlpgrad value MODEL (--x X | --x-file FILE) [options]

a^[L](x): the network's output (n_L numbers) at each input x.

${ROWS_HELP}
  --output K            only output K (0-based)
  --threads N           run the batches on N threads (a worker pool), for --x-file
  --batch N             rows per batch for --x-file (default ${BATCH_ROWS})
${COMMON_MODEL_HELP}`,
  },
  jacobian: {
    options: ["x", "x-file", "out", "json", "precision", "batch", "activations", "format", "help"],
    summary: "∂a^[L]/∂x, the n_L × n_1 Jacobian",
    help: `mlpgrad jacobian MODEL (--x X | --x-file FILE) [options]

The Jacobian ∂a^[L]/∂x, n_L × n_1: row k is ∇ₓ a_k^[L](x). In --x-file results each line holds the
n_L·n_1 entries row by row.

${ROWS_HELP}
  --batch N             rows per batch for --x-file (default ${BATCH_ROWS})
${COMMON_MODEL_HELP}`,
  },
  check: {
    options: ["x", "output", "json", "precision", "activations", "help"],
    summary: "the gradient against central finite differences",
    help: `mlpgrad check MODEL [--x X …] [options]

Compares the Jacobian ∂a^[L]/∂x (or, with --output K, ∇ₓ a_K^[L]) with central finite differences
(f(x + h eᵢ) − f(x − h eᵢ))/2h, h = 1e-6·max(1, |xᵢ|), of the same weights in f64, at each --x or, without
one, at 5 seeded random points of [−1, 1]^n_1. The error is max|∇ − FD| / max(1, max|FD|); it fails
(exit code 1) above 1e-6 for f64 and 1e-3 for f32.

  --x 0.3,0.7           a point to check at (repeat for several)
  --output K            check only output K (0-based)
  --json                the result as JSON
${COMMON_MODEL_HELP}`,
  },
  info: {
    options: ["json", "precision", "activations", "help"],
    summary: "sizes, activations, parameters, memory, which build runs",
    help: `mlpgrad info MODEL [options]

The network's layer sizes, activations, precision, number of parameters and their bytes, the WebAssembly
memory it lives in, and which kernel build runs here (SIMD or scalar; threads or not).

  --json                the result as JSON
${COMMON_MODEL_HELP}`,
  },
  bench: {
    options: ["batch", "output", "json", "precision", "activations", "help"],
    summary: "µs per gradient and per sample on this machine, against plain JS",
    help: `mlpgrad bench MODEL [--batch 256] [options]

Times, on this machine: one gradient at a time (net.gradient, or vjp with e_K for output K of a vector
network), a batch of --batch inputs (gradientBatch; µs per sample), and the same recurrence in plain
JavaScript (f64 loops). Each figure is the median of 7 runs of at least 20 ms.

  --batch N             inputs per batch (default 256)
  --output K            for a network with several outputs, the output to differentiate (default 0)
  --json                the result as JSON
${COMMON_MODEL_HELP}`,
  },
};

const GENERAL_HELP = `mlpgrad: exact input gradients of multilayer perceptrons, from SIMD WebAssembly

usage: mlpgrad COMMAND MODEL [options]      (mlpgrad COMMAND --help for its options; mlpgrad --version)

${(Object.keys(COMMANDS) as CommandName[]).map((name) => `  ${name.padEnd(9)} ${COMMANDS[name].summary}`).join("\n")}

MODEL is an mlpgrad JSON model, or, where the importers are installed, a TF.js model.json, a .onnx file
or a .safetensors file (with --activations). Exit codes: 0 done, 1 bad model or input (or a failed
check), 2 bad arguments.`;

type Values = { [K in OptionName]?: K extends "x" ? string[] : K extends "json" | "help" ? boolean : string };

/** Runs the CLI on argv (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError("no command: usage: mlpgrad COMMAND MODEL [options]; commands: grad, value, jacobian, check, info, bench (mlpgrad --help)");
  if (command === "--version" || command === "-v") {
    // The package's own package.json, by its exports entry (a package may import itself by name).
    const { version } = createRequire(import.meta.url)("mlpgrad/package.json") as { version: string };
    process.stdout.write(`${version}\n`);
    return 0;
  }
  if (command === "--help" || command === "-h" || command === "help") {
    const topic = rest[0] as CommandName | undefined;
    process.stdout.write(`${topic !== undefined && topic in COMMANDS ? COMMANDS[topic].help : GENERAL_HELP}\n`);
    return 0;
  }
  if (!(command in COMMANDS)) throw new UsageError(`unknown command "${command}"; commands: ${Object.keys(COMMANDS).join(", ")} (mlpgrad --help)`);
  const name = command as CommandName;
  const values = parse(name, rest);
  if (values.help === true) {
    process.stdout.write(`${COMMANDS[name].help}\n`);
    return 0;
  }
  return run(name, values.model, values);
}

/** parseArgs with the command's options only; every mistake is a UsageError naming the command. */
function parse(name: CommandName, args: readonly string[]): Values & { model: string } {
  const allowed = COMMANDS[name].options;
  const options = Object.fromEntries(allowed.map((option) => [option, OPTIONS[option]]));
  // "--x -0.3,0.7": parseArgs takes a value starting with "-" only as "--x=-0.3,0.7"; a negative number
  // after an option that takes a value is that value.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const option = args[i].startsWith("--") ? (OPTIONS as Record<string, { type: string }>)[args[i].slice(2)] : undefined;
    if (option?.type === "string" && i + 1 < args.length && /^-[\d.]/.test(args[i + 1])) joined.push(`${args[i]}=${args[++i]}`);
    else joined.push(args[i]);
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: joined, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message.split("\n")[0].replace(/^Unknown option '(.*?)'.*/, `unknown option $1`);
    throw new UsageError(`${name}: ${message} (mlpgrad ${name} --help)`);
  }
  const values = parsed.values as Values;
  if (values.help === true) return { ...values, model: "" };
  if (parsed.positionals.length !== 1) {
    const got = parsed.positionals.length === 0 ? "none" : parsed.positionals.map((p) => `"${p}"`).join(", ");
    throw new UsageError(`${name}: expected one MODEL file, got ${got} (mlpgrad ${name} --help)`);
  }
  if (values.precision !== undefined && values.precision !== "f32" && values.precision !== "f64") {
    throw new UsageError(`${name}: --precision must be f32 or f64, got "${values.precision}"`);
  }
  if (values.format !== undefined && values.format !== "csv" && values.format !== "json") {
    throw new UsageError(`${name}: --format must be csv or json, got "${values.format}"`);
  }
  if (values.x !== undefined && values["x-file"] !== undefined) throw new UsageError(`${name}: give --x or --x-file, not both`);
  if ((name === "grad" || name === "value" || name === "jacobian") && values.x === undefined && values["x-file"] === undefined) {
    throw new UsageError(`${name}: no input: give --x 0.3,0.7 (one input) or --x-file FILE (many; "-" for stdin)`);
  }
  if (values.threads !== undefined && values["x-file"] === undefined) throw new UsageError(`${name}: --threads applies to --x-file only`);
  // Checked here too, so a bad number is a usage error even when the model cannot be read.
  count(name, "threads", values.threads, 1);
  count(name, "batch", values.batch, 1);
  if (values.output !== undefined && !/^\d+$/.test(values.output)) throw new UsageError(`${name}: --output must be a non-negative integer (0-based output index), got "${values.output}"`);
  return { ...values, model: parsed.positionals[0] };
}

/** A positive integer option, or a UsageError. */
function count(name: CommandName, option: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 24) throw new UsageError(`${name}: --${option} must be a positive integer, got "${text}"`);
  return n;
}

async function run(name: CommandName, modelPath: string, values: Values): Promise<number> {
  const model = await loadModel(modelPath, { activations: values.activations, precision: values.precision as Precision | undefined });
  const spec: MLPSpec = values.precision === undefined ? model.spec : { ...model.spec, precision: values.precision as Precision };
  const engine = await init();
  let net: MLP;
  try {
    net = createMLP(spec);
  } catch (error) {
    if (error instanceof MLPError) throw new InputError(`${modelPath}: ${error.message}`);
    throw error;
  }
  const output = values.output === undefined ? undefined : Number(values.output);
  if (output !== undefined && !(Number.isInteger(output) && output >= 0 && output < net.outputSize)) {
    const range = net.outputSize === 1 ? "0 (the network has one output)" : `an integer from 0 to ${net.outputSize - 1} (n_L = ${net.outputSize})`;
    throw new UsageError(`${name}: --output must be ${range}, got "${values.output}"`);
  }
  try {
    switch (name) {
      case "info":
        return info(net, modelPath, model.format, engine.simd, engine.memoryBytes, values.json === true);
      case "check":
        return check(net, parseXs(values.x, net), output, values.json === true);
      case "bench":
        return bench(net, count(name, "batch", values.batch, 256), output ?? 0, values.json === true);
      default:
        return await rows(name, net, values, output);
    }
  } finally {
    net.dispose();
  }
}

/** --x values as rows of n_1 numbers (InputError naming the bad one). */
function parseXs(xs: readonly string[] | undefined, net: MLP): number[][] | undefined {
  if (xs === undefined) return undefined;
  const limit = net.precision === "f32" ? F32_MAX : Number.MAX_VALUE;
  return xs.map((text) => {
    const fields = text.split(/[,\s]+/).filter((field) => field !== "");
    if (fields.length !== net.inputSize) {
      throw new InputError(`--x ${text}: expected ${net.inputSize} numbers (n_1, the network's input size), got ${fields.length}`);
    }
    return fields.map((field, i) => {
      const v = Number(field);
      if (!(Math.abs(v) <= limit)) throw new InputError(`--x ${text}: number ${i + 1} is "${field}"; expected a finite number${net.precision === "f32" ? " within the f32 range" : ""}`);
      return v;
    });
  });
}

/** What grad, value and jacobian compute per row: width numbers out of each n_1 in. */
interface RowJob {
  width: number;
  /** Results of m rows of xs into out (m × width). */
  run(xs: Float64Array, m: number, out: Vector): Vector | Promise<Vector>;
  /** Column name for the table and key for JSON. */
  label: string;
  key: string;
}

/** The row computation of a command, on the network or on a pool for the batch kernels. */
function rowJob(name: CommandName, net: MLP, output: number | undefined, pool: MLPPool | undefined): RowJob {
  const n = net.inputSize;
  const nL = net.outputSize;
  if (name === "jacobian") {
    return {
      width: nL * n,
      label: "∂a^[L]/∂x",
      key: "jacobian",
      run: (xs, m, out) => {
        for (let i = 0; i < m; i++) net.jacobian(xs.subarray(i * n, (i + 1) * n), out.subarray(i * nL * n, (i + 1) * nL * n));
        return out;
      },
    };
  }
  if (name === "value") {
    const all = output === undefined || nL === 1;
    const full = all ? undefined : new (net.precision === "f32" ? Float32Array : Float64Array)(BATCH_ROWS * nL);
    return {
      width: all ? nL : 1,
      label: all ? "a^[L](x)" : `a_${output}^[L](x)`,
      key: "value",
      run: async (xs, m, out) => {
        const target = all ? out : full!.length >= m * nL ? full!.subarray(0, m * nL) : new (net.precision === "f32" ? Float32Array : Float64Array)(m * nL);
        const input = xs.subarray(0, m * n);
        if (pool !== undefined) await pool.forwardBatch(input, target);
        else net.forwardBatch(input, target);
        if (!all) for (let i = 0; i < m; i++) out[i] = target[i * nL + output!];
        return out;
      },
    };
  }
  // grad
  if (nL > 1 && output === undefined) {
    throw new UsageError(`grad: the network has n_L = ${nL} outputs; pick one with --output K (0 ≤ K < ${nL}), or use mlpgrad jacobian`);
  }
  if (nL === 1) {
    return {
      width: n,
      label: "∇ₓ a^[L](x)",
      key: "gradient",
      run: async (xs, m, out) => {
        const input = xs.subarray(0, m * n);
        if (pool !== undefined) return pool.gradientBatch(input, out);
        return net.gradientBatch(input, out);
      },
    };
  }
  // One output of a vector network: gradientOfBatch where this build has it, else vᵀJ with v = e_K per row.
  const k = output!;
  const ofBatch = (net as unknown as { gradientOfBatch?: (xs: ArrayLike<number>, k: number, out: Vector) => Vector }).gradientOfBatch;
  const poolOfBatch = (pool as unknown as { gradientOfBatch?: (xs: ArrayLike<number>, k: number, out: Vector) => Promise<Vector> } | undefined)?.gradientOfBatch;
  const e = new Float64Array(nL);
  e[k] = 1;
  return {
    width: n,
    label: `∇ₓ a_${k}^[L](x)`,
    key: "gradient",
    run: (xs, m, out) => {
      if (typeof poolOfBatch === "function") return poolOfBatch.call(pool, xs.subarray(0, m * n), k, out);
      if (typeof ofBatch === "function") return ofBatch.call(net, xs.subarray(0, m * n), k, out);
      for (let i = 0; i < m; i++) net.vjp(xs.subarray(i * n, (i + 1) * n), e, out.subarray(i * n, (i + 1) * n));
      return out;
    },
  };
}

/** grad, value, jacobian: --x as a table or JSON, --x-file streamed row for row. */
async function rows(name: CommandName, net: MLP, values: Values, output: number | undefined): Promise<number> {
  const threads = count(name, "threads", values.threads, 1);
  const batchRows = count(name, "batch", values.batch, BATCH_ROWS);
  const format = numberFormatter(net.precision);
  const Out = net.precision === "f32" ? Float32Array : Float64Array;
  const sink = openOutput(values.out);
  let pool: MLPPool | undefined;
  try {
    if (threads > 1) pool = await createMLPPool({ spec: net.toJSON(), threads });
    const job = rowJob(name, pool?.network ?? net, output, pool);
    if (values.x !== undefined) {
      const xs = parseXs(values.x, net)!;
      const out = new Out(xs.length * job.width);
      await job.run(Float64Array.from(xs.flat()), xs.length, out);
      const results = xs.map((_, i) => Array.from(out.subarray(i * job.width, (i + 1) * job.width)));
      await write(sink, values.json === true ? jsonRows(xs, results, job, net) : table(xs, results, job, net, format));
      return 0;
    }
    const path = values["x-file"]!;
    const input = openInput(path);
    const rowFormat: RowFormat = (values.format as RowFormat | undefined) ?? (path === "-" ? "csv" : formatOf(path));
    const outFormat: RowFormat = values.json === true ? "json" : rowFormat;
    const progress = new Progress(input.bytes);
    const out = new Out(batchRows * job.width);
    let done = 0;
    for await (const batch of readRows(input.stream, input.name, {
      width: net.inputSize,
      batchRows,
      format: rowFormat,
      limit: net.precision === "f32" ? F32_MAX : Number.MAX_VALUE,
      onBytes: (bytes) => progress.bytes(bytes),
    })) {
      const target = batch.m * job.width <= out.length ? out.subarray(0, batch.m * job.width) : new Out(batch.m * job.width);
      await job.run(batch.xs, batch.m, target);
      let text = "";
      for (let i = 0; i < batch.m; i++) {
        let line = "";
        for (let j = 0; j < job.width; j++) line += (j === 0 ? "" : ",") + format(target[i * job.width + j]);
        text += outFormat === "json" ? `[${line}]\n` : `${line}\n`;
      }
      await write(sink, text);
      done += batch.m;
      progress.rows(done);
    }
    progress.finish(done);
    return 0;
  } finally {
    await pool?.dispose();
    await closeOutput(sink);
  }
}

function table(xs: number[][], results: number[][], job: RowJob, net: MLP, format: (v: number) => string): string {
  const vector = (v: readonly number[]) => v.map(format).join(", ");
  const body: string[][] = [];
  if (job.key === "jacobian") {
    const n = net.inputSize;
    xs.forEach((x, i) => {
      for (let k = 0; k < net.outputSize; k++) body.push([k === 0 ? vector(x) : "", `∇ₓ a_${k}^[L]`, vector(results[i].slice(k * n, (k + 1) * n))]);
    });
    return formatTable(["x", "row", job.label], body);
  }
  xs.forEach((x, i) => body.push([vector(x), vector(results[i])]));
  return formatTable(["x", job.label], body);
}

function jsonRows(xs: number[][], results: number[][], job: RowJob, net: MLP): string {
  return xs
    .map((x, i) => {
      const r = results[i].map((v) => (Number.isFinite(v) ? v : null));
      const value = job.key === "jacobian" ? Array.from({ length: net.outputSize }, (_, k) => r.slice(k * x.length, (k + 1) * x.length)) : r;
      return `${JSON.stringify({ x, [job.key]: value })}\n`;
    })
    .join("");
}

/** Columns left-aligned, padded to their widest cell, under an underlined header. */
function formatTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: readonly string[]) => cells.map((cell, c) => cell.padEnd(widths[c])).join("   ").trimEnd();
  return [line(header), line(widths.map((w) => "─".repeat(w))), ...body.map(line)].join("\n") + "\n";
}

/** check: the Jacobian (or row K) against central differences of an f64 copy of the same weights. */
function check(net: MLP, points: number[][] | undefined, output: number | undefined, json: boolean): number {
  const n = net.inputSize;
  const nL = net.outputSize;
  const random = mulberry32(1);
  const xs = points ?? Array.from({ length: 5 }, () => Array.from({ length: n }, () => 2 * random() - 1));
  const exact = createMLP({ ...net.toJSON(), precision: "f64" });
  const tolerance = net.precision === "f64" ? 1e-6 : 1e-3;
  const rowsOf = output === undefined ? Array.from({ length: nL }, (_, k) => k) : [output];
  const results = xs.map((x) => {
    const J = net.jacobian(x);
    const probe = Float64Array.from(x);
    const fd = new Float64Array(nL * n);
    for (let i = 0; i < n; i++) {
      const h = 1e-6 * Math.max(1, Math.abs(x[i]));
      probe[i] = x[i] + h;
      const up = exact.forward(probe);
      probe[i] = x[i] - h;
      const down = exact.forward(probe);
      probe[i] = x[i];
      for (let k = 0; k < nL; k++) fd[k * n + i] = (up[k] - down[k]) / (2 * h);
    }
    let worst = 0;
    let scale = 1;
    for (const k of rowsOf) {
      for (let i = 0; i < n; i++) {
        worst = Math.max(worst, Math.abs(J[k * n + i] - fd[k * n + i]));
        scale = Math.max(scale, Math.abs(fd[k * n + i]));
      }
    }
    const pick = (m: ArrayLike<number>) => rowsOf.map((k) => Array.from(m).slice(k * n, (k + 1) * n));
    return { x, derivative: pick(J), differences: pick(fd), absolute: worst, error: worst / scale };
  });
  exact.dispose();
  const error = Math.max(...results.map((r) => r.error));
  const ok = error <= tolerance;
  const what = output === undefined ? (nL === 1 ? "∇ₓ a^[L]" : "∂a^[L]/∂x") : `∇ₓ a_${output}^[L]`;
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok, error, tolerance, precision: net.precision, rows: rowsOf, points: results })}\n`);
  } else {
    const format = (v: number) => v.toExponential(2);
    const body = results.map((r) => [r.x.map((v) => +v.toFixed(6)).join(", "), format(r.absolute), format(r.error)]);
    process.stdout.write(
      `${what} (${net.precision}) against central differences of the same weights in f64, h = 1e-6·max(1, |xᵢ|)\n` +
        formatTable(["x", "max |∇ − FD|", "error"], body) +
        `${ok ? "ok" : "FAILED"}: largest error ${format(error)} ${ok ? "≤" : ">"} tolerance ${format(tolerance)} (error = max|∇ − FD| / max(1, max|FD|))\n`,
    );
  }
  if (!ok) process.stderr.write(`mlpgrad: check failed: the error ${error.toExponential(2)} exceeds the tolerance ${tolerance.toExponential(0)}\n`);
  return ok ? 0 : 1;
}

/** info: the network, its parameters and memory, and the build. */
function info(net: MLP, path: string, format: string, simd: boolean, memoryBytes: number, json: boolean): number {
  const sizes = net.sizes;
  let parameters = 0;
  for (let l = 1; l < sizes.length; l++) parameters += sizes[l] * (sizes[l - 1] + 1);
  const bytesPer = net.precision === "f32" ? 4 : 8;
  const threads = hasThreads();
  const facts = {
    model: path,
    format,
    sizes: [...sizes],
    activations: [...net.activations],
    precision: net.precision,
    parameters,
    parameterBytes: parameters * bytesPer,
    memoryBytes,
    build: simd ? "simd" : "scalar",
    threads,
    node: process.versions.node,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(facts)}\n`);
    return 0;
  }
  // toJSON() has the parameters too (leakyRelu's alpha…): one name or object for all layers, or one each.
  const described = (a: unknown): string => {
    if (typeof a === "string") return a;
    const { name, ...parameters } = a as { name: string };
    return `${name}(${Object.entries(parameters).map(([key, value]) => `${key}=${value}`).join(", ")})`;
  };
  const stored = net.toJSON().activations as unknown;
  const list = Array.isArray(stored) ? stored.map(described) : [described(stored)];
  const same = list.every((a) => a === list[0]);
  const outputKind = (net as unknown as { outputActivation?: string }).outputActivation;
  const body = [
    ["model", `${path} (${format})`],
    ["sizes", `${sizes.join("-")} (n_1 = ${sizes[0]} inputs, n_L = ${sizes[sizes.length - 1]} output${sizes[sizes.length - 1] === 1 ? "" : "s"}, L = ${sizes.length})`],
    ["activations", (same ? `${list[0]} (all layers)` : `${list.join("; ")} (layers 2..${sizes.length})`) + (outputKind !== undefined && outputKind !== "none" ? `, then ${outputKind} on the output` : "")],
    ["precision", net.precision],
    ["parameters", `${parameters.toLocaleString("en")} weights and biases = ${(parameters * bytesPer).toLocaleString("en")} bytes`],
    ["memory", `${memoryBytes.toLocaleString("en")} bytes of WebAssembly memory (the engine's, with this network in it)`],
    ["build", `${simd ? "SIMD (WebAssembly SIMD128)" : "scalar (no WebAssembly SIMD here)"}; worker threads ${threads ? "available (--threads N)" : "unavailable"}`],
    ["node", process.versions.node],
  ];
  process.stdout.write(body.map(([k, v]) => `${k.padEnd(12)} ${v}`).join("\n") + "\n");
  return 0;
}

/** bench: µs per gradient (one at a time, batched, plain JS), medians of 7 timed runs of ≥ 20 ms. */
function bench(net: MLP, batch: number, k: number, json: boolean): number {
  const n = net.inputSize;
  const nL = net.outputSize;
  const random = mulberry32(7);
  const Out = net.precision === "f32" ? Float32Array : Float64Array;
  const xs = Float64Array.from({ length: batch * n }, () => 2 * random() - 1);
  const x = xs.subarray(0, n);
  const v = new Float64Array(nL);
  v[k] = 1;
  const out = new Out(n);
  const outs = new Out(batch * n);
  const ofBatch = (net as unknown as { gradientOfBatch?: (xs: ArrayLike<number>, k: number, out: Vector) => Vector }).gradientOfBatch;
  const of = (net as unknown as { gradientOf?: (x: ArrayLike<number>, k: number, out: Vector) => Vector }).gradientOf;
  const single = nL === 1 ? () => net.gradient(x, out) : typeof of === "function" ? () => of.call(net, x, k, out) : () => net.vjp(x, v, out);
  const batched = nL === 1 ? () => net.gradientBatch(xs, outs) : typeof ofBatch === "function" ? () => ofBatch.call(net, xs, k, outs) : undefined;
  const plain = PlainMLP.create(net.toJSON(), (net as unknown as { outputActivation?: string }).outputActivation ?? "none");
  const plainOut = new Float64Array(n);
  const rows: { method: string; microseconds: number | null; perSample: boolean }[] = [];
  rows.push({ method: nL === 1 ? "gradient(x, out)" : typeof of === "function" ? `gradientOf(x, ${k}, out)` : `vjp(x, e_${k}, out)`, microseconds: time(single), perSample: false });
  rows.push({ method: nL === 1 ? `gradientBatch(${batch} rows)` : `gradientOfBatch(${batch} rows)`, microseconds: batched === undefined ? null : time(batched) / batch, perSample: true });
  rows.push({ method: "plain JavaScript (f64 loops)", microseconds: plain === undefined ? null : time(() => plain.vjp(x, v, plainOut)), perSample: false });
  const base = rows[2].microseconds;
  const what = nL === 1 ? "∇ₓ a^[L](x)" : `∇ₓ a_${k}^[L](x)`;
  if (json) {
    process.stdout.write(`${JSON.stringify({ sizes: [...net.sizes], precision: net.precision, batch, output: k, results: rows })}\n`);
    return 0;
  }
  const body = rows.map((r) => [
    r.method,
    r.microseconds === null ? "n/a" : r.microseconds.toPrecision(3),
    r.microseconds === null || base === null ? "" : `${(base / r.microseconds).toFixed(1)}×`,
  ]);
  process.stdout.write(`${what} of the ${net.sizes.join("-")} network, ${net.precision}, on this machine (median of 7 runs of ≥ 20 ms)\n`);
  process.stdout.write(formatTable(["method", "µs per gradient", "speed vs plain JS"], body));
  return 0;
}

/** Median µs per call of fn over 7 runs of at least 20 ms each (after a warm-up that sizes the runs). */
function time(fn: () => unknown): number {
  let calls = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) fn();
    if (performance.now() - start >= 20) break;
    calls *= 2;
  }
  const samples: number[] = [];
  for (let s = 0; s < 7; s++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) fn();
    samples.push(((performance.now() - start) * 1000) / calls);
  }
  samples.sort((a, b) => a - b);
  return samples[3];
}

/** A progress line on stderr (rows, rows/s, ETA from the bytes read), drawn only when stderr is a terminal. */
class Progress {
  private readonly enabled = process.stderr.isTTY === true;
  private readonly start = performance.now();
  private last = 0;
  private read = 0;

  constructor(private readonly total: number | undefined) {}

  bytes(read: number): void {
    this.read = read;
  }

  rows(done: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < 100) return;
    this.last = now;
    const seconds = (now - this.start) / 1000;
    const rate = done / Math.max(seconds, 1e-3);
    let line = `${done.toLocaleString("en")} rows  ${Math.round(rate).toLocaleString("en")} rows/s`;
    if (this.total !== undefined && this.total > 0 && this.read > 0) {
      const fraction = Math.min(1, this.read / this.total);
      const width = 24;
      const filled = Math.round(fraction * width);
      const eta = fraction > 0 ? (seconds * (1 - fraction)) / fraction : 0;
      line = `[${"█".repeat(filled)}${"·".repeat(width - filled)}] ${(100 * fraction).toFixed(0).padStart(3)}%  ${line}  ETA ${eta.toFixed(0)} s`;
    }
    process.stderr.write(`\r${line}\x1b[K`);
  }

  finish(done: number): void {
    if (!this.enabled) return;
    const seconds = (performance.now() - this.start) / 1000;
    process.stderr.write(`\r${done.toLocaleString("en")} rows in ${seconds.toFixed(1)} s\x1b[K\n`);
  }
}

function openOutput(path: string | undefined): Writable {
  if (path === undefined) return process.stdout;
  const stream = createWriteStream(path);
  stream.on("error", () => {}); // reported by write() or closeOutput()
  return stream;
}

function closeOutput(stream: Writable): Promise<void> {
  if (stream === process.stdout) return Promise.resolve();
  return new Promise((resolve, reject) => {
    stream.once("error", (error) => reject(new InputError(`cannot write ${(stream as { path?: string }).path}: ${systemMessage(error)}`)));
    stream.end(() => resolve());
  });
}

/** mulberry32, the seeded generator the examples and tests use: uniform on [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One line on stderr for any failure: usage errors exit 2, everything else 1. */
function report(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`mlpgrad: ${error.message}\n`);
    return 2;
  }
  const message = error instanceof InputError || error instanceof MLPError ? error.message : error instanceof Error ? `${error.message}` : String(error);
  process.stderr.write(`mlpgrad: ${message.split("\n")[0]}\n`);
  return 1;
}

process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  // The reader went away (mlpgrad … | head): stop quietly, as Unix tools do.
  if (error.code === "EPIPE") process.exit(0);
});
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.exitCode = report(error);
  },
);
