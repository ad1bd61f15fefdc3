/**
 * The processor file for BullMQ's sandboxed workers: `new Worker(queueName, processorFile, options)` runs
 * this module in child processes (or worker threads), each with its own engine and model cache.
 */
import { createProcessor } from "./processor.js";

export default createProcessor();
