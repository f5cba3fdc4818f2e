/**
 * The Vault store end to end against a real OpenBao dev server on 127.0.0.1: the component runs
 * under Pulumi mocks (no Vault provider plugin can be had here), the exact policy, KV data and
 * auth roles it declared are written to the server, and the server's ACL engine decides what a
 * reader may do. The loader (`vaultLoader`) and `AscTokenSource.fromVault` read through them.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { parsePrivateKey } from "../../src/core";
import { AscTokenSource } from "../../src/runtime/token-source";
import { vaultLoader, type VaultSource } from "../../src/runtime/vault";
import type { AppStoreConnectApiKeyArgs } from "../../src/storage/vault";
import { buildVault, declaredOf, type Declared } from "../storage/vault/declared";
import { FakeAscApi } from "../support/fake-asc-api";
import { containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";
import { JWT_PATTERN } from "../support/leak-guard";
import { freePort } from "../support/local-server";
import { startOpenBao, type OpenBaoServer } from "../support/openbao-server";
import { decodeJwt, rejection, signedBy, thrown, until } from "./helpers";
import { appRoleCredentials, applyDeclared, enableAuth, ok, recordFetches, testIssuer, tokenWith, type FetchRecord, type TestIssuer } from "./vault-helpers";

jest.setTimeout(60_000);

const KEY_2 = "7MM5YSX5LS";
const REPO = "acme/ios-app";
const AUDIENCE = "https://github.com/acme";
const JWT_ROLE = { boundAudiences: [AUDIENCE], boundClaims: { repository: REPO } };
/** Every token, secret ID and JWT of this file: none may appear in any message. */
const SECRETS = new Set<string>();

let server: OpenBaoServer;
let issuer: TestIssuer;
let fetches: { calls: FetchRecord[]; restore(): void };

beforeAll(async () => {
  server = await startOpenBao();
  SECRETS.add(server.rootToken);
  await enableAuth(server.api, "approle", "approle");
  await enableAuth(server.api, "jwt", "jwt");
  issuer = testIssuer();
  // What a team configures once for GitHub Actions (here with a local key instead of GitHub's discovery URL).
  await ok(server.api("POST", "auth/jwt/config", { jwt_validation_pubkeys: [issuer.publicKeyPem], bound_issuer: issuer.issuer }), "configure the jwt auth method");
  fetches = recordFetches();
}, 60_000);

afterAll(async () => {
  fetches?.restore();
  await server?.stop();
});

/** Runs the component under mocks for `name` and writes what it declared to the server. */
async function deploy(name: string, key: TestKey, args: Partial<AppStoreConnectApiKeyArgs> = {}, keyId: string = TEAM.keyId): Promise<Declared> {
  const built = await buildVault({ ...args, keyId, privateKey: key.pem }, {}, name);
  const declared = declaredOf(built.run);
  await applyDeclared(server.api, declared);
  return declared;
}

function remember<T extends string>(secret: T): T {
  SECRETS.add(secret);
  return secret;
}

/** Nothing secret in a message: no token, secret ID or JWT of this file, no key material. */
function expectClean(message: string, ...keys: TestKey[]): void {
  for (const secret of SECRETS) expect(message.includes(secret)).toBe(false);
  expect(JWT_PATTERN.test(message)).toBe(false);
  for (const key of keys) expect(containsKeyMaterial(message, key)).toBe(false);
}

function expected(key: TestKey, keyId: string = TEAM.keyId): Record<string, unknown> {
  const parsed = parsePrivateKey(key.pem);
  return { keyType: "team", keyId, issuerId: TEAM.issuerId, privateKey: parsed.pem, fingerprint: parsed.fingerprint };
}

const loginsTo = (calls: FetchRecord[]): FetchRecord[] => calls.filter((c) => c.url.endsWith("/login"));
const readsOf = (calls: FetchRecord[], path: string): FetchRecord[] => calls.filter((c) => c.method === "GET" && new URL(c.url).pathname.endsWith(`/data/${path}`));

