/**
 * Every text in the repository stands on its own: no comment or document points at an issue
 * tracker's numbers or at design notes that are not part of the repository.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { run } from "../support/child";

const ROOT = resolve(__dirname, "..", "..");
// Built from pieces so this file does not match itself.
const OUTSIDE_REFERENCE = new RegExp(["DESI" + "GN\\.md", "ASC-" + "FACTS", "\\.\\./sha" + "red/", "\\biss" + "ue ?#?\\d+", "\\bta" + "sk ?#?\\d+", "\\(#\\d+\\)"].join("|"), "i");

function outsideReferences(text: string): string[] {
  return text.split("\n").filter((line) => OUTSIDE_REFERENCE.test(line));
}

test("no tracked text refers to issue numbers or to documents outside the repository", async () => {
  const listed = await run("git", ["ls-files", "-z"], { cwd: ROOT, timeoutMs: 20_000 });
  expect(listed.code).toBe(0);
  // The packed 0.1.0 release is a published artifact, kept as it was.
  const files = listed.stdout.split("\0").filter((f) => f !== "" && !f.endsWith(".tgz") && !f.startsWith("test/fixtures/") && f !== "package-lock.json");
  expect(files.length).toBeGreaterThan(50);
  const found = files.flatMap((file) => outsideReferences(readFileSync(join(ROOT, file), "utf8")).map((line) => `${file}: ${line.trim().slice(0, 120)}`));
  expect(found).toEqual([]);
});

test("the scan finds such references where there are some", () => {
  for (const line of ["// see iss" + "ue 12", "// per ../sha" + "red/DESI" + "GN.md", "// ASC-" + "FACTS says so", "// fixed in (" + "#41)", "// Ta" + "sk #3: split"]) {
    expect(outsideReferences(line)).toEqual([line]);
  }
  expect(outsideReferences("// the design of the resolver (one source per slot)")).toEqual([]);
});
