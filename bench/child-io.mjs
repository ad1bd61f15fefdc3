/**
 * The small protocol between the runner and its child processes: a child may read one JSON job on
 * stdin (large f64 arrays travel as raw files the job names) and prints exactly one JSON line of
 * results on stdout. Libraries that chat on the console
 * (tfjs greets Node users) are sent to stderr so stdout carries nothing but that line.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { format } from "node:util";

/** Routes console output to stderr; call before importing anything talkative. */
export function quietConsole() {
  const toStderr = (...args) => {
    process.stderr.write(format(...args) + "\n");
  };
  console.log = toStderr;
  console.info = toStderr;
  console.warn = toStderr;
  console.debug = toStderr;
}

/** Reads the job JSON from stdin, or resolves null when run by hand from a terminal. */
export async function readJob() {
  if (process.stdin.isTTY) return null;
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString("utf8").trim();
  return text ? JSON.parse(text) : null;
}

/** Prints the one result line and exits once it is flushed (some libraries keep handles open). */
export function finish(result) {
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(0));
}

/** Parses `--name value` and `--flag` options after the positional arguments. */
/** Reports a child that threw: status ERROR and the first lines of the stack, then finish(). */
export function fail(result, error) {
  result.status = "ERROR";
  result.error = String(error?.stack ?? error).split("\n").slice(0, 4).join("\n");
  finish(result);
}

export function parseOptions(args) {
  const positional = [];
  const options = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    if (eq > 0) {
      options[arg.slice(2, eq)] = arg.slice(eq + 1);
    } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
      options[arg.slice(2)] = args[++i];
    } else {
      options[arg.slice(2)] = true;
    }
  }
  return { positional, options };
}

/** Writes a Float64Array to a file as raw bytes, for a child to read with readFloat64File. */
export function writeFloat64File(path, values) {
  writeFileSync(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** Reads a file written by writeFloat64File (copied: a Buffer's offset need not be 8-aligned). */
export function readFloat64File(path) {
  const bytes = readFileSync(path);
  const values = new Float64Array(bytes.length / 8);
  new Uint8Array(values.buffer).set(bytes);
  return values;
}
