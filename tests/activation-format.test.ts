// The activations field of the model format: names and { name, …parameters }, aliases, toJSON round
// trips, known values and the kinks, and every malformed value → MLPError E_ACTIVATION (never a trap).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MLPError, createEngine, type MLPSpec } from "../src/index.js";
import { NEW_ACTIVATIONS, closeTo, label, randomCase, throwsCode } from "./helpers.js";
import * as ref from "./reference.js";

const engine = await createEngine();
const good = randomCase([3, 4, 2, 1], "sigmoid", "f64", 5);
const make = (activations: unknown) => () => engine.createMLP({ ...good.spec, activations } as MLPSpec);

/** A [1, 1] network a^[2] = σ(x): forward gives σ, gradient σ', hvp σ''. */
function unit(activations: unknown, precision: "f32" | "f64" = "f64") {
  return engine.createMLP({ sizes: [1, 1], activations, precision, layers: [{ weights: [1], bias: [0] }] } as MLPSpec);
}

test("known values: erf, gelu, selu, mish, geluTanh, swish (f64, within 2 ulps)", () => {
  const near = (got: number, want: number, what: string) =>
    assert.ok(Math.abs(got - want) <= 2 * Number.EPSILON * Math.abs(want), `${what} = ${got}, expected ${want}`);
  near(ref.erf(0.5), 0.5204998778130465, "reference erf(0.5)");
  near(ref.erfc(3), 2.209049699858544e-5, "reference erfc(3)");
  for (const [act, z, want] of [
    ["gelu", 1, 0.8413447460685429],
    ["gelu", -3, -0.0040496940948902835],
    ["selu", 1, 1.0507009873554805],
    ["selu", -1, -1.1113307378125628],
    ["mish", 1, 0.8650983882673103],
    ["geluTanh", 1, 0.8411919906082767],
    ["swish", 1, 0.7310585786300049],
    ["softsign", 1, 0.5],
    ["relu6", 7, 6],
    ["hardSigmoid", 1, 0.7],
  ] as const) {
    const net = unit(act);
    near(net.forward([z])[0], want, `${act}(${z})`);
    net.dispose();
  }
});

test("gelu's Φ, σ' and σ'' on a fine grid over [−8, 8] (each of Φ's methods and their seams), f64", () => {
  const net = unit("gelu");
  for (let i = -800; i <= 800; i++) {
    const z = i / 100 + 0.003; // off the seams at |z| = 1, 1.5, 2, 2.5 …
    for (const at of [z, Math.round(z * 2) / 2]) {
      // The reference rounds x = z/√2 and x², so it is itself good to ≈ (1 + z²) ulps.
      const tol = 4 * Number.EPSILON * (1 + at * at);
      const { value, gradient } = net.valueAndGradient([at]);
      const checks: [number, number, string][] = [
        [value, ref.sigma("gelu", at), "σ"],
        [gradient[0], ref.sigmaPrime("gelu", at), "σ'"],
        [net.hvp([at], [1])[0], ref.sigmaSecond("gelu", at), "σ''"],
      ];
      for (const [got, want, what] of checks) {
        // σ' = Φ + zφ and σ'' = φ(2 − z²) cancel (and cross zero at z ≈ −0.75, ±√2): their error is
        // relative to the size of their terms.
        const pdf = Math.exp(-0.5 * at * at) / Math.sqrt(2 * Math.PI);
        const scale = what === "σ" ? Math.abs(want) : what === "σ'" ? ref.normalCdf(at) + Math.abs(at) * pdf : pdf * (2 + at * at);
        assert.ok(Math.abs(got - want) <= tol * scale, `gelu ${what}(${at}) = ${got}, expected ${want}`);
      }
    }
  }
  net.dispose();
});

