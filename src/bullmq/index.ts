/**
 * mlpgrad/bullmq (Node only): input gradients of many rows on BullMQ workers sharing one Redis, on one
 * machine or many. Workers run createProcessor() (or the sandboxed `processorFile`); clients call
 * runRows(queue, { model, xs }). The job format is in protocol.ts; docs/many-machines.md is the recipe.
 */
import { fileURLToPath } from "node:url";

export { createProcessor, processRows, ModelCache, type ProcessorOptions, type RowsJob, type RowsProcessor } from "./processor.js";
export { runRows, RunError, type RunOptions, type RunResult, type RunProgress, type JobFailure } from "./client.js";
export {
  JOB_FORMAT,
  ROW_METHODS,
  contentHash,
  decodeValues,
  encodeValues,
  jobId,
  parseFailure,
  type ModelRef,
  type RowMethod,
  type RowsJobData,
  type RowsJobResult,
} from "./protocol.js";

/** Path of the sandboxed processor module, for `new Worker(queueName, processorFile, …)`. */
export const processorFile: string = fileURLToPath(new URL("./sandboxed.js", import.meta.url));
