/**
 * gunzip: the embedded kernels are stored gzip-compressed (scripts/embed-wasm.mjs), because base64 of raw
 * WebAssembly gzips to about 1.5× what base64 of gzip does, and the browser entry is mostly those bytes.
 * This is a small inflater written from RFC 1951 (DEFLATE) and RFC 1952 (the gzip member around it), so
 * that unpacking needs nothing from the runtime: no DecompressionStream (Safari before 16.4, Firefox before
 * 113 lack it), no await.
 *
 * Huffman codes are canonical (RFC 1951 §3.2.2): a code is decoded bit by bit, most significant first,
 * by comparing it with the first code of each length; `counts[len]` is the number of codes of length len
 * and `symbols` lists the symbols in code order.
 */

interface Huffman {
  counts: Uint16Array;
  symbols: Uint16Array;
}

// Base values and extra bits of length codes 257..285 and distance codes 0..29 (RFC 1951 §3.2.5).
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
// The order in which a dynamic block lists the code lengths of its code-length alphabet (§3.2.7).
const CLEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

function huffman(lengths: ArrayLike<number>, from: number, n: number): Huffman {
  const counts = new Uint16Array(16);
  for (let i = 0; i < n; i++) counts[lengths[from + i]]++;
  counts[0] = 0;
  const offsets = new Uint16Array(16);
  for (let len = 1; len < 15; len++) offsets[len + 1] = offsets[len] + counts[len];
  const symbols = new Uint16Array(n);
  for (let i = 0; i < n; i++) if (lengths[from + i] !== 0) symbols[offsets[lengths[from + i]]++] = i;
  return { counts, symbols };
}

/** The uncompressed bytes of a gzip member (as zlib's gzipSync writes it). Throws on malformed input. */
export function gunzip(data: Uint8Array): Uint8Array {
  if (data.length < 18 || data[0] !== 0x1f || data[1] !== 0x8b || data[2] !== 8) throw new Error("not a gzip member");
  const flags = data[3];
  let pos = 10;
  if (flags & 4) pos += 2 + (data[pos] | (data[pos + 1] << 8)); // FEXTRA
  if (flags & 8) while (data[pos++] !== 0); // FNAME
  if (flags & 16) while (data[pos++] !== 0); // FCOMMENT
  if (flags & 2) pos += 2; // FHCRC
  const end = data.length - 8;
  const size = (data[end + 4] | (data[end + 5] << 8) | (data[end + 6] << 16) | (data[end + 7] << 24)) >>> 0;
  const out = new Uint8Array(size);
  let written = 0;
  let bits = 0; // bit buffer, least significant bit first
  let count = 0; // bits in it

  const need = (n: number): number => {
    while (count < n) {
      if (pos >= end) throw new Error("deflate data runs past its end");
      bits |= data[pos++] << count;
      count += 8;
    }
    const value = bits & ((1 << n) - 1);
    bits >>>= n;
    count -= n;
    return value;
  };
  const decode = (h: Huffman): number => {
    let code = 0; // the bits read so far, first read most significant
    let first = 0; // the first code of the current length
    let index = 0; // where codes of the current length start in h.symbols
    for (let len = 1; len < 16; len++) {
      code |= need(1);
      const n = h.counts[len];
      if (code - first < n) return h.symbols[index + code - first];
      index += n;
      first = (first + n) << 1;
      code <<= 1;
    }
    throw new Error("invalid Huffman code");
  };

  let fixed: [Huffman, Huffman] | undefined;
  let last = 0;
  while (!last) {
    last = need(1);
    const type = need(2);
    if (type === 0) {
      // Stored: byte-aligned LEN, NLEN, then LEN bytes.
      bits = 0;
      count = 0;
      const length = data[pos] | (data[pos + 1] << 8);
      if ((length ^ (data[pos + 2] | (data[pos + 3] << 8))) !== 0xffff || pos + 4 + length > end || written + length > size) throw new Error("bad stored block");
      out.set(data.subarray(pos + 4, pos + 4 + length), written);
      pos += 4 + length;
      written += length;
      continue;
    }
    let lit: Huffman;
    let dist: Huffman;
    if (type === 1) {
      if (fixed === undefined) {
        const lengths = new Uint8Array(320);
        lengths.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288).fill(5, 288, 318);
        fixed = [huffman(lengths, 0, 288), huffman(lengths, 288, 30)];
      }
      [lit, dist] = fixed;
    } else if (type === 2) {
      const nlen = need(5) + 257;
      const ndist = need(5) + 1;
      const ncode = need(4) + 4;
      const clens = new Uint8Array(19);
      for (let i = 0; i < ncode; i++) clens[CLEN_ORDER[i]] = need(3);
      const clen = huffman(clens, 0, 19);
      const lengths = new Uint8Array(nlen + ndist);
      for (let i = 0; i < nlen + ndist; ) {
        const symbol = decode(clen);
        if (symbol < 16) {
          lengths[i++] = symbol;
          continue;
        }
        let repeat: number;
        let value = 0;
        if (symbol === 16) {
          if (i === 0) throw new Error("repeat with no previous length");
          value = lengths[i - 1];
          repeat = 3 + need(2);
        } else {
          repeat = symbol === 17 ? 3 + need(3) : 11 + need(7);
        }
        if (i + repeat > nlen + ndist) throw new Error("too many code lengths");
        lengths.fill(value, i, i + repeat);
        i += repeat;
      }
      lit = huffman(lengths, 0, nlen);
      dist = huffman(lengths, nlen, ndist);
    } else {
      throw new Error("invalid block type");
    }
    for (;;) {
      const symbol = decode(lit);
      if (symbol < 256) {
        if (written >= size) throw new Error("output longer than the gzip trailer says");
        out[written++] = symbol;
      } else if (symbol === 256) {
        break;
      } else {
        const l = symbol - 257;
        if (l >= 29) throw new Error("invalid length code");
        const length = LENGTH_BASE[l] + need(LENGTH_EXTRA[l]);
        const d = decode(dist);
        if (d >= 30) throw new Error("invalid distance code");
        const distance = DIST_BASE[d] + need(DIST_EXTRA[d]);
        if (distance > written || written + length > size) throw new Error("bad back-reference");
        for (let k = 0; k < length; k++, written++) out[written] = out[written - distance];
      }
    }
  }
  if (written !== size) throw new Error("output shorter than the gzip trailer says");
  return out;
}