test("swish in f32 batches (four lanes at a time in the SIMD build) within a few f32 ulps on a fine grid of [−100, 100]", () => {
  const ulp = (x: number) => Math.max(2 ** -149, 2 ** (Math.floor(Math.log2(Math.abs(x) || 2 ** -149)) - 23));
  for (const { name, engine: e } of [{ name: "default", engine }]) {
    const net = e.createMLP({ sizes: [1, 1], activations: "swish", precision: "f32", layers: [{ weights: [1], bias: [0] }] });
    const zs = Array.from({ length: 20001 }, (_, i) => Math.fround(-100 + i / 100 + 0.0007));
    const { values, gradients } = net.valueAndGradientBatch(zs);
    zs.forEach((z, i) => {
      const y = ref.sigma("swish", z);
      const sig = ref.sigma("sigmoid", z);
      // σ' = s + z s(1 − s) cancels near its zero (z ≈ −1.28): its error is relative to its terms.
      const terms = sig + Math.abs(z) * ref.sigmaPrime("sigmoid", z);
      assert.ok(Math.abs(values[i] - y) <= 4 * ulp(y), `${name} swish(${z}) = ${values[i]}, expected ${y}`);
      assert.ok(Math.abs(gradients[i] - ref.sigmaPrime("swish", z)) <= 4 * ulp(terms), `${name} swish'(${z}) = ${gradients[i]}, expected ${ref.sigmaPrime("swish", z)}`);
    });
    net.dispose();
  }
});

test("every new activation in f32: σ and σ' rounded once from f64 (within 1 f32 ulp; the vector lanes of swish 4, of gelu 8), fine grid of [−100, 100], single and batch, both builds", async () => {
  const ulp = (x: number) => Math.max(2 ** -149, 2 ** (Math.floor(Math.log2(Math.abs(x) || 2 ** -149)) - 23));
  const zs = Array.from({ length: 4001 }, (_, i) => Math.fround(-100 + i / 20 + 0.00037));
  for (const simd of [true, false]) {
    const e = await createEngine({ simd });
    for (const act of NEW_ACTIVATIONS) {
      const net = e.createMLP({ sizes: [1, 1], activations: act, precision: "f32", layers: [{ weights: [1], bias: [0] }] } as MLPSpec);
      const batch = net.valueAndGradientBatch(zs);
      const vector = simd && act === "swish" ? 4 : simd && act === "gelu" ? 8 : 1;
      zs.forEach((z, i) => {
        const y = ref.sigma(act, z);
        const d = ref.sigmaPrime(act, z);
        // Where σ' is a difference of terms (gelu, swish, mish near their minima) its f64 value carries
        // an error relative to those terms: allow 1e-12 of them (≪ an f32 ulp elsewhere).
        const terms = Math.abs(d) + Math.abs(z) * Math.abs(ref.sigmaSecond(act, z)) + Math.abs(y);
        const single = net.valueAndGradient([z]);
        for (const [got, want, what, n] of [
          [single.value, y, "σ", 1],
          [single.gradient[0], d, "σ'", 1],
          [batch.values[i], y, "batch σ", vector],
          [batch.gradients[i], d, "batch σ'", vector],
        ] as const) {
          const tol = n * ulp(want) + (what.endsWith("'") ? 1e-12 * terms : 0) + (n > 1 ? n * ulp(terms) : 0);
          assert.ok(Math.abs(got - want) <= tol, `${simd ? "simd" : "scalar"} ${label(act)} ${what}(${z}) = ${got}, expected ${want}`);
        }
      });
      net.dispose();
    }
  }
});

test("kinks: relu6'(0) = relu6'(6) = 0, hardSigmoid' = 0 at its clip points, leakyRelu'(0) = elu'(0) = alpha", () => {
  const at = (activations: unknown, z: number) => {
    const net = unit(activations);
    const d = net.gradient([z])[0];
    net.dispose();
    return d;
  };
  assert.is(at("relu6", 0), 0);
  assert.is(at("relu6", 6), 0);
  assert.is(at("relu6", 5.999), 1);
  assert.is(at("relu6", 1e-300), 1);
  assert.is(at("hardSigmoid", -2.5), 0);
  assert.is(at("hardSigmoid", 2.5), 0);
  assert.is(at("hardSigmoid", 2.4), 0.2);
  assert.is(at({ name: "hardSigmoid", slope: 1 / 6, offset: 0.5 }, 3), 0);
  assert.is(at({ name: "hardSigmoid", slope: 1 / 6, offset: 0.5 }, -2.9), 1 / 6);
  assert.is(at({ name: "leakyRelu", alpha: 0.3 }, 0), 0.3);
  assert.is(at({ name: "elu", alpha: 0.5 }, 0), 0.5);
  assert.is(at("relu", 0), 0);
});

