import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { isAscCredentialError, parsePrivateKey } from "../../../src/core";
import { AppStoreConnectApiKey, defaultReaderName, VAULT_APP_STORE_CONNECT_API_KEY_TYPE, type AppStoreConnectApiKeyArgs } from "../../../src/storage/vault";
import { acceptedForms, containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../../support/keys";
import { catchProgramErrors, firstProgramError, isSecretValue, plainStrings, resetStack, reveal, settle, startRun, valueOf } from "../harness";
import { buildVault, declaredOf, OUTPUT_NAMES, VT, type BuiltVault } from "./declared";

const TAGS = { "asc:key-id": TEAM.keyId, "asc:key-type": "team", "asc:roles": "APP_MANAGER", "managed-by": "pulumi-asc-credential" };
const GITHUB = { boundAudiences: ["https://github.com/acme"], boundClaims: { repository: "acme/ios-app", ref: "refs/heads/main" } };

let keyA: TestKey;
let keyB: TestKey;
beforeAll(() => {
  keyA = generateTestKey();
  keyB = generateTestKey();
});
beforeEach(() => resetStack());

test("the type token is the Vault store's own", () => {
  expect(VAULT_APP_STORE_CONNECT_API_KEY_TYPE).toBe("asc-credential:vault:AppStoreConnectApiKey");
});

describe("children and their exact inputs (defaults)", () => {
  let b: BuiltVault;
  const policyName = (): string => defaultReaderName("secret", "app-store-connect/ci");
  beforeAll(async () => {
    resetStack();
    // A mangled form (base64 of the .p8, as CI secrets often are) so normalisation is visible.
    b = await buildVault({ privateKey: String(acceptedForms(keyA).base64OfPemOneLine), role: "APP_MANAGER" });
  });

  test("probe, KV v2 secret and reader policy, nothing else; all parented to the component", () => {
    expect(b.run.resources.map((r) => r.type).sort()).toEqual([VT.component, VT.probe, VT.policy, VT.secret].sort());
    const children = b.children.filter((c) => c.type !== VT.component);
    expect(children.map((c) => c.type).sort()).toEqual([VT.probe, VT.policy, VT.secret].sort());
    for (const c of children) expect([c.name, c.opts.parent]).toEqual([c.name, b.component]);
  });

  test("secret: mount secret, path app-store-connect/<name>, the stored JSON as a secret, tags as custom metadata", () => {
    const secret = b.run.one(VT.secret);
    const parsed = parsePrivateKey(keyA.pem);
    expect(isSecretValue(secret.inputs.dataJson)).toBe(true);
    expect({ ...secret.inputs, dataJson: JSON.parse(reveal<string>(secret.inputs.dataJson)) }).toEqual({
      mount: "secret",
      name: "app-store-connect/ci",
      dataJson: { schemaVersion: 1, keyType: "team", keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: parsed.pem, fingerprint: parsed.fingerprint },
      customMetadata: { data: TAGS },
      deleteAllVersions: false,
    });
    expect(Object.keys(JSON.parse(reveal<string>(secret.inputs.dataJson)))).toEqual(["schemaVersion", "keyType", "keyId", "issuerId", "privateKey", "fingerprint"]);
  });

  test("the secret is written after the probe, with the component's options", () => {
    const secret = b.children.find((c) => c.type === VT.secret)!;
    const probe = b.children.find((c) => c.type === VT.probe)!;
    expect(secret.opts.dependsOn).toEqual([probe.resource]);
  });

  test("reader policy: read on the one data path, nothing on metadata, no list, no wildcard", () => {
    const policy = b.run.one(VT.policy);
    expect(policy.inputs).toEqual({
      name: policyName(),
      policy: [
        "# Read the App Store Connect API key stored at secret/app-store-connect/ci by pulumi-asc-credential.",
        "# KV v2 serves every version of it at this path (?version=N); nothing else is granted.",
        'path "secret/data/app-store-connect/ci" {',
        '  capabilities = ["read"]',
        "}",
        "",
      ].join("\n"),
    });
    expect(policyName()).toMatch(/^asc-reader-secret-app-store-connect-ci-[0-9a-f]{8}$/);
  });

  test("outputs: values, none secret, none with key material; no plain child input has key material", async () => {
    const c = b.component;
    const parsed = parsePrivateKey(keyA.pem);
    expect(await valueOf(c.mount)).toBe("secret");
    expect(await valueOf(c.path)).toBe("app-store-connect/ci");
    expect(await valueOf(c.readerPolicyName)).toBe(policyName());
    expect(await valueOf(c.appRoleName)).toBeUndefined();
    expect(await valueOf(c.jwtRoleName)).toBeUndefined();
    expect(await valueOf(c.keyId)).toBe(TEAM.keyId);
    expect(await valueOf(c.issuerId)).toBe(TEAM.issuerId);
    expect(await valueOf(c.keyType)).toBe("team");
    expect(await valueOf(c.fingerprint)).toBe(parsed.fingerprint);
    expect(await valueOf(c.publicKeyPem)).toBe(parsed.publicKeyPem);
    expect(await valueOf(c.previousKeyId)).toBeUndefined();
    expect(await valueOf(c.validatedAt)).toBe("2030-01-02T03:04:05.000Z");
    expect(await valueOf(c.roles)).toEqual(["APP_MANAGER"]);
    for (const n of OUTPUT_NAMES) {
      const o = c[n] as pulumi.Output<unknown>;
      expect([n, await pulumi.isSecret(o)]).toEqual([n, false]);
      // A PKCS#8 EC key embeds its public key, so the public key PEM legitimately shares runs with it.
      if (n !== "publicKeyPem") expect([n, containsKeyMaterial(JSON.stringify(await valueOf(o)) ?? "", keyA)]).toEqual([n, false]);
    }
    const plain = plainStrings(b.run.resources.map((r) => r.inputs)).join("\n");
    expect(plain).toContain("secret/data/app-store-connect/ci");
    expect(containsKeyMaterial(plain, keyA)).toBe(false);
    // The check above can fail: the secret input does hold the key.
    expect(containsKeyMaterial(reveal<string>(b.run.one(VT.secret).inputs.dataJson), keyA)).toBe(true);
  });

  test("the children are exposed for dependsOn", () => {
    expect(b.component.secret).toBe(b.children.find((c) => c.type === VT.secret)!.resource);
    expect(b.component.readerPolicy).toBe(b.children.find((c) => c.type === VT.policy)!.resource);
    expect(b.component.probe).toBe(b.children.find((c) => c.type === VT.probe)!.resource);
    expect(b.component.appRole).toBeUndefined();
    expect(b.component.jwtRole).toBeUndefined();
  });
});

describe("bindings, only when asked", () => {
  test("appRole: one AppRole role whose only token policy is the reader policy", async () => {
    const b = await buildVault({ privateKey: keyA.pem, appRole: {} });
    const name = defaultReaderName("secret", "app-store-connect/ci");
    expect(b.run.all(VT.jwtRole)).toHaveLength(0);
    expect(b.run.one(VT.appRole).inputs).toEqual({
      backend: "approle",
      roleName: name,
      bindSecretId: true,
      tokenPolicies: [name],
      tokenNoDefaultPolicy: true,
      tokenTtl: 900,
      tokenMaxTtl: 3600,
    });
    expect(b.children.find((c) => c.type === VT.appRole)?.opts.parent).toBe(b.component);
    expect(await valueOf(b.component.appRoleName)).toBe(name);
    expect(b.component.appRole).toBeDefined();
  });

  test("appRole options are passed through", async () => {
    const b = await buildVault({
      privateKey: keyA.pem,
      appRole: { roleName: "ios-release", backend: "approle-ci", tokenTtl: 300, tokenMaxTtl: 600, secretIdTtl: 86_400, secretIdNumUses: 10, secretIdBoundCidrs: ["10.0.0.0/8"], tokenBoundCidrs: ["10.1.0.0/16"] },
    });
    const name = defaultReaderName("secret", "app-store-connect/ci");
    expect(b.run.one(VT.appRole).inputs).toEqual({
      backend: "approle-ci",
      roleName: "ios-release",
      bindSecretId: true,
      tokenPolicies: [name],
      tokenNoDefaultPolicy: true,
      tokenTtl: 300,
      tokenMaxTtl: 600,
      secretIdTtl: 86_400,
      secretIdNumUses: 10,
      secretIdBoundCidrs: ["10.0.0.0/8"],
      tokenBoundCidrs: ["10.1.0.0/16"],
    });
  });

  test("jwtRole: one jwt-type role bound to the audience and claims, whose only token policy is the reader policy", async () => {
    const b = await buildVault({ privateKey: keyA.pem, jwtRole: GITHUB });
    const name = defaultReaderName("secret", "app-store-connect/ci");
    expect(b.run.all(VT.appRole)).toHaveLength(0);
    expect(b.run.one(VT.jwtRole).inputs).toEqual({
      backend: "jwt",
      roleName: name,
      roleType: "jwt",
      boundAudiences: ["https://github.com/acme"],
      boundClaims: { repository: "acme/ios-app", ref: "refs/heads/main" },
      userClaim: "sub",
      tokenPolicies: [name],
      tokenNoDefaultPolicy: true,
      tokenTtl: 900,
      tokenMaxTtl: 3600,
    });
    expect(await valueOf(b.component.jwtRoleName)).toBe(name);
  });

  test("jwtRole with a subject, glob claims and its own mount and name", async () => {
    const b = await buildVault({
      privateKey: keyA.pem,
      jwtRole: { roleName: "gha-release", backend: "github-actions", boundAudiences: ["vault"], boundSubject: "repo:acme/ios-app:environment:release", boundClaims: { repository: "acme/*" }, boundClaimsType: "glob", userClaim: "repository" },
    });
    expect(b.run.one(VT.jwtRole).inputs).toMatchObject({
      backend: "github-actions",
      roleName: "gha-release",
      boundSubject: "repo:acme/ios-app:environment:release",
      boundClaims: { repository: "acme/*" },
      boundClaimsType: "glob",
      userClaim: "repository",
    });
  });

  test("both bindings at once, each with the same single policy", async () => {
    const b = await buildVault({ privateKey: keyA.pem, appRole: {}, jwtRole: GITHUB });
    const d = declaredOf(b.run);
    expect(d.appRole?.settings.tokenPolicies).toEqual([d.policy.name]);
    expect(d.jwtRole?.settings.tokenPolicies).toEqual([d.policy.name]);
  });
});

describe("options", () => {
  test("mount, path, namespace and policy name are passed to every child", async () => {
    const b = await buildVault({ privateKey: keyA.pem, mount: "kv/mobile/", path: "asc/release", namespace: "team-ios", readerPolicyName: "ios-release-reader", appRole: {}, jwtRole: GITHUB, deleteAllVersions: true });
    const secret = b.run.one(VT.secret).inputs;
    expect([secret.mount, secret.name, secret.namespace, secret.deleteAllVersions]).toEqual(["kv/mobile", "asc/release", "team-ios", true]);
    const policy = b.run.one(VT.policy).inputs;
    expect([policy.name, policy.namespace]).toEqual(["ios-release-reader", "team-ios"]);
    expect(policy.policy).toContain('path "kv/mobile/data/asc/release" {');
    for (const type of [VT.appRole, VT.jwtRole]) {
      const r = b.run.one(type).inputs;
      expect([type, r.namespace, r.tokenPolicies, r.roleName]).toEqual([type, "team-ios", ["ios-release-reader"], defaultReaderName("kv/mobile", "asc/release")]);
    }
    expect([await valueOf(b.component.mount), await valueOf(b.component.path)]).toEqual(["kv/mobile", "asc/release"]);
  });

  test("default names differ for paths that flatten alike, and for case", () => {
    expect(defaultReaderName("secret", "a/b-c")).not.toBe(defaultReaderName("secret", "a-b/c"));
    expect(defaultReaderName("secret", "Ci")).not.toBe(defaultReaderName("secret", "ci"));
    expect(defaultReaderName("secret", "A/b")).toMatch(/^asc-reader-secret-a-b-[0-9a-f]{8}$/);
  });

  test("an explicit vault provider passed via `providers` reaches every Vault child", async () => {
    const run = await startRun();
    const provider = new vault.Provider("explicit", { address: "https://vault.example.com:8200", skipChildToken: true });
    const c = new AppStoreConnectApiKey("p", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, appRole: {}, jwtRole: GITHUB }, { providers: { vault: provider } });
    await settle([c.mount, c.readerPolicyName, c.appRoleName, c.jwtRoleName]);
    const ref = `${await valueOf(provider.urn)}::${await valueOf(provider.id)}`;
    const vaultChildren = run.resources.filter((r) => r.type.startsWith("vault:"));
    expect(vaultChildren.map((r) => r.type).sort()).toEqual([VT.appRole, VT.jwtRole, VT.policy, VT.secret].sort());
    for (const r of vaultChildren) expect([r.name, r.provider]).toEqual([r.name, ref]);
  });

  test("individual key: no issuerId in the stored JSON, keyType individual in the metadata", async () => {
    const b = await buildVault({ privateKey: keyA.pem, keyType: "individual", issuerId: undefined });
    const d = declaredOf(b.run);
    expect(Object.keys(d.secret.data)).toEqual(["schemaVersion", "keyType", "keyId", "privateKey", "fingerprint"]);
    expect((d.secret.customMetadata?.data as Record<string, string>)["asc:key-type"]).toBe("individual");
  });
});

