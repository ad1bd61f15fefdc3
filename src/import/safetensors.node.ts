/** The node build of mlpgrad/safetensors: as src/import/safetensors.ts, and file paths / file: URLs read with node:fs. */
import { importSafetensors, type SafetensorsOptions } from "./safetensors.js";
import { nodeFiles } from "./node-files.js";
import type { ImportedModel } from "./chain.js";
import type { ModelSource } from "./source.js";

export type { SafetensorsOptions } from "./safetensors.js";
export type { ImportedModel, ImportedActivation, ImportedLayer, ImportOptions } from "./chain.js";
export type { ModelSource } from "./source.js";

/** Reads a safetensors file (bytes, path, file: or http(s) URL) into the model object createMLP takes. */
export function fromSafetensors(source: ModelSource, options: SafetensorsOptions): Promise<ImportedModel> {
  return importSafetensors(source, options, nodeFiles);
}
