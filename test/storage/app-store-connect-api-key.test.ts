import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { isAscCredentialError, parsePrivateKey } from "../../src/core";
import { AppStoreConnectApiKey, type AppStoreConnectApiKeyArgs, type AscRole } from "../../src/storage";
import { acceptedForms, containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";
import { ACCOUNT, DEPLOYER_ROLE, isSecretValue, REGION, resetStack, reveal, settle, startRun, valueOf, type Run } from "./harness";

const T = {
  key: "aws:kms/key:Key",
  alias: "aws:kms/alias:Alias",
  secret: "aws:secretsmanager/secret:Secret",
  version: "aws:secretsmanager/secretVersion:SecretVersion",
  secretPolicy: "aws:secretsmanager/secretPolicy:SecretPolicy",
  policy: "aws:iam/policy:Policy",
  attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  command: "command:local:Command",
  component: "asc-credential:index:AppStoreConnectApiKey",
};
const READER_A = `arn:aws:iam::${ACCOUNT}:role/reader-a`;
const READER_B = `arn:aws:iam::${ACCOUNT}:role/apps/ci/reader-b`;
const READER_C = `arn:aws:iam::${ACCOUNT}:role/reader-c`;
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const VIA = `secretsmanager.${REGION}.amazonaws.com`;

const OUTPUT_NAMES = [
  "secretArn", "secretName", "secretVersionId", "kmsKeyArn", "readerPolicyArn", "keyId", "issuerId",
  "keyType", "fingerprint", "publicKeyPem", "previousKeyId", "validatedAt", "roles",
] as const;

interface Built {
  run: Run;
  component: AppStoreConnectApiKey;
  /** Every child registered, with the parent it was given. */
  children: { type: string; name: string; parent: pulumi.Resource | undefined }[];
}

async function build(args: Partial<AppStoreConnectApiKeyArgs> & { privateKey: string }, opts: pulumi.ComponentResourceOptions = {}, name = "ci"): Promise<Built> {
  const run = await startRun();
  const children: Built["children"] = [];
  const component = new AppStoreConnectApiKey(
    name,
    { keyId: TEAM.keyId, issuerId: TEAM.issuerId, ...args },
    {
      ...opts,
      // Transformations are inherited by children, so this sees each child's options as given.
      transformations: [(a) => { children.push({ type: a.type, name: a.name, parent: a.opts.parent }); return undefined; }],
    },
  );
  await settle(OUTPUT_NAMES.map((n) => component[n] as pulumi.Output<unknown>));
  return { run, component, children };
}

const json = (r: { inputs: Record<string, unknown> }, field = "policy"): unknown => JSON.parse(reveal<string>(r.inputs[field]));

/** Every string reachable from a value, skipping values the engine received as secrets. */
function plainStrings(value: unknown, out: string[] = []): string[] {
  if (isSecretValue(value)) return out;
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => plainStrings(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => plainStrings(v, out));
  return out;
}

/** True when the private scalar `d` appears in `text`, in any usual encoding or inside base64 DER. */
function containsPrivateScalar(text: string, key: TestKey): boolean {
  const d = Buffer.from(String(key.keyObject.export({ format: "jwk" }).d), "base64url");
  if ([d.toString("hex"), d.toString("base64"), d.toString("base64url")].some((n) => text.includes(n))) return true;
  const b64Runs = text.replace(/\\n/g, "\n").match(/[A-Za-z0-9+/=\n]{40,}/g) ?? [];
  return b64Runs.some((run) => Buffer.from(run.replace(/\n/g, ""), "base64").includes(d));
}

let keyA: TestKey;
let keyB: TestKey;
beforeAll(() => {
  keyA = generateTestKey();
  keyB = generateTestKey();
});
beforeEach(() => resetStack());

describe("children and their exact inputs", () => {
  let b: Built;
  let secretArn: string;
  let kmsArn: string;
  beforeAll(async () => {
    resetStack();
    // A mangled form (base64 of the .p8, as CI secrets often are) so normalisation is visible.
    b = await build({ privateKey: String(acceptedForms(keyA).base64OfPemOneLine), role: ["APP_MANAGER", "SALES"], readers: [READER_A, READER_B], tags: { team: "mobile" } });
    secretArn = await valueOf(b.component.secretArn);
    kmsArn = await valueOf(b.component.kmsKeyArn);
  });

  test("creates exactly the expected children, all parented to the component", () => {
    const types = b.run.resources.filter((r) => r.type !== T.component).map((r) => r.type).sort();
    expect(types).toEqual([T.alias, T.key, T.policy, T.attachment, T.attachment, T.secret, T.secretPolicy, T.version, "pulumi-nodejs:dynamic/asc-credential:ApiKeyProbe"].sort());
    // The transformation also sees the component itself (no parent given in this test).
    const children = b.children.filter((c) => c.type !== T.component);
    expect(children).toHaveLength(9);
    for (const c of children) expect([c.name, c.parent]).toEqual([c.name, b.component]);
  });

  test("KMS key: rotation on, 30-day deletion window, explicit key policy", () => {
    const key = b.run.one(T.key);
    expect(key.inputs.enableKeyRotation).toBe(true);
    expect(key.inputs.deletionWindowInDays).toBe(30);
    expect(key.inputs.tags).toEqual({ team: "mobile", "asc:key-id": TEAM.keyId, "asc:key-type": "team", "asc:roles": "APP_MANAGER SALES", "managed-by": "pulumi-asc-credential" });
    expect(json(key)).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Sid: "EnableIamPoliciesForThisAccount", Effect: "Allow", Principal: { AWS: ROOT }, Action: "kms:*", Resource: "*" },
        {
          Sid: "AllowUseOnlyViaSecretsManagerInThisAccount",
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
          Resource: "*",
          Condition: { StringEquals: { "kms:ViaService": VIA, "kms:CallerAccount": ACCOUNT } },
        },
      ],
    });
    const alias = b.run.one(T.alias);
    expect(alias.inputs.namePrefix).toBe("alias/app-store-connect/ci-");
    expect(alias.inputs.targetKeyId).toBe(kmsArn.split("/")[1]);
  });

  test("secret: this KMS key, 30-day recovery window, tags with roles and key ID, no replicas", () => {
    const secret = b.run.one(T.secret);
    expect(secret.inputs).toEqual({
      namePrefix: "app-store-connect/ci-",
      description: "App Store Connect API key 'ci' (pulumi-asc-credential)",
      kmsKeyId: kmsArn,
      recoveryWindowInDays: 30,
      tags: { team: "mobile", "asc:key-id": TEAM.keyId, "asc:key-type": "team", "asc:roles": "APP_MANAGER SALES", "managed-by": "pulumi-asc-credential" },
    });
  });

  test("secret version: secret JSON, schemaVersion 1, normalised PEM and fingerprint from the probe", () => {
    const version = b.run.one(T.version);
    expect(isSecretValue(version.inputs.secretString)).toBe(true);
    const raw = reveal<string>(version.inputs.secretString);
    const parsed = parsePrivateKey(keyA.pem);
    expect(Object.keys(JSON.parse(raw))).toEqual(["schemaVersion", "keyType", "keyId", "issuerId", "privateKey", "fingerprint"]);
    expect(JSON.parse(raw)).toEqual({ schemaVersion: 1, keyType: "team", keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: parsed.pem, fingerprint: parsed.fingerprint });
    expect(version.inputs.secretId).toBe("ci-secret-id");
  });

  test("probe gets the key as a secret input", () => {
    const probe = b.run.one("pulumi-nodejs:dynamic/asc-credential:ApiKeyProbe");
    expect(isSecretValue(probe.inputs.privateKey)).toBe(true);
    expect(probe.inputs.keyId).toBe(TEAM.keyId);
  });

  test("secret policy: blockPublicPolicy, deny everyone but root, deployer role and readers", () => {
    const sp = b.run.one(T.secretPolicy);
    expect(sp.inputs.blockPublicPolicy).toBe(true);
    expect(sp.inputs.secretArn).toBe(secretArn);
    expect(json(sp)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyEveryoneNotListed",
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: "secretsmanager:*",
          Resource: secretArn,
          Condition: { ArnNotLike: { "aws:PrincipalArn": [ROOT, DEPLOYER_ROLE, READER_A, READER_B] } },
        },
      ],
    });
  });

  test("reader policy: read this secret, decrypt this key via Secrets Manager; one attachment per role", () => {
    expect(json(b.run.one(T.policy))).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Sid: "ReadThisSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: secretArn },
        { Sid: "DecryptThisSecretViaSecretsManager", Effect: "Allow", Action: "kms:Decrypt", Resource: kmsArn, Condition: { StringEquals: { "kms:ViaService": VIA } } },
      ],
    });
    const attachments = b.run.all(T.attachment).map((a) => a.inputs);
    expect(attachments).toEqual([
      { role: "reader-a", policyArn: `arn:aws:iam::${ACCOUNT}:policy/ci-reader-20300102` },
      { role: "reader-b", policyArn: `arn:aws:iam::${ACCOUNT}:policy/ci-reader-20300102` },
    ]);
  });

  test("the deployer is resolved through the session context, not the STS session ARN", () => {
    const ctx = b.run.calls.find((c) => c.token === "aws:iam/getSessionContext:getSessionContext");
    expect(ctx?.inputs.arn).toMatch(/^arn:aws:sts::\d{12}:assumed-role\//);
    expect(JSON.stringify(json(b.run.one(T.secretPolicy)))).not.toContain("assumed-role");
  });

  test("outputs: values, none secret, none with key material; no plain child input has key material", async () => {
    const c = b.component;
    const parsed = parsePrivateKey(keyA.pem);
    expect(await valueOf(c.keyId)).toBe(TEAM.keyId);
    expect(await valueOf(c.issuerId)).toBe(TEAM.issuerId);
    expect(await valueOf(c.keyType)).toBe("team");
    expect(await valueOf(c.fingerprint)).toBe(parsed.fingerprint);
    expect(await valueOf(c.publicKeyPem)).toBe(parsed.publicKeyPem);
    expect(await valueOf(c.previousKeyId)).toBeUndefined();
    expect(await valueOf(c.roles)).toEqual(["APP_MANAGER", "SALES"]);
    expect(await valueOf(c.secretVersionId)).toMatch(/^v-[0-9a-f]{16}$/);
    expect(await valueOf(c.readerPolicyArn)).toBe(`arn:aws:iam::${ACCOUNT}:policy/ci-reader-20300102`);
    expect(await valueOf(c.secretName)).toBe("app-store-connect/ci-20300102");
    for (const n of OUTPUT_NAMES) {
      const o = c[n] as pulumi.Output<unknown>;
      expect([n, await pulumi.isSecret(o)]).toEqual([n, false]);
      const text = JSON.stringify(await valueOf(o)) ?? "";
      expect([n, containsPrivateScalar(text, keyA)]).toEqual([n, false]);
      // A PKCS#8 EC key embeds its public key, so the public key PEM legitimately shares runs with it.
      if (n !== "publicKeyPem") expect([n, containsKeyMaterial(text, keyA)]).toEqual([n, false]);
    }
    // Both detectors can fire: on the private key itself they do.
    expect(containsPrivateScalar(JSON.stringify(keyA.pem), keyA)).toBe(true);
    const plain = plainStrings(b.run.resources.map((r) => r.inputs)).join("\n");
    expect(plain.length).toBeGreaterThan(1000);
    expect(containsKeyMaterial(plain, keyA)).toBe(false);
    // The check above can fail: the secret input does hold the key.
    expect(containsKeyMaterial(reveal<string>(b.run.one(T.version).inputs.secretString), keyA)).toBe(true);
  });
});

