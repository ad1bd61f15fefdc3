/**
 * 16-bit floats as stored by the formats we import, decoded to the exact f32 value they denote.
 *
 *   float16 (IEEE 754 binary16): sign 1 | exponent 5 (bias 15) | fraction 10; exponent 0 is subnormal
 *     (±f·2⁻²⁴), exponent 31 is ±Infinity (f = 0) or NaN.
 *   bfloat16: the top 16 bits of an f32, so the value is the f32 with those bits and 16 zero bits below.
 *
 * Both are exact in f32 (and f64): no rounding happens here.
 */

/** The value of the IEEE binary16 with bit pattern `h` (0..0xffff). */
export function float16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The value of the bfloat16 with bit pattern `h` (0..0xffff). */
export function bfloat16ToNumber(h: number): number {
  U32[0] = (h & 0xffff) << 16;
  return F32[0];
}
