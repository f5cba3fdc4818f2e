import { createECDH, createHash, createPrivateKey, createPublicKey, KeyObject, X509Certificate } from "node:crypto";
import { AscCredentialError, type ErrorCode } from "./errors";

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

const FIELD = "privateKey";
const FIX_DOWNLOAD =
  "Use the AuthKey_<KEYID>.p8 file App Store Connect let you download (Users and Access > Integrations > App Store Connect API)";
const FIX_COPY_AGAIN =
  "Copy the whole AuthKey_<KEYID>.p8 file again; if the original is lost, revoke the key in App Store Connect and create a new one.";

function fail(code: ErrorCode, message: string): never {
  throw new AscCredentialError(code, message, FIELD);
}

/**
 * Parses an App Store Connect private key from any of the forms it turns up in, and returns it
 * in one canonical form.
 *
 * Accepted, all mapping to the same `pem` and `fingerprint`: PKCS#8 PEM (Apple's `.p8`); SEC1
 * `EC PRIVATE KEY` PEM; CRLF or CR line ends; literal `\n` escapes (environment variables);
 * surrounding quotes, whitespace or a byte-order mark; any line width or none; base64 of the
 * whole PEM file, on one line or wrapped (the usual CI secret); base64 of the DER; raw DER bytes.
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
  const parsed = canonicalise(keyObject);
  return { parsed, keyObject };
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

// Nested decoding happens once at most (base64 of a PEM); a bound keeps hostile input finite.
const MAX_NESTING = 2;
// A P-256 key in any form is well under 1 KiB; 64 KiB leaves room for odd wrappings and stops
// someone feeding a whole file or archive through the parser.
const MAX_INPUT_LENGTH = 64 * 1024;

function toKeyObject(input: string | Uint8Array, depth: number): KeyObject {
  if (typeof input !== "string" && !(input instanceof Uint8Array)) {
    fail("KEY_MALFORMED", `privateKey must be a string or bytes, but a value of type ${describeType(input)} was given. Pass the contents of the .p8 file.`);
  }
  if (input.length > MAX_INPUT_LENGTH) {
    fail(
      "KEY_MALFORMED",
      `privateKey is ${input.length} ${typeof input === "string" ? "characters" : "bytes"} long, far more than any App Store Connect key (about 250). ${FIX_DOWNLOAD}, not another file.`,
    );
  }
  if (input instanceof Uint8Array) {
    if (looksLikeText(input)) return toKeyObject(Buffer.from(input).toString("utf8"), depth);
    return fromDer(Buffer.from(input), "raw bytes");
  }
  const text = unwrapText(input);
  if (text.length === 0) {
    fail("KEY_EMPTY", `privateKey is empty${input.length > 0 ? " (only whitespace or quotes)" : ""}. ${FIX_DOWNLOAD}; if it comes from a CI secret or environment variable, check that the variable is set for this job.`);
  }
  if (text.includes("-----BEGIN")) return fromPem(text);
  // '-' is a base64url character, so a PEM whose BEGIN line was damaged would otherwise be
  // decoded as base64 and reported as corrupted binary.
  if (/BEGIN [A-Z ]*PRIVATE KEY/.test(text)) {
    fail(
      "KEY_MALFORMED",
      `privateKey mentions BEGIN PRIVATE KEY, but the five dashes around it are missing or were changed (chat tools and word processors turn '-----' into long dashes). ${FIX_COPY_AGAIN}`,
    );
  }
  if (text.includes("-----")) {
    fail(
      "KEY_MALFORMED",
      `privateKey has PEM-style '-----' lines but no BEGIN PRIVATE KEY line (the BEGIN line is missing or was edited). ${FIX_COPY_AGAIN}`,
    );
  }
  if (/^[A-Za-z0-9+/=_-]+$/.test(text.replace(/\s+/g, ""))) {
    const bytes = decodeBase64(text.replace(/\s+/g, ""));
    if (bytes === undefined || bytes.length === 0) {
      fail("KEY_MALFORMED", "privateKey looks like base64 but does not decode (its length or padding is wrong, so it was probably cut short). Copy the whole value again, or pass the PEM text of the .p8 file.");
    }
    if (depth < MAX_NESTING && looksLikeText(bytes)) {
      const decoded = bytes.toString("utf8");
      if (decoded.includes("-----BEGIN")) return toKeyObject(decoded, depth + 1);
      fail("KEY_MALFORMED", "privateKey is base64 of some text that is not a PEM key. Pass the .p8 file's PEM text, or base64 of the whole .p8 file (base64 -w0 AuthKey_<KEYID>.p8).");
    }
    return fromDer(bytes, "base64 of binary data");
  }
  fail(
    "KEY_MALFORMED",
    `privateKey is not a PEM key, base64 or DER: it has no BEGIN PRIVATE KEY line and contains characters base64 does not use. ${FIX_DOWNLOAD}; pass its whole text, including the BEGIN and END lines.`,
  );
}

/** Removes what transports add around a PEM: BOM, quotes, whitespace, escaped line ends. */
function unwrapText(raw: string): string {
  let text = raw.replace(/^\uFEFF/, "").trim();
  for (let i = 0; i < 3; i++) {
    const quoted = /^(["'`])([\s\S]*)\1$/.exec(text);
    if (!quoted) break;
    text = (quoted[2] ?? "").replace(/^\uFEFF/, "").trim();
  }
  // Literal backslash escapes come from env files and JSON-ish CI variables.
  text = text.replace(/\\r\\n|\\n|\\r/g, "\n");
  return text.replace(/\r\n?/g, "\n").trim();
}

interface PemBlock {
  label: string;
  /** RFC 1421 header lines such as `Proc-Type: 4,ENCRYPTED` (traditional OpenSSL encryption). */
  headers: string[];
  body: string;
  complete: boolean;
}

function readPemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const begin = /-----BEGIN ([A-Z0-9 ]+)-----/g;
  let match: RegExpExecArray | null;
  while ((match = begin.exec(text)) !== null) {
    const label = match[1] ?? "";
    const start = match.index + match[0].length;
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, start);
    const lines = (end === -1 ? text.slice(start) : text.slice(start, end)).split("\n");
    // base64 never contains ':', so a line with one is a header, not body.
    blocks.push({
      label,
      headers: lines.filter((line) => line.includes(":")),
      body: lines.filter((line) => !line.includes(":")).join(""),
      complete: end !== -1,
    });
    begin.lastIndex = end === -1 ? text.length : end + endMarker.length;
  }
  return blocks;
}