describe("options", () => {
  test.each([
    [0, []],
    [1, [READER_A]],
    [3, [READER_A, READER_B, READER_C]],
  ])("%i reader(s) give as many attachments of the one reader policy", async (n, readers) => {
    const b = await build({ privateKey: keyA.pem, readers });
    expect(b.run.all(T.policy)).toHaveLength(1);
    expect(b.run.all(T.attachment).map((a) => a.inputs.role)).toEqual(["reader-a", "reader-b", "reader-c"].slice(0, n));
  });

  test("kmsKeyArn: no key, no alias; the secret and reader policy use the given key", async () => {
    const given = `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000000-aaaa-bbbb-cccc-000000000000`;
    const b = await build({ privateKey: keyA.pem, kmsKeyArn: given, readers: [READER_A] });
    expect(b.run.all(T.key)).toHaveLength(0);
    expect(b.run.all(T.alias)).toHaveLength(0);
    expect(b.run.one(T.secret).inputs.kmsKeyId).toBe(given);
    expect(await valueOf(b.component.kmsKeyArn)).toBe(given);
    const statements = (json(b.run.one(T.policy)) as { Statement: { Sid: string; Resource: string }[] }).Statement;
    expect(statements.find((s) => s.Sid === "DecryptThisSecretViaSecretsManager")?.Resource).toBe(given);
  });

  test("secretName, recovery window, description and administrators are passed through", async () => {
    const admin = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Admin_*`;
    const b = await build({ privateKey: keyA.pem, secretName: "asc/ci", recoveryWindowInDays: 7, description: "CI key", administrators: [admin] });
    const secret = b.run.one(T.secret);
    expect(secret.inputs.name).toBe("asc/ci");
    expect(secret.inputs.namePrefix).toBeUndefined();
    expect(secret.inputs.recoveryWindowInDays).toBe(7);
    expect(secret.inputs.description).toBe("CI key");
    const deny = (json(b.run.one(T.secretPolicy)) as { Statement: { Condition: { ArnNotLike: Record<string, string[]> } }[] }).Statement[0];
    expect(deny?.Condition.ArnNotLike["aws:PrincipalArn"]).toEqual([ROOT, DEPLOYER_ROLE, admin]);
  });

  test("denyOtherPrincipals: false creates no secret policy (nothing else to state)", async () => {
    const b = await build({ privateKey: keyA.pem, readers: [READER_A], denyOtherPrincipals: false });
    expect(b.run.all(T.secretPolicy)).toHaveLength(0);
    expect(b.run.all(T.attachment)).toHaveLength(1);
  });

  test("denyOtherPrincipals: false with an external reader keeps only the allow statement", async () => {
    const ext = "arn:aws:iam::444455556666:role/partner-reader";
    const b = await build({ privateKey: keyA.pem, externalReaders: [ext], denyOtherPrincipals: false });
    const sp = json(b.run.one(T.secretPolicy)) as { Statement: { Sid: string; Effect: string }[] };
    expect(sp.Statement.map((s) => [s.Sid, s.Effect])).toEqual([["AllowExternalReaders", "Allow"]]);
  });

  test("external readers: admitted by key and secret policies, never attached", async () => {
    const ext = "arn:aws:iam::444455556666:role/partner-reader";
    const b = await build({ privateKey: keyA.pem, externalReaders: [ext] });
    expect(b.run.all(T.attachment)).toHaveLength(0);
    const kp = json(b.run.one(T.key)) as { Statement: unknown[] };
    expect(kp.Statement[2]).toEqual({
      Sid: "AllowExternalReadersDecryptViaSecretsManager", Effect: "Allow", Principal: { AWS: ext },
      Action: ["kms:Decrypt", "kms:DescribeKey"], Resource: "*", Condition: { StringEquals: { "kms:ViaService": VIA } },
    });
    const sp = json(b.run.one(T.secretPolicy)) as { Statement: { Sid: string; Principal: unknown; Condition?: { ArnNotLike: Record<string, string[]> } }[] };
    expect(sp.Statement[0]?.Condition?.ArnNotLike["aws:PrincipalArn"]).toContain(ext);
    expect(sp.Statement[1]).toMatchObject({ Sid: "AllowExternalReaders", Principal: { AWS: ext }, Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"] });
  });

  test("replicas use the region's AWS-managed key; readers may read the replica ARN", async () => {
    const b = await build({ privateKey: keyA.pem, replicaRegions: ["us-east-1"], readers: [READER_A] });
    expect(b.run.one(T.secret).inputs.replicas).toEqual([{ region: "us-east-1" }]);
    const arn = await valueOf(b.component.secretArn);
    const read = (json(b.run.one(T.policy)) as { Statement: { Resource: unknown }[] }).Statement[0];
    expect(read?.Resource).toEqual([arn, arn.replace(`:${REGION}:`, ":us-east-1:")]);
  });

  test("individual key: no issuerId in the stored JSON, keyType tag individual", async () => {
    const b = await build({ privateKey: keyA.pem, keyType: "individual", issuerId: undefined });
    const stored = JSON.parse(reveal<string>(b.run.one(T.version).inputs.secretString)) as Record<string, unknown>;
    expect(Object.keys(stored)).toEqual(["schemaVersion", "keyType", "keyId", "privateKey", "fingerprint"]);
    expect(stored.keyType).toBe("individual");
    expect((b.run.one(T.secret).inputs.tags as Record<string, string>)["asc:key-type"]).toBe("individual");
  });

  test("an explicit aws provider passed via `providers` reaches every AWS child and invoke", async () => {
    const run = await startRun();
    const provider = new aws.Provider("explicit", { region: REGION });
    const c = new AppStoreConnectApiKey("p", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, readers: [READER_A] }, { providers: { aws: provider } });
    await settle([c.secretArn, c.readerPolicyArn]);
    const ref = `${await valueOf(provider.urn)}::${await valueOf(provider.id)}`;
    const awsChildren = run.resources.filter((r) => r.type.startsWith("aws:"));
    expect(awsChildren.length).toBe(7);
    for (const r of awsChildren) expect([r.name, r.provider]).toEqual([r.name, ref]);
    expect(run.calls.length).toBe(4);
    for (const call of run.calls) expect([call.token, call.provider]).toEqual([call.token, ref]);
  });
});

describe("roles", () => {
  async function expectRefused(role: AscRole | AscRole[], code: string, allowAdminRole?: boolean): Promise<string> {
    const run = await startRun();
    let caught: unknown;
    try {
      new AppStoreConnectApiKey("r", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, role, allowAdminRole });
    } catch (e) {
      caught = e;
    }
    await settle();
    expect(isAscCredentialError(caught)).toBe(true);
    const err = caught as { code: string; field: string; message: string };
    expect([err.code, err.field]).toEqual([code, "role"]);
    expect(run.resources).toEqual([]);
    expect(containsKeyMaterial(err.message, keyA)).toBe(false);
    return err.message;
  }

  test("ADMIN without allowAdminRole is refused before anything is created, naming the field and the fix", async () => {
    const message = await expectRefused("ADMIN", "ROLE_ADMIN_NOT_ALLOWED");
    expect(message).toMatch(/^role: ADMIN/);
    expect(message).toContain("allowAdminRole: true");
    expect(message).toContain("APP_MANAGER");
    await expectRefused(["APP_MANAGER", "ADMIN"], "ROLE_ADMIN_NOT_ALLOWED", false);
  });

  test("ADMIN with allowAdminRole works and is recorded", async () => {
    const b = await build({ privateKey: keyA.pem, role: "ADMIN", allowAdminRole: true });
    expect(await valueOf(b.component.roles)).toEqual(["ADMIN"]);
    expect((b.run.one(T.secret).inputs.tags as Record<string, string>)["asc:roles"]).toBe("ADMIN");
  });

  test.each(["MARKETING", "CUSTOMER_SUPPORT"] as const)("%s is refused: Apple cannot create keys with it", async (role) => {
    const message = await expectRefused(role, "ROLE_INVALID");
    expect(message).toContain("cannot create API keys with the Marketing or Customer Support role");
  });

  test("an unknown role is refused", async () => {
    const message = await expectRefused("OWNER" as AscRole, "ROLE_INVALID");
    expect(message).toContain("'OWNER'");
  });
});

describe("rotation and onRotate", () => {
  const onRotate = { command: "./notify.sh", dir: "/srv/hooks", environment: { SLACK_CHANNEL: "#releases", ASC_KEY_ID: "spoofed" } };

  test("two runs with different keys: same secret, new version, previousKeyId set, hook re-triggered", async () => {
    const first = await build({ keyId: "AAAAAAAAA1", privateKey: keyA.pem, readers: [READER_A], onRotate });
    const second = await build({ keyId: "BBBBBBBBB2", privateKey: String(acceptedForms(keyB).literalBackslashN), readers: [READER_A], onRotate });

    const s1 = first.run.one(T.secret).inputs;
    const s2 = second.run.one(T.secret).inputs;
    expect(s2).toEqual({ ...s1, tags: { ...(s1.tags as object), "asc:key-id": "BBBBBBBBB2" } });
    expect(await valueOf(second.component.secretName)).toBe(await valueOf(first.component.secretName));
    const k1 = first.run.one(T.key).inputs;
    expect(second.run.one(T.key).inputs).toEqual({ ...k1, tags: { ...(k1.tags as object), "asc:key-id": "BBBBBBBBB2" } });
    expect(json(second.run.one(T.secretPolicy))).toEqual(json(first.run.one(T.secretPolicy)));

    const v1 = JSON.parse(reveal<string>(first.run.one(T.version).inputs.secretString)) as Record<string, string>;
    const v2 = JSON.parse(reveal<string>(second.run.one(T.version).inputs.secretString)) as Record<string, string>;
    expect(v2.keyId).toBe("BBBBBBBBB2");
    expect(v2.privateKey).toBe(parsePrivateKey(keyB.pem).pem);
    expect(v2.fingerprint).not.toBe(v1.fingerprint);
    expect(await valueOf(second.component.secretVersionId)).not.toBe(await valueOf(first.component.secretVersionId));

    expect(await valueOf(first.component.previousKeyId)).toBeUndefined();
    expect(await valueOf(second.component.previousKeyId)).toBe("AAAAAAAAA1");

    const c1 = first.run.one(T.command).inputs;
    const c2 = second.run.one(T.command).inputs;
    expect(c1.triggers).toEqual([v1.fingerprint]);
    expect(c2.triggers).toEqual([v2.fingerprint]);
    expect(c2.environment).toEqual({
      SLACK_CHANNEL: "#releases",
      ASC_SECRET_ARN: await valueOf(second.component.secretArn),
      ASC_KEY_ID: "BBBBBBBBB2",
      ASC_PREVIOUS_KEY_ID: "AAAAAAAAA1",
      ASC_FINGERPRINT: v2.fingerprint,
    });
    expect((c1.environment as Record<string, string>).ASC_PREVIOUS_KEY_ID).toBe("");
    expect([c2.create, c2.dir]).toEqual(["./notify.sh", "/srv/hooks"]);
  });

  test("onRotate's environment and triggers hold no secret and no key material", async () => {
    const b = await build({ privateKey: keyA.pem, onRotate });
    const cmd = b.run.one(T.command).inputs;
    const env = cmd.environment as Record<string, unknown>;
    expect(Object.keys(env).sort()).toEqual(["ASC_FINGERPRINT", "ASC_KEY_ID", "ASC_PREVIOUS_KEY_ID", "ASC_SECRET_ARN", "SLACK_CHANNEL"]);
    for (const v of [...Object.values(env), cmd.triggers, cmd.create, cmd.dir]) expect(isSecretValue(v)).toBe(false);
    expect(containsKeyMaterial(JSON.stringify(cmd), keyA)).toBe(false);
  });
});
