/**
 * AscTokenSource.fromSecretsManager with the real AWS SDK against moto on 127.0.0.1, and the
 * fake App Store Connect API for the 401-driven rotation.
 */
import { randomUUID } from "node:crypto";
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import * as tokenModule from "../../src/core/token";
import { AscTokenSource } from "../../src/runtime/token-source";
import { FakeAscApi } from "../support/fake-asc-api";
import { containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";
import { startMoto, type MotoServer } from "../support/moto-server";
import { decodeJwt, generateRsaTestKey, rejection, signedBy, storedJson, until } from "./helpers";

const KEY_2 = "7MM5YSX5LS";

let moto: MotoServer;
let client: SecretsManagerClient;
let getSecretValueCalls = 0;

beforeAll(async () => {
  moto = await startMoto();
  client = new SecretsManagerClient({
    endpoint: moto.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 1,
  });
  // Counts what goes over the wire, below the token source.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "GetSecretValueCommand") getSecretValueCalls++;
      return next(args);
    },
    { step: "initialize", name: "countGetSecretValue" },
  );
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

async function createSecret(value: string): Promise<string> {
  const name = `asc/test/${randomUUID()}`;
  await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return name;
}

async function rotate(secretId: string, value: string): Promise<void> {
  await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
}

function expectNoKeyMaterial(text: string, ...keys: TestKey[]): void {
  for (const key of keys) expect(containsKeyMaterial(text, key)).toBe(false);
}

describe("fromSecretsManager against moto", () => {
  test("reads the stored credential, mints a verifiable team token and caches it", async () => {
    const key = generateTestKey();
    const secretId = await createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId));
    const source = AscTokenSource.fromSecretsManager({ secretId, client });
    const before = getSecretValueCalls;

    const token = await source.getToken();
    const { header, payload } = decodeJwt(token);
    expect(header).toEqual({ alg: "ES256", kid: TEAM.keyId, typ: "JWT" });
    expect(payload.iss).toBe(TEAM.issuerId);
    expect(payload.aud).toBe("appstoreconnect-v1");
    expect(payload.exp - payload.iat).toBe(900);
    expect(signedBy(token, key)).toBe(true);

    expect(await source.getToken()).toBe(token);
    expect(await source.getToken()).toBe(token);
    expect(getSecretValueCalls - before).toBe(1);
  });

  test("100 concurrent getToken() calls share one GetSecretValue and one signing", async () => {
    const key = generateTestKey();
    const secretId = await createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId));
    const source = AscTokenSource.fromSecretsManager({ secretId, client });
    const signings = jest.spyOn(tokenModule, "createToken");
    const before = getSecretValueCalls;
    try {
      const tokens = await Promise.all(Array.from({ length: 100 }, () => source.getToken()));
      expect(getSecretValueCalls - before).toBe(1);
      expect(signings).toHaveBeenCalledTimes(1);
      // ES256 signatures are randomised: two signings would never give the same string.
      expect(new Set(tokens).size).toBe(1);
    } finally {
      signings.mockRestore();
    }
  });

  test("a rotated secret is picked up after refreshSeconds, not before", async () => {
    const key1 = generateTestKey();
    const key2 = generateTestKey();
    const secretId = await createSecret(storedJson(key1, TEAM.keyId, TEAM.issuerId));
    let now = Date.now();
    const source = AscTokenSource.fromSecretsManager({ secretId, client, refreshSeconds: 30, now: () => now });
    const before = getSecretValueCalls;

    const first = await source.getToken();
    expect(decodeJwt(first).header.kid).toBe(TEAM.keyId);
    await rotate(secretId, storedJson(key2, KEY_2, TEAM.issuerId));

    now += 29_000;
    expect(await source.getToken()).toBe(first);
    expect(getSecretValueCalls - before).toBe(1);

    now += 2_000;
    // Due: the token in hand is served at once, and the secret is re-read behind it.
    expect(await source.getToken()).toBe(first);
    await until(() => getSecretValueCalls - before === 2);
    let second = first;
    await until(async () => (second = await source.getToken()) !== first);
    expect(decodeJwt(second).header.kid).toBe(KEY_2);
    expect(signedBy(second, key2)).toBe(true);
    expect(getSecretValueCalls - before).toBe(2);
  });

  test("a re-read that finds the same key keeps the current token", async () => {
    const key = generateTestKey();
    const secretId = await createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId));
    let now = Date.now();
    const source = AscTokenSource.fromSecretsManager({ secretId, client, refreshSeconds: 10, now: () => now });
    const before = getSecretValueCalls;
    const first = await source.getToken();
    now += 11_000;
    expect(await source.getToken()).toBe(first);
    await until(() => getSecretValueCalls - before === 2);
    expect(await source.getToken()).toBe(first);
    expect(getSecretValueCalls - before).toBe(2);
  });

  test("a 401 from the API re-reads the rotated secret at once and retries with the new key", async () => {
    const key1 = generateTestKey();
    const key2 = generateTestKey();
    const api = await FakeAscApi.start();
    try {
      const secretId = await createSecret(storedJson(key1, TEAM.keyId, TEAM.issuerId));
      const source = AscTokenSource.fromSecretsManager({ secretId, client, refreshSeconds: 3600 });
      await source.getToken(); // warm cache holding key 1
      const before = getSecretValueCalls;

      // Rotation: the secret now holds key 2, and Apple knows only key 2 (key 1's kid → 401).
      await rotate(secretId, storedJson(key2, KEY_2, TEAM.issuerId));
      api.registerKey({ keyId: KEY_2, publicKeyPem: key2.publicKeyPem, issuerId: TEAM.issuerId });

      const response = await source.fetch(`${api.baseUrl}/v1/apps?limit=1`);
      expect(response.status).toBe(200);
      await response.text();
      expect(api.requests.map((r) => [r.kid, r.status])).toEqual([
        [TEAM.keyId, 401],
        [KEY_2, 200],
      ]);
      expect(getSecretValueCalls - before).toBe(1);
      expect(decodeJwt(await source.getToken()).header.kid).toBe(KEY_2);
    } finally {
      await api.stop();
    }
  });

  test("a persistent 401 is retried exactly once and then returned", async () => {
    const key = generateTestKey();
    const api = await FakeAscApi.start();
    try {
      const secretId = await createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId));
      const source = AscTokenSource.fromSecretsManager({ secretId, client });
      const before = getSecretValueCalls;
      // The key was never registered: Apple answers 401 to every token.
      const response = await source.fetch(`${api.baseUrl}/v1/apps`);
      expect(response.status).toBe(401);
      await response.text();
      expect(api.requests).toHaveLength(2);
      expect(getSecretValueCalls - before).toBe(2);
    } finally {
      await api.stop();
    }
  });

  test('versionStage "AWSPREVIOUS" reads the key before the rotation', async () => {
    const key1 = generateTestKey();
    const key2 = generateTestKey();
    const secretId = await createSecret(storedJson(key1, TEAM.keyId, TEAM.issuerId));

    const early = await rejection(() => AscTokenSource.fromSecretsManager({ secretId, client, versionStage: "AWSPREVIOUS" }).getToken());
    expect(early.code).toBe("SECRET_NOT_FOUND");
    expect(early.message).toContain(secretId);
    expect(early.message).toContain("AWSPREVIOUS");

    await rotate(secretId, storedJson(key2, KEY_2, TEAM.issuerId));
    const previous = await AscTokenSource.fromSecretsManager({ secretId, client, versionStage: "AWSPREVIOUS" }).getToken();
    const current = await AscTokenSource.fromSecretsManager({ secretId, client }).getToken();
    expect(decodeJwt(previous).header.kid).toBe(TEAM.keyId);
    expect(signedBy(previous, key1)).toBe(true);
    expect(decodeJwt(current).header.kid).toBe(KEY_2);
    expect(signedBy(current, key2)).toBe(true);
  });

  test("a missing secret is SECRET_NOT_FOUND naming the secret", async () => {
    const secretId = `asc/test/missing-${randomUUID()}`;
    const error = await rejection(() => AscTokenSource.fromSecretsManager({ secretId, client }).getToken());
    expect(error.name).toBe("AscCredentialError");
    expect(error.code).toBe("SECRET_NOT_FOUND");
    expect(error.message).toContain(secretId);
  });

  test.each([
    ["not JSON", (key: TestKey) => `{"schemaVersion":1,"privateKey":"${key.pem.slice(0, 60)}`],
    ["the bare PEM instead of the JSON", (key: TestKey) => key.pem],
    ["a JSON array", () => "[1,2]"],
    ["schemaVersion 2", (key: TestKey) => storedJson(key, TEAM.keyId, TEAM.issuerId, { schemaVersion: 2 })],
    ["no schemaVersion", (key: TestKey) => storedJson(key, TEAM.keyId, TEAM.issuerId, { schemaVersion: undefined })],
    ["no privateKey", (key: TestKey) => storedJson(key, TEAM.keyId, TEAM.issuerId, { privateKey: undefined })],
    ["a fingerprint of another key", (key: TestKey) => storedJson(key, TEAM.keyId, TEAM.issuerId, { fingerprint: JSON.parse(storedJson(generateTestKey(), TEAM.keyId, TEAM.issuerId)).fingerprint })],
  ])("a secret holding %s is SECRET_FORMAT_INVALID without its content", async (_name, value) => {
    const key = generateTestKey();
    const secretId = await createSecret(value(key));
    const error = await rejection(() => AscTokenSource.fromSecretsManager({ secretId, client }).getToken());
    expect(error.code).toBe("SECRET_FORMAT_INVALID");
    expect(error.message).toContain(secretId);
    expectNoKeyMaterial(error.message, key);
  });

  test.each([
    ["a P-384 key", () => generateTestKey("P-384"), "KEY_WRONG_CURVE"],
    ["an RSA key", () => generateRsaTestKey(), "KEY_NOT_EC"],
    ["a truncated key", () => {
      const key = generateTestKey();
      return { ...key, pem: key.pem.slice(0, 120) + "\n-----END PRIVATE KEY-----\n", full: key };
    }, "KEY_MALFORMED"],
  ])("a secret holding %s fails with the key's code and the secret ID", async (_name, make, code) => {
    const key = make() as TestKey & { full?: TestKey };
    const secretId = await createSecret(
      JSON.stringify({ schemaVersion: 1, keyType: "team", keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem, fingerprint: "sha256:" + "0".repeat(64) }),
    );
    const error = await rejection(() => AscTokenSource.fromSecretsManager({ secretId, client }).getToken());
    expect(error.code).toBe(code);
    expect(error.message).toContain(secretId);
    expectNoKeyMaterial(error.message, key.full ?? key);
  });

  test("after a failed read the next call reads again (failures are not cached)", async () => {
    const key = generateTestKey();
    const secretId = await createSecret("{}");
    const source = AscTokenSource.fromSecretsManager({ secretId, client });
    expect((await rejection(() => source.getToken())).code).toBe("SECRET_FORMAT_INVALID");
    await rotate(secretId, storedJson(key, TEAM.keyId, TEAM.issuerId));
    expect(signedBy(await source.getToken(), key)).toBe(true);
  });

  test("other AWS failures are SECRET_READ_FAILED naming the secret", async () => {
    const unreachable = new SecretsManagerClient({
      endpoint: "http://127.0.0.1:9",
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      maxAttempts: 1,
    });
    const error = await rejection(() => AscTokenSource.fromSecretsManager({ secretId: "asc/test/any", client: unreachable }).getToken());
    unreachable.destroy();
    expect(error.code).toBe("SECRET_READ_FAILED");
    expect(error.message).toContain("asc/test/any");
  });
});
