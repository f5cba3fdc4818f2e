/**
 * No private key is committed: test keys (and the TLS test certificate's key) are generated at
 * test time. Scans every file git tracks for a PEM private-key block with a body.
 */
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { run } from "../support/child";

const ROOT = resolve(__dirname, "..", "..");
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z ]*PRIVATE KEY-----\s*\r?\n\s*[A-Za-z0-9+/=]{40,}/;

test("no tracked file holds a PEM private key", async () => {
  const listed = await run("git", ["ls-files", "-z"], { cwd: ROOT, timeoutMs: 20_000 });
  expect(listed.code).toBe(0);
  const files = listed.stdout.split("\0").filter((f) => f !== "" && !f.endsWith(".tgz"));
  expect(files.length).toBeGreaterThan(50);
  const holding = files.filter((file) => {
    try {
      return PRIVATE_KEY_BLOCK.test(readFileSync(join(ROOT, file), "utf8"));
    } catch {
      return false;
    }
  });
  expect(holding).toEqual([]);
});

test("the scan finds a key block where there is one (PKCS#8, SEC1, CRLF)", () => {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pkcs8 = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  expect(PRIVATE_KEY_BLOCK.test(pkcs8)).toBe(true);
  expect(PRIVATE_KEY_BLOCK.test(pkcs8.replace(/\n/g, "\r\n"))).toBe(true);
  expect(PRIVATE_KEY_BLOCK.test(privateKey.export({ type: "sec1", format: "pem" }).toString())).toBe(true);
});
