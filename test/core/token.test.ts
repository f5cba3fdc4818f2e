import { createPublicKey, verify } from "node:crypto";
import { importSPKI, jwtVerify, decodeProtectedHeader } from "jose";
import { clearSigningKeyCache, createToken, DEFAULT_TOKEN_LIFETIME_SECONDS, MAX_TOKEN_LIFETIME_SECONDS, type CredentialInput } from "../../src/core";
import { acceptedForms, containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";
import { toEpochSeconds } from "../../src/core/token";
import { expectActionable, rejectionOf, thrownBy } from "./helpers";

const key = generateTestKey();
const other = generateTestKey();
const team = (k: TestKey = key, overrides: Partial<CredentialInput> = {}): CredentialInput => ({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: k.pem, ...overrides });
const individual = (k: TestKey = key): CredentialInput => ({ keyId: TEAM.keyId, privateKey: k.pem, keyType: "individual" });
const NOW = 1_760_000_000;

/** The token's three parts, decoded without any library. */
function parts(token: string): { headerJson: string; payloadJson: string; signature: Buffer; signingInput: string } {
  const [h, p, s, ...rest] = token.split(".");
  expect(rest).toEqual([]);
  for (const part of [h, p, s]) expect(part).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
  return { headerJson: Buffer.from(h!, "base64url").toString(), payloadJson: Buffer.from(p!, "base64url").toString(), signature: Buffer.from(s!, "base64url"), signingInput: `${h}.${p}` };
}

/** True when node:crypto accepts the signature as ES256 (P-256, SHA-256, r||s) by `k`. */
function verifiesWith(token: string, k: TestKey): boolean {
  const { signature, signingInput } = parts(token);
  return verify("sha256", Buffer.from(signingInput), { key: createPublicKey(k.keyObject), dsaEncoding: "ieee-p1363" }, signature);
}

beforeEach(() => clearSigningKeyCache());

describe("createToken: header and payload exactly as Apple wants them", () => {
  it("header is exactly {alg, kid, typ} in that order", async () => {
    const token = await createToken(team(), { now: NOW });
    expect(parts(token).headerJson).toBe(JSON.stringify({ alg: "ES256", kid: TEAM.keyId, typ: "JWT" }));
    expect(decodeProtectedHeader(token)).toEqual({ alg: "ES256", kid: TEAM.keyId, typ: "JWT" });
  });
  it("team payload is exactly {iss, iat, exp, aud}", async () => {
    const token = await createToken(team(), { now: NOW });
    expect(parts(token).payloadJson).toBe(JSON.stringify({ iss: TEAM.issuerId, iat: NOW, exp: NOW + 900, aud: "appstoreconnect-v1" }));
  });
  it("individual payload is exactly {sub:'user', iat, exp, aud} with no iss", async () => {
    const token = await createToken(individual(), { now: NOW });
    const payload = JSON.parse(parts(token).payloadJson);
    expect(parts(token).payloadJson).toBe(JSON.stringify({ sub: "user", iat: NOW, exp: NOW + 900, aud: "appstoreconnect-v1" }));
    expect(payload).not.toHaveProperty("iss");
  });
  it("scope appears only when given, after aud", async () => {
    const scope = ["GET /v1/apps?filter[platform]=IOS", "PATCH /v1/appInfos/123"];
    const withScope = JSON.parse(parts(await createToken(team(), { now: NOW, scope })).payloadJson);
    expect(Object.keys(withScope)).toEqual(["iss", "iat", "exp", "aud", "scope"]);
    expect(withScope.scope).toEqual(scope);
    const indiv = JSON.parse(parts(await createToken(individual(), { now: NOW, scope })).payloadJson);
    expect(Object.keys(indiv)).toEqual(["sub", "iat", "exp", "aud", "scope"]);
    expect(JSON.parse(parts(await createToken(team(), { now: NOW })).payloadJson)).not.toHaveProperty("scope");
  });
  it("default lifetime is 900 s; any whole lifetime from 1 to 1200 is honoured", async () => {
    expect(DEFAULT_TOKEN_LIFETIME_SECONDS).toBe(900);
    for (const lifetimeSeconds of [1, 60, 1199, 1200]) {
      const payload = JSON.parse(parts(await createToken(team(), { now: NOW, lifetimeSeconds })).payloadJson);
      expect(payload.exp - payload.iat).toBe(lifetimeSeconds);
    }
  });
  it("now as a Date and as epoch seconds give the same iat (fractions floored)", async () => {
    const fromDate = JSON.parse(parts(await createToken(team(), { now: new Date(NOW * 1000 + 999) })).payloadJson);
    const fromSeconds = JSON.parse(parts(await createToken(team(), { now: NOW + 0.7 })).payloadJson);
    expect(fromDate.iat).toBe(NOW);
    expect(fromSeconds.iat).toBe(NOW);
  });
  it("without now, iat is the current time", async () => {
    const before = Math.floor(Date.now() / 1000);
    const { iat, exp } = JSON.parse(parts(await createToken(team())).payloadJson);
    expect(iat).toBeGreaterThanOrEqual(before);
    expect(iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(exp - iat).toBe(900);
  });
  it("audience can be overridden", async () => {
    expect(JSON.parse(parts(await createToken(team(), { now: NOW, audience: "appstoreconnect-v2" })).payloadJson).aud).toBe("appstoreconnect-v2");
  });
  it("the token carries no key material", async () => {
    expect(containsKeyMaterial(await createToken(team(), { now: NOW }), key)).toBe(false);
  });
});

describe("createToken: signatures", () => {
  it("is a 64-byte r||s ES256 signature that node:crypto verifies", async () => {
    const token = await createToken(team(), { now: NOW });
    expect(parts(token).signature).toHaveLength(64);
    expect(verifiesWith(token, key)).toBe(true);
    expect(verifiesWith(token, other)).toBe(false);
  });
  it("jose.jwtVerify accepts team and individual tokens with the expected claims", async () => {
    const publicKey = await importSPKI(key.publicKeyPem, "ES256");
    const now = Math.floor(Date.now() / 1000);
    const teamResult = await jwtVerify(await createToken(team()), publicKey, { algorithms: ["ES256"], audience: "appstoreconnect-v1", issuer: TEAM.issuerId, maxTokenAge: 1200 });
    expect(teamResult.protectedHeader).toEqual({ alg: "ES256", kid: TEAM.keyId, typ: "JWT" });
    expect(teamResult.payload.iat).toBeGreaterThanOrEqual(now);
    const indivResult = await jwtVerify(await createToken(individual(), { scope: ["GET /v1/apps"] }), publicKey, { algorithms: ["ES256"], audience: "appstoreconnect-v1", subject: "user" });
    expect(indivResult.payload.scope).toEqual(["GET /v1/apps"]);
    await expect(jwtVerify(await createToken(team(other)), publicKey, { algorithms: ["ES256"] })).rejects.toThrow(/signature/);
  });
  it("every accepted key form signs tokens that verify with the same public key", async () => {
    for (const form of Object.values(acceptedForms(key))) {
      expect(verifiesWith(await createToken(team(key, { privateKey: form }), { now: NOW }), key)).toBe(true);
    }
  });
});

describe("createToken: the signing-key cache", () => {
  it("switching keys back and forth never signs with the wrong key", async () => {
    const sequence = [key, other, key, key, other, other, key];
    for (const k of sequence) expect(verifiesWith(await createToken(team(k), { now: NOW }), k)).toBe(true);
  });
  it("a reused byte buffer refilled with another key signs with the new key", async () => {
    const buffer = new Uint8Array(Math.max(key.der.length, other.der.length));
    const credential = team(key, { privateKey: buffer.subarray(0, key.der.length) });
    buffer.set(key.der);
    expect(verifiesWith(await createToken(credential, { now: NOW }), key)).toBe(true);
    buffer.set(other.der); // same length for two P-256 PKCS#8 keys
    expect(other.der.length).toBe(key.der.length);
    expect(verifiesWith(await createToken(credential, { now: NOW }), other)).toBe(true);
  });
  it("clearSigningKeyCache keeps tokens correct afterwards", async () => {
    await createToken(team(), { now: NOW });
    clearSigningKeyCache();
    expect(verifiesWith(await createToken(team(), { now: NOW }), key)).toBe(true);
    clearSigningKeyCache();
    expect(verifiesWith(await createToken(team(other), { now: NOW }), other)).toBe(true);
  });
  it("a cached key with a now-invalid keyId, issuerId or keyType still throws", async () => {
    await createToken(team(), { now: NOW }); // cache the key
    expect((await rejectionOf(createToken(team(key, { keyId: "pricing-automation" })))).code).toBe("KEY_ID_LOOKS_LIKE_NAME");
    expect((await rejectionOf(createToken(team(key, { issuerId: TEAM.keyId })))).code).toBe("ISSUER_ID_LOOKS_LIKE_TEAM_ID");
    expect((await rejectionOf(createToken(team(key, { keyType: "individual" })))).code).toBe("ISSUER_ID_FOR_INDIVIDUAL_KEY");
    expect((await rejectionOf(createToken(team(key, { keyType: "robot" as never })))).code).toBe("KEY_TYPE_INVALID");
    expect((await rejectionOf(createToken(team(key, { privateKeyFileName: "AuthKey_ZZZZZ99999.p8" })))).code).toBe("KEY_ID_FILENAME_MISMATCH");
    // And the cache did not get poisoned: the valid credential still works.
    expect(verifiesWith(await createToken(team(), { now: NOW }), key)).toBe(true);
  });
  it("a bad key is rejected every time, cached or not", async () => {
    for (let i = 0; i < 2; i++) expect((await rejectionOf(createToken(team(key, { privateKey: key.publicKeyPem })))).code).toBe("KEY_IS_PUBLIC");
  });
});

describe("createToken: bad options", () => {
  it.each([0, -1, 1201, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("TOKEN_LIFETIME_INVALID for lifetimeSeconds %p", async (lifetimeSeconds) => {
    const error = await rejectionOf(createToken(team(), { lifetimeSeconds }));
    expectActionable(error, { code: "TOKEN_LIFETIME_INVALID", field: "lifetimeSeconds", seen: new RegExp(`lifetimeSeconds (of )?${String(lifetimeSeconds)}`), secrets: [key.pem] });
    expect(error.message).toContain(String(MAX_TOKEN_LIFETIME_SECONDS));
  });
  it.each([0, -1, 1.5])("lifetimeSeconds %p is refused for what it is, not as 'longer than 20 minutes'", async (lifetimeSeconds) => {
    const error = await rejectionOf(createToken(team(), { lifetimeSeconds }));
    expect(error.message).not.toMatch(/longer than/);
    expect(error.message).toMatch(/whole number of seconds from 1 to 1200/);
  });
  it("TOKEN_LIFETIME_INVALID for a lifetime that is not a number", async () => {
    const error = await rejectionOf(createToken(team(), { lifetimeSeconds: "900" as unknown as number }));
    expect(error.code).toBe("TOKEN_LIFETIME_INVALID");
  });
  it("OPTION_INVALID (option now) for an invalid Date or NaN now, instead of iat:null", async () => {
    expectActionable(await rejectionOf(createToken(team(), { now: new Date("not a date") })), { code: "OPTION_INVALID", field: "now", seen: /invalid Date/ });
    expectActionable(await rejectionOf(createToken(team(), { now: Number.NaN })), { code: "OPTION_INVALID", field: "now", seen: /the number NaN/ });
  });
  it("OPTION_INVALID for now in milliseconds, instead of a token dated in the year 57000", async () => {
    const error = await rejectionOf(createToken(team(), { now: NOW * 1000 }));
    expectActionable(error, { code: "OPTION_INVALID", field: "now", seen: /looks like milliseconds: divide by 1000/ });
  });
  it.each([
    ["a lower-case method", ["get /v1/apps"], /'get \/v1\/apps'/],
    ["a full URL", ["GET https://api.appstoreconnect.apple.com/v1/apps"], /scope\[0\] is 'GET https:/],
    ["a path without a method", ["/v1/apps"], /'\/v1\/apps'/],
    ["a non-string entry", ["GET /v1/apps", 42], /scope\[1\] is a number/],
    ["an empty array", [], /non-empty array/],
  ])("SCOPE_INVALID: %s", async (_name, scope, seen) => {
    const error = await rejectionOf(createToken(team(), { scope: scope as string[] }));
    expectActionable(error, { code: "SCOPE_INVALID", field: "scope", seen, secrets: [key.pem] });
  });
  it("an invalid credential rejects with its first issue (the promise rejects, nothing is thrown synchronously)", async () => {
    const pending = createToken({ keyId: "2x9r4hxf34", issuerId: TEAM.issuerId, privateKey: key.pem });
    expect(pending).toBeInstanceOf(Promise);
    const error = await rejectionOf(pending);
    expectActionable(error, { code: "KEY_ID_INVALID", field: "keyId", seen: /lower-case/, secrets: [key.pem] });
  });
  it("a null credential rejects with an AscCredentialError", async () => {
    expect((await rejectionOf(createToken(null as unknown as CredentialInput))).code).toMatch(/^(KEY_|ISSUER_)/);
  });
});

describe("toEpochSeconds (shared with probeCredential)", () => {
  it("floors a Date or epoch seconds, and defaults to the current time", () => {
    expect(toEpochSeconds(new Date(NOW * 1000 + 999))).toBe(NOW);
    expect(toEpochSeconds(NOW + 0.7)).toBe(NOW);
    const before = Math.floor(Date.now() / 1000);
    expect(toEpochSeconds(undefined)).toBeGreaterThanOrEqual(before);
  });

  it.each<[string, unknown, RegExp]>([
    ["NaN", Number.NaN, /^now is the number NaN/],
    ["Infinity", Number.POSITIVE_INFINITY, /^now is the number Infinity/],
    ["a negative number", -1, /^now is the number -1/],
    ["an invalid Date", new Date("nope"), /^now is an invalid Date/],
    ["a string", "1760000000", /^now is a value of type string/],
    ["milliseconds", NOW * 1000, /^now is the number \d+ \(that looks like milliseconds: divide by 1000\)/],
    ["a Date in the year 60000", new Date(Date.UTC(60000, 0, 1)), /^now is a Date in the year 60000/],
  ])("refuses %s with OPTION_INVALID on option now", (_label, now, message) => {
    const error = thrownBy(() => toEpochSeconds(now as number));
    expect(error).toMatchObject({ code: "OPTION_INVALID", field: "now", message: expect.stringMatching(message) });
  });
});

describe("createToken: the signing-key cache", () => {
  it("a privateKey getter that reads differently each time caches the key under the text it imported", async () => {
    let first = true;
    const credential = { ...team(), get privateKey() { const text = first ? key.pem : other.pem; first = false; return text; } };
    await createToken(credential);
    expect(verifiesWith(await createToken(team(key)), key)).toBe(true);
  });
});
