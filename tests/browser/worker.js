// The browser suite in a module Web Worker: runs it and posts the summary back to page.js.
import { runSuite } from "./suite.js";

postMessage(await runSuite("worker"));
