// The Worker as an application writes it for wrangler: `import … from "mlpgrad"`, which the bundler
// resolves through the package's "workerd" export condition. scripts/edge-tests.mjs serves it from a
// wrangler.json, which workerd bundles with esbuild as wrangler does (the .wasm import becoming a
// compiled WebAssembly.Module), so this checks the exports map and the bundle as a user gets them.
import { init, createMLP } from "mlpgrad";
import models from "./models.json";

export default {
  async fetch() {
    try {
      const engine = await init();
      const x = [0.3, -0.7, 1.1];
      return Response.json({ simd: engine.simd, x, gradient: [...createMLP(models.scalar).gradient(x)] });
    } catch (error) {
      return Response.json({ error: `${error.code ?? error.name}: ${error.message}` }, { status: 500 });
    }
  },
};
