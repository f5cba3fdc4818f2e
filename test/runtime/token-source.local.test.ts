/**
 * AscTokenSource from env and files, token caching against an injected clock, invalidate(),
 * and fetch() details (headers, Request inputs, non-replayable bodies), with no AWS involved.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { GetSecretValueCommand, type GetSecretValueCommandOutput } from "@aws-sdk/client-secrets-manager";
import { AscTokenSource } from "../../src/runtime/token-source";
import { FakeAscApi } from "../support/fake-asc-api";
import { containsKeyMaterial, generateTestKey, TEAM } from "../support/keys";
import { backgroundSettled, decodeJwt, rejection, signedBy, storedJson, until } from "./helpers";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "asc-token-source-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stub Secrets Manager client: counts reads, serves whatever `value` holds. */
function stubClient(initial: string): {
  client: { send(c: GetSecretValueCommand): Promise<GetSecretValueCommandOutput> };
  reads: () => number;
  set(v: string): void;
  /** While true, every read fails the way the SDK reports throttling. */
  failing(on: boolean): void;
  stages: (string | undefined)[];
  /** Resolves once every read started so far has answered and the source has handled it. */
  settled(): Promise<void>;
} {
  let value = initial;
  let reads = 0;
  let fail = false;
  const stages: (string | undefined)[] = [];
  const inflight = new Set<Promise<unknown>>();
  return {
    client: {
      send(command) {
        reads++;
        stages.push(command.input.VersionStage);
        const current = value;
        const answer = new Promise<GetSecretValueCommandOutput>((resolve, reject) =>
          setImmediate(() => (fail ? reject(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } })) : resolve({ SecretString: current, $metadata: {} }))),
        );
        inflight.add(answer);
        const done = (): void => void inflight.delete(answer);
        answer.then(done, done);
        return answer;
      },
    },
    async settled() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
      await backgroundSettled();
    },
    reads: () => reads,
    set: (v) => (value = v),
    failing: (on) => (fail = on),
    stages,
  };
}

describe("fromEnv", () => {
  test("reads a PEM with literal \\n escapes, as CI secrets often hold it", async () => {
    const key = generateTestKey();
    const env = { APP_STORE_CONNECT_KEY_ID: TEAM.keyId, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_PRIVATE_KEY: key.pem.replace(/\n/g, "\\n") };
    const token = await AscTokenSource.fromEnv(env).getToken();
    expect(decodeJwt(token).header.kid).toBe(TEAM.keyId);
    expect(decodeJwt(token).payload.iss).toBe(TEAM.issuerId);
    expect(signedBy(token, key)).toBe(true);
  });

  test("reads base64 of the PEM file and an individual key", async () => {
    const key = generateTestKey();
    const env = { APP_STORE_CONNECT_KEY_ID: TEAM.keyId, APP_STORE_CONNECT_KEY_TYPE: "individual", APP_STORE_CONNECT_PRIVATE_KEY: Buffer.from(key.pem).toString("base64") };
    const { payload } = decodeJwt(await AscTokenSource.fromEnv(env).getToken());
    expect(payload.sub).toBe("user");
    expect(payload.iss).toBeUndefined();
  });

  test("falls back to APP_STORE_CONNECT_PRIVATE_KEY_PATH and infers the key ID from the file name", async () => {
    const key = generateTestKey();
    const path = join(dir, "AuthKey_ABCDE12345.p8");
    writeFileSync(path, key.pem);
    const token = await AscTokenSource.fromEnv({ APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_PRIVATE_KEY_PATH: path }).getToken();
    expect(decodeJwt(token).header.kid).toBe("ABCDE12345");
    expect(signedBy(token, key)).toBe(true);
  });

  test.each([
    [{}, "KEY_EMPTY"],
    [{ APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_PRIVATE_KEY: "x" }, "KEY_ID_INVALID"],
    [{ APP_STORE_CONNECT_KEY_ID: TEAM.keyId, APP_STORE_CONNECT_PRIVATE_KEY: "PEM" }, "ISSUER_ID_MISSING"],
    [{ APP_STORE_CONNECT_KEY_ID: TEAM.keyId, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_KEY_TYPE: "personal", APP_STORE_CONNECT_PRIVATE_KEY: "PEM" }, "KEY_TYPE_INVALID"],
  ])("incomplete environment %j fails with %s and no key material", async (partial, code) => {
    const key = generateTestKey();
    const env: Record<string, string> = { ...partial };
    if (env.APP_STORE_CONNECT_PRIVATE_KEY) env.APP_STORE_CONNECT_PRIVATE_KEY = key.pem;
    const error = await rejection(() => AscTokenSource.fromEnv(env).getToken());
    expect(error.code).toBe(code);
    expect(containsKeyMaterial(error.message, key)).toBe(false);
  });

  test("a wrong key in the environment fails with the key's code, no key material", async () => {
    const key = generateTestKey("P-384");
    const env = { APP_STORE_CONNECT_KEY_ID: TEAM.keyId, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_PRIVATE_KEY: key.pem };
    const error = await rejection(() => AscTokenSource.fromEnv(env).getToken());
    expect(error.code).toBe("KEY_WRONG_CURVE");
    expect(error.message).toContain("APP_STORE_CONNECT");
    expect(containsKeyMaterial(error.message, key)).toBe(false);
  });
});

