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
const KEY_TRACES = new RegExp(["-----BEGIN [A-Z ]*PRIV" + "ATE KEY-----", "MIG[A-Za-z0-9+/_-]A" + "gEA", "MHcCA" + "QEE", "MII[A-Za-z0-9+/_-]{3}IBA" + "(?:DAN|AKC)", "LS0tLS1CR" + "UdJTi"].join("|"));
// A whole key written another way: a DER in hex (PKCS#8 or SEC1, with the key's bytes after the
// fixed start, so the prefix constants of src/core/private-key.ts do not match), and a JWK's
// private member.
const KEY_FORMS = new RegExp(["30(?:81[0-9a-f]{2}|82[0-9a-f]{4})0201" + "00[0-9a-f]{40,}", "307702010104" + "20[0-9a-f]{64}", String.raw`(?:\\?"d\\?"|\bd)\s*:\s*\\?["'][A-Za-z0-9_-]{40,}`].join("|"), "i");
/** A binary DER private key (PKCS#8 or SEC1) is a file starting with these bytes. */
function isDerKey(bytes: Buffer): boolean {
  const pkcs8 = bytes[0] === 0x30 && ((bytes[1] === 0x81 && bytes.subarray(3, 6).equals(Buffer.from([2, 1, 0]))) || (bytes[1] === 0x82 && bytes.subarray(4, 7).equals(Buffer.from([2, 1, 0]))));
  return pkcs8 || bytes.subarray(0, 7).equals(Buffer.from([0x30, 0x77, 2, 1, 1, 4, 0x20]));
}

async function trackedFiles(): Promise<string[]> {
  const listed = await run("git", ["ls-files", "-z"], { cwd: ROOT, timeoutMs: 20_000 });
  expect(listed.code).toBe(0);
  const files = listed.stdout.split("\0").filter((f) => f !== "" && !f.endsWith(".tgz"));
  expect(files.length).toBeGreaterThan(50);
  return files;
}

function bytesOf(file: string): Buffer {
  try {
    return readFileSync(join(ROOT, file));
  } catch {
    return Buffer.alloc(0);
  }
}

function textOf(file: string): string {
  return bytesOf(file).toString("utf8");
}

test("no tracked file holds a PEM private key", async () => {
  const holding = (await trackedFiles()).filter((file) => PRIVATE_KEY_BLOCK.test(textOf(file)));
  expect(holding).toEqual([]);
});

test("no tracked file outside test/fixtures/ holds a private key's header or the base64 it starts with", async () => {
  const files = (await trackedFiles()).filter((f) => !f.startsWith("test/fixtures/") && f !== "package-lock.json");
  const holding = files.flatMap((file) => textOf(file).split("\n").flatMap((line, i) => (KEY_TRACES.test(line) || KEY_FORMS.test(line) ? [`${file}:${i + 1}`] : [])));
  expect(holding).toEqual([]);
});

test("no tracked file is a binary DER private key", async () => {
  expect((await trackedFiles()).filter((file) => isDerKey(bytesOf(file)))).toEqual([]);
});

test("the scans find a whole key in hex, base64url or a JWK, and a DER file, but not the fixed DER prefixes", () => {
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const pkcs8 = ec.export({ type: "pkcs8", format: "der" });
  const sec1 = ec.export({ type: "sec1", format: "der" });
  const rsaDer = rsa.export({ type: "pkcs8", format: "der" });
  for (const form of [pkcs8.toString("hex"), pkcs8.toString("hex").toUpperCase(), sec1.toString("hex"), rsaDer.toString("hex"), JSON.stringify(ec.export({ format: "jwk" })), `{ d: "${String(ec.export({ format: "jwk" }).d)}" }`]) {
    expect([form.slice(0, 16), KEY_FORMS.test(`  const text = ${JSON.stringify(form)};`)]).toEqual([form.slice(0, 16), true]);
  }
  for (const der of [pkcs8, rsaDer]) expect(KEY_TRACES.test(der.toString("base64url"))).toBe(true);
  for (const der of [pkcs8, sec1, rsaDer]) expect(isDerKey(der)).toBe(true);
  const constants = textOf("src/core/private-key.ts");
  expect(constants).toContain('"30818702' + '0100"');
  expect(KEY_FORMS.test(constants) || KEY_TRACES.test(constants)).toBe(false);
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
