/**
 * jax-js: `jit(grad(f))` on the wasm device in float32, the fastest JS autodiff peer we know of.
 * Layout: W^[l] stays row-major [out][in] and the forward pass is np.dot(W, a); that was 2–4× faster
 * here than a·Wᵀ with Wᵀ stored [in, out]. The weights are closed over (jit bakes them in as
 * constants), which beat passing them as arguments on every call. jax-js arrays are reference
 * counted: passing an array consumes it, so the closure hands out `.ref`s, and dataSync() disposes
 * the result. In Node 20 jax-js needs a global Float16Array (never used here: f16 is not touched),
 * and init() must be told which device to start: with no argument it throws in Node.
 * Batches: X as [m, n_1] times Wᵀ stored [in, out] (as fast as W·Xᵀ here, and jax's own batch
 * layout), differentiating the sum of the m outputs; vmap(grad) was several times slower. Both
 * `grad` and `jit(grad)` are offered (batchVariants) and the worker keeps the faster: jit's fixed
 * cost per call matters less at 256 inputs, and eager grad sometimes wins there.
 * Jacobian: jacrev fails in 0.1.25 ("Incompatible array broadcast shapes: 10 vs 100,100") and
 * jacfwd needs n_1 forward passes, so it uses the batch trick (as the tfjs contender does): x tiled
 * n_L times and jit(grad) of Σ_k a_k^[L](x copy k), the outputs masked by the identity.
 */
import "./float16-stand-in.mjs";
import * as jax from "@jax-js/jax";

/** Builds the jax-js contender for a network from shapes.mjs. */
export async function create(net, options = {}) {
  const { numpy: np, nn, grad, jit } = jax;
  const devices = await jax.init("wasm");
  if (!devices.includes("wasm")) throw new Error(`jax-js wasm device did not start (got ${devices.join(", ")})`);
  jax.defaultDevice("wasm");

  const { sizes } = net;
  const weights = net.layers.map((layer, k) =>
    np.array(Float32Array.from(layer.weights)).reshape([sizes[k + 1], sizes[k]]),
  );
  const biases = net.layers.map((layer) => np.array(Float32Array.from(layer.bias)));

  const outputs = (x) => {
    let a = x;
    for (let k = 0; k < weights.length; k++) a = nn.sigmoid(np.dot(weights[k].ref, a).add(biases[k].ref));
    return a;
  };
  const gradOfOutput = jit(grad((x) => outputs(x).sum()));

  function gradient(x, out) {
    out.set(gradOfOutput(np.array(x)).dataSync());
    return out;
  }

  const n0 = sizes[0];
  const nL = sizes[sizes.length - 1];
  let batchVariants;
  let jacobian;
  if (options.mode === "batch" || options.mode === "jacobian") {
    // Wᵀ [in, out] for the batch layout, made only when batches or Jacobians are timed.
    const weightsT = net.layers.map((layer, k) => {
      const rows = sizes[k + 1];
      const cols = sizes[k];
      const wt = new Float32Array(rows * cols);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) wt[j * rows + i] = layer.weights[i * cols + j];
      return np.array(wt).reshape([cols, rows]);
    });
    // Rows of A are inputs: A^[l] = σ(A^[l-1] (W^[l])ᵀ + b^[l]).
    const batchOutputs = (xs) => {
      let a = xs;
      for (let k = 0; k < weightsT.length; k++) a = nn.sigmoid(np.dot(a, weightsT[k].ref).add(biases[k].ref));
      return a;
    };
    const batchSum = (xs) => batchOutputs(xs).sum();
    const variant = (g) => (xs, out) => {
      out.set(g(np.array(xs).reshape([xs.length / n0, n0])).dataSync());
      return out;
    };
    batchVariants = { grad: variant(grad(batchSum)), "jit(grad)": variant(jit(grad(batchSum))) };

    const identity = np.eye(nL);
    const jacobianOf = jit(grad((tiled) => batchOutputs(tiled).mul(identity.ref).sum()));
    const tiled = new Float32Array(nL * n0);
    jacobian = (x, out) => {
      for (let k = 0; k < nL; k++) tiled.set(x, k * n0);
      out.set(jacobianOf(np.array(tiled).reshape([nL, n0])).dataSync());
      return out;
    };
  }

  return { precision: "f32", gradient, batchVariants, jacobian, info: { device: "wasm", jit: true } };
}