function fromPem(text: string): KeyObject {
  const blocks = readPemBlocks(text);
  if (blocks.length === 0) {
    fail("KEY_MALFORMED", "privateKey has a '-----BEGIN' marker but no complete PEM header line (expected a BEGIN PRIVATE KEY line). Copy the whole .p8 file again, including the BEGIN and END lines.");
  }
  // `openssl ecparam -genkey` writes an EC PARAMETERS block before the key: skip it.
  const block = blocks.find((b) => b.label !== "EC PARAMETERS") ?? blocks[0]!;
  const label = block.label;
  if (label === "PGP MESSAGE") {
    fail("KEY_ENCRYPTED", "privateKey is an OpenPGP-encrypted message (BEGIN PGP MESSAGE), such as a .p8.gpg copy. Decrypt it first (gpg --decrypt AuthKey_<KEYID>.p8.gpg > AuthKey_<KEYID>.p8) and pass the decrypted .p8 contents.");
  }
  if (label === "ENCRYPTED PRIVATE KEY") {
    fail("KEY_ENCRYPTED", "privateKey is a password-protected key (BEGIN ENCRYPTED PRIVATE KEY). App Store Connect keys are not encrypted; decrypt it with 'openssl pkcs8 -in encrypted.p8 -out AuthKey_<KEYID>.p8' and pass the result.");
  }
  if (block.headers.some((line) => /Proc-Type:\s*4,ENCRYPTED/i.test(line))) {
    fail("KEY_ENCRYPTED", `privateKey is a password-protected key (BEGIN ${label} with a 'Proc-Type: 4,ENCRYPTED' header). App Store Connect keys are not encrypted; decrypt it with 'openssl pkey -in encrypted.pem -out AuthKey_<KEYID>.p8' and pass the result.`);
  }
  if (label === "PUBLIC KEY" || label === "EC PUBLIC KEY" || label === "RSA PUBLIC KEY" || label === "CERTIFICATE" || label === "TRUSTED CERTIFICATE") {
    fail("KEY_IS_PUBLIC", `privateKey is a ${label === "CERTIFICATE" || label === "TRUSTED CERTIFICATE" ? "certificate" : "public key"} (BEGIN ${label}), not a private key. ${FIX_DOWNLOAD}: its first line reads BEGIN PRIVATE KEY.`);
  }
  if (label === "RSA PRIVATE KEY" || label === "DSA PRIVATE KEY") {
    fail("KEY_NOT_EC", `privateKey is an ${label.split(" ")[0]} private key (BEGIN ${label}); App Store Connect keys are EC P-256 keys. ${FIX_DOWNLOAD}.`);
  }
  if (label === "OPENSSH PRIVATE KEY") {
    fail("KEY_MALFORMED", `privateKey is an OpenSSH key (BEGIN OPENSSH PRIVATE KEY), not an App Store Connect key. ${FIX_DOWNLOAD}.`);
  }
  if (label !== "PRIVATE KEY" && label !== "EC PRIVATE KEY") {
    fail("KEY_MALFORMED", `privateKey is a PEM block of an unexpected kind (BEGIN ${label}); expected BEGIN PRIVATE KEY. ${FIX_DOWNLOAD}.`);
  }
  if (!block.complete) {
    fail("KEY_MALFORMED", `privateKey has no '-----END ${label}-----' line: the key was cut short when it was copied. Copy the whole .p8 file again.`);
  }
  const body = block.body.replace(/\s+/g, "");
  if (body.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
    fail("KEY_MALFORMED", `privateKey's PEM body ${body.length === 0 ? "is empty" : "contains characters that are not base64"}: the text between the BEGIN and END lines was damaged. Copy the whole .p8 file again.`);
  }
  const der = decodeBase64(body);
  if (der === undefined) {
    fail("KEY_MALFORMED", "privateKey's PEM body has the wrong length for base64: part of it was lost when it was copied. Copy the whole .p8 file again.");
  }
  return fromDer(der, label === "EC PRIVATE KEY" ? "SEC1 PEM" : "PKCS#8 PEM", label === "EC PRIVATE KEY" ? "sec1" : "pkcs8");
}

