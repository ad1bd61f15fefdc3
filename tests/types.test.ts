// The API's types: tests/types/*.ts are compiled with tsc (no emit). Each line there either must
// type-check or carries `@ts-expect-error` and must fail; tsc reports an unneeded `@ts-expect-error`,
// so a type that got looser (results typed as the union again, a typo accepted) fails this suite.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";

const root = fileURLToPath(new URL("../../", import.meta.url)); // dist/tests → the repository

test("tests/types type-checks: precision-typed results, JSON models, refused misuse", () => {
  const tsc = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tests/types", "--pretty", "false"], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.is(tsc.error, undefined, String(tsc.error));
  assert.is(tsc.stdout + tsc.stderr, "", `tsc -p tests/types reported:\n${tsc.stdout}${tsc.stderr}`);
  assert.is(tsc.status, 0);
});

test.run();
