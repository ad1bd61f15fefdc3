/**
 * The WebAssembly binary encoding the suite's hand-assembled modules need (bench/peak.mjs, the SIMD
 * peak; bench/floor.mjs, the bandwidth floor; bench/ceiling.mjs, the matvec ceiling): section and type codes, the opcodes they use, LEB128
 * and the vector/section framing. Just enough for a module with one function, no assembler, no dependency.
 */

/** The module header: magic "\0asm", version 1. */
export const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
export const SECTION = { type: 1, import: 2, function: 3, memory: 5, export: 7, code: 10 };
export const TYPE = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b, func: 0x60, void: 0x40 };
export const OP = {
  block: 0x02, loop: 0x03, br: 0x0c, br_if: 0x0d, end: 0x0b,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22, i32_const: 0x41, i32_eqz: 0x45, i32_le_u: 0x4d, i32_ge_u: 0x4f, i32_add: 0x6a, i32_sub: 0x6b,
  simd: 0xfd,
};

/** Unsigned LEB128, the encoding of every count, index and SIMD opcode. */
export function uleb(value) {
  const bytes = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

/** Signed LEB128 (i32.const immediates), for values ≥ 0. */
export function sleb(value) {
  const bytes = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if (value === 0 && (byte & 0x40) === 0) return [...bytes, byte];
    bytes.push(byte | 0x80);
  }
}

/** A vector: its length, then its items' bytes. */
export const vector = (items) => [...uleb(items.length), ...items.flat()];
/** A section: its id, its size, its body. */
export const section = (id, body) => [id, ...uleb(body.length), ...body];
/** A name (import or export): UTF-8 bytes as a vector. */
export const name = (text) => vector([...Buffer.from(text, "utf8")]);
/** A SIMD instruction: the 0xfd prefix, then its opcode. */
export const simd = (opcode) => [OP.simd, ...uleb(opcode)];
