/**
 * Rows in and rows out for the CLI, streamed: inputs are read chunk by chunk and parsed straight into a
 * reused batch buffer, so memory stays bounded however long the file is.
 *
 *   CSV         one input per line, numbers separated by commas:            0.3,0.7
 *   JSON        one JSON array per line (JSON Lines), or a whole JSON array  [0.3, 0.7]
 *               of arrays written one row per line (the "[" and "]" lines and the commas between rows
 *               are skipped), or all of it on one line
 *
 * Blank lines, and in CSV lines starting with #, are skipped. Line numbers count every line from 1, as an
 * editor does, so an error names the line to look at. A batch is row-major m × n_1 in a Float64Array.
 */
import { createReadStream, statSync } from "node:fs";
import type { Readable, Writable } from "node:stream";

/** Bad input data (exit code 1). */
export class InputError extends Error {}

/** Bad arguments (exit code 2). */
export class UsageError extends Error {}

/** The file formats rows are read and written in. */
export type RowFormat = "csv" | "json";

/** The format of a path by its extension (csv unless .json, .jsonl or .ndjson); stdin ("-") is csv unless told. */
export function formatOf(path: string): RowFormat {
  return /\.(json|jsonl|ndjson)$/i.test(path) ? "json" : "csv";
}

/** A batch of rows: xs holds m rows of width numbers (only the first m·width are valid). */
export interface Batch {
  xs: Float64Array;
  m: number;
  /** The line number of each row, for error messages. */
  lines: Int32Array;
}

/** Options of readRows. */
export interface ReadOptions {
  /** n_1: numbers per row. */
  width: number;
  batchRows: number;
  format: RowFormat;
  /** Largest |x| accepted (the f32 range for f32 networks). */
  limit: number;
  /** Called with the bytes read so far, after each chunk. */
  onBytes?: (bytes: number) => void;
}

/** A source of rows: a file path, or "-" for stdin. */
export function openInput(path: string): { stream: Readable; name: string; bytes: number | undefined } {
  if (path === "-") return { stream: process.stdin, name: "stdin", bytes: undefined };
  let bytes: number;
  try {
    const info = statSync(path);
    if (!info.isFile()) throw new InputError(`${path}: not a file`);
    bytes = info.size;
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`cannot read input file ${path}: ${systemMessage(error)}`);
  }
  return { stream: createReadStream(path), name: path, bytes };
}

/**
 * Batches of up to batchRows rows from a stream. The same Batch object (and buffer) is yielded each
 * time: the consumer must be done with it before asking for the next.
 */
