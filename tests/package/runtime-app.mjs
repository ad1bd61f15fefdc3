// `import … from "mlpgrad"` in a server runtime (Node, Deno, Bun): runs checks.js with a pool of two
// threads and prints the results as one line of JSON (scripts/package-tests.mjs reads the last line).
import * as mlpgrad from "mlpgrad";
import { runChecks } from "./checks.js";

const results = await runChecks(mlpgrad, { threads: 2 });
console.log(JSON.stringify(results));
