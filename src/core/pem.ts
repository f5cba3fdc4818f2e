/**
 * PEM text: its blocks, which of them is the private key, and why a block is not one. Returns
 * the DER of the one private key, for der.ts to import.
 * @packageDocumentation
 */
import { decodeBase64 } from "./key-input";
import { fail, FIX_DOWNLOAD } from "./key-failure";

/** One `-----BEGIN X----- … -----END X-----` block. */
interface PemBlock {
  label: string;
  /** RFC 1421 header lines such as `Proc-Type: 4,ENCRYPTED` (traditional OpenSSL encryption). */
  headers: string[];
  body: string;
  complete: boolean;
}

/** The private key's DER, and which DER layout its label announces. */
export interface PemKey {
  der: Buffer;
  layout: "pkcs8" | "sec1";
  seenAs: string;
}

const PRIVATE_LABELS = new Set(["PRIVATE KEY", "EC PRIVATE KEY"]);
const PUBLIC_LABELS = new Set(["PUBLIC KEY", "EC PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE", "TRUSTED CERTIFICATE"]);

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

/**
 * The private key of a PEM text. Blocks that go with a key are skipped (`EC PARAMETERS` from
 * `openssl ecparam -genkey`, the key's public key or certificate next to it); two different
 * private keys are refused as ambiguous.
 */
export function privateKeyFromPem(text: string, fingerprintOf: (key: PemKey) => string): PemKey {
  const blocks = readPemBlocks(text);
  if (blocks.length === 0) {
    fail("KEY_MALFORMED", "privateKey has a '-----BEGIN' marker but no complete PEM header line (expected a BEGIN PRIVATE KEY line). Copy the whole .p8 file again, including the BEGIN and END lines.");
  }
  const candidates = blocks.filter((b) => b.label !== "EC PARAMETERS" && !PUBLIC_LABELS.has(b.label));
  if (candidates.length === 0) {
    // Nothing but public material: say what it is.
    describeBlock(blocks.find((b) => b.label !== "EC PARAMETERS") ?? blocks[0]!);
  }
  const keys = candidates.map((block) => keyOfBlock(block));
  if (keys.length > 1) {
    const fingerprints = new Set(keys.map(fingerprintOf));
    if (fingerprints.size > 1) {
      fail("KEY_AMBIGUOUS", `privateKey holds ${keys.length} different private keys, so it is not clear which one to use. Pass the one AuthKey_<KEYID>.p8 file of the Key ID you use, alone.`);
    }
  }
  return keys[0]!;
}

function keyOfBlock(block: PemBlock): PemKey {
  describeBlock(block);
  const label = block.label;
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
  return label === "EC PRIVATE KEY" ? { der, layout: "sec1", seenAs: "SEC1 PEM" } : { der, layout: "pkcs8", seenAs: "PKCS#8 PEM" };
}

/** Refuses every block that is not an unencrypted private key, saying what it is. */
function describeBlock(block: PemBlock): void {
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
  if (PUBLIC_LABELS.has(label)) {
    fail("KEY_IS_PUBLIC", `privateKey is a ${label === "CERTIFICATE" || label === "TRUSTED CERTIFICATE" ? "certificate" : "public key"} (BEGIN ${label}), not a private key. ${FIX_DOWNLOAD}: its first line reads BEGIN PRIVATE KEY.`);
  }
  if (label === "RSA PRIVATE KEY" || label === "DSA PRIVATE KEY") {
    fail("KEY_NOT_EC", `privateKey is an ${label.split(" ")[0]} private key (BEGIN ${label}); App Store Connect keys are EC P-256 keys. ${FIX_DOWNLOAD}.`);
  }
  if (label === "OPENSSH PRIVATE KEY") {
    fail("KEY_MALFORMED", `privateKey is an OpenSSH key (BEGIN OPENSSH PRIVATE KEY), not an App Store Connect key. ${FIX_DOWNLOAD}.`);
  }
  if (!PRIVATE_LABELS.has(label)) {
    // Only a label made of short words is named: a long run could be a slice of a key.
    const shown = /^[A-Z]{2,11}( [A-Z0-9]{2,11}){0,4}$/.test(label) ? ` (BEGIN ${label})` : "";
    fail("KEY_MALFORMED", `privateKey is a PEM block of an unexpected kind${shown}; expected BEGIN PRIVATE KEY. ${FIX_DOWNLOAD}.`);
  }
}