function fromDer(der: Buffer, seenAs: string, preferred?: "pkcs8" | "sec1"): KeyObject {
  const order: ("pkcs8" | "sec1")[] = preferred === "sec1" ? ["sec1", "pkcs8"] : ["pkcs8", "sec1"];
  let encrypted = false;
  for (const type of order) {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: der, format: "der", type });
    } catch (error) {
      if ((error as { code?: unknown }).code === "ERR_MISSING_PASSPHRASE") encrypted = true;
      continue;
    }
    return checkKeyKind(key);
  }
  if (encrypted) {
    fail("KEY_ENCRYPTED", `privateKey (${seenAs}) is a password-protected PKCS#8 key. App Store Connect keys are not encrypted; decrypt it with 'openssl pkcs8 -in encrypted.p8 -out AuthKey_<KEYID>.p8' and pass the result.`);
  }
  if (isRsaPkcs1(der)) {
    fail("KEY_NOT_EC", `privateKey (${seenAs}) is an RSA private key; App Store Connect keys are EC P-256 keys. ${FIX_DOWNLOAD}.`);
  }
  if (isPublicDer(der)) {
    fail("KEY_IS_PUBLIC", `privateKey (${seenAs}) is a public key or certificate, not a private key. ${FIX_DOWNLOAD}: it is the file whose first line reads BEGIN PRIVATE KEY.`);
  }
  if (isOpenPgpPacket(der)) {
    fail("KEY_ENCRYPTED", `privateKey (${seenAs}) is binary OpenPGP-encrypted data (a .p8.gpg file). Decrypt it first (gpg --decrypt AuthKey_<KEYID>.p8.gpg > AuthKey_<KEYID>.p8) and pass the decrypted .p8 contents.`);
  }
  // OpenSSL says "unsupported" for any undecodable DER, so only a structurally complete EC key
  // naming another curve is reported as a curve problem; anything else is damage.
  const curveOid = ecCurveOid(der);
  if (curveOid !== undefined && !curveOid.equals(P256_OID) && isCompleteDer(der)) {
    fail("KEY_WRONG_CURVE", `privateKey (${seenAs}) is an EC key on a curve other than P-256 that this machine cannot load; App Store Connect keys use P-256 (prime256v1). ${FIX_DOWNLOAD}.`);
  }
  fail("KEY_MALFORMED", `privateKey (${seenAs}) is not a readable private key: its bytes are truncated or corrupted. ${FIX_COPY_AGAIN}`);
}

function isRsaPkcs1(der: Buffer): boolean {
  try {
    createPrivateKey({ key: der, format: "der", type: "pkcs1" });
    return true;
  } catch {
    return false;
  }
}

function checkKeyKind(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== "ec") {
    fail("KEY_NOT_EC", `privateKey is ${describeKeyType(key.asymmetricKeyType)} private key; App Store Connect keys are EC P-256 keys. ${FIX_DOWNLOAD}.`);
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve !== "prime256v1") {
    fail("KEY_WRONG_CURVE", `privateKey is an EC key on the ${describeCurve(curve)} curve; App Store Connect keys use P-256 (prime256v1) and ES256. ${FIX_DOWNLOAD}.`);
  }
  return key;
}