describe("a token holding only the reader policy", () => {
  let keyA: TestKey;
  let d: Declared;
  let reader: string;
  beforeAll(async () => {
    keyA = generateTestKey();
    d = await deploy("reader", keyA, { role: "APP_MANAGER" });
    reader = remember(await tokenWith(server.api, [d.policy.name]));
    // A neighbour the reader must not see: same prefix, same mount.
    await ok(server.api("POST", "secret/data/app-store-connect/reader-2", { data: { other: "team" } }), "write a neighbour");
    await ok(server.api("POST", "secret/data/app-store-connect/other", { data: { other: "team" } }), "write another secret");
  });

  test("the declared secret holds the stored JSON and the declared metadata", async () => {
    expect(d.secret.dataWasSecret).toBe(true);
    const read = await ok(server.api("GET", `secret/data/${d.secret.path}`), "read as root");
    const data = read?.data as { data: Record<string, unknown>; metadata: { version: number; custom_metadata: Record<string, string> } };
    expect(data.data).toEqual({ schemaVersion: 1, ...expected(keyA) });
    expect(data.metadata.version).toBe(1);
    expect(data.metadata.custom_metadata).toEqual({ "asc:key-id": TEAM.keyId, "asc:key-type": "team", "asc:roles": "APP_MANAGER", "managed-by": "pulumi-asc-credential" });
  });

  test("reads the key through the Vault loader", async () => {
    const loaded = await vaultLoader({ address: server.address, token: reader, path: d.secret.path })(5_000);
    expect(loaded).toEqual(expected(keyA));
  });

  test("reads it through AscTokenSource.fromVault: a token signed by the stored key", async () => {
    const token = await AscTokenSource.fromVault({ address: server.address, token: reader, path: d.secret.path, mount: d.secret.mount }).getToken();
    expect(decodeJwt(token).header.kid).toBe(TEAM.keyId);
    expect(decodeJwt(token).payload.iss).toBe(TEAM.issuerId);
    expect(signedBy(token, keyA)).toBe(true);
  });

  test("defaults: VAULT_ADDR and VAULT_TOKEN", async () => {
    const saved = { addr: process.env.VAULT_ADDR, token: process.env.VAULT_TOKEN };
    process.env.VAULT_ADDR = server.address;
    process.env.VAULT_TOKEN = reader;
    try {
      expect(await vaultLoader({ path: d.secret.path })(5_000)).toEqual(expected(keyA));
    } finally {
      for (const [name, value] of [["VAULT_ADDR", saved.addr], ["VAULT_TOKEN", saved.token]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  // Each request is also sent as root against a scratch secret and policy: it must succeed there,
  // so the reader's 403 is the policy's doing, not a malformed request.
  const SCRATCH = "app-store-connect/scratch";
  const SCRATCH_POLICY = "scratch-policy";
  type Target = { path: string; policy: string };
  test.each<[string, string, (t: Target) => string, unknown]>([
    ["write the secret", "POST", (t) => `secret/data/${t.path}`, { data: { schemaVersion: 1 } }],
    ["patch the secret", "PATCH", (t) => `secret/data/${t.path}`, { data: { keyId: "X" } }],
    ["delete the current version", "DELETE", (t) => `secret/data/${t.path}`, undefined],
    ["delete versions", "POST", (t) => `secret/delete/${t.path}`, { versions: [1] }],
    ["destroy versions", "POST", (t) => `secret/destroy/${t.path}`, { versions: [1] }],
    ["undelete versions", "POST", (t) => `secret/undelete/${t.path}`, { versions: [1] }],
    ["read the metadata", "GET", (t) => `secret/metadata/${t.path}`, undefined],
    ["write the metadata", "POST", (t) => `secret/metadata/${t.path}`, { max_versions: 1 }],
    ["delete the metadata", "DELETE", (t) => `secret/metadata/${t.path}`, undefined],
    ["list the mount", "LIST", () => "secret/metadata/", undefined],
    ["list the folder", "LIST", () => "secret/metadata/app-store-connect", undefined],
    ["read a neighbour with the same prefix", "GET", () => "secret/data/app-store-connect/reader-2", undefined],
    ["read another secret", "GET", () => "secret/data/app-store-connect/other", undefined],
    ["read its own policy", "GET", (t) => `sys/policies/acl/${t.policy}`, undefined],
    ["widen its own policy", "PUT", (t) => `sys/policies/acl/${t.policy}`, { policy: 'path "secret/*" { capabilities = ["read"] }' }],
    ["create a child token", "POST", () => "auth/token/create", { policies: [] }],
    ["look itself up (no default policy)", "GET", () => "auth/token/lookup-self", undefined],
  ])("cannot %s", async (_, method, path, body) => {
    const { status } = await server.api(method, path({ path: d.secret.path, policy: d.policy.name }), body, { token: reader });
    expect(status).toBe(403);
    await ok(server.api("POST", `secret/data/${SCRATCH}`, { data: { x: "1" } }), "write the scratch secret");
    await ok(server.api("PUT", `sys/policies/acl/${SCRATCH_POLICY}`, { policy: 'path "secret/data/nothing" { capabilities = ["read"] }' }), "write the scratch policy");
    const control = await server.api(method, path({ path: SCRATCH, policy: SCRATCH_POLICY }), body);
    expect([method, control.status < 300]).toEqual([method, true]);
  });

  test("nothing the reader tried changed the secret", async () => {
    const meta = await ok(server.api("GET", `secret/metadata/${d.secret.path}`), "read the metadata as root");
    expect((meta?.data as { current_version: number }).current_version).toBe(1);
    expect(await vaultLoader({ address: server.address, token: reader, path: d.secret.path })(5_000)).toEqual(expected(keyA));
  });

  test("another path through the loader: VAULT_PERMISSION_DENIED naming the path, no token", async () => {
    const error = await rejection(() => vaultLoader({ address: server.address, token: reader, path: "app-store-connect/other" })(5_000));
    expect(error.code).toBe("VAULT_PERMISSION_DENIED");
    expect(error.message).toContain("'secret/app-store-connect/other'");
    expect(error.message).toContain(server.address);
    expectClean(error.message, keyA);
  });

  test.each([
    ["a token with only the default policy", async () => remember(await tokenWith(server.api, ["default"]))],
    ["a token Vault never issued", async () => remember(`s.${"Q".repeat(4)}${Math.random().toString(36).slice(2)}NotIssued`)],
    ["a revoked reader token", async () => {
      const token = remember(await tokenWith(server.api, [d.policy.name]));
      await ok(server.api("POST", "auth/token/revoke", { token }), "revoke");
      return token;
    }],
  ])("%s is refused with VAULT_PERMISSION_DENIED that echoes no token", async (_, make) => {
    const token = await make();
    const error = await rejection(() => vaultLoader({ address: server.address, token, path: d.secret.path })(5_000));
    expect(error.name).toBe("AscCredentialError");
    expect(error.code).toBe("VAULT_PERMISSION_DENIED");
    expect(error.message).toContain("'secret/app-store-connect/reader'");
    expect(error.message).toContain("readerPolicyName");
    expect(error.message).toContain("permission denied");
    expectClean(error.message, keyA);
    const viaSource = await rejection(() => AscTokenSource.fromVault({ address: server.address, token, path: d.secret.path }).getToken());
    expect(viaSource.code).toBe("VAULT_PERMISSION_DENIED");
    expectClean(viaSource.message, keyA);
  });
});

describe("AppRole: the declared role logs in with the reader policy only", () => {
  let keyA: TestKey;
  let d: Declared;
  let creds: { roleId: string; secretId: string };
  beforeAll(async () => {
    keyA = generateTestKey();
    d = await deploy("approle", keyA, { appRole: {} });
    const c = await appRoleCredentials(server.api, d.appRole!.backend, d.appRole!.roleName);
    creds = { roleId: remember(c.roleId), secretId: remember(c.secretId) };
  });

  test("a login gets a token whose only policy is the reader policy", async () => {
    const login = await ok(server.api("POST", "auth/approle/login", { role_id: creds.roleId, secret_id: creds.secretId }, { token: "" }), "log in");
    const auth = login?.auth as { client_token: string; policies: string[]; token_policies: string[]; lease_duration: number };
    remember(auth.client_token);
    expect(auth.policies).toEqual([d.policy.name]);
    expect(auth.token_policies).toEqual([d.policy.name]);
    expect(auth.lease_duration).toBe(900);
    expect((await server.api("POST", `secret/data/${d.secret.path}`, { data: {} }, { token: auth.client_token })).status).toBe(403);
  });

  test("the loader logs in once and reads the key; the next read reuses the token", async () => {
    const before = fetches.calls.length;
    const load = vaultLoader({ address: server.address, appRole: creds, path: d.secret.path });
    expect(await load(5_000)).toEqual(expected(keyA));
    expect(await load(5_000)).toEqual(expected(keyA));
    const calls = fetches.calls.slice(before);
    expect(loginsTo(calls)).toHaveLength(1);
    expect(readsOf(calls, d.secret.path)).toHaveLength(2);
  });

  test("a revoked login token is renewed by logging in again, once, and the read succeeds", async () => {
    const load = vaultLoader({ address: server.address, appRole: creds, path: d.secret.path });
    const start = fetches.calls.length;
    await load(5_000);
    const first = loginsTo(fetches.calls.slice(start))[0]!.clientToken!;
    remember(first);
    await ok(server.api("POST", "auth/token/revoke", { token: first }), "revoke the login token");

    const before = fetches.calls.length;
    expect(await load(5_000)).toEqual(expected(keyA));
    const calls = fetches.calls.slice(before);
    expect(calls.map((c) => (c.url.endsWith("/login") ? "login" : "read"))).toEqual(["read", "login", "read"]);
    remember(loginsTo(calls)[0]!.clientToken!);
  });

  test("a login token past its TTL is renewed before the read (injected clock)", async () => {
    let now = Date.now();
    const load = vaultLoader({ address: server.address, appRole: creds, path: d.secret.path, now: () => now });
    const start = fetches.calls.length;
    await load(5_000);
    now += 899_000;
    await load(5_000);
    const calls = fetches.calls.slice(start);
    expect(calls.map((c) => (c.url.endsWith("/login") ? "login" : "read"))).toEqual(["login", "read", "login", "read"]);
  });

  test("a login whose fresh token is refused too fails after exactly one renewal", async () => {
    const other = generateTestKey();
    const e = await deploy("approle-once", other, { appRole: {} });
    const c = await appRoleCredentials(server.api, e.appRole!.backend, e.appRole!.roleName);
    remember(c.roleId);
    remember(c.secretId);
    const load = vaultLoader({ address: server.address, appRole: c, path: e.secret.path });
    await load(5_000);
    // The policy goes away: every token of the role is refused from now on.
    await ok(server.api("PUT", `sys/policies/acl/${e.policy.name}`, { policy: 'path "secret/data/nothing" { capabilities = ["read"] }' }), "narrow the policy");
    const before = fetches.calls.length;
    const error = await rejection(() => load(5_000));
    expect(error.code).toBe("VAULT_PERMISSION_DENIED");
    expect(error.message).toContain("also after logging in again");
    expect(fetches.calls.slice(before).map((x) => (x.url.endsWith("/login") ? "login" : "read"))).toEqual(["read", "login", "read"]);
    expectClean(error.message, other);
  });

  test("a wrong secret ID is VAULT_LOGIN_FAILED naming the role's mount, echoing neither ID", async () => {
    const wrong = remember("00000000-0000-4000-8000-0000000000aa");
    const error = await rejection(() => vaultLoader({ address: server.address, appRole: { roleId: creds.roleId, secretId: wrong }, path: d.secret.path })(5_000));
    expect(error.code).toBe("VAULT_LOGIN_FAILED");
    expect(error.message).toContain("auth/approle");
    expectClean(error.message, keyA);
  });

  test("an auth mount that does not exist is VAULT_LOGIN_FAILED saying so", async () => {
    const error = await rejection(() => vaultLoader({ address: server.address, appRole: { ...creds, mount: "approle-nowhere" }, path: d.secret.path })(5_000));
    expect(error.code).toBe("VAULT_LOGIN_FAILED");
    expect(error.message).toContain("auth/approle-nowhere");
    expectClean(error.message, keyA);
  });
});

describe("JWT: the declared role admits the bound repository's token, with the reader policy only", () => {
  let keyA: TestKey;
  let d: Declared;
  const claims = { aud: AUDIENCE, sub: `repo:${REPO}:ref:refs/heads/main`, repository: REPO, ref: "refs/heads/main" };
  beforeAll(async () => {
    keyA = generateTestKey();
    d = await deploy("jwt", keyA, { jwtRole: JWT_ROLE });
  });

  test("a login with the repository's token gets only the reader policy", async () => {
    const jwt = remember(issuer.sign(claims));
    const login = await ok(server.api("POST", "auth/jwt/login", { role: d.jwtRole!.roleName, jwt }, { token: "" }), "log in");
    const auth = login?.auth as { client_token: string; policies: string[]; token_policies: string[] };
    remember(auth.client_token);
    expect(auth.policies).toEqual([d.policy.name]);
    expect(auth.token_policies).toEqual([d.policy.name]);
  });

  test("the loader logs in with a JWT function, called at each login, and reads the key", async () => {
    let minted = 0;
    const jwt = (): string => {
      minted++;
      return remember(issuer.sign(claims));
    };
    const source: VaultSource = { address: server.address, jwt: { role: d.jwtRole!.roleName, jwt }, path: d.secret.path };
    expect(await vaultLoader(source)(5_000)).toEqual(expected(keyA));
    const token = await AscTokenSource.fromVault(source).getToken();
    expect(signedBy(token, keyA)).toBe(true);
    expect(minted).toBe(2);
  });

  test.each([
    ["another repository", { ...claims, repository: "acme/other", sub: "repo:acme/other:ref:refs/heads/main" }],
    ["another audience", { ...claims, aud: "https://github.com/evil" }],
  ])("a token of %s is VAULT_LOGIN_FAILED, echoing no JWT", async (_, other) => {
    const jwt = remember(issuer.sign(other));
    const error = await rejection(() => vaultLoader({ address: server.address, jwt: { role: d.jwtRole!.roleName, jwt }, path: d.secret.path })(5_000));
    expect(error.code).toBe("VAULT_LOGIN_FAILED");
    expect(error.message).toContain("auth/jwt");
    expectClean(error.message, keyA);
  });

  test("a token signed by another key is refused", async () => {
    const jwt = remember(testIssuer().sign(claims));
    const error = await rejection(() => vaultLoader({ address: server.address, jwt: { role: d.jwtRole!.roleName, jwt }, path: d.secret.path })(5_000));
    expect(error.code).toBe("VAULT_LOGIN_FAILED");
    expectClean(error.message, keyA);
  });
});

describe("rotation: a new KV version", () => {
  test("is picked up after refreshSeconds, not before", async () => {
    const key1 = generateTestKey();
    const key2 = generateTestKey();
    const d = await deploy("rotate-timer", key1);
    const reader = remember(await tokenWith(server.api, [d.policy.name]));
    let now = Date.now();
    const source = AscTokenSource.fromVault({ address: server.address, token: reader, path: d.secret.path, refreshSeconds: 30, now: () => now });
    const start = fetches.calls.length;
    const first = await source.getToken();
    expect(decodeJwt(first).header.kid).toBe(TEAM.keyId);

    // The same component with the new key: the declared data becomes version 2.
    const rotated = await deploy("rotate-timer", key2, {}, KEY_2);
    expect(rotated.policy).toEqual(d.policy);
    now += 29_000;
    expect(await source.getToken()).toBe(first);
    expect(readsOf(fetches.calls.slice(start), d.secret.path)).toHaveLength(1);

    now += 2_000;
    // Due: the token in hand is served at once, and the secret is re-read behind it.
    expect(await source.getToken()).toBe(first);
    let second = first;
    await until(async () => (second = await source.getToken()) !== first);
    expect(decodeJwt(second).header.kid).toBe(KEY_2);
    expect(signedBy(second, key2)).toBe(true);
    expect(readsOf(fetches.calls.slice(start), d.secret.path)).toHaveLength(2);
  });

  test("is picked up at once after a 401 from the (fake) App Store Connect API", async () => {
    const key1 = generateTestKey();
    const key2 = generateTestKey();
    const api = await FakeAscApi.start();
    try {
      const d = await deploy("rotate-401", key1);
      const reader = remember(await tokenWith(server.api, [d.policy.name]));
      const source = AscTokenSource.fromVault({ address: server.address, token: reader, path: d.secret.path, refreshSeconds: 3600 });
      await source.getToken();
      await deploy("rotate-401", key2, {}, KEY_2);
      // Apple knows only the new key now: the old one's kid gets 401.
      api.registerKey({ keyId: KEY_2, publicKeyPem: key2.publicKeyPem, issuerId: TEAM.issuerId });
      const before = fetches.calls.length;
      const response = await source.fetch(`${api.baseUrl}/v1/apps?limit=1`);
      expect(response.status).toBe(200);
      await response.text();
      expect(api.requests.map((r) => [r.kid, r.status])).toEqual([
        [TEAM.keyId, 401],
        [KEY_2, 200],
      ]);
      expect(readsOf(fetches.calls.slice(before), d.secret.path)).toHaveLength(1);
    } finally {
      await api.stop();
    }
  });

  test('the key before the rotation is readable with version "previous" or its number, with the reader policy alone', async () => {
    const key1 = generateTestKey();
    const key2 = generateTestKey();
    const d = await deploy("previous", key1);
    const reader = remember(await tokenWith(server.api, [d.policy.name]));
    const read = (version?: VaultSource["version"]): Promise<unknown> => vaultLoader({ address: server.address, token: reader, path: d.secret.path, ...(version !== undefined ? { version } : {}) })(5_000);

    const early = await rejection(() => read("previous"));
    expect(early.code).toBe("SECRET_NOT_FOUND");
    expect(early.message).toContain("no version before the current one");

    await deploy("previous", key2, {}, KEY_2);
    expect(await read()).toEqual(expected(key2, KEY_2));
    expect(await read("previous")).toEqual(expected(key1));
    expect(await read(1)).toEqual(expected(key1));
    expect(await read(2)).toEqual(expected(key2, KEY_2));
    const previousToken = await AscTokenSource.fromVault({ address: server.address, token: reader, path: d.secret.path, version: "previous" }).getToken();
    expect(signedBy(previousToken, key1)).toBe(true);

    const missing = await rejection(() => read(7));
    expect(missing.code).toBe("SECRET_NOT_FOUND");
    expect(missing.message).toContain("(version 7)");

    await ok(server.api("POST", `secret/delete/${d.secret.path}`, { versions: [1] }), "delete version 1");
    const deleted = await rejection(() => read(1));
    expect(deleted.code).toBe("SECRET_NOT_FOUND");
    expect(deleted.message).toContain("was deleted");
    expectClean(deleted.message, key1, key2);
  });
});

describe("a namespace", () => {
  test("VAULT_NAMESPACE (or namespace) is sent as X-Vault-Namespace; without it the secret is not there", async () => {
    const key = generateTestKey();
    await ok(server.api("POST", "sys/namespaces/team-ios", {}), "create the namespace");
    await ok(server.api("POST", "sys/mounts/secret", { type: "kv", options: { version: "2" } }, { namespace: "team-ios" }), "mount KV v2 in the namespace");
    const built = await buildVault({ privateKey: key.pem, namespace: "team-ios" }, {}, "namespaced");
    const d = declaredOf(built.run);
    expect(built.run.one("vault:kv/secretV2:SecretV2").inputs.namespace).toBe("team-ios");
    await applyDeclared(server.api, d, "team-ios");
    const reader = remember(await tokenWith(server.api, [d.policy.name], "team-ios"));
    expect(await vaultLoader({ address: server.address, token: reader, namespace: "team-ios", path: d.secret.path })(5_000)).toEqual(expected(key));
    process.env.VAULT_NAMESPACE = "team-ios/";
    try {
      expect(await vaultLoader({ address: server.address, token: reader, path: d.secret.path })(5_000)).toEqual(expected(key));
    } finally {
      delete process.env.VAULT_NAMESPACE;
    }
    const outside = await rejection(() => vaultLoader({ address: server.address, token: reader, path: d.secret.path })(5_000));
    expect(outside.code).toBe("VAULT_PERMISSION_DENIED");
    expectClean(outside.message, key);
  });
});

describe("bad input: a clear typed error naming the field or the server, never the token", () => {
  let reader: string;
  let d: Declared;
  let keyA: TestKey;
  beforeAll(async () => {
    keyA = generateTestKey();
    d = await deploy("bad-input", keyA);
    reader = remember(await tokenWith(server.api, [d.policy.name]));
  });

  test.each([
    ["path", "app-store-connect/../other", "VAULT_PATH_INVALID", "has a '..' segment"],
    ["path", "/app-store-connect/bad-input", "VAULT_PATH_INVALID", "starts with '/'"],
    ["mount", "/secret", "VAULT_MOUNT_INVALID", "starts with '/'"],
    ["mount", "sys", "VAULT_MOUNT_INVALID", "reserves"],
  ] as const)("%s %p: %s at once, before any request", (field, value, code, problem) => {
    const before = fetches.calls.length;
    const source = { address: server.address, token: reader, path: d.secret.path, [field]: value };
    const error = thrown(() => vaultLoader(source));
    expect([error.code, error.field]).toEqual([code, field]);
    expect(error.message).toContain(problem);
    expect(thrown(() => AscTokenSource.fromVault(source)).code).toBe(code);
    expect(fetches.calls.length).toBe(before);
    expectClean(error.message, keyA);
  });

  test.each([
    ["no scheme", "127.0.0.1:8200", "has no scheme"],
    ["a host and no scheme", "vault.example.com", "has no scheme"],
    ["another scheme", "ftp://vault.example.com", "is not an http or https address"],
    ["plain http to another machine", "http://vault.example.com:8200", "would send the Vault token unencrypted"],
    ["credentials in it", "https://admin:hunter2-pass@vault.example.com", "holds a user name or password"],
  ])("an address with %s: VAULT_ADDRESS_INVALID naming the address field", (_, address, problem) => {
    const before = fetches.calls.length;
    const error = thrown(() => vaultLoader({ address, token: reader, path: d.secret.path }));
    expect([error.code, error.field]).toEqual(["VAULT_ADDRESS_INVALID", "address"]);
    expect(error.message).toContain(problem);
    expect(error.message).not.toContain("hunter2");
    expect(fetches.calls.length).toBe(before);
    expectClean(error.message, keyA);
  });

  test("VAULT_ADDR without a scheme names VAULT_ADDR", () => {
    process.env.VAULT_ADDR = "127.0.0.1:8200";
    try {
      const error = thrown(() => vaultLoader({ token: reader, path: d.secret.path }));
      expect([error.code, error.field]).toEqual(["VAULT_ADDRESS_INVALID", "VAULT_ADDR"]);
      expect(error.message).toMatch(/^VAULT_ADDR '127\.0\.0\.1:8200' has no scheme/);
    } finally {
      delete process.env.VAULT_ADDR;
    }
  });

  test("no token anywhere: OPTION_INVALID saying where one goes; VAULT_TOKEN and BAO_TOKEN disagreeing: SOURCE_CONFLICT without either", () => {
    const saved = { v: process.env.VAULT_TOKEN, b: process.env.BAO_TOKEN };
    try {
      delete process.env.VAULT_TOKEN;
      delete process.env.BAO_TOKEN;
      expect(thrown(() => vaultLoader({ address: server.address, path: d.secret.path })).code).toBe("OPTION_INVALID");
      process.env.VAULT_TOKEN = reader;
      process.env.BAO_TOKEN = server.rootToken;
      const conflict = thrown(() => vaultLoader({ address: server.address, path: d.secret.path }));
      expect(conflict.code).toBe("SOURCE_CONFLICT");
      expect(conflict.message).toContain("VAULT_TOKEN and BAO_TOKEN");
      expectClean(conflict.message);
    } finally {
      if (saved.v === undefined) delete process.env.VAULT_TOKEN;
      else process.env.VAULT_TOKEN = saved.v;
      if (saved.b === undefined) delete process.env.BAO_TOKEN;
      else process.env.BAO_TOKEN = saved.b;
    }
  });

  test("a KV version 1 mount: VAULT_MOUNT_NOT_KV2, as the server reports it", async () => {
    await ok(server.api("POST", "sys/mounts/kv1", { type: "kv", options: { version: "1" } }), "mount KV v1");
    // The component's policy for that mount, applied as declared; no KV v2 write is possible there.
    const built = await buildVault({ privateKey: keyA.pem, mount: "kv1" }, {}, "on-kv1");
    const policy = declaredOf(built.run).policy;
    await ok(server.api("PUT", `sys/policies/acl/${policy.name}`, { policy: policy.text }), "write the policy");
    const token = remember(await tokenWith(server.api, [policy.name]));
    for (const t of [token, server.rootToken]) {
      const error = await rejection(() => vaultLoader({ address: server.address, token: t, mount: "kv1", path: "app-store-connect/on-kv1" })(5_000));
      expect(error.code).toBe("VAULT_MOUNT_NOT_KV2");
      expect(error.message).toContain("the server says 'kv1' is a KV version 1 mount, not KV version 2");
      expectClean(error.message, keyA);
    }
  });

  test("a mount of another engine, or no mount at all: VAULT_MOUNT_NOT_KV2", async () => {
    await ok(server.api("POST", "sys/mounts/transit", { type: "transit" }), "mount transit");
    const transit = await rejection(() => vaultLoader({ address: server.address, token: server.rootToken, mount: "transit", path: "app" })(5_000));
    expect(transit.code).toBe("VAULT_MOUNT_NOT_KV2");
    expect(transit.message).toContain("'transit' secrets engine");
    const none = await rejection(() => vaultLoader({ address: server.address, token: server.rootToken, mount: "nothing-here", path: "app" })(5_000));
    expect(none.code).toBe("VAULT_MOUNT_NOT_KV2");
    expect(none.message).toContain("no secrets engine is mounted at 'nothing-here'");
    expectClean(transit.message + none.message);
  });

  test("a path that does not exist: SECRET_NOT_FOUND naming it", async () => {
    const error = await rejection(() => vaultLoader({ address: server.address, token: server.rootToken, path: "app-store-connect/never-deployed" })(5_000));
    expect(error.code).toBe("SECRET_NOT_FOUND");
    expect(error.message).toContain("'secret/app-store-connect/never-deployed' at 'http://127.0.0.1:");
    expectClean(error.message);
  });

  test("an unreachable server: VAULT_UNREACHABLE naming it, within its timeout", async () => {
    const closed = await freePort();
    const address = `http://127.0.0.1:${closed}`;
    const error = await rejection(() => vaultLoader({ address, token: reader, path: d.secret.path })(5_000));
    expect(error.code).toBe("VAULT_UNREACHABLE");
    expect(error.message).toContain(`'${address}'`);
    expect(error.message).toContain("ECONNREFUSED");
    expectClean(error.message, keyA);
  });

  test("a stalled server (accepts, never answers): VAULT_UNREACHABLE within the timeout, also through AscTokenSource", async () => {
    const stalled = await stallingServer();
    try {
      const address = `http://127.0.0.1:${stalled.port}`;
      const error = await rejection(() => vaultLoader({ address, token: reader, path: d.secret.path })(300));
      expect(error.code).toBe("VAULT_UNREACHABLE");
      expect(error.message).toContain("gave no complete answer within 300 ms");
      expect(error.message).toContain(`'${address}'`);
      expectClean(error.message, keyA);
      const viaSource = await rejection(() => AscTokenSource.fromVault({ address, token: reader, path: d.secret.path, readTimeoutMs: 300 }).getToken());
      expect(viaSource.code).toBe("VAULT_UNREACHABLE");
      expectClean(viaSource.message, keyA);
      expect(stalled.connections()).toBeGreaterThanOrEqual(2);
    } finally {
      await stalled.close();
    }
  });

  test("a sealed server: VAULT_SEALED for reads and logins, naming the server", async () => {
    const sealed = await startOpenBao();
    SECRETS.add(sealed.rootToken);
    try {
      await enableAuth(sealed.api, "approle", "approle");
      const e = declaredOf((await buildVault({ privateKey: keyA.pem, appRole: {} }, {}, "sealed")).run);
      await applyDeclared(sealed.api, e);
      const creds = await appRoleCredentials(sealed.api, e.appRole!.backend, e.appRole!.roleName);
      remember(creds.roleId);
      remember(creds.secretId);
      const token = remember(await tokenWith(sealed.api, [e.policy.name]));
      expect(await vaultLoader({ address: sealed.address, token, path: e.secret.path })(5_000)).toEqual(expected(keyA));

      const seal = await sealed.cli(["operator", "seal"]);
      expect([seal.code, seal.stdout]).toEqual([0, expect.stringMatching(/^Success! \w+ is sealed\./)]);
      const read = await rejection(() => vaultLoader({ address: sealed.address, token, path: e.secret.path })(5_000));
      const login = await rejection(() => vaultLoader({ address: sealed.address, appRole: creds, path: e.secret.path })(5_000));
      for (const error of [read, login]) {
        expect(error.code).toBe("VAULT_SEALED");
        expect(error.message).toContain(sealed.address);
        expect(error.message).toContain("sealed");
        expectClean(error.message, keyA);
      }
    } finally {
      await sealed.stop();
    }
  });
});

test("no request the loader sent could write: reads, and POSTs to login endpoints only", () => {
  const vaultCalls = fetches.calls.filter((c) => c.url.startsWith(server.address));
  expect(vaultCalls.length).toBeGreaterThan(20);
  const writes = vaultCalls.filter((c) => !(c.method === "GET" || (c.method === "POST" && c.url.endsWith("/login"))));
  expect(writes).toEqual([]);
});

/** A TCP server on 127.0.0.1 that accepts connections and never answers. */
async function stallingServer(): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const s: Server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return {
    port: (s.address() as AddressInfo).port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        s.close(() => resolve());
      }),
  };
}