describe("fromFile", () => {
  test("infers the key ID from AuthKey_<ID>.p8", async () => {
    const key = generateTestKey();
    const path = join(dir, "AuthKey_Q1W2E3R4T5.p8");
    writeFileSync(path, key.pem);
    const token = await AscTokenSource.fromFile(path, { issuerId: TEAM.issuerId }).getToken();
    expect(decodeJwt(token).header.kid).toBe("Q1W2E3R4T5");
    expect(signedBy(token, key)).toBe(true);
  });

  test("a key ID that contradicts the file name is KEY_ID_FILENAME_MISMATCH", async () => {
    const path = join(dir, "AuthKey_Q1W2E3R4T5.p8");
    writeFileSync(path, generateTestKey().pem);
    const error = await rejection(() => AscTokenSource.fromFile(path, { issuerId: TEAM.issuerId, keyId: TEAM.keyId }).getToken());
    expect(error.code).toBe("KEY_ID_FILENAME_MISMATCH");
  });

  test("another file name needs an explicit key ID", async () => {
    const key = generateTestKey();
    const path = join(dir, "asc.pem");
    writeFileSync(path, key.sec1Pem);
    expect((await rejection(() => AscTokenSource.fromFile(path, { issuerId: TEAM.issuerId }).getToken())).code).toBe("KEY_ID_INVALID");
    const token = await AscTokenSource.fromFile(path, { issuerId: TEAM.issuerId, keyId: TEAM.keyId }).getToken();
    expect(signedBy(token, key)).toBe(true);
  });

  test("a missing file is SECRET_NOT_FOUND naming the path", async () => {
    const path = join(dir, "AuthKey_NOPE123456.p8");
    const error = await rejection(() => AscTokenSource.fromFile(path, { issuerId: TEAM.issuerId }).getToken());
    expect(error.code).toBe("SECRET_NOT_FOUND");
    expect(error.message).toContain(path);
  });

  test("a replaced file is re-read after refreshSeconds", async () => {
    const path = join(dir, "AuthKey_R0TAT10N00.p8");
    const key1 = generateTestKey();
    const key2 = generateTestKey();
    writeFileSync(path, key1.pem);
    let now = 1_700_000_000_000;
    const source = AscTokenSource.fromFile(path, { issuerId: TEAM.issuerId, refreshSeconds: 60, now: () => now });
    expect(signedBy(await source.getToken(), key1)).toBe(true);
    writeFileSync(path, key2.pem);
    expect(signedBy(await source.getToken(), key1)).toBe(true);
    now += 60_000;
    // Due: the token in hand is served at once and the file is re-read behind it.
    expect(signedBy(await source.getToken(), key1)).toBe(true);
    await until(async () => signedBy(await source.getToken(), key2));
  });
});

