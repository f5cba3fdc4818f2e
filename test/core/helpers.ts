/**
 * Shared assertions for the core tests: what every error message must do (name the field, say
 * what was seen, give a fix) and must not do (carry key material).
 */
import { createHash, randomBytes, sign, type KeyObject } from "node:crypto";
import { AscCredentialError, type ErrorCode } from "../../src/core";

/** Runs `fn`, which must throw an AscCredentialError, and returns it (anything else fails). */
export function thrownBy(fn: () => unknown): AscCredentialError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error("expected an AscCredentialError, but nothing was thrown");
  if (!(thrown instanceof AscCredentialError)) {
    throw new Error(`expected an AscCredentialError, got ${String(thrown)}`);
  }
  return thrown;
}

/** Awaits `promise`, which must reject with an AscCredentialError, and returns it. */
export async function rejectionOf(promise: Promise<unknown>): Promise<AscCredentialError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AscCredentialError) return error;
    throw new Error(`expected an AscCredentialError, got ${String(error)}`, { cause: error });
  }
  throw new Error("expected an AscCredentialError, but the promise resolved");
}

// A fix is an instruction: an imperative verb opening a sentence, clause or parenthesis.
const FIX = /(?:^|[.;:(]\s*|\bor\s+|\bkey\s+)(Use|use|Copy|Pass|pass|Remove|Decrypt|decrypt|Put|Set|set|Write|Leave)\b/;

export interface MessageExpectation {
  code: ErrorCode;
  field: string;
  /** What the message must say it saw, in words. */
  seen: RegExp;
  /** Secret strings (PEM texts, base64 bodies) no 12-character run of which may appear. */
  secrets?: string[];
}

/** Asserts the contract every core message keeps. */
export function expectActionable(actual: { code: string; field?: string; message: string }, expected: MessageExpectation): void {
  expect(actual.code).toBe(expected.code);
  expect(actual.field).toBe(expected.field);
  expect(actual.message).toContain(expected.field);
  expect(actual.message).toMatch(expected.seen);
  expect(actual.message).toMatch(FIX);
  for (const secret of expected.secrets ?? []) expect(leaksRunOf(actual.message, secret)).toBe(false);
}

/**
 * True when `text` holds any 12-character run of `secret`'s base64 alphabet content (PEM
 * armour and whitespace removed), i.e. a recognisable piece of a key.
 */
export function leaksRunOf(text: string, secret: string, runLength = 12): boolean {
  const body = secret.replace(/-----[A-Z0-9 ]+-----/g, "").replace(/^[A-Za-z-]+:.*$/gm, "").replace(/\s+/g, "");
  for (let i = 0; i + runLength <= body.length; i++) {
    if (text.includes(body.slice(i, i + runLength))) return true;
  }
  return false;
}

/** The fingerprint computed independently of the package: SHA-256 over the SPKI DER. */
export function expectedFingerprint(publicKey: KeyObject): string {
  return "sha256:" + createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex");
}

// --- Minimal DER writer, to build a real self-signed certificate without external tools. ---

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}
const seq = (...content: Buffer[]): Buffer => tlv(0x30, ...content);
const oid = (hex: string): Buffer => tlv(0x06, Buffer.from(hex, "hex"));
const ECDSA_WITH_SHA256 = seq(oid("2a8648ce3d040302"));
function commonName(cn: string): Buffer {
  return seq(tlv(0x31, seq(oid("550403"), tlv(0x0c, Buffer.from(cn)))));
}

/**
 * A self-signed X.509 v3 certificate (DER) for `privateKey`'s public half, signed with ES256:
 * what a user has when they exported a certificate instead of the key.
 */
export function selfSignedCertificateDer(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  const name = commonName("asc-credential test");
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, Buffer.concat([Buffer.from([0x01]), randomBytes(8)])),
    ECDSA_WITH_SHA256,
    name,
    seq(tlv(0x17, Buffer.from("250101000000Z")), tlv(0x17, Buffer.from("350101000000Z"))),
    name,
    publicKey.export({ type: "spki", format: "der" }),
  );
  const signature = sign("sha256", tbs, privateKey); // DER ECDSA-Sig-Value, as X.509 wants
  return seq(tbs, ECDSA_WITH_SHA256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
}

export function toPem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

// --- OpenPGP: the byte layout `gpg --symmetric` writes (checked against GnuPG 2.2). ---

/**
 * A `.p8.gpg` file as GnuPG writes it: an old-format SKESK v4 packet (tag 3: AES-256, iterated
 * and salted S2K with SHA-1) followed by a new-format SEIPD packet (tag 18, version 1).
 */
export function openPgpSymmetricFile(): Buffer {
  const skesk = Buffer.concat([Buffer.from([0x8c, 0x0d, 0x04, 0x09, 0x03, 0x02]), randomBytes(8), Buffer.from([0xff])]);
  const seipdBody = Buffer.concat([Buffer.from([0x01]), randomBytes(0x41)]);
  return Buffer.concat([skesk, Buffer.from([0xd2, seipdBody.length]), seipdBody]);
}

function crc24(data: Buffer): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** ASCII armour (RFC 4880 section 6), as `gpg --armor` writes it. */
export function armor(data: Buffer): string {
  const crc = Buffer.from([(crc24(data) >> 16) & 0xff, (crc24(data) >> 8) & 0xff, crc24(data) & 0xff]);
  return `-----BEGIN PGP MESSAGE-----\n\n${data.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n=${crc.toString("base64")}\n-----END PGP MESSAGE-----\n`;
}
