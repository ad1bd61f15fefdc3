// The kernel module's exports: numbers in, numbers out (byte offsets, counts, activation codes).
export { denseF32, denseF64, denseBackF32, denseBackF64 } from "./matvec";
export { heapBase, isSimdBuild } from "./memory";