describe("refused before anything registers", () => {
  async function refused(args: Partial<AppStoreConnectApiKeyArgs>, code: string, field: string): Promise<string> {
    const run = await startRun();
    let caught: unknown;
    try {
      new AppStoreConnectApiKey("r", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, ...args });
    } catch (e) {
      caught = e;
    }
    await settle();
    expect(isAscCredentialError(caught)).toBe(true);
    const err = caught as { code: string; field: string; message: string };
    expect([err.code, err.field]).toEqual([code, field]);
    expect(run.resources).toEqual([]);
    expect(containsKeyMaterial(err.message, keyA)).toBe(false);
    return err.message;
  }

  test.each([
    ["a '..' segment", "app-store-connect/../other", "has a '..' segment"],
    ["a leading slash", "/app-store-connect/ci", "starts with '/'"],
    ["a trailing slash", "app-store-connect/", "ends with '/'"],
    ["an empty segment", "app-store-connect//ci", "empty segment"],
    ["a '.' segment", "./ci", "has a '.' segment"],
    ["the KV v2 data/ prefix", "data/app-store-connect/ci", "which KV v2 adds itself"],
    ["a policy glob", "app-store-connect/*", "has a character other than"],
    ["a policy segment wildcard", "app-store-connect/+/ci", "has a character other than"],
    ["a quote that would end the HCL string", 'ci" {} path "sys/*', "has a character other than"],
    ["a query", "ci?version=1", "has a character other than"],
    ["nothing", "", "is empty"],
  ])("path with %s: VAULT_PATH_INVALID naming path", async (_, path, problem) => {
    const message = await refused({ path }, "VAULT_PATH_INVALID", "path");
    expect(message).toMatch(/^path: /);
    expect(message).toContain(problem);
  });

  test.each([
    ["a leading slash", "/secret"],
    ["an empty name", ""],
    ["a reserved mount", "sys"],
    ["a reserved parent", "auth/approle"],
    ["a space", "my secrets"],
    ["a '..' segment", "kv/../sys"],
  ])("mount with %s: VAULT_MOUNT_INVALID naming mount", async (_, mount) => {
    const message = await refused({ mount }, "VAULT_MOUNT_INVALID", "mount");
    expect(message).toMatch(/^mount: /);
  });

  test("a bad namespace, policy name, role name or auth mount is refused with its field", async () => {
    await refused({ namespace: "/team" }, "VAULT_PATH_INVALID", "namespace");
    await refused({ readerPolicyName: "reader policy" }, "VAULT_BINDING_INVALID", "readerPolicyName");
    // `default` is attached to nearly every token: the key would be readable by all of them.
    for (const name of ["default", "Default", "root"]) {
      expect(await refused({ readerPolicyName: name }, "VAULT_BINDING_INVALID", "readerPolicyName")).toContain("a policy Vault itself owns");
    }
    await refused({ appRole: { roleName: "a/b" } }, "VAULT_BINDING_INVALID", "appRole.roleName");
    await refused({ appRole: { backend: "auth/approle" } }, "VAULT_MOUNT_INVALID", "appRole.backend");
    await refused({ jwtRole: { ...GITHUB, backend: "../jwt" } }, "VAULT_MOUNT_INVALID", "jwtRole.backend");
  });

  test("a JWT role bound to nothing but an audience is refused: the issuer signs tokens for others too", async () => {
    const message = await refused({ jwtRole: { boundAudiences: ["https://github.com/acme"] } }, "VAULT_BINDING_INVALID", "jwtRole.boundClaims");
    expect(message).toContain("neither boundClaims nor boundSubject");
    await refused({ jwtRole: { boundAudiences: ["x"], boundClaims: { repository: "" } } }, "VAULT_BINDING_INVALID", "jwtRole.boundClaims");
    await refused({ jwtRole: { boundAudiences: ["x"], boundClaims: { repository: "*" }, boundClaimsType: "glob" } }, "VAULT_BINDING_INVALID", "jwtRole.boundClaims");
    await refused({ jwtRole: { boundAudiences: ["x"], boundClaims: { repository: "*/*" }, boundClaimsType: "glob" } }, "VAULT_BINDING_INVALID", "jwtRole.boundClaims");
    await refused({ jwtRole: { boundAudiences: [], boundSubject: "repo:a/b:ref:refs/heads/main" } }, "VAULT_BINDING_INVALID", "jwtRole.boundAudiences");
  });

  test("each comma-separated value of a bound claim is judged on its own (the Vault provider splits them): one that matches anything is refused", async () => {
    await refused({ jwtRole: { boundAudiences: ["x"], boundClaims: { repository: "acme/ios-app,*" }, boundClaimsType: "glob" } }, "VAULT_BINDING_INVALID", "jwtRole.boundClaims");
    await refused({ jwtRole: { boundAudiences: ["x"], boundClaims: { repository: "acme/ios-app, */*" }, boundClaimsType: "glob" } }, "VAULT_BINDING_INVALID", "jwtRole.boundClaims");
    await refused({ jwtRole: { boundAudiences: ["x"], boundClaims: { repository: "acme/ios-app, " } } }, "VAULT_BINDING_INVALID", "jwtRole.boundClaims");
    // A list of exact values, or of narrow globs, is fine.
    const b = await buildVault({ privateKey: keyA.pem, jwtRole: { boundAudiences: ["x"], boundClaims: { repository: "acme/ios-app,acme/android-app" } } });
    expect(b.run.one(VT.jwtRole).inputs.boundClaims).toEqual({ repository: "acme/ios-app,acme/android-app" });
    const g = await buildVault({ privateKey: keyA.pem, jwtRole: { boundAudiences: ["x"], boundClaims: { repository: "acme/ios-*,acme/android-*" }, boundClaimsType: "glob" } });
    expect(g.run.one(VT.jwtRole).inputs.boundClaims).toEqual({ repository: "acme/ios-*,acme/android-*" });
  });

  test("a path holding a pasted key or token is refused without echoing it", async () => {
    const body = keyA.der.toString("base64").replace(/[+/=]/g, "A");
    const token = `hvs.${"CAESIJ".repeat(4)}x9Lq2Vb7Tz0Kp3Wm5Rn8Yc1`;
    for (const path of [`app-store-connect/${body.slice(0, 200)}/../x`, `../${token}`]) {
      const message = await refused({ path }, "VAULT_PATH_INVALID", "path");
      expect(message).not.toContain(token);
      expect(message).not.toContain(body.slice(40, 80));
    }
  });

  test("ADMIN without allowAdminRole: ROLE_ADMIN_NOT_ALLOWED, nothing registered", async () => {
    await refused({ role: "ADMIN" }, "ROLE_ADMIN_NOT_ALLOWED", "role");
  });

  test("a path known only at deploy time is checked before the secret, the policy or a role names it", async () => {
    const caught = catchProgramErrors();
    try {
      const run = await startRun();
      const c = new AppStoreConnectApiKey("o", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, path: pulumi.output("app/../../sys/policies"), appRole: {} });
      await valueOf(c.keyId);
      const error = await firstProgramError(caught);
      expect(error?.message).toContain("path: 'app/../../sys/policies' has a '..' segment");
      expect(run.all(VT.secret)).toHaveLength(0);
      expect(run.all(VT.policy)).toHaveLength(0);
      expect(run.all(VT.appRole)).toHaveLength(0);
    } finally {
      caught.stop();
    }
  });

  test("bound claims known only at deploy time are checked before the JWT role registers", async () => {
    const caught = catchProgramErrors();
    try {
      const run = await startRun();
      const c = new AppStoreConnectApiKey("o", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, jwtRole: { boundAudiences: ["x"], boundClaims: pulumi.output({}) } });
      await valueOf(c.keyId);
      const error = await firstProgramError(caught);
      expect(error?.message).toContain("neither boundClaims nor boundSubject");
      expect(run.all(VT.jwtRole)).toHaveLength(0);
      // The rest of the component is unaffected.
      expect(run.all(VT.policy)).toHaveLength(1);
    } finally {
      caught.stop();
    }
  });
});

