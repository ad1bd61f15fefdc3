/** The Node half of src/import/source.ts: file paths and `file:` URLs read with node:fs (node builds only). */
import { readFile, stat } from "node:fs/promises";
import { MLPError } from "../errors.js";
import { MAX_SOURCE_BYTES, type FileAccess } from "./source.js";

/** Reads whole files, refusing those larger than MAX_SOURCE_BYTES before reading. */
export const nodeFiles: FileAccess = {
  async readFile(path) {
    const size = (await stat(path)).size;
    if (size > MAX_SOURCE_BYTES) {
      throw new MLPError("E_SOURCE", `${String(path)} is ${size} bytes, more than the ${MAX_SOURCE_BYTES} an importer reads`, { actual: size });
    }
    return new Uint8Array(await readFile(path));
  },
};
