/** The node build of mlpgrad/onnx: as src/import/onnx.ts, and file paths / file: URLs read with node:fs. */
import { importOnnx } from "./onnx.js";
import { nodeFiles } from "./node-files.js";
import type { ImportedModel, ImportOptions } from "./chain.js";
import type { ModelSource } from "./source.js";

export type { ImportedModel, ImportedActivation, ImportedLayer, ImportOptions } from "./chain.js";
export type { ModelSource } from "./source.js";

/** Reads an ONNX model (bytes, path, file: or http(s) URL) into the model object createMLP takes. */
export function fromOnnx(source: ModelSource, options: ImportOptions = {}): Promise<ImportedModel> {
  return importOnnx(source, options, nodeFiles);
}