test("parameters reach every kernel: the same layer through single, batch and both builds", async () => {
  for (const simd of [true, false]) {
    const e = await createEngine({ simd });
    for (const precision of ["f64", "f32"] as const) {
      for (const act of [{ name: "leakyRelu", alpha: 0.3 }, { name: "elu", alpha: 2.5 }, { name: "hardSigmoid", slope: 1 / 6, offset: 0.25 }] as const) {
        // 17 rows: the 4-row SIMD blocks and the tail rows of both the matvec and the gemm kernels.
        const c = randomCase([5, 17, 1], [act, "identity"], precision, 11, 4);
        const net = e.createMLP(c.spec);
        const tol = precision === "f64" ? 1e-12 : 1e-5;
        closeTo(net.gradient(c.x), ref.gradient(c.ref, c.x), tol, `${simd} ${precision} ${act.name} gradient`);
        const xs = [...c.x, ...c.x.map((v) => -v)];
        const batch = net.gradientBatch(xs);
        closeTo(batch.subarray(5), ref.gradient(c.ref, xs.slice(5)), tol, `${simd} ${precision} ${act.name} gradientBatch`);
        net.dispose();
      }
    }
  }
});

test("toJSON round-trips every form, parameters exactly; aliases become canonical names", () => {
  const forms: [unknown, unknown][] = [
    ["gelu", "gelu"],
    ["linear", "identity"],
    ["silu", "swish"],
    ["gelu_new", "geluTanh"],
    ["gelu_tanh", "geluTanh"],
    ["hard_sigmoid", "hardSigmoid"],
    [{ name: "leaky_relu", alpha: 0.30000001192092896 }, { name: "leakyRelu", alpha: 0.30000001192092896 }],
    [{ name: "leakyRelu" }, "leakyRelu"],
    [{ name: "leakyRelu", alpha: 0.01 }, "leakyRelu"],
    [{ name: "elu", alpha: 1e-300 }, { name: "elu", alpha: 1e-300 }],
    [{ name: "hardSigmoid", slope: 1 / 6 }, { name: "hardSigmoid", slope: 1 / 6, offset: 0.5 }],
    [["relu", { name: "leakyRelu", alpha: -0 }, "tanh"], ["relu", { name: "leakyRelu", alpha: -0 }, "tanh"]],
    [undefined, "sigmoid"],
  ];
  for (const [given, written] of forms) {
    const net = engine.createMLP({ ...good.spec, activations: given } as MLPSpec);
    const json = net.toJSON();
    assert.equal(json.activations, written, `toJSON of ${JSON.stringify(given)}`);
    if (Array.isArray(written)) assert.ok(Object.is((json.activations as { alpha: number }[])[1].alpha, -0), "−0 kept");
    const again = engine.createMLP(JSON.parse(JSON.stringify(json)));
    assert.equal(again.toJSON(), JSON.parse(JSON.stringify(json)), "createMLP(toJSON()) is the same network");
    assert.equal(Array.from(again.gradient(good.x)), Array.from(net.gradient(good.x)));
    net.dispose();
    again.dispose();
  }
  // toJSON returns copies: editing them changes nothing.
  const net = engine.createMLP({ ...good.spec, activations: [{ name: "elu", alpha: 2 }, "relu", "tanh"] } as MLPSpec);
  ((net.toJSON().activations as { alpha: number }[])[0]).alpha = 5;
  assert.equal((net.toJSON().activations as { alpha: number }[])[0], { name: "elu", alpha: 2 });
  net.dispose();
});

test("unknown names suggest the nearest known one", () => {
  throwsCode(make("gelus"), "E_ACTIVATION", /unknown activation "gelus"/, /did you mean "gelu"\?/);
  throwsCode(make("Swish"), "E_ACTIVATION", /did you mean "swish"/);
  throwsCode(make("leakyrelu"), "E_ACTIVATION", /did you mean "leakyRelu"/);
  throwsCode(make({ name: "softmaxx" }), "E_ACTIVATION", /did you mean "softmax"/);
  throwsCode(make(["tanh", "lineer", "relu"]), "E_ACTIVATION", /layer 3 activation/, /did you mean "linear"/);
  throwsCode(make("x".repeat(10000)), "E_ACTIVATION", /unknown activation/);
});

