/**
 * probeCredential against the FAKE App Store Connect API (test/support/fake-asc-api.ts).
 */
import { sign } from "node:crypto";
import { createToken } from "../../src/core";
import { REAL_ENVIRONMENT, type ProbeEnvironment } from "../../src/apple/attempts";
import { checkBaseUrl, CLOCK_SKEW_WARNING_SECONDS, DEFAULT_PROBE_RETRIES, DEFAULT_PROBE_TIMEOUT_MS, type ProbeOptions, type ProbeResult } from "../../src/apple/options";
import { probeCredential, probeCredentialWith } from "../../src/apple/probe-credential";
import { FakeAscApi, REVOKED_DETAIL } from "../support/fake-asc-api";
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
  fake.clearScript();
});
afterEach(() => {
  jest.restoreAllMocks();
  sleeps.length = 0;
  sent.length = 0;
  random = () => 0.5;
  clock = () => Date.now();
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

// The probe's outside world: the real network to the fake API, a clock the test may pin, and
// sleeps that are recorded instead of waited out.
const sleeps: number[] = [];
/** The Authorization header of every request the probe sent. */
const sent: string[] = [];
let random = (): number => 0.5;
let clock = (): number => Date.now();
const env: ProbeEnvironment = {
  fetch: (input, init) => {
    sent.push(new Headers(init?.headers).get("authorization") ?? "");
    return REAL_ENVIRONMENT.fetch(input, init);
  },
  now: () => clock(),
  sleep: async (ms) => {
    sleeps.push(ms);
  },
  random: () => random(),
};

async function probe(options: ProbeOptions = {}, credential: Partial<Parameters<typeof probeCredential>[0]> = {}): Promise<ProbeResult> {
  const result = await probeCredentialWith(
    env,
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

  it("reports an unknown key ID as API_UNAUTHORIZED, with what to check, after one fresh re-sign and no retries", async () => {
    const result = await probe({ retries: 2 }, { keyId: "UNKNOWN123" });
    expect(result).toMatchObject({ ok: false, apiStatus: 401, error: { code: "API_UNAUTHORIZED" } });
    expect(result.error!.message).toMatch(/Issuer ID.*not the Team ID/);
    expect(result.error!.message).toMatch(/NOT_AUTHORIZED/);
    expect(result.error!.message).toMatch(/not a transient 401/);
    // One extra attempt for a transient 401, not the 2 retries meant for 429/5xx/network errors.
    expect(fake.requests.map((r) => r.status)).toEqual([401, 401]);
  });

  it("reports a wrong issuer ID as API_UNAUTHORIZED", async () => {
    const result = await probe({}, { issuerId: "11111111-2222-3333-4444-555555555555" });
    expect(result.error?.code).toBe("API_UNAUTHORIZED");
  });

  it("reports a revoked key as API_FORBIDDEN", async () => {
    fake.revokeKey(TEAM.keyId);
    const result = await probe();
    expect(result).toMatchObject({ ok: false, apiStatus: 403, error: { code: "API_FORBIDDEN" } });
    // Apple's own text is passed on (the package's advice mentions "revoked" too, so match the fake's detail).
    expect(result.error!.message).toContain(`Apple said: FORBIDDEN_ERROR: This request is forbidden for security reasons: ${REVOKED_DETAIL}`);
    expect(fake.requests).toHaveLength(1);
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

  it("gives up on a permanent 503 with API_UNREACHABLE after retries + 1 attempts, backing off in between", async () => {
    fake.enqueue(503, 503, 503);
    const result = await probe({ retries: 2, retryBaseDelayMs: 50 });
    expect(result).toMatchObject({ ok: false, apiStatus: 503, error: { code: "API_UNREACHABLE" } });
    expect(result.error!.message).toMatch(/3 attempts/);
    expect(fake.requests).toHaveLength(3);
    // Full jitter (random 0.5) under the ceilings base and 2 x base.
    expect(sleeps).toEqual([25, 50]);
  });

  it("honours the timeout against a slow server, per attempt", async () => {
    fake.delayMs = 5000;
    const timeouts = jest.spyOn(AbortSignal, "timeout");
    const result = await probe({ timeoutMs: 200, retries: 1, retryBaseDelayMs: 10 });
    expect(result).toMatchObject({ ok: false, error: { code: "API_UNREACHABLE" } });
    expect(result.error!.message).toMatch(/no answer within 200 ms/);
    expect(fake.requests).toHaveLength(2);
    expect(timeouts.mock.calls).toEqual([[200], [200]]);
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
    const echo = { status: 401, body: JSON.stringify({ errors: [{ status: "401", code: "NOT_AUTHORIZED", title: "Bad token", detail: `Token ${echoed} rejected` }] }) };
    fake.enqueue(echo, echo);
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

describe("a 401 gets one freshly signed second try", () => {
  it("401 then 200 is ok, with a warning about the transient 401", async () => {
    fake.enqueue(401);
    const result = await probe({ retries: 0 });
    expect(result).toMatchObject({ ok: true, apiStatus: 200 });
    expect(result.error).toBeUndefined();
    expect(result.warnings).toEqual([expect.stringMatching(/^Apple answered the first request with HTTP 401 and accepted a freshly signed token on the retry/)]);
    // Not counted against retries (0 here), and on this machine's clock (no skew to correct).
    expect(fake.requests.map((r) => r.status)).toEqual([401, 200]);
  });

  it("401, 401 is API_UNAUTHORIZED", async () => {
    fake.enqueue(401, 401);
    const result = await probe({ retries: 2 });
    expect(result).toMatchObject({ ok: false, apiStatus: 401, error: { code: "API_UNAUTHORIZED" } });
    expect(result.error!.message).toMatch(/not a transient 401/);
    expect(fake.requests.map((r) => r.status)).toEqual([401, 401]);
  });

  it("the second try carries a new signature", async () => {
    fake.enqueue(401);
    expect((await probe()).ok).toBe(true);
    expect(sent).toHaveLength(2);
    expect(sent[1]).not.toBe(sent[0]);
  });
});

describe("online call hardening", () => {
  it("does not follow a redirect, and sends no token to its target", async () => {
    const elsewhere = await FakeAscApi.start();
    try {
      elsewhere.registerKey({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, publicKeyPem: key.publicKeyPem });
      fake.enqueue({ status: 302, headers: { location: `${elsewhere.baseUrl}/v1/apps?limit=1` } });
      const result = await probe();
      expect(result).toMatchObject({ ok: false, apiStatus: 302, error: { code: "API_UNEXPECTED" } });
      expect(result.error!.message).toMatch(/redirect \(HTTP 302\).*baseUrl/);
      expect(elsewhere.requests).toEqual([]);
      expect(fake.requests).toHaveLength(1);
    } finally {
      await elsewhere.stop();
    }
  });

  it.each([
    ["an HTML page", "<html>Welcome to the hotel Wi-Fi</html>"],
    ["JSON without a data array", JSON.stringify({ ok: true })],
    ["a data object instead of a list", JSON.stringify({ data: { id: "1" } })],
    ["an empty body", ""],
  ])("a 200 with %s is API_UNEXPECTED, not a valid key", async (_label, body) => {
    fake.enqueue({ status: 200, body });
    const result = await probe();
    expect(result).toMatchObject({ ok: false, apiStatus: 200, error: { code: "API_UNEXPECTED" } });
    expect(result.error!.message).toMatch(/"data" array.*baseUrl/);
    expect(fake.requests).toHaveLength(1);
  });

  it("refuses a plain-http baseUrl to another machine before sending any token", async () => {
    for (const baseUrl of ["http://api.appstoreconnect.apple.com", "http://10.1.2.3:8080", "http://127.0.0.1.nip.io", "http://[::2]"]) {
      const result = await probe({ baseUrl });
      expect(result).toMatchObject({ ok: false, mode: "online", error: { code: "OPTION_INVALID" } });
      expect(result.error!.message).toMatch(/^baseUrl is a plain http:\/\/ URL to a host other than this machine.*use an https URL/);
      expect(result.error!.message).not.toContain(baseUrl);
    }
    expect(sent).toEqual([]);
  });

  it("accepts http only for loopback hosts", () => {
    for (const ok of ["http://127.0.0.1:1", "http://127.9.8.7", "http://127.1", "http://localhost:8080/x", "http://[::1]:9", "https://api.appstoreconnect.apple.com", "https://example.com/"]) {
      expect([ok, checkBaseUrl(ok)]).toEqual([ok, undefined]);
    }
    for (const [bad, reason] of [
      ["http://128.0.0.1", /plain http/],
      ["ftp://example.com", /scheme 'ftp:'/],
      ["https://user:secret@example.com", /user name or password/],
      ["not a url", /not a URL/],
    ] as const) {
      const problem = checkBaseUrl(bad);
      expect(problem?.seen).toMatch(reason);
      expect(JSON.stringify(problem)).not.toContain("secret");
    }
    expect(checkBaseUrl(42)?.seen).toMatch(/type number/);
  });

  it("maps Apple's 403 for a malformed token to API_FORBIDDEN, pointing at whatever rewrote it", async () => {
    // A proxy that cuts the signature off: the fake, like Apple, answers 403 to a token it cannot parse.
    const rewriting: ProbeEnvironment = {
      ...env,
      fetch: (input, init) => {
        const headers = new Headers(init?.headers);
        headers.set("authorization", headers.get("authorization")!.replace(/\.[^.]+$/, ""));
        return REAL_ENVIRONMENT.fetch(input, { ...init, headers });
      },
    };
    const result = await probeCredentialWith(rewriting, { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem }, { mode: "online", baseUrl: fake.baseUrl });
    results.push(result);
    expect(result).toMatchObject({ ok: false, apiStatus: 403, error: { code: "API_FORBIDDEN" } });
    expect(result.error!.message).toMatch(/403 to a token it cannot parse.*rewrites the Authorization header/);
    expect(result.error!.message).toMatch(/FORBIDDEN_ERROR/);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("invalid options are reported as OPTION_INVALID, never thrown and never misread", () => {
  it.each<[string, ProbeOptions, RegExp]>([
    ["now NaN", { now: Number.NaN }, /^now is the number NaN/],
    ["now an invalid Date", { now: new Date("not a date") }, /^now is an invalid Date/],
    ["now negative", { now: -1 }, /^now is the number -1/],
    ["now in milliseconds", { now: Date.now() }, /^now is the number \d+ \(that looks like milliseconds: divide by 1000\)/],
    ["retries NaN", { retries: Number.NaN }, /^retries is the number NaN; use a whole number of retries from 0 to 10, or leave it out for 2\./],
    ["retries fractional", { retries: 1.5 }, /^retries is the number 1.5/],
    ["retries negative", { retries: -1 }, /^retries is the number -1/],
    ["retries too many", { retries: 11 }, /^retries is the number 11/],
    ["timeoutMs NaN", { timeoutMs: Number.NaN }, /^timeoutMs is the number NaN; use a number of milliseconds from 1 to 120000/],
    ["timeoutMs zero", { timeoutMs: 0 }, /^timeoutMs is the number 0/],
    ["timeoutMs infinite", { timeoutMs: Number.POSITIVE_INFINITY }, /^timeoutMs is the number Infinity/],
    ["timeoutMs over the one bound", { timeoutMs: 120_001 }, /^timeoutMs is the number 120001/],
    ["retryBaseDelayMs NaN", { retryBaseDelayMs: Number.NaN }, /^retryBaseDelayMs is the number NaN/],
    ["retryBaseDelayMs negative", { retryBaseDelayMs: -5 }, /^retryBaseDelayMs is the number -5/],
    ["timeoutMs a string", { timeoutMs: "1000" as unknown as number }, /^timeoutMs is a value of type string/],
    ["mode unknown", { mode: "always" as "online" }, /^mode is 'always'; use "offline" or "online"/],
  ])("%s", async (_label, options, message) => {
    const result = await probe(options);
    expect(result).toMatchObject({ ok: false, error: { code: "OPTION_INVALID", message: expect.stringMatching(message) } });
    expect(result.fingerprint).toMatch(/^sha256:/);
    expect(fake.requests).toEqual([]);
  });

  it("checks them offline too", async () => {
    expect((await probe({ mode: "offline", now: Number.NaN })).error?.code).toBe("OPTION_INVALID");
    expect((await probe({ mode: "offline", retries: Number.NaN })).error?.code).toBe("OPTION_INVALID");
  });
});

describe("defaults", () => {
  it("are 10 s per attempt and 2 retries: exactly 3 requests against a server that always fails", async () => {
    expect(DEFAULT_PROBE_TIMEOUT_MS).toBe(10_000);
    expect(DEFAULT_PROBE_RETRIES).toBe(2);
    const timeouts = jest.spyOn(AbortSignal, "timeout");
    fake.enqueue(503, 503, 503, 503, 503, 503);
    const result = await probeCredentialWith(env, { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem }, { mode: "online", baseUrl: fake.baseUrl });
    results.push(result);
    expect(result).toMatchObject({ ok: false, apiStatus: 503, error: { code: "API_UNREACHABLE", message: expect.stringMatching(/after 3 attempts/) } });
    expect(fake.requests.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(timeouts.mock.calls).toEqual([[DEFAULT_PROBE_TIMEOUT_MS], [DEFAULT_PROBE_TIMEOUT_MS], [DEFAULT_PROBE_TIMEOUT_MS]]);
    // The default base delay, 250 ms, doubled once; full jitter at 0.5.
    expect(sleeps).toEqual([125, 250]);
  });

  it("back off exponentially between retries: base, then 2 x base (jitter at its ceiling), capped at 5 s", async () => {
    random = () => 0.999999;
    fake.enqueue(503, 503, 503);
    await probe({ retries: 2, retryBaseDelayMs: 150 });
    expect(fake.requests).toHaveLength(3);
    expect(sleeps.map(Math.round)).toEqual([150, 300]);
    sleeps.length = 0;
    fake.enqueue(503, 503, 503, 503, 503);
    await probe({ retries: 4, retryBaseDelayMs: 5000 });
    expect(sleeps.map(Math.round)).toEqual([5000, 5000, 5000, 5000]);
  });

  it("honours a 429's retry-after, capped at 5 s", async () => {
    fake.enqueue({ status: 429, retryAfterSeconds: 1 }, { status: 429, retryAfterSeconds: 3600 });
    const result = await probe({ retryBaseDelayMs: 0 });
    expect(result).toMatchObject({ ok: true, apiStatus: 200 });
    expect(fake.requests.map((r) => r.status)).toEqual([429, 429, 200]);
    expect(sleeps).toEqual([1000, 5000]);
  });

  it.each([
    [CLOCK_SKEW_WARNING_SECONDS - 1, false],
    [CLOCK_SKEW_WARNING_SECONDS, false],
    [CLOCK_SKEW_WARNING_SECONDS + 1, true],
    [-(CLOCK_SKEW_WARNING_SECONDS + 1), true],
  ])("a skew of %i s warns: %s (threshold 60 s)", async (skew, warns) => {
    expect(CLOCK_SKEW_WARNING_SECONDS).toBe(60);
    // HTTP dates have whole seconds: a clock pinned to a whole second makes the skew exact.
    const pinned = Math.floor(Date.now() / 1000) * 1000;
    jest.spyOn(Date, "now").mockReturnValue(pinned);
    fake.clockSkewSeconds = skew;
    const result = await probe();
    expect(result).toMatchObject({ ok: true, clockSkewSeconds: skew });
    expect(result.warnings ?? []).toEqual(warns ? [expect.stringMatching(new RegExp(`clock is ${Math.abs(skew)} s (behind|ahead of) Apple's`))] : []);
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

  it("requires iat and no sub on team keys (401), typ JWT and alg ES256 (403: formatted wrongly)", async () => {
    const claims = { iss: TEAM.issuerId, iat: now(), exp: now() + 600, aud: "appstoreconnect-v1" };
    expect((await call(signed(claims))).status).toBe(200);
    expect((await call(signed({ ...claims, iat: undefined }))).status).toBe(401);
    expect((await call(signed({ ...claims, sub: "user" }))).status).toBe(401);
    expect((await call(signed(claims, { alg: "ES256", kid: TEAM.keyId }))).status).toBe(403);
    expect((await call(signed(claims, { alg: "ES384", kid: TEAM.keyId, typ: "JWT" }))).status).toBe(403);
  });

  it("answers 403 with Apple's error JSON to a token formatted wrongly, 401 to a missing one", async () => {
    const good = await createToken(team());
    const [h, p, sig] = good.split(".") as [string, string, string];
    for (const token of ["not.a.token", `${h}.${p}`, `${h}.${p}.${sig}.${sig}`, `${Buffer.from("{nope").toString("base64url")}.${p}.${sig}`, `${h}.${Buffer.from("[1]").toString("base64url")}.${sig}`, "a b c"]) {
      const { status, body } = await call(token);
      expect([token.length, status]).toEqual([token.length, 403]);
      expect(body).toMatchObject({ errors: [{ status: "403", code: "FORBIDDEN_ERROR" }] });
    }
    const missing = await fetch(`${fake.baseUrl}/v1/apps`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ errors: [{ status: "401", code: "NOT_AUTHORIZED" }] });
    expect((await fetch(`${fake.baseUrl}/v1/apps`, { headers: { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` } })).status).toBe(401);
  });

  it("checks the signature before the revocation: a forged token naming a revoked key gets 401", async () => {
    fake.revokeKey(TEAM.keyId);
    const forged = await createToken({ ...team(), privateKey: generateTestKey().pem });
    expect((await call(forged)).status).toBe(401);
    expect((await call(await createToken(team()))).status).toBe(403);
  });

  it("answers 404 NOT_FOUND with Apple's error JSON outside the resources it knows, after authentication", async () => {
    const token = await createToken(team());
    for (const path of ["/v1/users", "/v1/builds?limit=5", "/v1/bundleIds"]) expect([path, (await call(token, path)).status]).toEqual([path, 200]);
    for (const path of ["/v1/nothing", "/v2/apps", "/v1/apps/123/extra", "/", "/v1/apps/123"]) {
      const { status, body } = await call(token, path);
      expect([path, status]).toEqual([path, 404]);
      expect(body).toMatchObject({ errors: [{ status: "404", code: "NOT_FOUND" }] });
    }
    expect((await call(await createToken({ ...team(), privateKey: generateTestKey().pem }), "/v1/nothing")).status).toBe(401);
  });

  it("applies scripted answers only to authenticated requests", async () => {
    fake.enqueue(500);
    expect((await call(await createToken({ ...team(), privateKey: generateTestKey().pem }))).status).toBe(401);
    expect((await call("x.y.z")).status).toBe(403);
    expect((await call(await createToken(team()))).status).toBe(500);
    expect((await call(await createToken(team()))).status).toBe(200);
  });

  it("sends retry-after on a 429 only when asked to", async () => {
    fake.enqueue(429, { status: 429, retryAfterSeconds: 7 });
    const token = await createToken(team());
    const plain = await fetch(`${fake.baseUrl}/v1/apps`, { headers: { authorization: `Bearer ${token}` } });
    const asked = await fetch(`${fake.baseUrl}/v1/apps`, { headers: { authorization: `Bearer ${token}` } });
    await Promise.all([plain.text(), asked.text()]);
    expect([plain.status, plain.headers.get("retry-after")]).toEqual([429, null]);
    expect([asked.status, asked.headers.get("retry-after")]).toEqual([429, "7"]);
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
