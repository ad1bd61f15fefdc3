/** The node build of mlpgrad/tfjs: as src/import/tfjs.ts, and model.json paths / file: URLs (with their shards) read with node:fs. */
import { importTfjs, type TfjsSource } from "./tfjs.js";
import { nodeFiles } from "./node-files.js";
import type { ImportedModel, ImportOptions } from "./chain.js";

export type { TfjsSource } from "./tfjs.js";
export type { ImportedModel, ImportedActivation, ImportedLayer, ImportOptions } from "./chain.js";

/** Reads a TF.js layers model (model.json path or URL, { modelJSON, weights }, or ModelArtifacts) into the model object createMLP takes. */
export function fromTfjs(source: TfjsSource, options: ImportOptions = {}): Promise<ImportedModel> {
  return importTfjs(source, options, nodeFiles);
}
