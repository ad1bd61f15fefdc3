/**
 * fromOnnx on files exported by real PyTorch (torch 1.13 torch.onnx.export, tests/fixtures/torch/, made by
 * scripts/make-torch-fixtures.py): the activations PyTorch's exporter writes (Gemm, MatMul + Add with and without
 * constant folding, Clip for ReLU6, decomposed GELU/SiLU/Mish, HardSigmoid 1/6, Flatten, Dropout, LogSoftmax at
 * opset 11) import to the expected network, whose outputs equal PyTorch's and whose Jacobians equal
 * torch.autograd's (f64, on the same weights).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createMLP, type MLPSpec } from "../src/index.js";
import { fromOnnx } from "../src/import/onnx.node.js";
import { agree, printAgreement, testNeedingCore } from "./import-helpers.js";
import { refJacobian, type Act } from "./import-reference.js";

const dir = fileURLToPath(new URL("../../tests/fixtures/torch/", import.meta.url));
interface Expected {
  activations: Act[];
  rows: { x: number[]; output_f32: number[]; output_f64: number[]; jacobian_f64: number[] }[];
}
const expected = JSON.parse(readFileSync(`${dir}expected.json`, "utf8")) as { generator: string; models: Record<string, Expected> };

const test = suite(`import: ONNX from ${expected.generator}`);
test.after(() => printAgreement(`PyTorch (${expected.generator})`));

for (const [name, e] of Object.entries(expected.models)) {
  // The exported file holds LeakyReLU 0.1, ELU 0.7 and Hardsigmoid's 1/6 as float32 attributes; the importer
  // keeps the file's values (as onnxruntime does) while torch's f64 run used the exact constants (1/6 vs its f32
  // rounding differ by 3e-8 relative, which the derivative of hardSigmoid carries through).
  const tol64 = name === "activations" ? 1e-7 : 1e-12;
  test(`${name}.onnx imports with activations ${JSON.stringify(e.activations)}`, async () => {
    const spec = await fromOnnx(`${dir}${name}.onnx`);
    assert.equal(spec.activations, e.activations);
    // The independent f64 reference on the imported weights reproduces torch.autograd: the import is right without the core.
    for (const row of e.rows) {
      const ref = refJacobian(await fromOnnx(`${dir}${name}.onnx`, { precision: "f64" }), row.x);
      agree("f64 reference of the import vs torch f64 (forward)", ref.output, row.output_f64, tol64, `${name}: reference forward`);
      agree("f64 reference of the import vs torch.autograd (jacobian)", ref.jacobian, row.jacobian_f64, tol64, `${name}: reference jacobian`);
    }
  });
  testNeedingCore(test, `${name}.onnx: mlpgrad f32 equals PyTorch's f32 outputs; f64 outputs and Jacobians equal torch.autograd's`, e.activations, async () => {
    const f32 = createMLP((await fromOnnx(`${dir}${name}.onnx`)) as MLPSpec);
    const f64 = createMLP((await fromOnnx(`${dir}${name}.onnx`, { precision: "f64" })) as MLPSpec);
    try {
      for (const row of e.rows) {
        agree("f32 forward vs PyTorch f32", f32.forward(row.x), row.output_f32, 2e-6, `${name}: f32 forward`);
        agree("f64 forward vs PyTorch f64", f64.forward(row.x), row.output_f64, tol64, `${name}: f64 forward`);
        agree("f64 jacobian vs torch.autograd f64", f64.jacobian(row.x), row.jacobian_f64, tol64, `${name}: f64 jacobian`);
        agree("f32 jacobian vs torch.autograd f64", f32.jacobian(row.x), row.jacobian_f64, 2e-5, `${name}: f32 jacobian`);
      }
    } finally {
      f32.dispose();
      f64.dispose();
    }
  });
}

test("GELU(approximate='tanh') below opset 20 (x·x·x, Tanh, Adds and Muls): refused, with the way out", async () => {
  try {
    await fromOnnx(`${dir}gelu_tanh_opset17.onnx`);
    assert.unreachable("expected E_UNSUPPORTED");
  } catch (error) {
    assert.is((error as { code?: string }).code, "E_UNSUPPORTED", String(error));
    assert.match((error as Error).message, /not recognised .* opset ≥ 20/);
  }
});

test.run();
