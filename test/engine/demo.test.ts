/**
 * Engine tier: `npm run demo` (scripts/demo.mjs, the root Pulumi.yaml project) end to end, in a
 * temp demo directory. The first run keeps its directory (--keep) so the test can read the
 * throwaway keys it generated and prove none of them was printed; the second run reuses them
 * and must clean everything up.
 */
import { createPrivateKey } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JWT_PATTERN, REPO_ROOT, requirePulumi } from "../support/engine-harness";
import { containsKeyMaterial, testKeyFrom, type TestKey } from "../support/keys";
import { runSync } from "../support/child";

jest.setTimeout(180_000);

const KEY_IDS = ["DEMOKEY001", "DEMOKEY002"];
let scratch: string;

beforeAll(() => {
  requirePulumi();
  scratch = mkdtempSync(join(tmpdir(), "asc-engine-demo-"));
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// The test runs the script itself: `npm run demo` would rebuild dist/ under the engine tests
// running beside it. This pins what the README's command adds on top: a build, then this script.
test("`npm run demo` is the build followed by scripts/demo.mjs", () => {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  expect(scripts.demo).toBe("npm run --silent build && node scripts/demo.mjs");
  expect(readFileSync(join(REPO_ROOT, "README.md"), "utf8")).toContain("npm ci && npm run demo");
});

function runDemo(demoDir: string, ...args: string[]): string {
  const result = runSync(process.execPath, [join(REPO_ROOT, "scripts", "demo.mjs"), ...args], { cwd: REPO_ROOT, env: { ...process.env, ASC_DEMO_DIR: demoDir }, timeoutMs: 170_000 });
  const printed = `${result.stdout}\n${result.stderr}`;
  if (result.code !== 0) throw new Error(`npm run demo failed (exit ${result.code}):\n${printed}`);
  return printed;
}

/** The demo's key file as a TestKey, so containsKeyMaterial can look for it. */
function demoKey(demoDir: string, keyId: string): TestKey {
  return testKeyFrom(createPrivateKey(readFileSync(join(demoDir, "keys", `AuthKey_${keyId}.p8`), "utf8")));
}

function expectDemoOutput(printed: string, keys: TestKey[]): void {
  expect(printed).toContain("Not deployed here: the AWS storage component");
  for (const heading of ["== 0. Setup", "== 1. Validate the first key DEMOKEY001 (pulumi up)", "== 2. Rotate to DEMOKEY002", "== 3. A mangled key fails at preview", "== 4. Apply the rotation (pulumi up)", "== 5. Clean up (pulumi destroy)"]) {
    expect(printed).toContain(heading);
  }
  expect(printed).toMatch(/~ keyId\s*: "DEMOKEY001" => "DEMOKEY002"/);
  expect(printed).toMatch(/~ fingerprint\s*: "sha256:[0-9a-f]{64}" => "sha256:[0-9a-f]{64}"/);
  expect(printed).toMatch(/privateKey\s*: \[secret\]/);
  expect(printed).toMatch(/previousKeyId\s+DEMOKEY001/);
  expect(printed).toContain("Demo finished.");
  // Step 3 shows the errors of a key name used as key ID and a truncated key, each once.
  expect(printed).toMatch(/keyId 'pricing-automation' looks like the key's name/);
  expect(printed).toMatch(/resource 'app-store-connect-key' has a problem: privateKey has no .* line: the key was cut short/);
  expect(printed.match(/looks like the key's name/g)).toHaveLength(1);
  expect(printed).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  expect(printed).not.toMatch(JWT_PATTERN);
  for (const key of keys) expect(containsKeyMaterial(printed, key)).toBe(false);
}

test("npm run demo: validates a throwaway key, rotates it once, prints the diff and outputs, and cleans up", () => {
  const demoDir = join(scratch, "demo");

  const first = runDemo(demoDir, "--keep");
  expect(first).toMatch(/Key DEMOKEY001: +generated throwaway P-256 key/);
  const keys = KEY_IDS.map((id) => demoKey(demoDir, id));
  expectDemoOutput(first, keys);
  expect(existsSync(join(demoDir, "passphrase"))).toBe(true);

  const second = runDemo(demoDir);
  expect(second).toMatch(/Key DEMOKEY001: +reused throwaway P-256 key/);
  expectDemoOutput(second, keys);
  expect(existsSync(demoDir)).toBe(false);
});