test("every malformed activations value is an E_ACTIVATION MLPError", () => {
  const sparse = new Array(3);
  sparse[1] = "relu";
  sparse[2] = "relu";
  const throwingProxy = new Proxy({}, {
    ownKeys() {
      throw new Error("trap");
    },
  });
  const throwingArray = new Proxy(["relu", "relu", "relu"], {
    get(target, key) {
      if (key === "1") throw new Error("trap");
      return Reflect.get(target, key);
    },
  });
  const getter = {
    get name() {
      throw new Error("getter");
    },
  };
  const spec = { ...good.spec };
  Object.defineProperty(spec, "activations", {
    get() {
      throw new Error("field getter");
    },
    enumerable: true,
  });
  const cases: [unknown, RegExp][] = [
    [sparse, /layer 2 activation: activations\[0\] is a hole/],
    [[undefined, "relu", "relu"], /layer 2 activation.*got undefined/],
    [[null, "relu", "relu"], /got null/],
    [10n, /BigInt/],
    [Symbol("relu"), /got symbol/],
    [() => "relu", /got function/],
    [42, /got 42/],
    [["relu", ["relu"], "relu"], /layer 3 activation.*got array/],
    [throwingProxy, /could not be read \(trap\)/],
    [throwingArray, /activations\[1\] could not be read/],
    [getter, /could not be read \(getter\)/],
    [{ alpha: 0.2 }, /needs a string "name"/],
    [{ name: 3 }, /needs a string "name"/],
    [{ name: "leakyRelu", slope: 0.2 }, /unknown key "slope".*leakyRelu takes alpha/],
    [{ name: "relu", alpha: 0.2 }, /relu takes no parameters/],
    [{ name: "leakyRelu", alpha: NaN }, /alpha must be a finite number/],
    [{ name: "leakyRelu", alpha: Infinity }, /alpha must be/],
    [{ name: "leakyRelu", alpha: 1e39 }, /≤ 3\.4e38/],
    [{ name: "leakyRelu", alpha: "0.2" }, /got "0\.2"/],
    [{ name: "elu", alpha: 2n }, /BigInt/],
    [{ name: "hardSigmoid", slope: 0 }, /slope must be a finite number > 0/],
    [{ name: "hardSigmoid", slope: -0.2 }, /slope must be/],
    [{ name: "hardSigmoid", offset: null }, /offset must be/],
    [["softmax", "relu", "relu"], /"softmax" is allowed only as the last layer's/],
    ["softmax", /last layer's activation only.*give an array of 3/],
    [["relu", "relu"], /expected 3 names/],
  ];
  for (const [value, pattern] of cases) throwsCode(make(value), "E_ACTIVATION", pattern);
  // A getter on the model's own field is the model object's fault, as for every field: E_SPEC.
  throwsCode(() => engine.createMLP(spec as MLPSpec), "E_SPEC", /model\.activations: reading it threw Error: field getter/);
  // softmax over one output is a constant: rejected, with the fix.
  throwsCode(
    () => engine.createMLP({ sizes: [2, 1], activations: "softmax", layers: [{ weights: [1, 2], bias: [0] }] }),
    "E_ACTIVATION",
    /softmax over n_L = 1 output is the constant 1/,
    /use "sigmoid"/,
  );
  throwsCode(
    () => engine.createMLP({ sizes: [2, 1], activations: "log_softmax", layers: [{ weights: [1, 2], bias: [0] }] } as unknown as MLPSpec),
    "E_ACTIVATION",
    /logSoftmax over n_L = 1 output is the constant 0/,
  );
  // The error carries the layer and is an MLPError.
  try {
    make(["relu", { name: "elu", alpha: NaN }, "relu"])();
    assert.unreachable("no error");
  } catch (error) {
    assert.instance(error, MLPError);
    assert.is((error as MLPError).layer, 3);
  }
});

test.run();
