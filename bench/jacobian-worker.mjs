/**
 * Times one contender's Jacobian ∂a^[L]/∂x (n_L × n_1, row k = ∇ₓ a_k^[L]) on a Jacobian shape (J3, J4:
 * n_L = 10), and in the same process, interleaved with it, the same contender's single gradient on the
 * same-width n_L = 1 shape (S3, S4), so "a Jacobian costs r gradients" is one same-process ratio:
 * `node bench/jacobian-worker.mjs <contender> <J-shape> [--seed N] [--min-time s] [--max-time s]`.
 * The runner sends { jacobian, gradient } (the parent's f64 references); run by hand, the worker
 * computes them. Each Jacobian row is checked on its own before timing.
 * Prints one JSON line: status "ok", "FAILED" (wrong result, not timed) or "ERROR".
 */
import { finish, parseOptions, quietConsole, readJob, fail } from "./child-io.mjs";
import { createContender } from "./contenders/index.mjs";
import { referenceGradient, referenceJacobian, relativeError, worstRowError } from "./reference.mjs";
import { DEFAULT_SEED, flopsPerGradient, makeNetwork, PAIRED_SHAPE } from "./shapes.mjs";
import { sampleInterleaved, warmUp, timingOptions } from "./timing.mjs";
import { TOLERANCE } from "./tolerance.mjs";

quietConsole();
const { positional, options } = parseOptions(process.argv.slice(2));
const [name, shape] = positional;
const seed = options.seed !== undefined ? Number(options.seed) : DEFAULT_SEED;
const timing = timingOptions(options);
const warmupMs = Number(options["warmup-ms"] ?? 300);

const result = { contender: name, shape, status: "ERROR", node: process.version };

try {
  const job = await readJob();
  const paired = PAIRED_SHAPE[shape];
  if (!paired) throw new Error(`"${shape}" is not a Jacobian shape: expected one of ${Object.keys(PAIRED_SHAPE).join(", ")}`);
  const net = makeNetwork(shape, seed);
  const pairNet = makeNetwork(paired, seed);
  const [n1, nL] = [net.sizes[0], net.sizes[net.sizes.length - 1]];
  Object.assign(result, { paired, sizes: net.sizes, pairedSizes: pairNet.sizes, flopsPerGradient: flopsPerGradient(pairNet.sizes) });
  const jacobianRef = job?.jacobian ? Float64Array.from(job.jacobian) : referenceJacobian(net);
  const gradientRef = job?.gradient ? Float64Array.from(job.gradient) : referenceGradient(pairNet);

  const forJacobian = await createContender(name, net, "jacobian");
  const forGradient = await createContender(name, pairNet, "single");
  const impl = forJacobian.impl;
  if (!impl.jacobian) throw new Error(`${name} has no jacobian`);
  Object.assign(result, { importMs: forJacobian.importMs, setupMs: forJacobian.setupMs, precision: impl.precision, info: impl.info });

  const FloatArray = impl.precision === "f64" ? Float64Array : Float32Array;
  const x = FloatArray.from(net.x);
  const jac = new FloatArray(nL * n1).fill(NaN);
  const xPair = FloatArray.from(pairNet.x);
  const grad = new FloatArray(n1).fill(NaN);
  result.tolerance = TOLERANCE[impl.precision];

  let t0 = performance.now();
  result.returnsOut = impl.jacobian(x, jac) === jac;
  result.firstCallMs = performance.now() - t0;
  t0 = performance.now();
  forGradient.impl.gradient(xPair, grad);
  const gradientFirstMs = performance.now() - t0;
  const { worst, row } = worstRowError(jac, jacobianRef, n1);
  result.relErr = worst;
  result.gradientRelErr = relativeError(grad, gradientRef);
  if (!(worst <= result.tolerance) || !(result.gradientRelErr <= result.tolerance)) {
    result.status = "FAILED";
    result.sample = { row, got: Array.from(jac.slice(row * n1, row * n1 + 4)), want: Array.from(jacobianRef.slice(row * n1, row * n1 + 4)) };
    finish(result);
  } else {
    const calls = [() => impl.jacobian(x, jac), () => forGradient.impl.gradient(xPair, grad)];
    result.warmupCalls = [
      await warmUp(calls[0], { ms: warmupMs, minCalls: 10, alreadyMs: result.firstCallMs }),
      await warmUp(calls[1], { ms: warmupMs, minCalls: 10, alreadyMs: gradientFirstMs }),
    ];
    // The last timed call's Jacobian is checked below: it must be written afresh.
    jac.fill(NaN);
    const [jacobianStats, gradientStats] = await sampleInterleaved(calls, timing);
    result.bench = jacobianStats;
    result.gradientBench = gradientStats;
    result.ratio = jacobianStats.medianSampleUs / gradientStats.medianSampleUs;
    result.recheckRelErr = worstRowError(jac, jacobianRef, n1).worst;
    result.status = result.recheckRelErr <= result.tolerance ? "ok" : "FAILED";
    finish(result);
  }
} catch (error) {
  fail(result, error);
}