function isPublicDer(der: Buffer): boolean {
  try {
    createPublicKey({ key: der, format: "der", type: "spki" });
    return true;
  } catch {
    /* not SPKI */
  }
  try {
    new X509Certificate(der);
    return true;
  } catch {
    return false;
  }
}

const P256_OID = Buffer.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
// id-ecPublicKey (1.2.840.10045.2.1), followed in PKCS#8 and SPKI by the named curve's OID.
const EC_PUBLIC_KEY_OID = Buffer.from([0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);

/** The named-curve OID of an EC key's DER (PKCS#8 algorithm parameters or SEC1 [0]), if any. */
function ecCurveOid(der: Buffer): Buffer | undefined {
  const algorithm = der.indexOf(EC_PUBLIC_KEY_OID);
  let at = algorithm === -1 ? -1 : algorithm + EC_PUBLIC_KEY_OID.length;
  if (at === -1) {
    // SEC1: SEQUENCE { INTEGER 1, OCTET STRING d, [0] { OID curve } ... }
    const sec1 = der.indexOf(Buffer.from([0x02, 0x01, 0x01, 0x04]));
    if (sec1 === -1) return undefined;
    const dLength = der[sec1 + 4];
    if (dLength === undefined || dLength > 0x7f) return undefined;
    at = sec1 + 5 + dLength;
    if (der[at] !== 0xa0) return undefined;
    at += 2;
  }
  if (der[at] !== 0x06) return undefined;
  const length = der[at + 1];
  if (length === undefined || length > 0x7f || at + 2 + length > der.length) return undefined;
  return der.subarray(at + 2, at + 2 + length);
}

/** True when the outer DER SEQUENCE's length matches the bytes exactly (not cut, not padded). */
function isCompleteDer(der: Buffer): boolean {
  if (der[0] !== 0x30 || der.length < 2) return false;
  const first = der[1]!;
  if (first < 0x80) return 2 + first === der.length;
  const octets = first & 0x7f;
  if (octets === 0 || octets > 3 || der.length < 2 + octets) return false;
  let length = 0;
  for (let i = 0; i < octets; i++) length = length * 256 + der[2 + i]!;
  return 2 + octets + length === der.length;
}

// OpenPGP encrypted files start with a public-key (tag 1, version 3 or 6) or symmetric-key
// (tag 3, version 4 to 6) encrypted session key packet; DER always starts with 0x30.
function isOpenPgpPacket(bytes: Buffer): boolean {
  const first = bytes[0];
  if (first === undefined || (first & 0x80) === 0) return false;
  let tag: number;
  let lengthBytes: number;
  if ((first & 0x40) !== 0) {
    tag = first & 0x3f;
    const octet = bytes[1] ?? 0xff;
    lengthBytes = octet < 192 ? 1 : octet < 224 ? 2 : octet === 255 ? 5 : 1;
  } else {
    tag = (first >> 2) & 0x0f;
    lengthBytes = [1, 2, 4, 0][first & 0x03] ?? 0;
  }
  const version = bytes[1 + lengthBytes];
  return (tag === 1 && (version === 3 || version === 6)) || (tag === 3 && version !== undefined && version >= 4 && version <= 6);
}

function decodeBase64(text: string): Buffer | undefined {
  const standard = text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (standard.length % 4 === 1) return undefined;
  const bytes = Buffer.from(standard, "base64");
  return bytes;
}

function looksLikeText(bytes: Uint8Array): boolean {
  const hasBom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const sample = bytes.subarray(hasBom ? 3 : 0, 512);
  if (sample.length === 0) return true;
  for (const b of sample) {
    if (!(b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))) return false;
  }
  return true;
}

/** The key type in words, with its article. */
function describeKeyType(type: string | undefined): string {
  switch (type) {
    case "rsa":
    case "rsa-pss":
      return "an RSA";
    case "dsa":
      return "a DSA";
    case "ed25519":
      return "an Ed25519";
    case "ed448":
      return "an Ed448";
    case "x25519":
      return "an X25519";
    case "x448":
      return "an X448";
    case "dh":
      return "a Diffie-Hellman";
    default:
      return "a non-EC";
  }
}

function describeCurve(curve: string | undefined): string {
  switch (curve) {
    case "secp384r1":
      return "P-384 (secp384r1)";
    case "secp521r1":
      return "P-521 (secp521r1)";
    case "secp256k1":
      return "secp256k1 (the Bitcoin curve)";
    case undefined:
      return "unknown";
    default:
      return curve;
  }
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
