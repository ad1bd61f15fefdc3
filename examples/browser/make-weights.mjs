// Writes trained.json, the demo's shipped weights: the 2-2-3-2 sigmoid network of paper.js trained as
// examples/train-paper.ts does (seed 2019, η = 0.05, 150,000 steps, f64). Run after `npm run build`:
//   node examples/browser/make-weights.mjs
import { writeFileSync } from "node:fs";
import * as mlpgrad from "mlpgrad";
import { POINTS, LABELS, SEED, TRAINED_STEPS, cost, initialModel, mulberry32, train } from "./paper.js";

await mlpgrad.init();
const random = mulberry32(SEED);
const net = mlpgrad.createMLP(initialModel("f64", random));
const before = cost(mlpgrad, net);
train(mlpgrad, net, random, TRAINED_STEPS);
const after = cost(mlpgrad, net);
const right = POINTS.filter((x, i) => {
  const a = net.forward(x);
  return (a[0] > a[1]) === (LABELS[i][0] === 1);
}).length;
if (!(after < 0.01 * before) || right !== POINTS.length) throw new Error(`training fell short: cost ${after} of ${before}, ${right} of 10 right`);
writeFileSync(new URL("./trained.json", import.meta.url), JSON.stringify(net.toJSON(), null, 1) + "\n");
console.log(`trained.json: cost ${after.toExponential(3)} (${((100 * after) / before).toFixed(2)}% of the initial), ${right} of 10 points right`);
