// Builds dist/cli.js, the `mlpgrad` command (src/cli.ts and src/cli/), as one ESM file for Node with a
// `#!/usr/bin/env node` line. The library itself is not bundled in: src/cli.ts's import of "./index.js"
// becomes the package's own name, "mlpgrad", which Node resolves through the package's exports (a
// package may import itself by name), so the command runs the very entry users import, and the package
// carries one copy of the kernels rather than two. The importers (mlpgrad/tfjs, …) are loaded the same way.
import { build } from "esbuild";
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = new URL("../", import.meta.url);
const cli = fileURLToPath(new URL("src/cli.ts", root));
const outfile = fileURLToPath(new URL("dist/cli.js", root));

await build({
  entryPoints: [cli],
  outfile,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node18",
  sourcemap: true,
  banner: { js: "#!/usr/bin/env node" },
  logLevel: "warning",
  plugins: [
    {
      name: "library-by-package-name",
      setup(esbuild) {
        esbuild.onResolve({ filter: /^\.\/index\.js$/ }, (args) => (args.importer === cli ? { path: "mlpgrad", external: true } : undefined));
      },
    },
  ],
});
const text = readFileSync(outfile, "utf8");
// Only type imports may reach the library's other modules; a value import would bundle a second copy.
if (/SIMD_WASM|class MLP\b/.test(text)) throw new Error(`${outfile}: the library was bundled into the CLI`);
console.log(`dist/cli.js ${statSync(outfile).size} bytes`);