describe("token cache", () => {
  test("reuses the token until refreshMarginSeconds before expiry, then mints a new one", async () => {
    const key = generateTestKey();
    const stub = stubClient(storedJson(key, TEAM.keyId, TEAM.issuerId));
    const start = 1_700_000_000_000;
    let now = start;
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client, refreshSeconds: 3600, tokenLifetimeSeconds: 600, refreshMarginSeconds: 30, now: () => now });
    const first = await source.getToken();
    expect(decodeJwt(first).payload).toMatchObject({ iat: start / 1000, exp: start / 1000 + 600 });
    now = start + 569_999;
    expect(await source.getToken()).toBe(first);
    now = start + 570_000;
    const second = await source.getToken();
    expect(second).not.toBe(first);
    expect(decodeJwt(second).payload.iat).toBe(start / 1000 + 570);
    expect(stub.reads()).toBe(1);
  });

  test("scope and lifetime go into the token; bad options fail at construction", async () => {
    const stub = stubClient(storedJson(generateTestKey(), TEAM.keyId, TEAM.issuerId));
    const token = await AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client, tokenLifetimeSeconds: 300, scope: ["GET /v1/apps"] }).getToken();
    const { payload } = decodeJwt(token);
    expect(payload.exp - payload.iat).toBe(300);
    expect(payload.scope).toEqual(["GET /v1/apps"]);
    expect(() => AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client, tokenLifetimeSeconds: 1201 })).toThrow(expect.objectContaining({ code: "TOKEN_LIFETIME_INVALID" }));
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ["refreshSeconds negative", { refreshSeconds: -1 }, /^refreshSeconds is the number -1; use a number of seconds from 0 to 86400, or leave it out for 300\./],
    ["refreshSeconds NaN", { refreshSeconds: Number.NaN }, /^refreshSeconds is the number NaN/],
    ["refreshSeconds a string", { refreshSeconds: "60" }, /^refreshSeconds is a value of type string/],
    ["refreshMarginSeconds not below the lifetime", { tokenLifetimeSeconds: 60, refreshMarginSeconds: 60 }, /^refreshMarginSeconds is the number 60; use a number of seconds \(below tokenLifetimeSeconds\) from 0 to 59/],
    ["secretId empty", { secretId: "" }, /^secretId is empty; use the secret's name or ARN/],
    ["secretId missing", { secretId: undefined }, /^secretId is a value of type undefined/],
  ])("OPTION_INVALID for %s, naming the option and its range", (_label, options, message) => {
    const stub = stubClient("{}");
    expect(() => AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client, ...options } as Parameters<typeof AscTokenSource.fromSecretsManager>[0])).toThrow(
      expect.objectContaining({ code: "OPTION_INVALID", message: expect.stringMatching(message) }),
    );
  });

  test("invalidate() re-reads the source and signs anew, once for concurrent callers", async () => {
    const key = generateTestKey();
    const stub = stubClient(storedJson(key, TEAM.keyId, TEAM.issuerId));
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client, versionStage: "AWSPREVIOUS" });
    const first = await source.getToken();
    source.invalidate();
    const again = await Promise.all([source.getToken(), source.getToken(), source.getToken()]);
    expect(new Set(again).size).toBe(1);
    expect(again[0]).not.toBe(first);
    expect(stub.reads()).toBe(2);
    expect(stub.stages).toEqual(["AWSPREVIOUS", "AWSPREVIOUS"]);
  });

  test("a read in flight when invalidate() is called does not repopulate the cache", async () => {
    const key1 = generateTestKey();
    const key2 = generateTestKey();
    const stub = stubClient(storedJson(key1, TEAM.keyId, TEAM.issuerId));
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client });
    const stale = source.getToken();
    while (stub.reads() === 0) await new Promise((r) => setImmediate(r));
    stub.set(storedJson(key2, TEAM.keyId, TEAM.issuerId));
    source.invalidate();
    // The caller that was waiting gets a token from the read after invalidate(), like every other.
    expect(signedBy(await stale, key2)).toBe(true);
    expect(signedBy(await source.getToken(), key2)).toBe(true);
    expect(stub.reads()).toBe(2);
  });
});

describe("a clock stepped backward (NTP correcting a machine that ran ahead)", () => {
  test("the token dated after the new time is not handed out again: a new one is signed on the new clock", async () => {
    const stub = stubClient(storedJson(generateTestKey(), TEAM.keyId, TEAM.issuerId));
    const start = 1_700_000_000_000;
    let now = start;
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client, refreshSeconds: 3600, now: () => now });
    const first = await source.getToken();
    now = start - 3_600_000;
    const second = await source.getToken();
    expect(second).not.toBe(first);
    expect(decodeJwt(second).payload.iat).toBe((start - 3_600_000) / 1000);
    // Read again no later than refreshSeconds after the new time, not an hour more.
    now = start - 3_600_000 + 3_600_000;
    await source.getToken();
    await stub.settled();
    expect(stub.reads()).toBe(2);
  });
});

