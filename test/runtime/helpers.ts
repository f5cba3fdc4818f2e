/** Shared helpers of the runtime tier: stored-secret JSON, JWT decoding and verification, caught errors. */
import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { parsePrivateKey } from "../../src/core/private-key";
import { testKeyFrom, type TestKey } from "../support/keys";

/** The JSON the component stores, for a generated key. */
export function storedJson(key: TestKey, keyId: string, issuerId: string | undefined, overrides: Record<string, unknown> = {}): string {
  const parsed = parsePrivateKey(key.pem);
  return JSON.stringify({
    schemaVersion: 1,
    keyType: issuerId === undefined ? "individual" : "team",
    keyId,
    ...(issuerId !== undefined ? { issuerId } : {}),
    privateKey: parsed.pem,
    fingerprint: parsed.fingerprint,
    ...overrides,
  });
}

export interface DecodedJwt {
  header: { alg: string; kid: string; typ: string };
  payload: { iss?: string; sub?: string; iat: number; exp: number; aud: string; scope?: string[] };
}

export function decodeJwt(token: string): DecodedJwt {
  const [h, p] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(h!, "base64url").toString()) as DecodedJwt["header"],
    payload: JSON.parse(Buffer.from(p!, "base64url").toString()) as DecodedJwt["payload"],
  };
}

/** True when the token's ES256 signature verifies with the key's public half. */
export function signedBy(token: string, key: TestKey): boolean {
  const [h, p, s] = token.split(".");
  return verify("sha256", Buffer.from(`${h}.${p}`), { key: createPublicKey(key.publicKeyPem), dsaEncoding: "ieee-p1363" }, Buffer.from(s!, "base64url"));
}

/** Runs `fn`, expects an AscCredentialError, returns it. */
export async function rejection(fn: () => Promise<unknown>): Promise<{ code: string; message: string; name: string }> {
  try {
    await fn();
  } catch (error) {
    return error as { code: string; message: string; name: string };
  }
  throw new Error("expected a rejection, got a value");
}

/** Runs `fn`, expects it to throw, returns what it threw (the synchronous {@link rejection}). */
export function thrown(fn: () => unknown): Error & { code: string; field?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code: string; field?: string };
  }
  throw new Error("expected a throw");
}

/** An RSA key in the TestKey shape (for "not an EC key" cases). */
export function generateRsaTestKey(): TestKey {
  return testKeyFrom(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey);
}

/** Lets a background re-read that needs no I/O (a stub client) finish. */
export async function backgroundSettled(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Waits until `condition` holds, for I/O done in the background (a real read); fails after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`the condition did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
