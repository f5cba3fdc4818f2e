/**
 * test/support/leak-guard.ts (every tier fails a test that prints a token or key material) and
 * the detector behind it, containsKeyMaterial.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePrivateKey } from "../../src/core/private-key";
import { findLeaks } from "../support/leak-guard";
import { containsKeyMaterial, generatedTestKeys, generateTestKey, keyMaterialNeedles } from "../support/keys";
import { REPO_ROOT } from "../support/built-package";
import { runNode } from "../support/child";

describe("containsKeyMaterial", () => {
  test("finds a 12-character run of every needle at every offset, odd ones included", () => {
    const key = generateTestKey();
    for (const needle of keyMaterialNeedles(key)) {
      for (let i = 0; i + 12 <= needle.length; i++) {
        expect([needle.length, i, containsKeyMaterial(`…${needle.slice(i, i + 12)}…`, key)]).toEqual([needle.length, i, true]);
      }
    }
  });

  test("stays quiet on 11 characters, the public key, the fingerprint and another key", () => {
    const key = generateTestKey();
    const needle = keyMaterialNeedles(key)[0]!;
    expect(containsKeyMaterial(needle.slice(3, 14), key)).toBe(false);
    expect(containsKeyMaterial(key.publicKeyPem + parsePrivateKey(key.pem).fingerprint, key)).toBe(false);
    expect(containsKeyMaterial(generateTestKey().pem, key)).toBe(false);
  });

  test("every generated key is registered for the guard", () => {
    const before = generatedTestKeys().length;
    const key = generateTestKey();
    expect(generatedTestKeys().length).toBe(before + 1);
    expect(generatedTestKeys()).toContain(key);
  });
});

describe("findLeaks", () => {
  test("flags a JWT and key material, and nothing in plain text", () => {
    const key = generateTestKey();
    expect(findLeaks("GET /v1/apps 200 in 35 ms", [key])).toEqual([]);
    expect(findLeaks("Bearer eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln", [key])).toEqual(["a JWT"]);
    expect(findLeaks(`key: ${key.pem}`, [key, generateTestKey()])).toEqual(["key material of 1 generated test key"]);
  });
});

describe("the guard in a jest run", () => {
  test("every jest project loads it", () => {
    const config = require(join(REPO_ROOT, "jest.config.js")) as { projects: { displayName: string; setupFilesAfterEnv?: string[] }[] };
    expect(config.projects.map((p) => p.displayName).sort()).toEqual(["component", "consumers", "engine", "runtime", "tooling", "unit"]);
    for (const project of config.projects) expect([project.displayName, project.setupFilesAfterEnv]).toEqual([project.displayName, ["<rootDir>/test/support/leak-guard.ts"]]);
  });

  test("fails exactly the tests that print a token or key material, without repeating it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "asc-leak-guard-"));
    try {
      const configFile = join(dir, "jest.config.js");
      writeFileSync(
        configFile,
        `const tooling = require(${JSON.stringify(join(REPO_ROOT, "jest.config.js"))}).projects.find((p) => p.displayName === "tooling");\n` +
          `module.exports = { ...tooling, rootDir: ${JSON.stringify(REPO_ROOT)}, testMatch: ["<rootDir>/test/tooling/fixtures/leaky.fixture.ts"] };\n`,
      );
      const report = join(dir, "report.json");
      const jestBin = require.resolve("jest/bin/jest", { paths: [REPO_ROOT] });
      const child = await runNode([jestBin, "--config", configFile, "--ci", "--json", `--outputFile=${report}`], { cwd: REPO_ROOT, timeoutMs: 60_000 });
      const result = JSON.parse(readFileSync(report, "utf8")) as { testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[] };
      const tests = result.testResults[0]!.assertionResults;
      expect(tests.map((t) => [t.title.split(":")[0], t.status])).toEqual([
        ["clean", "passed"],
        ["leaks", "failed"],
        ["leaks", "failed"],
        ["leaks", "failed"],
        ["clean", "passed"],
      ]);
      const messages = tests.map((t) => t.failureMessages.join("\n"));
      expect(messages[1]).toContain("console.warn printed a JWT");
      expect(messages[2]).toContain("process.stderr.write printed key material of 1 generated test key");
      expect(messages[3]).toContain("console.debug printed key material");
      // The report names the channel, never the leaked text (the child's own stdout/stderr did
      // carry it: the guard passes output through).
      for (const message of messages) expect(message).not.toMatch(/eyJ[\w-]+\.eyJ/);
      expect(child.stderr).toMatch(/eyJ[\w-]+\.eyJ/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
