// ∇ₓ a^[L](x) against the independent f64 reference and central finite differences: every activation,
// mixed activations, depths 2–12, widths 1…256, both builds, both precisions.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Precision } from "../src/index.js";
import { ACTIVATIONS, WIDTHS, closeTo, engines, randomCase, rng } from "./helpers.js";
import * as ref from "./reference.js";
import type { RefActivation } from "./reference.js";

const TOL: Record<Precision, number> = { f64: 1e-12, f32: 1e-4 };
const builds = await engines();

interface Shape {
  label: string;
  sizes: number[];
  activations: RefActivation | RefActivation[];
}

const shapes: Shape[] = [];
// Every width as input, as hidden layer, and with every activation.
for (const width of WIDTHS) {
  for (const act of ACTIVATIONS) shapes.push({ label: `${width}-${width}-1 ${act}`, sizes: [width, width, 1], activations: act });
  shapes.push({ label: `5-${width}-3-1 mixed`, sizes: [5, width, 3, 1], activations: ["tanh", "softplus", "sigmoid"] });
}
// Depths 2 to 12 with widths cycling through the list and activations cycling per layer.
for (let L = 2; L <= 12; L++) {
  const sizes = Array.from({ length: L }, (_, i) => (i === L - 1 ? 1 : WIDTHS[(3 * i + L) % (WIDTHS.length - 1)]));
  const acts = Array.from({ length: L - 1 }, (_, i) => ACTIVATIONS[(i + L) % ACTIVATIONS.length]);
  shapes.push({ label: `depth ${L} [${sizes.join(",")}] mixed`, sizes, activations: acts });
}
shapes.push({ label: "paper 2-2-3-1 sigmoid", sizes: [2, 2, 3, 1], activations: "sigmoid" });
shapes.push({ label: "100-256-256-1 sigmoid", sizes: [100, 256, 256, 1], activations: "sigmoid" });
// The 4-row kernels write z of whole blocks and apply σ in one pass after them (matvec.ts), the rows
// after the last block one by one: every layer here has 1, 2, 3, 5, 6, 7, 9, 10, 18 or 67 rows.
shapes.push({ label: "sigmoid rows 6,7,5,9,2,3,1", sizes: [9, 6, 7, 5, 9, 2, 3, 1], activations: "sigmoid" });
shapes.push({ label: "sigmoid rows 18,67,10,1", sizes: [5, 18, 67, 10, 1], activations: "sigmoid" });

let seed = 1;
for (const shape of shapes) {
  const caseSeed = seed++;
  test(`gradient ${shape.label}: simd and scalar, f32 and f64 agree with the reference`, () => {
    for (const { name, engine } of builds) {
      for (const precision of ["f64", "f32"] as const) {
        const c = randomCase(shape.sizes, shape.activations, precision, caseSeed);
        const net = engine.createMLP(c.spec);
        const expected = ref.gradient(c.ref, c.x);
        closeTo(net.gradient(c.x), expected, TOL[precision], `${name} ${precision} gradient`);
        closeTo(net.forward(c.x), ref.forward(c.ref, c.x), TOL[precision], `${name} ${precision} forward`);
        const both = net.valueAndGradient(c.x);
        closeTo([both.value], ref.forward(c.ref, c.x), TOL[precision], `${name} ${precision} value`);
        closeTo(both.gradient, expected, TOL[precision], `${name} ${precision} valueAndGradient`);
        assert.instance(both.gradient, precision === "f32" ? Float32Array : Float64Array);
        net.dispose();
      }
    }
  });
}

// Finite differences check the reference and the library together on smooth activations.
for (const [i, sizes] of [[3, 5, 1], [7, 17, 4, 1], [67, 8, 5, 1], [1, 3, 1]].entries()) {
  test(`gradient [${sizes}] matches central finite differences`, () => {
    const c = randomCase(sizes, ["tanh", "softplus", "sigmoid", "identity"].slice(0, sizes.length - 1) as RefActivation[], "f64", 100 + i);
    const fd = ref.finiteDifference(c.ref, c.x);
    closeTo(ref.gradient(c.ref, c.x), fd, 1e-7, "reference vs finite differences");
    for (const { name, engine } of builds) {
      const net = engine.createMLP(c.spec);
      closeTo(net.gradient(c.x), fd, 1e-7, `${name} f64 vs finite differences`);
      net.dispose();
    }
  });
}

test("gradient at many random points of one network, reusing out", () => {
  const random = rng(7);
  for (const { name, engine } of builds) {
    for (const precision of ["f64", "f32"] as const) {
      const c = randomCase([17, 67, 5, 1], ["tanh", "sigmoid", "softplus"], precision, 77);
      const net = engine.createMLP(c.spec);
      const out = precision === "f32" ? new Float32Array(17) : new Float64Array(17);
      for (let k = 0; k < 25; k++) {
        const x = c.x.map(() => (precision === "f32" ? Math.fround(random() * 4 - 2) : random() * 4 - 2));
        assert.is(net.gradient(x, out), out);
        closeTo(out, ref.gradient(c.ref, x), TOL[precision], `${name} ${precision} point ${k}`);
      }
      net.dispose();
    }
  }
});

test.run();
