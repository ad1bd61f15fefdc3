// The arena hands out zeroed blocks (the kernels rely on zero padding): blocks reused from the free list
// or from released bytes at the top, and blocks over grown pages. (Written for a cold-start experiment
// that skipped zeroing bytes no block had covered yet; it moved the page faults into the weights' copy
// and saved nothing, docs/cold-start.md, fourth round, and was not kept; the guard stays.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Arena, PAGE_BYTES } from "../src/memory.js";

/** Writes 0xff over [start, start + bytes), as a network's weights and buffers would. */
function dirty(memory: WebAssembly.Memory, start: number, bytes: number): void {
  new Uint8Array(memory.buffer, start, bytes).fill(0xff);
}

/** The first non-zero byte of [start, start + bytes), or -1. */
function firstNonZero(memory: WebAssembly.Memory, start: number, bytes: number): number {
  const view = new Uint8Array(memory.buffer, start, bytes);
  return view.findIndex((b) => b !== 0);
}

test("a block released and handed out again is zeroed, from the free list and from the top", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const arena = new Arena(memory, 1000);
  const a = arena.alloc(3000, "a");
  const b = arena.alloc(5000, "b");
  dirty(memory, a, 3000);
  dirty(memory, b, 5000);
  arena.release(a, 3000); // a free block below b
  const c = arena.alloc(2000, "c");
  assert.is(c, a, "the free block is reused");
  assert.is(firstNonZero(memory, c, 2000), -1, "a reused free block is zero");
  arena.release(b, 5000); // the top comes down over dirty bytes
  const d = arena.alloc(7000, "d"); // from the top: over b's dirty bytes and on into bytes never handed out
  assert.is(firstNonZero(memory, d, 7000), -1, "a block over released top bytes is zero");
});

test("blocks over grown pages and over bytes never handed out are zero, and stay so after others are released", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  let grown = 0;
  const arena = new Arena(memory, 64, () => grown++);
  const a = arena.alloc(3 * PAGE_BYTES, "a"); // grows the memory
  assert.is(grown, 1);
  assert.is(firstNonZero(memory, a, 3 * PAGE_BYTES), -1);
  dirty(memory, a, 3 * PAGE_BYTES);
  arena.release(a, 3 * PAGE_BYTES);
  const b = arena.alloc(5 * PAGE_BYTES, "b"); // a's dirty bytes, then grown pages
  assert.is(b, a);
  assert.is(firstNonZero(memory, b, 5 * PAGE_BYTES), -1, "released bytes are zeroed again, grown pages are zero");
  dirty(memory, b, 5 * PAGE_BYTES);
  arena.release(b, 5 * PAGE_BYTES);
  for (const bytes of [64, 1000, PAGE_BYTES + 7, 4 * PAGE_BYTES]) {
    const c = arena.alloc(bytes, "c");
    assert.is(firstNonZero(memory, c, bytes), -1, `a block of ${bytes} bytes over released ones is zero`);
    dirty(memory, c, bytes);
    arena.release(c, bytes);
  }
});

test.run();
