/**
 * Test keys are generated at test time, never committed. Each helper returns the key in one of
 * the forms users hand to the package, plus the substrings that must never leak.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";

/** A PEM block. Built here so no file of the suite carries a literal key header. */
export function pemBlock(label: string, body: string): string {
  const dashes = "-".repeat(5);
  return `${dashes}BEGIN ${label}${dashes}\n${body}\n${dashes}END ${label}${dashes}\n`;
}

export interface TestKey {
  keyObject: KeyObject;
  /** PKCS#8 PEM, as Apple's AuthKey_<ID>.p8. */
  pem: string;
  sec1Pem: string;
  der: Buffer;
  publicKeyPem: string;
}

// On the test file's global rather than in this module, so every copy of this module in one test
// file (jest.isolateModules, resetModules) and test/support/leak-guard.ts share one list. Each
// test file has its own global, so the list holds the keys of one test file.
const REGISTRY = Symbol.for("pulumi-asc-credential.test-keys");

/** Every key generateTestKey made in this test file (read by test/support/leak-guard.ts). */
export function generatedTestKeys(): readonly TestKey[] {
  return ((globalThis as Record<symbol, TestKey[] | undefined>)[REGISTRY] ??= []);
}

/** Adds a key made elsewhere (e.g. an RSA TestKey) to the keys the leak guard looks for. */
export function registerTestKey(key: TestKey): TestKey {
  (generatedTestKeys() as TestKey[]).push(key);
  return key;
}

export function generateTestKey(namedCurve = "P-256"): TestKey {
  return testKeyFrom(generateKeyPairSync("ec", { namedCurve }).privateKey);
}

/**
 * Any private key in the TestKey shape, registered for the leak guard. `sec1Pem` is the key's
 * traditional form: SEC1 for EC keys, PKCS#1 for RSA.
 */
export function testKeyFrom(privateKey: KeyObject): TestKey {
  return registerTestKey({
    keyObject: privateKey,
    pem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    sec1Pem: privateKey.export({ type: privateKey.asymmetricKeyType === "ec" ? "sec1" : "pkcs1", format: "pem" }).toString(),
    der: privateKey.export({ type: "pkcs8", format: "der" }),
    publicKeyPem: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString(),
  });
}

/** Every form of one key that parsePrivateKey must accept. */
export function acceptedForms(key: TestKey): Record<string, string | Uint8Array> {
  const body = key.pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  return {
    pkcs8Pem: key.pem,
    sec1Pem: key.sec1Pem,
    crlf: key.pem.replace(/\n/g, "\r\n"),
    cr: key.pem.replace(/\n/g, "\r"),
    literalBackslashN: key.pem.replace(/\n/g, "\\n"),
    literalBackslashRN: key.pem.replace(/\n/g, "\\r\\n"),
    doubleQuoted: `"${key.pem}"`,
    singleQuotedEscaped: `'${key.pem.replace(/\n/g, "\\n")}'`,
    surroundingWhitespace: `\n\n   ${key.pem}   \n\t`,
    bom: `\uFEFF${key.pem}`,
    noLineBreaksInBody: pemBlock("PRIVATE KEY", body),
    spacesInsteadOfNewlines: key.pem.replace(/\n/g, " "),
    allOnOneLine: key.pem.replace(/\n/g, ""),
    width76: pemBlock("PRIVATE KEY", body.replace(/(.{76})/g, "$1\n")).trimEnd(),
    base64OfPemOneLine: Buffer.from(key.pem).toString("base64"),
    base64OfPemWrapped: Buffer.from(key.pem).toString("base64").replace(/(.{76})/g, "$1\n"),
    base64OfDer: key.der.toString("base64"),
    base64UrlOfDer: key.der.toString("base64url"),
    rawDer: new Uint8Array(key.der),
    pemAsBytes: new Uint8Array(Buffer.from(key.pem)),
  };
}

/** The accepted forms that are text, as [name, text] pairs: what a user could paste into a string slot. */
export function acceptedTextForms(key: TestKey): [string, string][] {
  return Object.entries(acceptedForms(key)).filter((entry): entry is [string, string] => typeof entry[1] === "string");
}

/**
 * Encodings of the key's secret part only. The private scalar `d` sits between a DER header that
 * is the same for every P-256 key and the public point that `publicKeyPem` rightly shows, so each
 * needle is the slice of an encoding that depends on `d` alone.
 */
export function keyMaterialNeedles(key: TestKey): string[] {
  const d = Buffer.from(key.keyObject.export({ format: "jwk" }).d ?? "", "base64url");
  // Characters of base64(bytes) that encode only bytes within [start, end).
  const secretSlice = (bytes: Buffer, start: number, end: number, encoding: "base64" | "base64url"): string =>
    bytes.toString(encoding).slice(Math.ceil(start / 3) * 4, Math.floor(end / 3) * 4);
  const around = (bytes: Buffer, encoding: "base64" | "base64url"): string => {
    const start = bytes.indexOf(d);
    return secretSlice(bytes, start, start + d.length, encoding);
  };
  const pkcs8Body = around(key.der, "base64");
  // SEC1 exists only for EC keys; tests also wrap RSA keys in a TestKey.
  const sec1Der = key.keyObject.asymmetricKeyType === "ec" ? key.keyObject.export({ type: "sec1", format: "der" }) : key.der;
  const pemText = Buffer.from(key.pem);
  const bodyStart = key.pem.indexOf(pkcs8Body.slice(0, 8));
  return [
    pkcs8Body,
    around(sec1Der, "base64"),
    around(key.der, "base64url"),
    secretSlice(pemText, bodyStart, bodyStart + pkcs8Body.length, "base64"),
    d.toString("base64"),
    d.toString("base64url"),
    d.toString("hex"),
  ];
}

// Every runLength-character window of every needle, per key and run length: built once, since
// tests scan many texts (large engine state files among them) against the same key.
const windowCache = new WeakMap<TestKey, Map<number, Set<string>>>();

function keyMaterialWindows(key: TestKey, runLength: number): Set<string> {
  let byLength = windowCache.get(key);
  if (!byLength) windowCache.set(key, (byLength = new Map()));
  let windows = byLength.get(runLength);
  if (!windows) {
    windows = new Set();
    for (const needle of keyMaterialNeedles(key)) {
      for (let i = 0; i + runLength <= needle.length; i++) windows.add(needle.slice(i, i + runLength));
    }
    byLength.set(runLength, windows);
  }
  return windows;
}

/**
 * True when `text` contains any `runLength`-character run (default 12) of any encoding of the
 * key's secret part, at any offset. Linear in the text: each of its windows is looked up in a
 * precomputed set.
 */
export function containsKeyMaterial(text: string, key: TestKey, runLength = 12): boolean {
  const windows = keyMaterialWindows(key, runLength);
  if (windows.size === 0) return false;
  for (let i = 0; i + runLength <= text.length; i++) {
    if (windows.has(text.slice(i, i + runLength))) return true;
  }
  return false;
}

export const TEAM = {
  keyId: "2X9R4HXF34",
  issuerId: "57246542-96fe-1a63-e053-0824d011072a",
} as const;
