/**
 * Every stable error code is documented and tested: a row in the README's table, and at least one
 * test (outside this file) that asserts it by name. A new code cannot land without both.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ERROR_CODES } from "../../src/core/errors";
import { REPO_ROOT } from "../support/built-package";

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith(".test.ts") && path !== __filename ? [path] : [];
  });
}

const README = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const TESTS = testFiles(join(REPO_ROOT, "test")).map((path) => ({ path: relative(REPO_ROOT, path), text: readFileSync(path, "utf8") }));

test("the codes are unique and upper snake case", () => {
  expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  for (const code of ERROR_CODES) expect(code).toMatch(/^[A-Z]+(_[A-Z][A-Z0-9]*)+$/);
});

test.each([...ERROR_CODES])("%s has a README row and a test that asserts it", (code) => {
  expect(README).toMatch(new RegExp(`^\\| \`${code}\` \\| .+ \\|$`, "m"));
  const asserting = TESTS.filter((file) => file.text.includes(`"${code}"`));
  expect(asserting.map((file) => file.path)).not.toEqual([]);
});

test("the README's table lists no code that does not exist", () => {
  const documented = [...README.matchAll(/^\| `([A-Z_]+)` \| /gm)].map((m) => m[1]);
  expect(documented.filter((code) => !(ERROR_CODES as readonly string[]).includes(code!))).toEqual([]);
});
