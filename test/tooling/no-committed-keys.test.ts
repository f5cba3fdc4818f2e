/**
 * No private key is committed: test keys (and the TLS test certificate's key) are generated at
 * test time. Scans every file git tracks for a PEM private-key block with a body and, outside
 * test/fixtures/, for any trace of one: a private-key PEM header on its own, or the base64 a
 * private key's DER (or its PEM) starts with. A test needing key-shaped text takes it from a key
 * it generates.
 */
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { run } from "../support/child";

const ROOT = resolve(__dirname, "..", "..");
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z ]*PRIVATE KEY-----\s*\r?\n\s*[A-Za-z0-9+/=]{40,}/;
// Built from pieces so this file does not match itself: a PEM private-key header; base64 of a
// short PKCS#8 DER (P-256, P-384), of a SEC1 P-256 DER, of an RSA key (PKCS#8 or #1) and of a PEM
// text.
const KEY_TRACES = new RegExp(["-----BEGIN [A-Z ]*PRIV" + "ATE KEY-----", "MIG[A-Za-z0-9+/]A" + "gEA", "MHcCA" + "QEE", "MII[A-Za-z0-9+/]{3}IBA" + "(?:DAN|AKC)", "LS0tLS1CR" + "UdJTi"].join("|"));

async function trackedFiles(): Promise<string[]> {
  const listed = await run("git", ["ls-files", "-z"], { cwd: ROOT, timeoutMs: 20_000 });
  expect(listed.code).toBe(0);
  const files = listed.stdout.split("\0").filter((f) => f !== "" && !f.endsWith(".tgz"));
  expect(files.length).toBeGreaterThan(50);
  return files;
}

function textOf(file: string): string {
  try {
    return readFileSync(join(ROOT, file), "utf8");
  } catch {
    return "";
  }
}

test("no tracked file holds a PEM private key", async () => {
  const holding = (await trackedFiles()).filter((file) => PRIVATE_KEY_BLOCK.test(textOf(file)));
  expect(holding).toEqual([]);
});

test("no tracked file outside test/fixtures/ holds a private key's header or the base64 it starts with", async () => {
  const files = (await trackedFiles()).filter((f) => !f.startsWith("test/fixtures/") && f !== "package-lock.json");
  const holding = files.flatMap((file) => textOf(file).split("\n").flatMap((line, i) => (KEY_TRACES.test(line) ? [`${file}:${i + 1}`] : [])));
  expect(holding).toEqual([]);
});

test("the scans find a key where there is one (PKCS#8, SEC1, CRLF), and its traces", () => {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pkcs8 = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const sec1 = privateKey.export({ type: "sec1", format: "pem" }).toString();
  expect(PRIVATE_KEY_BLOCK.test(pkcs8)).toBe(true);
  expect(PRIVATE_KEY_BLOCK.test(pkcs8.replace(/\n/g, "\r\n"))).toBe(true);
  expect(PRIVATE_KEY_BLOCK.test(sec1)).toBe(true);
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const rsa1 = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const body = (pem: string): string => pem.split("\n")[1]!.slice(0, 12);
  const traces = [pkcs8.split("\n")[0]!, sec1.split("\n")[0]!, body(pkcs8), body(sec1), body(rsa), body(rsa1), body(p384), Buffer.from(pkcs8).toString("base64").slice(0, 20)];
  for (const trace of traces) expect([trace, KEY_TRACES.test(`  const text = "${trace}";`)]).toEqual([trace, true]);
  expect(KEY_TRACES.test("it has no BEGIN PRIVATE KEY line")).toBe(false);
});
