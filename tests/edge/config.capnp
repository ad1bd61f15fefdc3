# workerd config for the edge tests (scripts/edge-tests.mjs): one Worker, served on 127.0.0.1 at a port
# the OS picks (the runner reads it from workerd's --control-fd). Paths are relative to this file; run
# `npm run build` first. The module names are what the Worker imports, as wrangler would resolve them:
# "mlpgrad" is the package's "workerd" export, which imports "./mlpgrad.simd.wasm" as a compiled module.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .edgeTest) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const edgeTest :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "models.json", json = embed "models.json"),
    (name = "mlpgrad", esModule = embed "../../dist/mlpgrad.workerd.js"),
    (name = "mlpgrad.simd.wasm", wasm = embed "../../dist/mlpgrad.simd.wasm"),
    (name = "mlpgrad-embedded", esModule = embed "../../dist/mlpgrad.js"),
    # workerd validates relaxed SIMD, so the main bundle's init() imports its relaxed build from beside it.
    (name = "mlpgrad.relaxed.js", esModule = embed "../../dist/mlpgrad.relaxed.js"),
  ],
  compatibilityDate = "2026-11-17",
);
