/**
 * Test keys are generated at test time, never committed. Each helper returns the key in one of
 * the forms users hand to the package, plus the substrings that must never leak.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";

export interface TestKey {
  keyObject: KeyObject;
  /** PKCS#8 PEM, as Apple's AuthKey_<ID>.p8. */
  pem: string;
  sec1Pem: string;
  der: Buffer;
  publicKeyPem: string;
}

export function generateTestKey(namedCurve = "P-256"): TestKey {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve });
  return {
    keyObject: privateKey,
    pem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    sec1Pem: privateKey.export({ type: "sec1", format: "pem" }).toString(),
    der: privateKey.export({ type: "pkcs8", format: "der" }),
    publicKeyPem: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString(),
  };
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
    noLineBreaksInBody: `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`,
    spacesInsteadOfNewlines: key.pem.replace(/\n/g, " "),
    allOnOneLine: key.pem.replace(/\n/g, ""),
    width76: `-----BEGIN PRIVATE KEY-----\n${body.replace(/(.{76})/g, "$1\n")}\n-----END PRIVATE KEY-----`,
    base64OfPemOneLine: Buffer.from(key.pem).toString("base64"),
    base64OfPemWrapped: Buffer.from(key.pem).toString("base64").replace(/(.{76})/g, "$1\n"),
    base64OfDer: key.der.toString("base64"),
    base64UrlOfDer: key.der.toString("base64url"),
    rawDer: new Uint8Array(key.der),
    pemAsBytes: new Uint8Array(Buffer.from(key.pem)),
  };
}

/**
 * Substrings whose presence anywhere means key material leaked: every 12-character run of the
 * PEM body (and of base64 encodings of the PEM and DER) is checked by {@link containsKeyMaterial}.
 */
export function keyMaterialNeedles(key: TestKey): string[] {
  const body = key.pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  const sec1Body = key.sec1Pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  return [body, sec1Body, Buffer.from(key.pem).toString("base64"), key.der.toString("base64url"), key.der.toString("hex")];
}

/** True when `text` contains any 12+ character run of any of the key's encodings. */
export function containsKeyMaterial(text: string, key: TestKey, runLength = 12): boolean {
  for (const needle of keyMaterialNeedles(key)) {
    for (let i = 0; i + runLength <= needle.length; i += 4) {
      if (text.includes(needle.slice(i, i + runLength))) return true;
    }
  }
  return false;
}

export const TEAM = {
  keyId: "2X9R4HXF34",
  issuerId: "57246542-96fe-1a63-e053-0824d011072a",
} as const;
