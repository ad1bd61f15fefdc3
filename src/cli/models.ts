/**
 * Model files for the CLI, by file type:
 *
 *   *.onnx          ONNX (Gemm/MatMul+Add and activation nodes)      mlpgrad/onnx         fromOnnx(path)
 *   *.safetensors   tensors only: the activations come from --activations  mlpgrad/safetensors  fromSafetensors(path, …)
 *   *.json          TF.js Layers model.json (it has "modelTopology")  mlpgrad/tfjs         fromTfjs(path)
 *                   else mlpgrad's own model format (see src/model.ts)
 *
 * The importers are separate entry points of the package, loaded here by dynamic import only when a file
 * needs one, so the CLI works (and says clearly what is missing) in a build that has none of them.
 */
import { readFileSync, statSync } from "node:fs";
import type { MLPSpec, Precision } from "../model.js";
import { InputError, UsageError, systemMessage } from "./io.js";

/** A loaded model and where it came from. */
export interface LoadedModel {
  spec: MLPSpec;
  /** "mlpgrad JSON", "TF.js model.json", "ONNX" or "safetensors". */
  format: string;
}

/** Options that change how a model file is read. */
export interface ModelOptions {
  /** --activations: one name, or one per layer 2..L separated by commas. */
  activations?: string;
  precision?: Precision;
}

type Importer = (source: string, options?: object) => unknown;

const IMPORTERS = {
  tfjs: { specifier: "mlpgrad/tfjs", name: "fromTfjs", what: "TF.js model.json" },
  onnx: { specifier: "mlpgrad/onnx", name: "fromOnnx", what: "ONNX" },
  safetensors: { specifier: "mlpgrad/safetensors", name: "fromSafetensors", what: "safetensors" },
} as const;

/** Reads a model file of any supported type into the plain object createMLP takes. */
export async function loadModel(path: string, options: ModelOptions): Promise<LoadedModel> {
  const activations = options.activations === undefined ? undefined : parseActivations(options.activations);
  if (/\.safetensors$/i.test(path)) {
    if (activations === undefined) {
      throw new UsageError(`${path}: a safetensors file holds only tensors; name the activations with --activations (e.g. --activations sigmoid, or relu,relu,identity for layers 2..L)`);
    }
    readable(path);
    const spec = await callImporter("safetensors", path, { activations, precision: options.precision });
    return { spec, format: IMPORTERS.safetensors.what };
  }
  if (/\.onnx$/i.test(path)) {
    readable(path);
    return { spec: await callImporter("onnx", path, options.precision === undefined ? undefined : { precision: options.precision }), format: IMPORTERS.onnx.what };
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InputError(`cannot read model file ${path}: ${systemMessage(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path}: not a JSON model file (${(error as Error).message}); models are mlpgrad JSON, TF.js model.json, .onnx or .safetensors`);
  }
  if (json !== null && typeof json === "object" && "modelTopology" in json) {
    return { spec: await callImporter("tfjs", path, options.precision === undefined ? undefined : { precision: options.precision }), format: IMPORTERS.tfjs.what };
  }
  if (activations !== undefined && json !== null && typeof json === "object") (json as { activations?: unknown }).activations = activations;
  return { spec: json as MLPSpec, format: "mlpgrad JSON" };
}

/** "sigmoid" → "sigmoid"; "relu,relu,identity" → ["relu", "relu", "identity"]. */
function parseActivations(text: string): string | string[] {
  const names = text.split(",").map((name) => name.trim());
  return names.length === 1 ? names[0] : names;
}

function readable(path: string): void {
  try {
    if (!statSync(path).isFile()) throw new InputError(`${path}: not a file`);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`cannot read model file ${path}: ${systemMessage(error)}`);
  }
}

async function callImporter(kind: keyof typeof IMPORTERS, path: string, options: object | undefined): Promise<MLPSpec> {
  const { specifier, name, what } = IMPORTERS[kind];
  let module: Record<string, unknown>;
  try {
    // A variable specifier: bundlers leave it alone, and Node resolves it against the installed package.
    const target: string = specifier;
    module = (await import(target)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "ERR_PACKAGE_PATH_NOT_EXPORTED") {
      throw new InputError(`${path}: reading ${what} models needs the importer ${specifier}, which is not available in this build of mlpgrad`);
    }
    throw error;
  }
  const importer = module[name] as Importer | undefined;
  if (typeof importer !== "function") {
    throw new InputError(`${path}: ${specifier} does not export ${name}, so ${what} models cannot be read by this build of mlpgrad`);
  }
  try {
    return (await importer(path, options)) as MLPSpec;
  } catch (error) {
    // The importers report what is wrong inside the file; say which file.
    if (error instanceof Error && "code" in error && !error.message.includes(path)) throw new InputError(`${path}: ${error.message}`);
    throw error;
  }
}