describe("fetch", () => {
  let api: FakeAscApi;
  beforeEach(async () => {
    api = await FakeAscApi.start();
  });
  afterEach(async () => api.stop());

  test("adds the bearer token, keeps the caller's headers, accepts a Request", async () => {
    const key = generateTestKey();
    api.registerKey({ keyId: TEAM.keyId, publicKeyPem: key.publicKeyPem, issuerId: TEAM.issuerId });
    const stub = stubClient(storedJson(key, TEAM.keyId, TEAM.issuerId));
    const seen: Headers[] = [];
    const spyFetch: typeof fetch = (input, init) => {
      seen.push(new Headers(init?.headers));
      return fetch(input, init);
    };
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client, fetch: spyFetch });
    const a = await source.fetch(`${api.baseUrl}/v1/apps`, { headers: { "x-trace": "1" } });
    const b = await source.fetch(new Request(`${api.baseUrl}/v1/apps`, { headers: { "x-trace": "2" } }));
    expect([a.status, b.status]).toEqual([200, 200]);
    await Promise.all([a.text(), b.text()]);
    expect(seen.map((h) => h.get("x-trace"))).toEqual(["1", "2"]);
    expect(seen.every((h) => h.get("authorization") === seen[0]!.get("authorization"))).toBe(true);
    expect(seen[0]!.get("authorization")).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  });

  test("many requests failing with the same token trigger one re-read", async () => {
    const key = generateTestKey();
    api.registerKey({ keyId: TEAM.keyId, publicKeyPem: key.publicKeyPem, issuerId: TEAM.issuerId });
    const stub = stubClient(storedJson(key, TEAM.keyId, TEAM.issuerId));
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client });
    await source.getToken();
    api.enqueue(401, 401, 401, 401, 401);
    const responses = await Promise.all(Array.from({ length: 5 }, () => source.fetch(`${api.baseUrl}/v1/apps`)));
    await Promise.all(responses.map((r) => r.text()));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(stub.reads()).toBe(2);
  });

  test.each([
    ["an async generator", () => (async function* () { yield new TextEncoder().encode('{"data":1}'); })()],
    ["a Node.js stream", () => Readable.from(['{"data":1}'])],
  ])("a body that is %s cannot be replayed either: its 401 is returned, never retried with an empty body", async (_, body) => {
    const stub = stubClient(storedJson(generateTestKey(), TEAM.keyId, TEAM.issuerId));
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client });
    const response = await source.fetch(`${api.baseUrl}/v1/apps`, { method: "POST", body: body() as unknown as BodyInit, duplex: "half" } as RequestInit);
    await response.text();
    expect(response.status).toBe(401);
    expect(api.requests).toHaveLength(1);
    expect(stub.reads()).toBe(1);
  });

  test("a 401 whose body never finishes cancelling does not hold up the retry", async () => {
    const stub = stubClient(storedJson(generateTestKey(), TEAM.keyId, TEAM.issuerId));
    let calls = 0;
    const stubborn: typeof fetch = async () =>
      ++calls === 1 ? new Response(new ReadableStream({ pull: () => undefined, cancel: () => new Promise<void>(() => undefined) }), { status: 401 }) : new Response("{}", { status: 200 });
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client, fetch: stubborn });
    const response = await source.fetch("https://api.appstoreconnect.apple.com/v1/apps");
    expect(response.status).toBe(200);
    expect(calls).toBe(2);
  });

  test("a 401 whose re-read fails: the read's error, and the 401's body is not left open", async () => {
    const stub = stubClient(storedJson(generateTestKey(), TEAM.keyId, TEAM.issuerId));
    let cancelled = false;
    const unauthorized: typeof fetch = async () => new Response(new ReadableStream({ pull: () => undefined, cancel: () => void (cancelled = true) }), { status: 401 });
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client, fetch: unauthorized });
    await source.getToken();
    stub.failing(true);
    const error = await rejection(() => source.fetch("https://api.appstoreconnect.apple.com/v1/apps"));
    expect(error.code).toBe("SECRET_READ_FAILED");
    expect(cancelled).toBe(true);
  });

  test("a key the API keeps refusing does not turn every request into a read of the store: after a re-read that finds the same key, 401s re-sign for a while without reading", async () => {
    const key = generateTestKey();
    const stub = stubClient(storedJson(key, TEAM.keyId, TEAM.issuerId));
    // A minute behind, so that the tokens signed 50 s later are still dated in the fake's past.
    let now = Date.now() - 60_000;
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client, now: () => now });
    // The key is not registered: the fake answers every request 401, as Apple does for a key it does not know.
    for (let i = 0; i < 20; i++) {
      const responses = await Promise.all(Array.from({ length: 5 }, () => source.fetch(`${api.baseUrl}/v1/apps`)));
      await Promise.all(responses.map((r) => r.text()));
      expect(responses.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
      now += 1_000;
    }
    // The first read, and the one re-read after the first 401; 20 s later the quiet spell is not over.
    expect(stub.reads()).toBe(2);
    // Every retry still went out with a freshly signed token.
    expect(api.requests).toHaveLength(200);
    // After it, a 401 reads the store again at once: a rotated key is picked up.
    now += 30_000;
    const key2 = generateTestKey();
    stub.set(storedJson(key2, TEAM.keyId, TEAM.issuerId));
    api.registerKey({ keyId: TEAM.keyId, publicKeyPem: key2.publicKeyPem, issuerId: TEAM.issuerId });
    const response = await source.fetch(`${api.baseUrl}/v1/apps`);
    await response.text();
    expect(response.status).toBe(200);
    expect(stub.reads()).toBe(3);
  });

  test("a 401 re-read that finds a rotated key leaves no quiet spell: the next 401 reads again at once", async () => {
    const stub = stubClient(storedJson(generateTestKey(), TEAM.keyId, TEAM.issuerId));
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client });
    await source.getToken();
    stub.set(storedJson(generateTestKey(), TEAM.keyId, TEAM.issuerId));
    await (await source.fetch(`${api.baseUrl}/v1/apps`)).text();
    expect(stub.reads()).toBe(2);
    stub.set(storedJson(generateTestKey(), TEAM.keyId, TEAM.issuerId));
    await (await source.fetch(`${api.baseUrl}/v1/apps`)).text();
    expect(stub.reads()).toBe(3);
  });

  test("a streamed body cannot be replayed, so its 401 is returned without a retry", async () => {
    const stub = stubClient(storedJson(generateTestKey(), TEAM.keyId, TEAM.issuerId));
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client });
    const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode("{}")), c.close()) });
    const response = await source.fetch(`${api.baseUrl}/v1/apps`, { method: "POST", body, duplex: "half" } as RequestInit);
    await response.text();
    expect(response.status).toBe(401);
    expect(api.requests).toHaveLength(1);
    expect(stub.reads()).toBe(1);
  });
});