test("a probe that fails (a key refused at preview, or by Apple at up) leaves every Vault child unregistered: no secret, no policy, no auth role", async () => {
  const caught = catchProgramErrors();
  try {
    const run = await startRun({ probeFails: "API_UNAUTHORIZED: Apple answered 401" });
    new AppStoreConnectApiKey("ci", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, appRole: {}, jwtRole: GITHUB, onRotate: { command: "true" } });
    await firstProgramError(caught);
    await settle();
    expect(run.resources.map((r) => r.type).sort()).toEqual([VT.component, VT.probe].sort());
  } finally {
    caught.stop();
  }
});

describe("the stored data and the metadata come from the probe's outputs", () => {
  const PROBE = { keyId: "PROBEOUT01", issuerId: "99999999-8888-7777-6666-555555555555", keyType: "team" };

  test("dataJson: the key normalised in the program, the identifiers from the probe; metadata likewise", async () => {
    const b = await buildVault({ privateKey: String(acceptedForms(keyA).literalBackslashN) }, {}, "ci", { probeOverrides: PROBE });
    const d = declaredOf(b.run);
    const normalised = parsePrivateKey(keyA.pem);
    expect(d.secret.data).toEqual({ schemaVersion: 1, keyType: "team", keyId: PROBE.keyId, issuerId: PROBE.issuerId, privateKey: normalised.pem, fingerprint: normalised.fingerprint });
    expect((d.secret.customMetadata?.data as Record<string, string>)["asc:key-id"]).toBe(PROBE.keyId);
  });

  test("preview before the probe ran: dataJson and the key-id metadata are unknown, not built from the inputs", async () => {
    const run = await startRun({ preview: true, probeUnknown: true });
    const c = new AppStoreConnectApiKey("ci", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem });
    await settle([c.mount]);
    const secret = run.one(VT.secret).inputs;
    expect(pulumi.isUnknown(reveal(secret.dataJson))).toBe(true);
    const data = (secret.customMetadata as { data: Record<string, unknown> }).data;
    expect(pulumi.isUnknown(data["asc:key-id"])).toBe(true);
    expect(JSON.stringify(run.resources.filter((r) => r.type !== VT.probe).map((r) => r.inputs))).not.toContain(TEAM.keyId);
  });
});

