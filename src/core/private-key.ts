import { createECDH, createHash, type KeyObject } from "node:crypto";
import { importDer } from "./der";
import { bytesAsText, decodeBase64, describeType, MAX_INPUT_LENGTH, refuseHexDump, unwrapText } from "./key-input";
import { fail, FIX_COPY_AGAIN, FIX_DOWNLOAD } from "./key-failure";
import { privateKeyFromPem } from "./pem";
import { quote } from "./redact";

/** A private key in its one canonical form, with the public facts safe to show anywhere. */
export interface ParsedPrivateKey {
  /** PKCS#8 PEM, LF line ends, 64-column lines, trailing newline. Secret. */
  pem: string;
  /** `"sha256:"` + lowercase hex SHA-256 of the public key's SPKI DER. Safe to show. */
  fingerprint: string;
  /** SPKI PEM of the public key. Safe to show. */
  publicKeyPem: string;
  /** Apple's keys are always P-256. */
  curve: "P-256";
}

/**
 * Parses an App Store Connect private key from any of the forms it turns up in, and returns it
 * in one canonical form. The accepted forms (all mapping to the same `pem` and `fingerprint`)
 * are listed in the README ("What it checks").
 *
 * @throws {@link AscCredentialError} with a `KEY_*` code. The message describes what was seen
 * in words and never contains any part of the key.
 */
export function parsePrivateKey(input: string | Uint8Array): ParsedPrivateKey {
  return canonicalise(toKeyObject(input, 0));
}

/**
 * Like {@link parsePrivateKey}, and also returns the imported `KeyObject` so a signer need not
 * import the PEM a second time.
 * @internal
 */
export function parsePrivateKeyObject(input: string | Uint8Array): { parsed: ParsedPrivateKey; keyObject: KeyObject } {
  const keyObject = toKeyObject(input, 0);
  return { parsed: canonicalise(keyObject), keyObject };
}

// Nested decoding happens once at most (base64 of a PEM); a bound keeps hostile input finite.
const MAX_NESTING = 2;

/**
 * The key file's path given where its contents belong (a `privateKey: "./AuthKey_….p8"`, a key
 * variable set to a path). Judged before base64, whose alphabet a path without dots fits. No
 * encoding of a key starts with `/`, `~` or `.`, or ends with a file extension.
 */
function refuseFilePath(text: string): void {
  if (text.length > 4096 || /[\r\n]/.test(text)) return;
  if (!/^(?:~|\.{1,2})?\/|^[A-Za-z]:\\|\.(?:p8|pem|key|txt)$/i.test(text)) return;
  fail(
    "KEY_MALFORMED",
    `privateKey is a file path (${quote(text)}), not the key's contents. Pass what the file holds (in a Pulumi program, pulumi config set --secret privateKey < AuthKey_<KEYID>.p8), or, where a tool's variable takes the key, put the path in its path variable instead (APP_STORE_CONNECT_PRIVATE_KEY_PATH, or codemagic's @file:PATH).`,
  );
}

function toKeyObject(input: string | Uint8Array, depth: number): KeyObject {
  if (typeof input !== "string" && !(input instanceof Uint8Array)) {
    fail("KEY_MALFORMED", `privateKey must be a string or bytes, but a value of type ${describeType(input)} was given. Pass the contents of the .p8 file.`);
  }
  if (input.length > MAX_INPUT_LENGTH) {
    fail(
      "KEY_MALFORMED",
      `privateKey is more than ${MAX_INPUT_LENGTH} ${typeof input === "string" ? "characters" : "bytes"} long, far more than any App Store Connect key (about 250). ${FIX_DOWNLOAD}, not another file.`,
    );
  }
  if (input instanceof Uint8Array) {
    const text = bytesAsText(input);
    if (text !== undefined) return toKeyObject(text, depth);
    return importDer(Buffer.from(input), "raw bytes");
  }
  const text = unwrapText(input);
  if (text.length === 0) {
    fail("KEY_EMPTY", `privateKey is empty${input.length > 0 ? " (only whitespace or quotes)" : ""}. ${FIX_DOWNLOAD}; if it comes from a CI secret or environment variable, check that the variable is set for this job.`);
  }
  if (text.includes("-----BEGIN")) {
    const key = privateKeyFromPem(text, (k) => canonicalise(importDer(k.der, k.seenAs, k.layout)).fingerprint);
    return importDer(key.der, key.seenAs, key.layout);
  }
  // '-' is a base64url character, so a PEM whose BEGIN line was damaged would otherwise be
  // decoded as base64 and reported as corrupted binary.
  if (/BEGIN [A-Z ]*PRIVATE KEY/.test(text)) {
    fail(
      "KEY_MALFORMED",
      `privateKey mentions BEGIN PRIVATE KEY, but the five dashes around it are missing or were changed (chat tools and word processors turn '-----' into long dashes). ${FIX_COPY_AGAIN}`,
    );
  }
  if (text.includes("-----")) {
    fail("KEY_MALFORMED", `privateKey has PEM-style '-----' lines but no BEGIN PRIVATE KEY line (the BEGIN line is missing or was edited). ${FIX_COPY_AGAIN}`);
  }
  refuseHexDump(text);
  refuseFilePath(text);
  if (/^[A-Za-z0-9+/=_-]+$/.test(text.replace(/\s+/g, ""))) {
    const bytes = decodeBase64(text.replace(/\s+/g, ""));
    if (bytes === undefined || bytes.length === 0) {
      fail("KEY_MALFORMED", "privateKey looks like base64 but does not decode (its length or padding is wrong, so it was probably cut short). Copy the whole value again, or pass the PEM text of the .p8 file.");
    }
    const decoded = bytesAsText(bytes);
    if (depth < MAX_NESTING && decoded !== undefined) {
      if (decoded.includes("-----BEGIN")) return toKeyObject(decoded, depth + 1);
      fail("KEY_MALFORMED", "privateKey is base64 of some text that is not a PEM key. Pass the .p8 file's PEM text, or base64 of the whole .p8 file (base64 -w0 AuthKey_<KEYID>.p8).");
    }
    return importDer(bytes, "base64 of binary data");
  }
  fail(
    "KEY_MALFORMED",
    `privateKey is not a PEM key, base64 or DER: it has no BEGIN PRIVATE KEY line and contains characters base64 does not use. ${FIX_DOWNLOAD}; pass its whole text, including the BEGIN and END lines.`,
  );
}

