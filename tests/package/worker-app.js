// A Cloudflare Worker as a user writes it, bundled as wrangler resolves packages (conditions workerd,
// worker, browser; no nodejs_compat) by scripts/package-tests.mjs and served by workerd. Workers start
// no threads: the pool must run on one thread and say why.
import * as mlpgrad from "mlpgrad";
import { runChecks } from "./checks.js";

export default {
  async fetch() {
    return Response.json(await runChecks(mlpgrad, { threads: 1 }));
  },
};