describe("rotation and onRotate", () => {
  const onRotate = { command: "./notify.sh", environment: { SLACK_CHANNEL: "#releases", ASC_VAULT_PATH: "spoofed" } };

  test("two runs with different keys: same secret and policy, new data, previousKeyId, hook re-triggered with the Vault place", async () => {
    const first = await buildVault({ keyId: "AAAAAAAAA1", privateKey: keyA.pem, appRole: {}, onRotate });
    const second = await buildVault({ keyId: "BBBBBBBBB2", privateKey: String(acceptedForms(keyB).base64OfDer), appRole: {}, onRotate });
    const d1 = declaredOf(first.run);
    const d2 = declaredOf(second.run);
    expect([d2.secret.mount, d2.secret.path]).toEqual([d1.secret.mount, d1.secret.path]);
    expect(d2.policy).toEqual(d1.policy);
    expect(d2.appRole).toEqual(d1.appRole);
    expect(d2.secret.data.keyId).toBe("BBBBBBBBB2");
    expect(d2.secret.data.privateKey).toBe(parsePrivateKey(keyB.pem).pem);
    expect(await valueOf(first.component.previousKeyId)).toBeUndefined();
    expect(await valueOf(second.component.previousKeyId)).toBe("AAAAAAAAA1");

    const c2 = second.run.one(VT.command).inputs;
    expect(c2.environment).toEqual({
      SLACK_CHANNEL: "#releases",
      ASC_VAULT_MOUNT: "secret",
      ASC_VAULT_PATH: "app-store-connect/ci",
      ASC_KEY_ID: "BBBBBBBBB2",
      ASC_PREVIOUS_KEY_ID: "AAAAAAAAA1",
      ASC_FINGERPRINT: d2.secret.data.fingerprint,
    });
    expect(c2.triggers).toEqual([d2.secret.data.fingerprint]);
    expect(first.run.one(VT.command).inputs.triggers).toEqual([d1.secret.data.fingerprint]);
    const hook = second.children.find((c) => c.type === VT.command)!;
    expect(hook.opts.dependsOn).toEqual([second.component.secret]);
    for (const v of Object.values(c2.environment as Record<string, unknown>)) expect(isSecretValue(v)).toBe(false);
    expect(containsKeyMaterial(JSON.stringify(c2), keyB)).toBe(false);
  });
});
