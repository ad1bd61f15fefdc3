/**
 * Where an importer's bytes come from: bytes in memory, a URL (fetched), or — through a FileAccess that only
 * the `node` builds of the entries pass in — a file path or a `file:` URL. This module imports nothing from
 * Node, so the default (browser/workerd) builds hold no `node:` specifier; src/import/node-files.ts is the
 * Node half.
 */
import { MLPError, describe } from "../errors.js";

/** Bytes, a URL, or (Node, Deno, Bun) a file path. */
export type ModelSource = Uint8Array | ArrayBuffer | ArrayBufferView | URL | string;

/** How the node builds read local files; absent in the default build. */
export interface FileAccess {
  readFile(pathOrFileUrl: string | URL): Promise<Uint8Array>;
}

/** Files larger than this are refused before they are read (2 GiB, beyond what a wasm32 network can hold). */
export const MAX_SOURCE_BYTES = 2 ** 31;

/** Bytes given directly, viewed without copying; undefined when `source` is not bytes. */
export function asBytes(source: unknown): Uint8Array | undefined {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  // ArrayBuffers from another realm (a worker, a vm context) fail instanceof.
  if (Object.prototype.toString.call(source) === "[object ArrayBuffer]") return new Uint8Array(source as ArrayBuffer);
  return undefined;
}

/** Whether `value` is a URL object (also from another realm). */
export function isUrl(value: unknown): value is URL {
  return value instanceof URL || Object.prototype.toString.call(value) === "[object URL]";
}

/**
 * Reads a source to bytes. Strings are file paths where `files` is given (Node) and URLs (relative to the
 * page in a browser) otherwise; `what` names the source in errors.
 */
export async function readSource(source: unknown, what: string, files: FileAccess | undefined): Promise<Uint8Array> {
  const bytes = asBytes(source);
  if (bytes !== undefined) return bytes;
  if (isUrl(source) || typeof source === "string") {
    const isFile = isUrl(source) ? source.protocol === "file:" : files !== undefined && !/^https?:\/\//i.test(source);
    if (isFile) {
      if (files === undefined) {
        throw new MLPError("E_SOURCE", `${what}: ${String(source)} is a file URL; this build has no file access — pass the file's bytes (Uint8Array) or an http(s) URL`);
      }
      try {
        return await files.readFile(source);
      } catch (cause) {
        if (cause instanceof MLPError) throw cause;
        throw new MLPError("E_SOURCE", `${what}: could not read ${String(source)} (${(cause as Error)?.message ?? String(cause)})`, { cause });
      }
    }
    return fetchBytes(source, what);
  }
  throw new MLPError("E_SOURCE", `${what}: expected bytes (Uint8Array/ArrayBuffer), a file path or a URL, got ${describe(source)}`);
}

async function fetchBytes(url: string | URL, what: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (cause) {
    throw new MLPError("E_SOURCE", `${what}: could not fetch ${String(url)} (${(cause as Error)?.message ?? String(cause)})`, { cause });
  }
  if (!response.ok) throw new MLPError("E_SOURCE", `${what}: fetching ${String(url)} answered HTTP ${response.status}`, { actual: response.status });
  const length = Number(response.headers.get("content-length") ?? NaN);
  if (length > MAX_SOURCE_BYTES) {
    throw new MLPError("E_SOURCE", `${what}: ${String(url)} is ${length} bytes, more than the ${MAX_SOURCE_BYTES} an importer reads`, { actual: length });
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * The location of `relative` (a shard path from a manifest) next to `base` (the model.json path or URL).
 * Absolute paths, URLs with a scheme and `..` segments are refused: an untrusted manifest must not reach
 * files outside its own folder.
 */
export function resolveBeside(base: string | URL, relative: string, what: string): string | URL {
  if (
    typeof relative !== "string" || relative === "" || /^[a-z][a-z0-9+.-]*:/i.test(relative) || /^[\\/]/.test(relative) ||
    relative.split(/[\\/]/).some((part) => part === "..") || relative.includes("?") || relative.includes("#")
  ) {
    throw new MLPError("E_FORMAT", `${what}: shard path ${JSON.stringify(relative)} must be a plain relative path beside model.json (no scheme, no leading /, no ..)`, { actual: relative });
  }
  if (isUrl(base)) return new URL(relative.split(/[\\/]/).map(encodeURIComponent).join("/"), base);
  const cut = Math.max(base.lastIndexOf("/"), base.lastIndexOf("\\"));
  return base.slice(0, cut + 1) + relative;
}

/** UTF-8 text of bytes; a decoding failure is the file's fault. */
export function utf8(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new MLPError("E_FORMAT", `${what}: not valid UTF-8 text`, { cause });
  }
}

/** JSON.parse that turns a syntax error into E_FORMAT. (JSON.parse makes "__proto__" an own key, never a prototype.) */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new MLPError("E_FORMAT", `${what}: not valid JSON (${(cause as Error).message})`, { cause });
  }
}

/** Own property `key` of a JSON object, never an inherited one ("constructor", "__proto__"…). */
export function own(object: unknown, key: string): unknown {
  return object !== null && typeof object === "object" && Object.prototype.hasOwnProperty.call(object, key)
    ? (object as Record<string, unknown>)[key]
    : undefined;
}

/** Whether `value` is a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Runs `body`, turning any error that is not an MLPError (a RangeError from a reader…) into E_FORMAT. */
export async function asFormatErrors<T>(what: string, body: () => Promise<T> | T): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof MLPError) throw error;
    throw new MLPError("E_FORMAT", `${what}: malformed file (${(error as Error)?.message ?? String(error)})`, { cause: error });
  }
}
