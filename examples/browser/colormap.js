/**
 * The heat map's colours: a diverging scale for d = a_1 − a_2 ∈ [−1, 1], orange (class 2, d = −1)
 * through near-white (d = 0, the decision boundary) to blue (class 1, d = +1), linear in each half.
 * Integer RGB, so the browser test can recompute the exact colour of a pixel.
 */
const CLASS_2 = [214, 96, 24];
const MIDDLE = [246, 246, 242];
const CLASS_1 = [32, 102, 186];

/** [r, g, b] (0..255 integers) for d = a_1 − a_2, clamped to [−1, 1]. */
export function heatColor(d) {
  const t = Math.max(-1, Math.min(1, d));
  const to = t < 0 ? CLASS_2 : CLASS_1;
  const s = Math.abs(t);
  return [
    Math.round(MIDDLE[0] + (to[0] - MIDDLE[0]) * s),
    Math.round(MIDDLE[1] + (to[1] - MIDDLE[1]) * s),
    Math.round(MIDDLE[2] + (to[2] - MIDDLE[2]) * s),
  ];
}