// The fixed DER around a P-256 key's parts: PKCS#8 { version 0, ecPublicKey + prime256v1,
// SEC1 { version 1, d, [1] public point } } and SPKI { ecPublicKey + prime256v1, point }.
const P256_ALGORITHM = Buffer.from("301306072a8648ce3d020106082a8648ce3d030107", "hex");
const PKCS8_PREFIX = Buffer.concat([Buffer.from("308187020100", "hex"), P256_ALGORITHM, Buffer.from("046d306b0201010420", "hex")]);
const PKCS8_POINT = Buffer.from("a144034200", "hex");
const SPKI_PREFIX = Buffer.concat([Buffer.from("3059", "hex"), P256_ALGORITHM, Buffer.from("034200", "hex")]);

function canonicalise(imported: KeyObject): ParsedPrivateKey {
  // The public point is recomputed from the private scalar rather than trusted from the input:
  // OpenSSL loads a PKCS#8/SEC1 key whose scalar was corrupted without noticing, and would then
  // report the old (embedded) public key and fingerprint for a key that signs garbage.
  const jwk = imported.export({ format: "jwk" });
  const { d, point } = publicPointOf(jwk.d);
  if ((jwk.x !== undefined && jwk.x !== point.subarray(1, 33).toString("base64url")) || (jwk.y !== undefined && jwk.y !== point.subarray(33).toString("base64url"))) {
    fail("KEY_MALFORMED", `privateKey's private and public parts do not match: the key was corrupted when it was copied or stored. ${FIX_COPY_AGAIN}`);
  }
  // Rebuilt from d and the point alone, so every form of one key (SEC1 with parameters, PKCS#8
  // without the public key, ...) yields the same PKCS#8 bytes.
  const spkiDer = Buffer.concat([SPKI_PREFIX, point]);
  return {
    pem: toPem("PRIVATE KEY", Buffer.concat([PKCS8_PREFIX, d, PKCS8_POINT, point])),
    fingerprint: fingerprintOfSpki(spkiDer),
    publicKeyPem: toPem("PUBLIC KEY", spkiDer),
    curve: "P-256",
  };
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The 32-byte scalar and the uncompressed public point (0x04 || x || y) it gives on P-256. */
function publicPointOf(dText: string | undefined): { d: Buffer; point: Buffer } {
  const ecdh = createECDH("prime256v1");
  const d = Buffer.from(dText ?? "", "base64url");
  try {
    if (d.length !== 32) throw new Error("not a P-256 scalar");
    ecdh.setPrivateKey(d);
  } catch {
    fail("KEY_MALFORMED", `privateKey's private number is out of range for P-256: the key was corrupted when it was copied or stored. ${FIX_COPY_AGAIN}`);
  }
  return { d, point: ecdh.getPublicKey() };
}

/** `"sha256:"` + hex SHA-256 of an SPKI DER. */
export function fingerprintOfSpki(spkiDer: Uint8Array): string {
  return "sha256:" + createHash("sha256").update(spkiDer).digest("hex");
}
