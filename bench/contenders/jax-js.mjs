/**
 * jax-js: `jit(grad(f))` on the wasm device in float32, the fastest JS autodiff peer we know of.
 * Layout: W^[l] stays row-major [out][in] and the forward pass is np.dot(W, a); that was 2–4× faster
 * here than a·Wᵀ with Wᵀ stored [in, out]. The weights are closed over (jit bakes them in as
 * constants), which beat passing them as arguments on every call. jax-js arrays are reference
 * counted: passing an array consumes it, so the closure hands out `.ref`s, and dataSync() disposes
 * the result. In Node 20 jax-js needs a global Float16Array (never used here: f16 is not touched),
 * and init() must be told which device to start: with no argument it throws in Node.
 */
import "./float16-stand-in.mjs";
import * as jax from "@jax-js/jax";

/** Builds the jax-js contender for a network from shapes.mjs. */
export async function create(net) {
  const { numpy: np, nn, grad, jit } = jax;
  const devices = await jax.init("wasm");
  if (!devices.includes("wasm")) throw new Error(`jax-js wasm device did not start (got ${devices.join(", ")})`);
  jax.defaultDevice("wasm");

  const { sizes } = net;
  const weights = net.layers.map((layer, k) =>
    np.array(Float32Array.from(layer.weights)).reshape([sizes[k + 1], sizes[k]]),
  );
  const biases = net.layers.map((layer) => np.array(Float32Array.from(layer.bias)));

  const output = (x) => {
    let a = x;
    for (let k = 0; k < weights.length; k++) a = nn.sigmoid(np.dot(weights[k].ref, a).add(biases[k].ref));
    return a.sum();
  };
  const gradOfOutput = jit(grad(output));

  function gradient(x, out) {
    out.set(gradOfOutput(np.array(x)).dataSync());
    return out;
  }

  return { precision: "f32", gradient, info: { device: "wasm", jit: true } };
}