export async function* readRows(stream: Readable, name: string, options: ReadOptions): AsyncGenerator<Batch> {
  const { width, batchRows, format, limit } = options;
  const batch: Batch = { xs: new Float64Array(batchRows * width), m: 0, lines: new Int32Array(batchRows) };
  let tail = "";
  let lineNumber = 0;
  let bytes = 0;
  stream.setEncoding("utf8");
  const parseLine = (line: string): void => {
    lineNumber++;
    const text = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (format === "csv") parseCsv(text, lineNumber);
    else parseJson(text, lineNumber);
  };
  const place = (values: ArrayLike<unknown>, at: number, describeField: (i: number) => string): void => {
    if (values.length !== width) {
      throw new InputError(`${name} line ${at}: expected ${width} numbers (n_1, the network's input size), got ${values.length}`);
    }
    if (batch.m === batch.lines.length) {
      // Only a one-line array of many rows gets here (a line is parsed whole): grow, it is in memory anyway.
      const xs = new Float64Array(batch.xs.length * 2);
      xs.set(batch.xs);
      const lines = new Int32Array(batch.lines.length * 2);
      lines.set(batch.lines);
      batch.xs = xs;
      batch.lines = lines;
    }
    const offset = batch.m * width;
    for (let i = 0; i < width; i++) {
      const value = values[i];
      const v = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
      if (!(Math.abs(v) <= limit)) {
        const why = Number.isFinite(v) ? ` outside the f32 range (use --precision f64)` : "";
        // A first line of names is a header, which CSV input must not have.
        const header = at === 1 && format === "csv" && typeof value === "string" && /^\s*[A-Za-z_"]/.test(value) && !/^\s*-?(nan|inf)/i.test(value) ? " (CSV input has no header line: remove it)" : "";
        throw new InputError(`${name} line ${at}: ${describeField(i)} is ${JSON.stringify(value)}${why}; expected a finite number${header}`);
      }
      batch.xs[offset + i] = v;
    }
    batch.lines[batch.m] = at;
    batch.m++;
  };
  const parseCsv = (text: string, at: number): void => {
    const trimmed = text.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    place(trimmed.split(","), at, (i) => `field ${i + 1}`);
  };
  const parseJson = (text: string, at: number): void => {
    let trimmed = text.trim();
    if (trimmed.endsWith(",")) trimmed = trimmed.slice(0, -1).trimEnd();
    if (trimmed === "" || trimmed === "[" || trimmed === "]") return;
    // The first and last rows of a whole array written one row per line: "[[0.1, 0.2]," … "[0.5, 0.6]]".
    if (trimmed.startsWith("[[") && !trimmed.endsWith("]]")) trimmed = trimmed.slice(1);
    else if (trimmed.endsWith("]]") && !trimmed.startsWith("[[")) trimmed = trimmed.slice(0, -1);
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      throw new InputError(`${name} line ${at}: not a JSON array of numbers: ${clip(trimmed)}`);
    }
    if (!Array.isArray(value)) throw new InputError(`${name} line ${at}: expected a JSON array of ${width} numbers, got ${clip(trimmed)}`);
    if (value.length > 0 && value.every(Array.isArray)) {
      // A whole array of rows on one line.
      for (const row of value) place(row, at, (i) => `element ${i}`);
      return;
    }
    if (!value.every((v) => typeof v === "number")) {
      const i = value.findIndex((v) => typeof v !== "number");
      throw new InputError(`${name} line ${at}: element ${i} is ${clip(JSON.stringify(value[i]))}; expected a finite number`);
    }
    place(value, at, (i) => `element ${i}`);
  };

  for await (const chunk of stream as AsyncIterable<string>) {
    bytes += Buffer.byteLength(chunk);
    let start = 0;
    const text = tail + chunk;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      parseLine(text.slice(start, end));
      start = end + 1;
      if (batch.m >= batchRows) {
        yield batch;
        batch.m = 0;
      }
    }
    tail = text.slice(start);
    options.onBytes?.(bytes);
  }
  if (tail !== "") parseLine(tail);
  if (batch.m > 0) yield batch;
}

/** Formats numbers: f64 shortest round-trip, f32 the shortest decimal that rounds back to the same f32. */
export function numberFormatter(precision: "f32" | "f64"): (value: number) => string {
  if (precision === "f64") return (value) => (Number.isFinite(value) ? String(value) : "null");
  return (value) => {
    if (!Number.isFinite(value)) return "null";
    for (let digits = 1; digits < 9; digits++) {
      const text = value.toPrecision(digits);
      if (Math.fround(Number(text)) === value) return String(Number(text));
    }
    return String(Number(value.toPrecision(9)));
  };
}

/** Writes text, waiting for 'drain' when the stream's buffer is full (bounded memory for slow readers). */
export function write(stream: Writable, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined;
  return new Promise((resolve, reject) => {
    const done = (): void => {
      stream.off("error", fail);
      resolve();
    };
    const fail = (error: Error): void => {
      stream.off("drain", done);
      reject(error);
    };
    stream.once("drain", done);
    stream.once("error", fail);
  });
}

/** The text of a system error without its stack: "ENOENT: no such file or directory". */
export function systemMessage(error: unknown): string {
  const e = error as { code?: string; message?: string };
  if (typeof e?.code === "string" && typeof e.message === "string") {
    const text = e.message.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*'$/, "");
    return `${e.code}: ${text}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
