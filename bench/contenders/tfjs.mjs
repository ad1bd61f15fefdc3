/**
 * tfjs-cpu / tfjs-wasm: TensorFlow.js `tf.grad` of a^[L] with respect to x, as a careful user would
 * write it. Weights are stored as Wᵀ [n_in, n_out] (Dense's own layout) and applied as matMul(a, Wᵀ):
 * on this machine that beat matMul(a, W, false, true) by up to 4× on the wasm backend at batch 1.
 * Production mode is on (fewer debug checks), and every call runs inside tf.tidy so no tensor leaks.
 * Node needs the full @tensorflow/tfjs package: tfjs-core alone lacks the gradient registrations.
 * Both backends import the wasm package: registering it costs little and starts nothing.
 * Batches: the m inputs as one [m, n_1] tensor (the layout Dense uses; on this machine W·Xᵀ on
 * [n, m] was 1.5–2.5× slower on wasm and no faster on cpu) and tf.grad of the sum of all m outputs,
 * whose gradient row i is ∇ₓ a^[L](x_i) since output i depends on x_i alone.
 * Jacobian: tfjs 4.22 has no tf.jacobian, so the fastest user route is the same batch trick: x
 * tiled n_L times, and tf.grad of Σ_k a_k^[L](x copy k) (the outputs masked by the identity) gives
 * row k = ∇ₓ a_k^[L] in one backward pass, instead of n_L separate tf.grad calls.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";

/** Builds a tf.grad contender on options.backend ("cpu" or "wasm"). */
export async function create(net, options) {
  const backend = options.backend;
  tf.enableProdMode();
  const ok = await tf.setBackend(backend);
  await tf.ready();
  // A failed wasm start leaves tfjs quietly on another backend: refuse to time the wrong thing.
  if (!ok || tf.getBackend() !== backend) {
    throw new Error(`tfjs backend "${backend}" did not start (active backend: ${tf.getBackend()})`);
  }

  const { sizes } = net;
  const n0 = sizes[0];
  const weightsT = net.layers.map((layer, k) => {
    const rows = sizes[k + 1];
    const cols = sizes[k];
    const wt = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) wt[j * rows + i] = layer.weights[i * cols + j];
    }
    return tf.tensor2d(wt, [cols, rows]);
  });
  const biases = net.layers.map((layer) => tf.tensor1d(Float32Array.from(layer.bias)));

  const nL = sizes[sizes.length - 1];
  // Rows of A are inputs: A^[l] = σ(A^[l-1] (W^[l])ᵀ + b^[l]).
  const outputs = (x) => {
    let a = x;
    for (let k = 0; k < weightsT.length; k++) a = tf.sigmoid(tf.add(tf.matMul(a, weightsT[k]), biases[k]));
    return a;
  };
  const gradOfOutput = tf.grad((x) => tf.sum(outputs(x)));

  function gradient(x, out) {
    tf.tidy(() => {
      out.set(gradOfOutput(tf.tensor2d(x, [1, n0])).dataSync());
    });
    return out;
  }

  function gradientBatch(xs, out) {
    tf.tidy(() => {
      out.set(gradOfOutput(tf.tensor2d(xs, [xs.length / n0, n0])).dataSync());
    });
    return out;
  }

  const identity = nL > 1 ? tf.eye(nL) : null;
  const gradOfDiagonal = nL > 1 ? tf.grad((tiled) => tf.sum(tf.mul(outputs(tiled), identity))) : null;

  function jacobian(x, out) {
    tf.tidy(() => {
      out.set(gradOfDiagonal(tf.tile(tf.tensor2d(x, [1, n0]), [nL, 1])).dataSync());
    });
    return out;
  }

  const info = {
    backend: tf.getBackend(),
    tfjs: tf.version.tfjs,
    wasmSimd: backend === "wasm" ? tf.env().getBool("WASM_HAS_SIMD_SUPPORT") : undefined,
    wasmThreads: backend === "wasm" ? tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT") : undefined,
  };
  return { precision: "f32", gradient, gradientBatch, jacobian, info, liveTensors: () => tf.memory().numTensors };
}