describe("a failed re-read while the token is still good", () => {
  const start = 1_700_000_000_000;

  test("serves the cached token, retries the read once per 30 s back-off, then picks up a rotated key", async () => {
    const key1 = generateTestKey();
    const key2 = generateTestKey();
    const stub = stubClient(storedJson(key1, TEAM.keyId, TEAM.issuerId));
    let now = start;
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client, refreshSeconds: 60, tokenLifetimeSeconds: 900, now: () => now });
    const first = await source.getToken();
    expect(stub.reads()).toBe(1);

    stub.failing(true);
    now = start + 60_000; // refresh window over: the token in hand is served, the re-read fails behind it
    expect(await source.getToken()).toBe(first);
    await stub.settled();
    expect(stub.reads()).toBe(2);
    // Many calls inside the back-off window read nothing.
    for (let i = 0; i < 50; i++) expect(await source.getToken()).toBe(first);
    now = start + 89_999;
    expect(await Promise.all([source.getToken(), source.getToken()])).toEqual([first, first]);
    await stub.settled();
    expect(stub.reads()).toBe(2);
    // Next window: one more read, still failing, still the same token.
    now = start + 90_000;
    expect(await source.getToken()).toBe(first);
    expect(await source.getToken()).toBe(first);
    await stub.settled();
    expect(stub.reads()).toBe(3);

    // Recovery: the secret was rotated during the outage.
    stub.set(storedJson(key2, "7MM5YSX5LS", TEAM.issuerId));
    stub.failing(false);
    now = start + 120_000;
    expect(await source.getToken()).toBe(first);
    await stub.settled();
    expect(stub.reads()).toBe(4);
    const rotated = await source.getToken();
    expect(decodeJwt(rotated).header.kid).toBe("7MM5YSX5LS");
    expect(signedBy(rotated, key2)).toBe(true);
    // Back to the normal refresh interval.
    now = start + 179_999;
    expect(await source.getToken()).toBe(rotated);
    await stub.settled();
    expect(stub.reads()).toBe(4);
  });

  test("the back-off is refreshSeconds when that is shorter than 30 s", async () => {
    const stub = stubClient(storedJson(generateTestKey(), TEAM.keyId, TEAM.issuerId));
    let now = start;
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client, refreshSeconds: 5, now: () => now });
    const first = await source.getToken();
    stub.failing(true);
    now = start + 5_000;
    expect(await source.getToken()).toBe(first);
    await stub.settled();
    now = start + 9_999;
    expect(await source.getToken()).toBe(first);
    await stub.settled();
    expect(stub.reads()).toBe(2);
    now = start + 10_000;
    expect(await source.getToken()).toBe(first);
    await stub.settled();
    expect(stub.reads()).toBe(3);
  });

  test("with no fresh token at hand the read error reaches the caller", async () => {
    const key = generateTestKey();
    const stub = stubClient(storedJson(key, TEAM.keyId, TEAM.issuerId));
    let now = start;
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client, refreshSeconds: 60, tokenLifetimeSeconds: 300, refreshMarginSeconds: 60, now: () => now });
    await source.getToken();
    stub.failing(true);
    now = start + 240_000; // idle past the token's freshness (iat + 300 - 60 s)
    const error = await rejection(() => source.getToken());
    expect(error.code).toBe("SECRET_READ_FAILED");
    expect(error.message).toContain("ThrottlingException");
    expect(containsKeyMaterial(error.message, key)).toBe(false);
  });

  test("a long outage serves the token while it is fresh, then fails every call until a read succeeds", async () => {
    const key = generateTestKey();
    const stub = stubClient(storedJson(key, TEAM.keyId, TEAM.issuerId));
    let now = start;
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client, refreshSeconds: 60, tokenLifetimeSeconds: 300, refreshMarginSeconds: 60, now: () => now });
    const first = await source.getToken();
    stub.failing(true);
    // One call every 10 s: reads at 60, 90, ... 210 s fail and the token (fresh until 240 s) is served.
    for (now = start + 10_000; now < start + 240_000; now += 10_000) {
      expect(await source.getToken()).toBe(first);
      await stub.settled();
    }
    expect(stub.reads()).toBe(1 + 6);
    // Nothing is signed from the unconfirmed credential: from 240 s every call reads and fails.
    for (; now < start + 270_000; now += 10_000) expect((await rejection(() => source.getToken())).code).toBe("SECRET_READ_FAILED");
    expect(stub.reads()).toBe(1 + 6 + 3);
    stub.failing(false);
    const next = await source.getToken();
    expect(next).not.toBe(first);
    expect(signedBy(next, key)).toBe(true);
    expect(decodeJwt(next).payload.iat).toBe((start + 270_000) / 1000);
  });

  test("after invalidate() (an API 401) a failed read is not hidden by the old token", async () => {
    const stub = stubClient(storedJson(generateTestKey(), TEAM.keyId, TEAM.issuerId));
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client });
    await source.getToken();
    stub.failing(true);
    source.invalidate();
    expect((await rejection(() => source.getToken())).code).toBe("SECRET_READ_FAILED");
  });

  test("a first read that fails is not cached: every call reads again", async () => {
    const stub = stubClient(storedJson(generateTestKey(), TEAM.keyId, TEAM.issuerId));
    stub.failing(true);
    const source = AscTokenSource.fromSecretsManager({ secretId: "s", client: stub.client });
    expect((await rejection(() => source.getToken())).code).toBe("SECRET_READ_FAILED");
    expect((await rejection(() => source.getToken())).code).toBe("SECRET_READ_FAILED");
    expect(stub.reads()).toBe(2);
    stub.failing(false);
    expect(decodeJwt(await source.getToken()).header.kid).toBe(TEAM.keyId);
  });
});
