/**
 * DER: importing a private key through OpenSSL, and sniffing what a DER blob that does not import
 * is (RSA, a public key or certificate, an archive, OpenPGP data, another curve, damage).
 * @packageDocumentation
 */
import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from "node:crypto";
import { fail, FIX_COPY_AGAIN, FIX_DOWNLOAD } from "./key-failure";

/**
 * Imports a DER private key, PKCS#8 or SEC1 (the layout the label announced first), as an EC
 * P-256 key; refuses anything else, saying what it is.
 */
export function importDer(der: Buffer, seenAs: string, preferred?: "pkcs8" | "sec1"): KeyObject {
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
  const archive = ARCHIVES.find(({ magic }) => der.subarray(0, magic.length).equals(magic));
  if (archive) {
    fail("KEY_MALFORMED", `privateKey (${seenAs}) is ${archive.what}, not the key file itself; the key inside may be intact. ${archive.fix} and pass the AuthKey_<KEYID>.p8 it holds.`);
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

// A key file packed for sending (mail, chat, a shared drive): its bytes are the archive's.
const ARCHIVES: { magic: Buffer; what: string; fix: string }[] = [
  { magic: Buffer.from("504b0304", "hex"), what: "a zip archive", fix: "Unzip it (unzip file.zip)" },
  { magic: Buffer.from("1f8b", "hex"), what: "gzip-compressed data", fix: "Decompress it (gunzip -c file.gz > AuthKey_<KEYID>.p8)" },
  { magic: Buffer.from("425a68", "hex"), what: "bzip2-compressed data", fix: "Decompress it (bunzip2)" },
  { magic: Buffer.from("fd377a585a00", "hex"), what: "xz-compressed data", fix: "Decompress it (unxz)" },
  { magic: Buffer.from("377abcaf271c", "hex"), what: "a 7-Zip archive", fix: "Unpack it (7z x)" },
];

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
