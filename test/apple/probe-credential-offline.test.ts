/**
 * probeCredential in offline mode, as the core issue delivers it (the online mode and the
 * probe resource are tested under test/probe by the probe issue).
 */
import { probeCredential } from "../../src/apple/probe-credential";
import { importSPKI, jwtVerify } from "jose";
import { clearSigningKeyCache, createToken, parsePrivateKey } from "../../src/core";
import { containsKeyMaterial, generateTestKey, TEAM } from "../support/keys";

const key = generateTestKey();

describe("probeCredential (offline)", () => {
  it("is ok for a valid team key, with its fingerprint, and makes no network call", async () => {
    const realFetch = globalThis.fetch;
    const fetchSpy = jest.fn(() => Promise.reject(new Error("no network in offline mode")));
    globalThis.fetch = fetchSpy as unknown as typeof fetch;
    try {
      const result = await probeCredential({ ...TEAM, privateKey: key.pem });
      const parsed = parsePrivateKey(key.pem);
      expect(result).toEqual({ ok: true, mode: "offline", fingerprint: parsed.fingerprint, publicKeyPem: parsed.publicKeyPem });
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      globalThis.fetch = realFetch;
    }
  });
  it("is ok for a valid individual key and an explicit now (Date or epoch seconds)", async () => {
    const credential = { keyId: TEAM.keyId, privateKey: key.der.toString("base64"), keyType: "individual" as const };
    expect((await probeCredential(credential, { mode: "offline", now: new Date("2026-01-01T00:00:00Z") })).ok).toBe(true);
    expect((await probeCredential(credential, { now: 1_760_000_000 })).ok).toBe(true);
  });
  it.each([
    ["a public key", { ...TEAM, privateKey: key.publicKeyPem }, "KEY_IS_PUBLIC"],
    ["a truncated key", { ...TEAM, privateKey: key.pem.slice(0, 100) }, "KEY_MALFORMED"],
    ["an empty key", { ...TEAM, privateKey: "" }, "KEY_EMPTY"],
    ["a key name as keyId", { ...TEAM, keyId: "pricing-automation", privateKey: key.pem }, "KEY_ID_LOOKS_LIKE_NAME"],
    ["no issuer for a team key", { keyId: TEAM.keyId, privateKey: key.pem }, "ISSUER_ID_MISSING"],
    ["not a credential at all", null, "KEY_ID_INVALID"],
  ])("returns (never throws) an error for %s", async (_name, credential, code) => {
    const result = await probeCredential(credential as never);
    expect(result.ok).toBe(false);
    expect(result.mode).toBe("offline");
    expect(result.error?.code).toBe(code);
    expect(containsKeyMaterial(JSON.stringify(result), key)).toBe(false);
  });
  it("keeps the fingerprint when only the identifiers are wrong (so the user sees which key it was)", async () => {
    const result = await probeCredential({ ...TEAM, keyId: "bad", privateKey: key.pem });
    expect(result.fingerprint).toBe(parsePrivateKey(key.pem).fingerprint);
  });
  it.each([
    ["a getter that throws", Object.defineProperty({}, "mode", { get: () => { throw new Error(key.pem); } })],
    ["a Proxy that throws on every read", new Proxy({}, { get: () => { throw new Error(key.pem); } })],
  ])("options with %s: a result with a typed error, never a rejection", async (_label, options) => {
    const result = await probeCredential({ ...TEAM, privateKey: key.pem }, options as never);
    expect(result).toMatchObject({ ok: false, mode: "offline", error: { code: "API_UNEXPECTED" } });
    expect(containsKeyMaterial(JSON.stringify(result), key)).toBe(false);
  });
});

describe("probeCredential and the signing-key cache", () => {
  it("a credential whose privateKey reads differently each time leaves no key cached under another key's text", async () => {
    clearSigningKeyCache();
    const other = generateTestKey();
    const reads = [key.pem, key.pem, key.pem];
    const credential = { ...TEAM, get privateKey() { return reads.shift() ?? other.pem; } };
    const result = await probeCredential(credential);
    if (result.ok) expect(result.fingerprint).toBe(parsePrivateKey(key.pem).fingerprint);
    // The other key's text signs with the other key, not with the key the probe validated.
    const token = await createToken({ ...TEAM, privateKey: other.pem });
    await expect(jwtVerify(token, await importSPKI(other.publicKeyPem, "ES256"), { algorithms: ["ES256"] })).resolves.toBeDefined();
  });
});
