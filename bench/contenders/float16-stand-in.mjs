/**
 * jax-js refers to a global Float16Array, which Node 20 lacks. This stand-in only lets the library
 * load: the suite never creates float16 arrays. Imported before @jax-js/jax (ES modules evaluate
 * their imports in order), so it is in place when jax-js first runs.
 */
if (typeof globalThis.Float16Array === "undefined") {
  globalThis.Float16Array = class Float16Array {};
}
