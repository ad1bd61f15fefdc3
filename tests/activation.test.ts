// σ and σ' of every activation, through a one-weight network [1, 1] (a^[2] = σ(x), ∇ = σ'(x)), on a
// grid reaching |z| = 1e4 and beyond: always finite, accurate where representable, no cancellation.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ALL_ACTIVATIONS, engines, label, randomCase } from "./helpers.js";
import type { RefActivation } from "./reference.js";
import * as ref from "./reference.js";

const builds = await engines();
const F32_MIN_NORMAL = 1.1754943508222875e-38;
/**
 * How much looser than f64 rounding the reference itself may be at z: its erfc takes e^(−x²) with x = z/√2
 * rounded (≈ z² ulps), and its geluTanh e^(−2u) with u ≈ 0.036 z³ rounded.
 */
function slack(act: RefActivation, z: number): number {
  const name = typeof act === "string" ? act : act.name;
  if (name === "gelu") return 1 + z * z;
  if (name === "geluTanh") return 1 + z * z + 0.1 * Math.abs(z) ** 3;
  return 1;
}
const GRID = [-1e4, -1000, -100, -87, -30, -17, -5, -1, -0.3, -1e-3, -1e-10, 0, 1e-10, 1e-3, 0.3, 0.49, 0.51, 1, 5, 17, 30, 87, 100, 1000, 1e4];

for (const act of ALL_ACTIVATIONS) {
  test(`${label(act)}: σ and σ' finite and accurate on |z| ≤ 1e4 (f32, f64, both builds)`, () => {
    for (const { name, engine } of builds) {
      for (const precision of ["f64", "f32"] as const) {
        const net = engine.createMLP({ sizes: [1, 1], activations: act, precision, layers: [{ weights: [1], bias: [0] }] });
        const grid = precision === "f64" ? [...GRID, -1e300, 1e300] : [...GRID, -3e38, 3e38];
        for (const z of grid.map(precision === "f32" ? Math.fround : (v: number) => v)) {
          const { value, gradient } = net.valueAndGradient([z]);
          const where = `${name} ${precision} ${label(act)} at z = ${z}`;
          assert.ok(Number.isFinite(value) && Number.isFinite(gradient[0]), `${where}: got σ = ${value}, σ' = ${gradient[0]}`);
          const tol = precision === "f64" ? 4e-15 * slack(act, z) : 4e-7;
          for (const [got, want, what] of [
            [value, ref.sigma(act, z), "σ"],
            [gradient[0], ref.sigmaPrime(act, z), "σ'"],
          ] as const) {
            const floor = precision === "f64" ? 1e-300 : F32_MIN_NORMAL;
            if (Math.abs(want) >= floor) {
              assert.ok(Math.abs(got - want) <= tol * Math.abs(want) * 8, `${where}: ${what} = ${got}, expected ${want}`);
            } else {
              assert.ok(Math.abs(got - want) <= floor, `${where}: ${what} = ${got}, expected ${want} (subnormal range)`);
            }
          }
        }
        net.dispose();
      }
    }
  });
}

for (const act of ALL_ACTIVATIONS) {
  test(`${label(act)}: σ'' (through hvp of a [1, 1] network) finite and accurate on |z| ≤ 1e4`, () => {
    for (const { name, engine } of builds) {
      for (const precision of ["f64", "f32"] as const) {
        const net = engine.createMLP({ sizes: [1, 1], activations: act, precision, layers: [{ weights: [1], bias: [0] }] });
        for (const z of GRID.map(precision === "f32" ? Math.fround : (v: number) => v)) {
          const got = net.hvp([z], [1])[0];
          const want = ref.sigmaSecond(act, z);
          const where = `${name} ${precision} ${label(act)} σ''(${z})`;
          assert.ok(Number.isFinite(got), `${where} = ${got}`);
          const floor = precision === "f64" ? 1e-300 : F32_MIN_NORMAL;
          const tol = precision === "f64" ? 3e-14 * slack(act, z) : 3e-6;
          const ok = Math.abs(want) >= floor ? Math.abs(got - want) <= tol * Math.abs(want) : Math.abs(got - want) <= floor;
          assert.ok(ok, `${where} = ${got}, expected ${want}`);
        }
        net.dispose();
      }
    }
  });
}

