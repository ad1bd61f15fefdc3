/** First byte after the module's static data (AssemblyScript's math tables); src/ lays out memory from here. */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 for the build compiled with --enable simd, 0 for the scalar fallback. */
export function isSimdBuild(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}

/** 1 for the build compiled with --enable relaxed-simd (multiply-adds by relaxed_madd), else 0. */
export function isRelaxedBuild(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
