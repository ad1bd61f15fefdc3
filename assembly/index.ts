// The kernel module's exports: numbers in, numbers out (byte offsets, counts, activation codes).
export { denseF32, denseF64, denseBackF32, denseBackF64 } from "./matvec";
export { gemmF32, gemmF64, gemmTF32, gemmTF64 } from "./gemm";
export {
  forwardNetF32, forwardNetF64, gradientNetF32, gradientNetF64, vjpNetF32, vjpNetF64,
  jvpNetF32, jvpNetF64, hvpNetF32, hvpNetF64, backwardNetF32, backwardNetF64,
} from "./network";
export { jacobianBackF32, jacobianBackF64, jacobianTopF32, jacobianTopF64 } from "./jacobian";
export { firstNonFiniteF32, firstNonFiniteF64 } from "./check";
export { denseBackColsF32, denseBackColsF64, backRowsF32, backRowsF64, backCombineF32, backCombineF64 } from "./split";
export { heapBase, isRelaxedBuild, isSimdBuild } from "./memory";