for (const act of ALL_ACTIVATIONS) {
  test(`${label(act)}: the batched kernels' σ and σ' (four lanes at a time where vectorised) on |z| ≤ 1e4`, () => {
    for (const { name, engine } of builds) {
      for (const precision of ["f64", "f32"] as const) {
        const net = engine.createMLP({ sizes: [1, 1], activations: act, precision, layers: [{ weights: [1], bias: [0] }] });
        const grid = (precision === "f64" ? [...GRID, -1e300, 1e300] : [...GRID, -3e38, 3e38]).map(precision === "f32" ? Math.fround : Number);
        const { values, gradients } = net.valueAndGradientBatch(grid);
        const floor = precision === "f64" ? 1e-300 : F32_MIN_NORMAL;
        grid.forEach((z, i) => {
          const tol = precision === "f64" ? 4e-15 * slack(act, z) : 4e-7;
          for (const [got, want, what] of [
            [values[i], ref.sigma(act, z), "σ"],
            [gradients[i], ref.sigmaPrime(act, z), "σ'"],
          ] as const) {
            const where = `${name} ${precision} ${label(act)} batch ${what}(${z})`;
            assert.ok(Number.isFinite(got), `${where} = ${got}`);
            const ok = Math.abs(want) >= floor ? Math.abs(got - want) <= 8 * tol * Math.abs(want) : Math.abs(got - want) <= floor;
            assert.ok(ok, `${where} = ${got}, expected ${want}`);
          }
        });
        net.dispose();
      }
    }
  });
}

test("f32 sigmoid keeps σ'(30) ≈ 9.4e-14 where σ(1−σ) would round to 0", () => {
  for (const { name, engine } of builds) {
    const net = engine.createMLP({ sizes: [1, 1], activations: "sigmoid", precision: "f32", layers: [{ weights: [1], bias: [0] }] });
    for (const z of [17, 20, 30, 50, 80, -30, -80]) {
      const got = net.gradient([z])[0];
      const want = ref.sigmaPrime("sigmoid", z);
      assert.ok(Math.abs(got - want) <= 1e-3 * want, `${name} σ'(${z}) = ${got}, expected ${want}`);
    }
    net.dispose();
  }
});

for (const act of ALL_ACTIVATIONS) {
  test(`${label(act)}: saturated deep network (|z| up to ~1e4) stays finite and agrees with the reference`, () => {
    for (const { name, engine } of builds) {
      for (const precision of ["f64", "f32"] as const) {
        // Weights scaled by 300/√fan_in push pre-activations into the thousands.
        const c = randomCase([8, 17, 5, 1], act, precision, 31, 300);
        const x = c.x.map((v) => (precision === "f32" ? Math.fround(v * 10) : v * 10));
        const net = engine.createMLP(c.spec);
        const got = net.gradient(x);
        const want = ref.gradient(c.ref, x);
        const scale = Math.max(1, ...want.map(Math.abs));
        got.forEach((g, i) => {
          assert.ok(Number.isFinite(g), `${name} ${precision} ${label(act)} gradient[${i}] = ${g}`);
          const tol = precision === "f64" ? 1e-10 : 1e-3;
          assert.ok(Math.abs(g - want[i]) <= tol * scale, `${name} ${precision} ${label(act)} gradient[${i}] = ${g}, expected ${want[i]}`);
        });
        const value = net.forward(x)[0];
        assert.ok(Number.isFinite(value), `${name} ${precision} ${label(act)} value = ${value}`);
        net.dispose();
      }
    }
  });
}

test.run();
