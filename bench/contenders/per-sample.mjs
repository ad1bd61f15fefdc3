/**
 * A batch from a single-input gradient, as a JS user would write it: one gradient(x_i, out_i) call per
 * row of the row-major m × n_1 input. The row views (subarrays) are made once per pair of buffers
 * and reused, so the loop allocates nothing while the same xs and out come back.
 */

/** Wraps gradient(x, out) into gradientBatch(xs, out) over rows of n1 numbers. */
export function perSample(gradient, n1) {
  let lastXs = null;
  let lastOut = null;
  let rows = [];
  return function gradientBatch(xs, out) {
    if (xs !== lastXs || out !== lastOut) {
      const m = xs.length / n1;
      rows = Array.from({ length: m }, (_, i) => [xs.subarray(i * n1, (i + 1) * n1), out.subarray(i * n1, (i + 1) * n1)]);
      lastXs = xs;
      lastOut = out;
    }
    for (let i = 0; i < rows.length; i++) gradient(rows[i][0], rows[i][1]);
    return out;
  };
}
