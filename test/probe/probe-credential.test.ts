/**
 * probeCredential against the FAKE App Store Connect API (test/support/fake-asc-api.ts).
 */
import { sign } from "node:crypto";
import { createToken } from "../../src/core";
import { probeCredential, type ProbeOptions, type ProbeResult } from "../../src/probe/probe-credential";
import { FakeAscApi } from "../support/fake-asc-api";
import { containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";

const JWT = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;
const INDIVIDUAL_KEY_ID = "INDV1KEY23";

let fake: FakeAscApi;
let key: TestKey;
let individualKey: TestKey;
const results: ProbeResult[] = [];

beforeAll(async () => {
  key = generateTestKey();
  individualKey = generateTestKey();
  fake = await FakeAscApi.start();
});
beforeEach(() => {
  fake.registerKey({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, publicKeyPem: key.publicKeyPem });
  fake.registerKey({ keyId: INDIVIDUAL_KEY_ID, keyType: "individual", publicKeyPem: individualKey.publicKeyPem });
  fake.clockSkewSeconds = 0;
  fake.delayMs = 0;
  fake.requests.length = 0;
});
afterAll(async () => {
  await fake.stop();
  // Every message and warning any test produced: no key material, no token.
  const text = JSON.stringify(results);
  expect(results.length).toBeGreaterThan(10);
  expect(containsKeyMaterial(text, key)).toBe(false);
  expect(containsKeyMaterial(text, individualKey)).toBe(false);
  expect(text).not.toMatch(JWT);
});

async function probe(options: ProbeOptions = {}, credential: Partial<Parameters<typeof probeCredential>[0]> = {}): Promise<ProbeResult> {
  const result = await probeCredential(
    { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem, ...credential },
    { mode: "online", baseUrl: fake.baseUrl, timeoutMs: 1000, retryBaseDelayMs: 20, ...options },
  );
  results.push(result);
  return result;
}

describe("probeCredential online", () => {
  it("accepts a valid team key", async () => {
    const result = await probe();
    expect(result).toMatchObject({ ok: true, mode: "online", apiStatus: 200 });
    expect(result.error).toBeUndefined();
    expect(fake.requests).toEqual([{ method: "GET", path: "/v1/apps?limit=1", status: 200, kid: TEAM.keyId }]);
  });

  it("makes no call offline", async () => {
    const result = await probe({ mode: "offline" });
    expect(result).toMatchObject({ ok: true, mode: "offline" });
    expect(result.apiStatus).toBeUndefined();
    expect(fake.requests).toEqual([]);
  });

  it("reports an unknown key ID as API_UNAUTHORIZED, with what to check, without retrying", async () => {
    const result = await probe({}, { keyId: "UNKNOWN123" });
    expect(result).toMatchObject({ ok: false, apiStatus: 401, error: { code: "API_UNAUTHORIZED" } });
    expect(result.error!.message).toMatch(/Issuer ID.*not the Team ID/);
    expect(result.error!.message).toMatch(/NOT_AUTHORIZED/);
    expect(fake.requests).toHaveLength(1);
  });

  it("reports a wrong issuer ID as API_UNAUTHORIZED", async () => {
    const result = await probe({}, { issuerId: "11111111-2222-3333-4444-555555555555" });
    expect(result.error?.code).toBe("API_UNAUTHORIZED");
  });

  it("reports a revoked key as API_FORBIDDEN", async () => {
    fake.revokeKey(TEAM.keyId);
    const result = await probe();
    expect(result).toMatchObject({ ok: false, apiStatus: 403, error: { code: "API_FORBIDDEN" } });
    expect(result.error!.message).toMatch(/revoked/);
  });

  it("retries 500, 500 and succeeds on the third answer", async () => {
    fake.enqueue(500, 500);
    const result = await probe({ retries: 2 });
    expect(result).toMatchObject({ ok: true, apiStatus: 200 });
    expect(fake.requests.map((r) => r.status)).toEqual([500, 500, 200]);
  });

  it("retries a 429", async () => {
    fake.enqueue(429);
    const result = await probe();
    expect(result).toMatchObject({ ok: true, apiStatus: 200 });
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it("retries a reset connection", async () => {
    fake.enqueue({ status: 200, reset: true });
    const result = await probe();
    expect(result).toMatchObject({ ok: true, apiStatus: 200 });
    expect(fake.requests.map((r) => r.status)).toEqual([0, 200]);
  });

  it("gives up on a permanent 503 with API_UNREACHABLE within timeout x (retries + 1) plus backoff", async () => {
    fake.enqueue(503, 503, 503);
    const timeoutMs = 500;
    const retries = 2;
    const retryBaseDelayMs = 50;
    const started = Date.now();
    const result = await probe({ timeoutMs, retries, retryBaseDelayMs });
    const elapsed = Date.now() - started;
    expect(result).toMatchObject({ ok: false, apiStatus: 503, error: { code: "API_UNREACHABLE" } });
    expect(result.error!.message).toMatch(/3 attempts/);
    expect(fake.requests).toHaveLength(retries + 1);
    // Backoff ceilings are base, 2 x base; the rest is slack for a loaded machine.
    expect(elapsed).toBeLessThan(timeoutMs * (retries + 1) + retryBaseDelayMs * 3 + 1000);
  });

  it("honours the timeout against a slow server", async () => {
    fake.delayMs = 5000;
    const timeoutMs = 200;
    const started = Date.now();
    const result = await probe({ timeoutMs, retries: 1, retryBaseDelayMs: 10 });
    const elapsed = Date.now() - started;
    expect(result).toMatchObject({ ok: false, error: { code: "API_UNREACHABLE" } });
    expect(result.error!.message).toMatch(/no answer within 200 ms/);
    expect(fake.requests).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs * 2 - 20);
    expect(elapsed).toBeLessThan(timeoutMs * 2 + 10 + 1500);
  });

  it("reports a server 300 s ahead as clockSkewSeconds ~ 300 with a warning, and still validates the key", async () => {
    fake.clockSkewSeconds = 300;
    const result = await probe();
    expect(result.ok).toBe(true);
    expect(result.clockSkewSeconds).toBeGreaterThanOrEqual(299);
    expect(result.clockSkewSeconds).toBeLessThanOrEqual(301);
    expect(result.warnings?.join(" ")).toMatch(/clock is (299|30\d) s behind/);
    // The first token, on this machine's clock, had expired on the server's clock.
    expect(fake.requests.map((r) => r.status)).toEqual([401, 200]);
  });

  it("reports a server 300 s behind as negative skew with a warning", async () => {
    fake.clockSkewSeconds = -300;
    const result = await probe();
    expect(result.ok).toBe(true);
    expect(result.clockSkewSeconds).toBeLessThanOrEqual(-299);
    expect(result.warnings?.join(" ")).toMatch(/ahead of Apple's/);
  });

  it("does not call a wrong key valid just because the clock was off", async () => {
    fake.clockSkewSeconds = 300;
    const result = await probe({}, { keyId: "UNKNOWN123" });
    expect(result).toMatchObject({ ok: false, error: { code: "API_UNAUTHORIZED" } });
    expect(result.error!.message).toMatch(/clock is also off by (299|30\d) s.*not the only problem/);
  });

  it("signs individual keys with sub \"user\", which the fake accepts", async () => {
    const result = await probe({}, { keyId: INDIVIDUAL_KEY_ID, keyType: "individual", issuerId: undefined, privateKey: individualKey.pem });
    expect(result).toMatchObject({ ok: true, apiStatus: 200 });
  });

  it("signing an individual key as a team key (iss) is API_UNAUTHORIZED", async () => {
    const result = await probe({}, { keyId: INDIVIDUAL_KEY_ID, privateKey: individualKey.pem });
    expect(result.error?.code).toBe("API_UNAUTHORIZED");
  });

  it("treats a 401 without Apple's error JSON as API_UNEXPECTED (a proxy, a wrong baseUrl)", async () => {
    fake.enqueue({ status: 401, body: "<html>Sign in to the corporate proxy</html>" });
    const result = await probe();
    expect(result).toMatchObject({ ok: false, apiStatus: 401, error: { code: "API_UNEXPECTED" } });
    expect(result.error!.message).toMatch(/baseUrl/);
  });

  it("reports a 404 as API_UNEXPECTED", async () => {
    fake.enqueue(404);
    const result = await probe();
    expect(result).toMatchObject({ ok: false, apiStatus: 404, error: { code: "API_UNEXPECTED" } });
  });

  it("cuts a token a server echoes back out of the message", async () => {
    const echoed = await createToken({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem });
    fake.enqueue({ status: 401, body: JSON.stringify({ errors: [{ status: "401", code: "NOT_AUTHORIZED", title: "Bad token", detail: `Token ${echoed} rejected` }] }) });
    const result = await probe();
    expect(result.error?.code).toBe("API_UNAUTHORIZED");
    expect(result.error!.message).not.toContain(echoed.split(".")[2]);
    expect(result.error!.message).toMatch(/token removed/);
  });

  it("reports an unreachable host as API_UNREACHABLE", async () => {
    const closed = await FakeAscApi.start();
    const baseUrl = closed.baseUrl;
    await closed.stop();
    const result = await probe({ baseUrl, retries: 1, retryBaseDelayMs: 10 });
    expect(result).toMatchObject({ ok: false, error: { code: "API_UNREACHABLE" } });
    expect(result.error!.message).toMatch(/network error/);
  });
});

describe("the fake applies Apple's token rules", () => {
  async function call(token: string, path = "/v1/apps?limit=1"): Promise<{ status: number; body: unknown; date: string | null }> {
    const response = await fetch(`${fake.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: await response.json(), date: response.headers.get("date") };
  }
  const now = (): number => Math.floor(Date.now() / 1000);
  const team = () => ({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem });

  it("answers 200 with a JSON:API body and a Date header for a valid token", async () => {
    const { status, body, date } = await call(await createToken(team()));
    expect(status).toBe(200);
    expect(body).toMatchObject({ data: [], links: { self: expect.stringContaining("/v1/apps") }, meta: { paging: { total: 0, limit: 1 } } });
    expect(Math.abs(Date.parse(date!) - Date.now())).toBeLessThan(2000);
  });

  it("answers 401 with Apple's error JSON for an expired token, a 21-minute token and one too far ahead", async () => {
    for (const token of [
      await createToken(team(), { now: now() - 1000, lifetimeSeconds: 600 }),
      signed({ iss: TEAM.issuerId, iat: now(), exp: now() + 1260, aud: "appstoreconnect-v1" }),
      await createToken(team(), { now: now() + 600, lifetimeSeconds: 900 }),
    ]) {
      const { status, body } = await call(token);
      expect(status).toBe(401);
      expect(body).toEqual({ errors: [{ id: expect.any(String), status: "401", code: "NOT_AUTHORIZED", title: expect.any(String), detail: expect.any(String) }] });
    }
  });

  it("judges expiry by its own clock", async () => {
    fake.clockSkewSeconds = 1000;
    const { status, date } = await call(await createToken(team(), { lifetimeSeconds: 900 }));
    expect(status).toBe(401);
    expect(Date.parse(date!) - Date.now()).toBeGreaterThan(990_000);
  });

  it("checks the signature against the registered public key", async () => {
    const stranger = generateTestKey();
    expect((await call(await createToken({ ...team(), privateKey: stranger.pem }))).status).toBe(401);
  });

  it("requires iat, typ JWT, alg ES256 and no sub on team keys", async () => {
    const claims = { iss: TEAM.issuerId, iat: now(), exp: now() + 600, aud: "appstoreconnect-v1" };
    expect((await call(signed(claims))).status).toBe(200);
    expect((await call(signed({ ...claims, iat: undefined }))).status).toBe(401);
    expect((await call(signed({ ...claims, sub: "user" }))).status).toBe(401);
    expect((await call(signed(claims, { alg: "ES256", kid: TEAM.keyId }))).status).toBe(401);
    expect((await call(signed(claims, { alg: "ES384", kid: TEAM.keyId, typ: "JWT" }))).status).toBe(401);
  });

  it("answers 403 FORBIDDEN_ERROR for a revoked key", async () => {
    fake.revokeKey(TEAM.keyId);
    const { status, body } = await call(await createToken(team()));
    expect(status).toBe(403);
    expect(body).toMatchObject({ errors: [{ status: "403", code: "FORBIDDEN_ERROR" }] });
  });

  it("checks aud", async () => {
    expect((await call(await createToken(team(), { audience: "appstoreconnect-v2" }))).status).toBe(401);
  });

  it("rejects tokens whose scope does not match the request", async () => {
    expect((await call(await createToken(team(), { scope: ["GET /v1/apps"] }))).status).toBe(200);
    expect((await call(await createToken(team(), { scope: ["GET /v1/apps?limit=1"] }))).status).toBe(200);
    expect((await call(await createToken(team(), { scope: ["GET /v1/builds"] }))).status).toBe(401);
    expect((await call(await createToken(team(), { scope: ["POST /v1/apps"] }))).status).toBe(401);
  });

  it("rejects a missing or malformed bearer token", async () => {
    const response = await fetch(`${fake.baseUrl}/v1/apps`);
    expect(response.status).toBe(401);
    expect((await call("not.a.token")).status).toBe(401);
  });

  it("records the kid but never the token", async () => {
    const token = await createToken(team());
    await call(token);
    expect(fake.requests).toEqual([{ method: "GET", path: "/v1/apps?limit=1", status: 200, kid: TEAM.keyId }]);
    expect(JSON.stringify(fake.requests)).not.toContain(token.split(".")[2]);
  });
});

/** A token signed correctly with the team key, with any claims (createToken refuses bad ones). */
function signed(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: "ES256", kid: TEAM.keyId, typ: "JWT" }): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  return `${input}.${sign("sha256", Buffer.from(input), { key: key.keyObject, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
}
