/** The E_SHAPE hint for hand-written models whose nested weights have the shape of Wᵀ (a Keras kernel pasted as it is). */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createMLP, init } from "../src/index.js";
import { throwsCode } from "./helpers.js";

await init();

test("nested [n_in][n_out] weights: E_SHAPE says it looks transposed and how to fix it (createMLP and setLayer)", () => {
  // Layer 2 of sizes [3, 5]: W is 5×3; a Keras kernel is 3 rows of 5.
  const kernel = Array.from({ length: 3 }, (_, i) => Array.from({ length: 5 }, (_, j) => i + j / 10));
  throwsCode(
    () => createMLP({ sizes: [3, 5], activations: "tanh", layers: [{ weights: kernel, bias: [0, 0, 0, 0, 0] }] }),
    "E_SHAPE",
    /layer 2 weights: expected 5 rows of 3 numbers/,
    /looks transposed: Keras\/TF.js kernels are \[n_in\]\[n_out\] — use fromTfjs or transpose/,
  );
  const W = kernel[0].map((_, o) => kernel.map((row) => row[o]));
  const net = createMLP({ sizes: [3, 5], activations: "tanh", layers: [{ weights: W, bias: [0, 0, 0, 0, 0] }] });
  throwsCode(() => net.setLayer(2, kernel, [0, 0, 0, 0, 0]), "E_SHAPE", /looks transposed/);
  net.dispose();
});

test("a wrong row count that is not the transpose gets no transposition hint", () => {
  try {
    createMLP({ sizes: [3, 5], activations: "tanh", layers: [{ weights: [[1, 2, 3], [4, 5, 6]], bias: [0, 0, 0, 0, 0] }] });
    assert.unreachable("expected E_SHAPE");
  } catch (error) {
    assert.is((error as { code?: string }).code, "E_SHAPE");
    assert.not.match((error as Error).message, /transposed/);
  }
});

test.run();
