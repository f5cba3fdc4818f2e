/**
 * The ApiKeyProbe provider's methods called directly, as the Pulumi engine would call them.
 */
import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { parsePrivateKey } from "../../src/core";
import { apiKeyProbeProvider } from "../../src/probe/provider";
import { FakeAscApi } from "../support/fake-asc-api";
import { acceptedForms, containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const JWT = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;
const provider = apiKeyProbeProvider as Required<typeof apiKeyProbeProvider>;
type Props = Record<string, unknown>;
type Failure = { property: string; reason: string };

/**
 * The field a failure is about. Failures whose value may hold key material carry no property
 * (the engine would print the raw value, secret or not), so their reason starts with the field.
 */
function fieldOf(failure: Failure): string {
  return failure.property || (/^(\w+)/.exec(failure.reason)?.[1] ?? "");
}
/** Fields whose failures must never name the property, so the engine prints no value. */
const VALUE_NEVER_PRINTED = new Set(["privateKey", "baseUrl"]);

let key: TestKey;
let otherKey: TestKey;
beforeAll(() => {
  key = generateTestKey();
  otherKey = generateTestKey();
});

function team(overrides: Props = {}): Props {
  return { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem, ...overrides };
}

/**
 * Outputs without the secret privateKey and the public key (a PKCS#8 body embeds the public
 * point, so containsKeyMaterial would flag the public key; the private scalar is checked on
 * the full text by {@link expectNoPrivateScalar}).
 */
function publicText(value: unknown): string {
  return JSON.stringify(value, (name, v: unknown) => (name === "privateKey" || name === "publicKeyPem" ? undefined : v));
}

function expectClean(text: string, ...keys: TestKey[]): void {
  for (const k of keys) expect(containsKeyMaterial(text, k)).toBe(false);
  expect(text).not.toMatch(JWT);
}

/** No 12-character run of the private scalar d, in any usual encoding. */
function expectNoPrivateScalar(text: string, k: TestKey): void {
  const d = Buffer.from(k.keyObject.export({ format: "jwk" }).d!, "base64url");
  for (const encoding of [d.toString("hex"), d.toString("base64"), d.toString("base64url")]) {
    for (let i = 0; i + 12 <= encoding.length; i += 2) expect(text.includes(encoding.slice(i, i + 12))).toBe(false);
  }
}

describe("check", () => {
  it("accepts every accepted form, returning the normalised key, fingerprint and public key", async () => {
    const expected = parsePrivateKey(key.pem);
    for (const [form, privateKey] of Object.entries(acceptedForms(key))) {
      if (typeof privateKey !== "string") continue; // gRPC carries strings only
      const { inputs, failures } = await provider.check({}, team({ privateKey }));
      expect({ form, failures }).toEqual({ form, failures: [] });
      expect(inputs).toMatchObject({ privateKey: expected.pem, fingerprint: expected.fingerprint, publicKeyPem: expected.publicKeyPem, keyType: "team", mode: "offline" });
    }
  });

  it.each<[string, Props, string, RegExp]>([
    ["lower-case key ID", { keyId: "2x9r4hxf34" }, "keyId", /upper-case/],
    ["key name as key ID", { keyId: "pricing-automation" }, "keyId", /name/],
    ["file name of another key", { privateKeyFileName: "AuthKey_ABCDEFGHIJ.p8" }, "keyId", /AuthKey_ABCDEFGHIJ\.p8/],
    ["missing issuer", { issuerId: undefined }, "issuerId", /Issuer ID/],
    ["team ID as issuer", { issuerId: "A1B2C3D4E5" }, "issuerId", /Team ID/],
    ["issuer on an individual key", { keyType: "individual" }, "issuerId", /individual/],
    ["bad key type", { keyType: "personal" }, "keyType", /key type/],
    ["empty key", { privateKey: "   " }, "privateKey", /privateKey/],
    ["garbage key", { privateKey: "not a key at all" }, "privateKey", /privateKey/],
    ["bad mode", { mode: "sometimes" }, "mode", /offline/],
    ["bad baseUrl", { baseUrl: "ftp://example.com" }, "baseUrl", /http/],
    ["baseUrl with credentials", { baseUrl: "https://user:pw@example.com" }, "baseUrl", /without credentials/],
    ["bad timeout", { timeoutMs: -5 }, "timeoutMs", /milliseconds/],
    ["plain http to another host", { baseUrl: "http://api.example.com" }, "baseUrl", /^baseUrl is a plain http:\/\/ URL.*use an https URL/],
    ["non-string file name", { privateKeyFileName: 42 }, "privateKeyFileName", /file name/],
  ])("%s is a failure on its field", async (_label, overrides, field, reason) => {
    const { failures } = await provider.check({}, team(overrides));
    const onField = failures!.filter((f) => fieldOf(f) === field);
    expect(onField).toContainEqual({ property: VALUE_NEVER_PRINTED.has(field) ? "" : field, reason: expect.stringMatching(reason) });
    expect(failures!.every((f) => typeof f.reason === "string" && f.reason.length > 0)).toBe(true);
    expectClean(JSON.stringify(failures), key);
  });

  it.each<[string, () => string]>([
    ["an RSA key", () => rsaPem()],
    ["a P-384 key", () => generateTestKey("P-384").pem],
    ["a public key", () => key.publicKeyPem],
    ["a truncated key", () => key.pem.slice(0, 120)],
  ])("%s fails on privateKey without echoing it", async (_label, make) => {
    const privateKey = make();
    const { failures, inputs } = await provider.check({}, team({ privateKey }));
    expect(failures!.map(fieldOf)).toEqual(["privateKey"]);
    // Named, the engine would print the raw (secret) value next to the reason.
    expect(failures!.map((f) => f.property)).toEqual([""]);
    expect(inputs).not.toHaveProperty("fingerprint");
    expect(JSON.stringify(failures)).not.toContain(privateKey.slice(30, 60));
    expectClean(JSON.stringify(failures), key);
  });

  it("accepts plain http to a loopback host (a local test server)", async () => {
    for (const baseUrl of ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2"]) {
      expect((await provider.check({}, team({ mode: "online", baseUrl }))).failures).toEqual([]);
    }
  });

  describe("a slice of the key pasted into an identifier is never named as the property (the engine would print it)", () => {
    const slices = (): [string, string][] => {
      const bodyLine = key.pem.split("\n")[1]!;
      expect(bodyLine).toHaveLength(64);
      return [
        ["a 64-character PEM body line", bodyLine],
        ["a 40-character slice of it", bodyLine.slice(12, 52)],
        ["a 12-character slice of it", bodyLine.slice(20, 32)],
      ];
    };
    it.each(["keyId", "issuerId"])("%s", async (field) => {
      for (const [label, value] of slices()) {
        const { failures } = await provider.check({}, team({ [field]: value }));
        const onField = failures!.filter((f) => fieldOf(f) === field);
        expect({ label, properties: onField.map((f) => f.property) }).toEqual({ label, properties: [""] });
        expect(onField[0]!.reason.startsWith(`${field} `)).toBe(true);
        expect(JSON.stringify(failures)).not.toContain(value);
      }
    });
    it("while plain mistakes are still named", async () => {
      for (const [field, value] of [["keyId", "pricing-automation"], ["keyId", "2x9r4hxf34"], ["issuerId", "A1B2C3D4E5"], ["issuerId", "me@example.com"]] as const) {
        const { failures } = await provider.check({}, team({ [field]: value }));
        expect(failures!.filter((f) => fieldOf(f) === field).map((f) => f.property)).toEqual([field]);
      }
    });
  });

  it("reports every problem at once", async () => {
    const { failures } = await provider.check({}, { keyId: "my key", issuerId: "me@example.com", privateKey: "x", mode: "always" });
    expect(new Set(failures!.map(fieldOf))).toEqual(new Set(["keyId", "issuerId", "privateKey", "mode"]));
  });

  it("passes unknown inputs through and marks fingerprint and public key unknown", async () => {
    const { inputs, failures } = await provider.check({}, team({ privateKey: UNKNOWN }));
    expect(failures).toEqual([]);
    expect(inputs).toMatchObject({ privateKey: UNKNOWN, fingerprint: UNKNOWN, publicKeyPem: UNKNOWN });
  });

  it("validates the known inputs while others are unknown", async () => {
    const unknownKey = await provider.check({}, team({ privateKey: UNKNOWN, keyId: "bad id" }));
    expect(unknownKey.failures!.map(fieldOf)).toEqual(["keyId"]);
    const unknownId = await provider.check({}, team({ keyId: UNKNOWN, issuerId: UNKNOWN, mode: UNKNOWN, baseUrl: UNKNOWN, timeoutMs: UNKNOWN }));
    expect(unknownId.failures).toEqual([]);
    expect(unknownId.inputs).toMatchObject({ keyId: UNKNOWN, fingerprint: parsePrivateKey(key.pem).fingerprint });
    // The issuer rule depends on the key type, so an unknown key type defers it.
    const unknownType = await provider.check({}, team({ keyType: UNKNOWN, issuerId: undefined }));
    expect(unknownType.failures).toEqual([]);
  });
});

describe("check: a Key ID names one key for good", () => {
  // App Store Connect issues each key with its own Key ID, so a new .p8 under the old keyId (or a
  // new keyId with the old .p8) stores a pair whose tokens Apple refuses; offline, nothing else
  // would notice before every consumer gets 401.
  const checked = async (overrides: Props): Promise<Props> => (await provider.check({}, team(overrides))).inputs as Props;

  it("a new privateKey under the same keyId fails offline, on keyId, with the fix", async () => {
    const olds = await checked({});
    const { failures } = await provider.check(olds, team({ privateKey: otherKey.pem }));
    expect(failures).toEqual([
      {
        property: "keyId",
        reason: expect.stringMatching(new RegExp(`^keyId is still ${TEAM.keyId} but privateKey is another key \\(sha256:[0-9a-f]{64} => sha256:[0-9a-f]{64}\\)\\..*new key's Key ID.*AuthKey_<KEYID>\\.p8.*mode: "online"`)),
      },
    ]);
    expectClean(JSON.stringify(failures), key, otherKey);
  });

  it("a new keyId with the same privateKey fails offline, on privateKey, with the fix", async () => {
    const olds = await checked({});
    const { failures } = await provider.check(olds, team({ keyId: "ABCDEFGHIJ", privateKey: key.pem.replace(/\n/g, "\\n") }));
    expect(failures).toEqual([
      { property: "", reason: expect.stringMatching(new RegExp(`^privateKey is still the key of ${TEAM.keyId} \\(sha256:[0-9a-f]{64}\\) but keyId changed to ABCDEFGHIJ\\..*AuthKey_ABCDEFGHIJ\\.p8.*mode: "online"`)) },
    ]);
    expectClean(JSON.stringify(failures), key);
  });

  it("a rotation (both changed), another encoding of the same key, and online corrections pass", async () => {
    const olds = await checked({});
    expect((await provider.check(olds, team({ keyId: "ABCDEFGHIJ", privateKey: otherKey.pem }))).failures).toEqual([]);
    expect((await provider.check(olds, team({ privateKey: Buffer.from(key.pem).toString("base64") }))).failures).toEqual([]);
    expect((await provider.check(olds, team({ issuerId: "11111111-2222-3333-4444-555555555555" }))).failures).toEqual([]);
    // Apple judges the pair at up: a wrong .p8 deployed before can be corrected.
    expect((await provider.check(olds, team({ privateKey: otherKey.pem, mode: "online", baseUrl: "http://127.0.0.1:1" }))).failures).toEqual([]);
    expect((await provider.check(olds, team({ keyId: "ABCDEFGHIJ", mode: "online", baseUrl: "http://127.0.0.1:1" }))).failures).toEqual([]);
    // Values not known yet are judged when they are.
    expect((await provider.check(olds, team({ privateKey: UNKNOWN }))).failures).toEqual([]);
    expect((await provider.check(olds, team({ keyId: UNKNOWN, privateKey: otherKey.pem }))).failures).toEqual([]);
  });
});

describe("diff", () => {
  let state: Props;
  let news: Props;
  beforeAll(async () => {
    news = (await provider.check({}, team())).inputs as Props;
    state = (await provider.create(news)).outs as Props;
  });

  it("reports no change for the same inputs, even with another encoding of the key", async () => {
    expect((await provider.diff("id", state, news)).changes).toBe(false);
    const reencoded = (await provider.check({}, team({ privateKey: Buffer.from(key.pem).toString("base64") }))).inputs as Props;
    expect((await provider.diff("id", state, reencoded)).changes).toBe(false);
    expect((await provider.diff("id", state, { ...news, timeoutMs: 5000 })).changes).toBe(false);
  });

  it.each<[string, Props]>([
    ["keyId", { keyId: "ABCDEFGHIJ" }],
    ["issuerId", { issuerId: "11111111-2222-3333-4444-555555555555" }],
    ["keyType", { keyType: "individual", issuerId: undefined }],
    ["fingerprint", { fingerprint: "sha256:" + "0".repeat(64) }],
    ["mode", { mode: "online" }],
    ["baseUrl", { baseUrl: "http://127.0.0.1:1" }],
    ["an unknown fingerprint", { fingerprint: UNKNOWN }],
  ])("a change of %s is an update, never a replace", async (_label, change) => {
    const result = await provider.diff("id", state, { ...news, ...change });
    expect(result).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });
});

describe("create, update, read, delete", () => {
  it("create outputs exactly the documented fields, and no copy of the key", async () => {
    const inputs = (await provider.check({}, team({ privateKey: key.pem.replace(/\n/g, "\\n") }))).inputs as Props;
    const { id, outs } = await provider.create(inputs);
    const expected = parsePrivateKey(key.pem);
    expect(id).toBe(TEAM.keyId);
    expect(Object.keys(outs as Props).sort()).toEqual(["fingerprint", "issuerId", "keyId", "keyType", "mode", "publicKeyPem", "validatedAt"]);
    expect(outs).toMatchObject({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, keyType: "team", mode: "offline", fingerprint: expected.fingerprint, publicKeyPem: expected.publicKeyPem });
    expect(Date.parse((outs as Props).validatedAt as string)).toBeGreaterThan(Date.now() - 60_000);
    expectClean(publicText(outs), key);
    expectNoPrivateScalar(JSON.stringify(outs), key);
    expect(JSON.stringify(outs)).not.toMatch(JWT);
  });

  it("create throws the probe's message, never key material", async () => {
    const attempt = provider.create({ keyId: TEAM.keyId, keyType: "team", mode: "offline", privateKey: key.pem });
    await expect(attempt).rejects.toThrow(/issuerId is missing/);
    const error = await attempt.catch((e: Error & { code?: string }) => e);
    expect(error).toMatchObject({ code: "ISSUER_ID_MISSING" });
    expectClean(`${(error as Error).message}\n${(error as Error).stack}`, key);
  });

  it("update records the previous key when the key changes, and keeps it otherwise", async () => {
    const first = (await provider.create((await provider.check({}, team())).inputs as Props)).outs as Props;
    const rotatedInputs = (await provider.check({}, team({ keyId: "ABCDEFGHIJ", privateKey: otherKey.pem }))).inputs as Props;
    const rotated = (await provider.update("id", first, rotatedInputs)).outs as Props;
    expect(rotated).toMatchObject({ keyId: "ABCDEFGHIJ", fingerprint: parsePrivateKey(otherKey.pem).fingerprint, previousKeyId: TEAM.keyId, previousFingerprint: first.fingerprint });
    expect(rotated.privateKey).toBeUndefined();

    const modeOnly = (await provider.update("id", rotated, { ...rotatedInputs, mode: "offline", timeoutMs: 2000 })).outs as Props;
    expect(modeOnly).toMatchObject({ previousKeyId: TEAM.keyId, previousFingerprint: first.fingerprint, keyId: "ABCDEFGHIJ" });

    // Same key ID, another key file (the wrong .p8 was deployed before, corrected online): not a
    // rotation, so the key to revoke stays the one before, never the Key ID in use.
    const rekeyed = (await provider.update("id", modeOnly, { ...rotatedInputs, privateKey: parsePrivateKey(key.pem).pem })).outs as Props;
    expect(rekeyed).toMatchObject({ keyId: "ABCDEFGHIJ", previousKeyId: TEAM.keyId, previousFingerprint: first.fingerprint });
    expectClean(publicText([first, rotated, modeOnly, rekeyed]), key, otherKey);
    for (const k of [key, otherKey]) expectNoPrivateScalar(JSON.stringify([first, rotated, modeOnly, rekeyed].map((o) => ({ ...o, privateKey: undefined }))), k);
  });

  it("update: a corrected keyId alone is not a rotation either (the old ID was never this key's)", async () => {
    const first = (await provider.create((await provider.check({}, team())).inputs as Props)).outs as Props;
    const corrected = (await provider.update("id", first, (await provider.check({}, team({ keyId: "ABCDEFGHIJ" }))).inputs as Props)).outs as Props;
    expect(corrected.keyId).toBe("ABCDEFGHIJ");
    expect(corrected).not.toHaveProperty("previousKeyId");
    expect(corrected).not.toHaveProperty("previousFingerprint");
  });

  it("update fails on a bad new key and names the problem", async () => {
    const first = (await provider.create((await provider.check({}, team())).inputs as Props)).outs as Props;
    await expect(provider.update("id", first, { ...first, privateKey: generateTestKey("P-384").pem })).rejects.toThrow(/P-256/);
  });

  it("read returns the state and delete does nothing", async () => {
    const outs = (await provider.create((await provider.check({}, team())).inputs as Props)).outs as Props;
    await expect(provider.read("id", outs)).resolves.toEqual({ id: "id", props: outs });
    await expect(provider.delete("id", outs)).resolves.toBeUndefined();
  });

  describe("online", () => {
    let fake: FakeAscApi;
    beforeAll(async () => {
      fake = await FakeAscApi.start();
      fake.registerKey({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, publicKeyPem: key.publicKeyPem });
    });
    afterAll(() => fake.stop());

    it("records Apple's status and the clock skew", async () => {
      const inputs = (await provider.check({}, team({ mode: "online", baseUrl: fake.baseUrl, timeoutMs: 2000 }))).inputs as Props;
      const { outs } = await provider.create(inputs);
      expect(outs).toMatchObject({ mode: "online", apiStatus: 200, baseUrl: fake.baseUrl, clockSkewSeconds: expect.any(Number) });
      expect(Math.abs((outs as Props).clockSkewSeconds as number)).toBeLessThanOrEqual(2);
      expect(fake.requests.at(-1)).toMatchObject({ method: "GET", path: "/v1/apps?limit=1", status: 200, kid: TEAM.keyId });
    });

    it("fails create with API_UNAUTHORIZED for a key Apple does not know", async () => {
      const inputs = (await provider.check({}, team({ keyId: "ZZZZZZZZZZ", mode: "online", baseUrl: fake.baseUrl, timeoutMs: 2000 }))).inputs as Props;
      const error = await provider.create(inputs).catch((e: Error & { code?: string }) => e);
      expect(error).toMatchObject({ code: "API_UNAUTHORIZED", message: expect.stringMatching(/401/) });
      expectClean(String((error as Error).message), key);
    });
  });
});

describe("property: invalid inputs", () => {
  const notKeyId = fc.string({ maxLength: 40 }).filter((s) => !/^[A-Z0-9]{10}$/.test(s));
  const notUuid = fc.string({ maxLength: 60 }).filter((s) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s));
  const notMode = fc.string({ maxLength: 20 }).filter((s) => s !== "offline" && s !== "online" && s !== UNKNOWN);
  const notKeyType = fc.string({ maxLength: 20 }).filter((s) => s !== "team" && s !== "individual" && s !== UNKNOWN);

  it("check returns failures on each broken property, never throws, never echoes the key", async () => {
    const broken = fc.record(
      {
        keyId: notKeyId,
        issuerId: notUuid,
        keyType: notKeyType,
        mode: notMode,
        privateKey: fc.oneof(
          fc.nat().map((n) => key.pem.slice(0, 30 + (n % (key.pem.length - 60)))),
          fc.string({ maxLength: 200 }),
          fc.nat().map((n) => Buffer.from(key.pem.slice(0, 40 + (n % 120))).toString("base64")),
        ),
      },
      { requiredKeys: [] },
    ).filter((r) => Object.keys(r).length > 0);
    await fc.assert(
      fc.asyncProperty(broken, async (overrides) => {
        const { failures } = await provider.check({}, team(overrides));
        const properties = new Set(failures!.map(fieldOf));
        for (const field of Object.keys(overrides)) {
          // An invalid key type defers the issuer rule; everything else fails on its own field.
          if (field === "issuerId" && "keyType" in overrides) continue;
          expect(properties).toContain(field);
        }
        expect(failures!.filter((f) => VALUE_NEVER_PRINTED.has(fieldOf(f))).every((f) => f.property === "")).toBe(true);
        expectClean(JSON.stringify(failures), key);
      }),
      { numRuns: 60 },
    );
  });
});

function rsaPem(): string {
  return generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}
