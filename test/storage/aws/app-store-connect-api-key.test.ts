import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { isAscCredentialError, parsePrivateKey } from "../../../src/core";
import { AppStoreConnectApiKey, type AppStoreConnectApiKeyArgs } from "../../../src/storage/aws";
import type { AscRole } from "../../../src/storage";
import { acceptedForms, containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../../support/keys";
import { ACCOUNT, catchProgramErrors, DEPLOYER_ROLE, firstProgramError, isSecretValue, plainStrings, REGION, resetStack, reveal, settle, startRun, valueOf, type Run, type RunOptions } from "../harness";

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
  children: { type: string; name: string; parent: pulumi.Resource | undefined; resource: pulumi.Resource }[];
}

async function build(
  args: Partial<AppStoreConnectApiKeyArgs> & { privateKey: string },
  opts: pulumi.ComponentResourceOptions = {},
  name = "ci",
  runOptions: RunOptions = {},
): Promise<Built> {
  const run = await startRun(runOptions);
  const children: Built["children"] = [];
  const component = new AppStoreConnectApiKey(
    name,
    { keyId: TEAM.keyId, issuerId: TEAM.issuerId, ...args },
    {
      ...opts,
      // Transformations are inherited by children, so this sees each child's options as given.
      transformations: [(a) => { children.push({ type: a.type, name: a.name, parent: a.opts.parent, resource: a.resource }); return undefined; }],
    },
  );
  await settle(OUTPUT_NAMES.map((n) => component[n] as pulumi.Output<unknown>));
  return { run, component, children };
}

const json = (r: { inputs: Record<string, unknown> }, field = "policy"): unknown => JSON.parse(reveal<string>(r.inputs[field]));

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

  test("secret version: secret JSON, schemaVersion 1, normalised PEM and fingerprint", () => {
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
        {
          Sid: "DenyReadersAnythingButReading",
          Effect: "Deny",
          Principal: { AWS: "*" },
          NotAction: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
          Resource: secretArn,
          Condition: { ArnLike: { "aws:PrincipalArn": [READER_A, READER_B] }, ArnNotLike: { "aws:PrincipalArn": [ROOT, DEPLOYER_ROLE] } },
        },
      ],
    });
  });

  test("reader policy: read this secret, decrypt this key via Secrets Manager for this secret only; one attachment per role, named after it", () => {
    expect(json(b.run.one(T.policy))).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Sid: "ReadThisSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: secretArn },
        {
          Sid: "DecryptThisSecretViaSecretsManager",
          Effect: "Allow",
          Action: "kms:Decrypt",
          Resource: kmsArn,
          Condition: { StringEquals: { "kms:ViaService": VIA, "kms:EncryptionContext:SecretARN": secretArn } },
        },
      ],
    });
    const attachments = b.run.all(T.attachment).map((a) => [a.name, a.inputs]);
    expect(attachments).toEqual([
      ["ci-reader-reader-a", { role: "reader-a", policyArn: `arn:aws:iam::${ACCOUNT}:policy/ci-reader-20300102` }],
      ["ci-reader-reader-b", { role: "reader-b", policyArn: `arn:aws:iam::${ACCOUNT}:policy/ci-reader-20300102` }],
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
    const both = [arn, arn.replace(`:${REGION}:`, ":us-east-1:")];
    const read = (json(b.run.one(T.policy)) as { Statement: { Resource: unknown }[] }).Statement[0];
    expect(read?.Resource).toEqual(both);
    // Secrets Manager copies the resource policy to each replica: every statement names the replica too.
    const sp = json(b.run.one(T.secretPolicy)) as { Statement: { Sid: string; Resource: unknown }[] };
    expect(sp.Statement.map((s) => [s.Sid, s.Resource])).toEqual([
      ["DenyEveryoneNotListed", both],
      ["DenyReadersAnythingButReading", both],
    ]);
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

describe("the stored secret and the tags come from the probe's outputs", () => {
  const PROBE = { keyId: "PROBEOUT01", issuerId: "99999999-8888-7777-6666-555555555555", keyType: "team" };

  test("secretString: the key normalised in the program, the identifiers from the probe; tags likewise", async () => {
    const b = await build({ privateKey: String(acceptedForms(keyA).base64OfPemOneLine) }, {}, "ci", { probeOverrides: PROBE });
    const stored = JSON.parse(reveal<string>(b.run.one(T.version).inputs.secretString)) as Record<string, unknown>;
    const normalised = parsePrivateKey(keyA.pem);
    expect(stored).toEqual({ schemaVersion: 1, keyType: "team", keyId: PROBE.keyId, issuerId: PROBE.issuerId, privateKey: normalised.pem, fingerprint: normalised.fingerprint });
    for (const type of [T.secret, T.key]) {
      const tags = b.run.one(type).inputs.tags as Record<string, string>;
      expect([type, tags["asc:key-id"], tags["asc:key-type"]]).toEqual([type, PROBE.keyId, "team"]);
    }
  });

  test("a probe that validated another key than the program holds stops the version (no key in the message)", async () => {
    const caught = catchProgramErrors();
    try {
      await startRun({ probeOverrides: { fingerprint: parsePrivateKey(keyB.pem).fingerprint } });
      new AppStoreConnectApiKey("ci", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem });
      const error = await firstProgramError(caught);
      expect(error?.message).toContain("privateKey is not the key the probe validated in this deployment");
      expect(containsKeyMaterial(String(error?.message), keyA)).toBe(false);
    } finally {
      caught.stop();
    }
  });

  test("keyType tag: the probe's, not the input's", async () => {
    const b = await build({ privateKey: keyA.pem, keyType: "team" }, {}, "ci", { probeOverrides: { keyType: "individual" } });
    expect((b.run.one(T.secret).inputs.tags as Record<string, string>)["asc:key-type"]).toBe("individual");
  });

  test("preview before the probe ran: secretString and the key-id tag are unknown, not built from the inputs", async () => {
    const run = await startRun({ preview: true, probeUnknown: true });
    const c = new AppStoreConnectApiKey("ci", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem });
    await settle([c.secretArn]);
    const version = run.one(T.version);
    // An input computed from the inputs would be known here; the probe's outputs are not yet.
    expect(pulumi.isUnknown(reveal(version.inputs.secretString))).toBe(true);
    const tags = run.one(T.secret).inputs.tags as Record<string, unknown>;
    expect([pulumi.isUnknown(tags["asc:key-id"]), pulumi.isUnknown(tags["asc:key-type"])]).toEqual([true, true]);
    expect(tags["managed-by"]).toBe("pulumi-asc-credential");
    expect(JSON.stringify(run.resources.filter((r) => r.type !== "pulumi-nodejs:dynamic/asc-credential:ApiKeyProbe").map((r) => r.inputs))).not.toContain(TEAM.keyId);
  });
});

test("a probe that fails (a key refused at preview, or by Apple at up) leaves every AWS child unregistered", async () => {
  const caught = catchProgramErrors();
  try {
    const run = await startRun({ probeFails: "API_UNAUTHORIZED: Apple answered 401" });
    new AppStoreConnectApiKey("ci", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, readers: [READER_A, pulumi.output(READER_B)], onRotate: { command: "true" } });
    await firstProgramError(caught);
    await settle();
    expect(run.resources.map((r) => r.type).sort()).toEqual([T.component, "pulumi-nodejs:dynamic/asc-credential:ApiKeyProbe"].sort());
  } finally {
    caught.stop();
  }
});

describe("reader attachments", () => {
  const READER_D = `arn:aws:iam::${ACCOUNT}:role/reader-d`;

  async function attachmentsOf(b: Built): Promise<Map<string, { urn: string; role: unknown }>> {
    const byName = new Map<string, { urn: string; role: unknown }>();
    for (const child of b.children.filter((c) => c.type === T.attachment)) {
      const recorded = b.run.all(T.attachment).find((r) => r.name === child.name);
      byName.set(child.name, { urn: await valueOf(child.resource.urn), role: recorded?.inputs.role });
    }
    return byName;
  }

  test("[A, B, C] → [A, C]: A's and C's attachments keep their URNs and roles, only B's goes", async () => {
    const before = await attachmentsOf(await build({ privateKey: keyA.pem, readers: [READER_A, READER_B, READER_C] }));
    const after = await attachmentsOf(await build({ privateKey: keyA.pem, readers: [READER_A, READER_C] }));
    expect([...after.keys()]).toEqual(["ci-reader-reader-a", "ci-reader-reader-c"]);
    for (const [name, a] of after) expect([name, a]).toEqual([name, before.get(name)]);
    expect(after.get("ci-reader-reader-c")?.urn).toMatch(/AppStoreConnectApiKey\$aws:iam\/rolePolicyAttachment:RolePolicyAttachment::ci-reader-reader-c$/);
    // Removing B deletes exactly B's attachment, and no surviving name changes role (a replace).
    expect([...before.keys()].filter((n) => !after.has(n))).toEqual(["ci-reader-reader-b"]);
  });

  test("reordering and inserting plain readers keeps every existing attachment", async () => {
    const before = await attachmentsOf(await build({ privateKey: keyA.pem, readers: [READER_A, READER_B, READER_C] }));
    const after = await attachmentsOf(await build({ privateKey: keyA.pem, readers: [READER_C, READER_D, READER_A, READER_B] }));
    for (const [name, a] of before) expect([name, after.get(name)]).toEqual([name, a]);
    expect(after.size).toBe(4);
  });

  test("duplicates attach once: the same ARN twice, or one role name under two paths", async () => {
    const b = await build({ privateKey: keyA.pem, readers: [READER_A, READER_A, `arn:aws:iam::${ACCOUNT}:role/other/path/reader-a`, READER_C] });
    expect(b.run.all(T.attachment).map((a) => [a.name, a.inputs.role])).toEqual([
      ["ci-reader-reader-a", "reader-a"],
      ["ci-reader-reader-c", "reader-c"],
    ]);
  });

  test("Output-valued readers fall back to positions among the Output-valued ones (documented limitation)", async () => {
    const b = await build({ privateKey: keyA.pem, readers: [pulumi.output(READER_B), READER_A, pulumi.output(READER_C)] });
    expect(b.run.all(T.attachment).map((a) => [a.name, a.inputs.role]).sort()).toEqual([
      ["ci-reader-#0", "reader-b"],
      ["ci-reader-#1", "reader-c"],
      ["ci-reader-reader-a", "reader-a"],
    ]);
  });

  test("a plain reader ARN that is not a role ARN is refused at construction, naming the field", async () => {
    await startRun();
    expect(() => new AppStoreConnectApiKey("bad", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, readers: [`arn:aws:iam::${ACCOUNT}:user/alice`] })).toThrow(
      /^readers: 'arn:aws:iam::111122223333:user\/alice' is not an IAM role ARN/,
    );
  });

  test.each([
    ["a plain string", (arn: string): pulumi.Input<string> => arn],
    ["an Output", (arn: string): pulumi.Input<string> => pulumi.output(arn)],
  ])("a reader of another account (%s) fails the run before anything is created: no key, no secret, no policy names it", async (_, wrap) => {
    const foreign = "arn:aws:iam::999999999999:role/ci/reader";
    const caught = catchProgramErrors();
    try {
      const run = await startRun();
      new AppStoreConnectApiKey("x", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, readers: [READER_A, wrap(foreign)] });
      const err = (await firstProgramError(caught)) as Error;
      await settle();
      // One error object (both the secret policy and the attachments wait on the one check).
      expect(caught.errors).toHaveLength(1);
      expect(pulumi.ResourceError.isInstance(err)).toBe(true);
      expect(err.message).toContain(`readers: '${foreign}' is a role in account 999999999999, but the secret is deployed in account ${ACCOUNT}`);
      expect(err.message).toContain("externalReaders");
      // Nothing was written: no KMS key, no secret, no version holding the key.
      expect(run.resources.map((r) => r.type).filter((t) => t.startsWith("aws:"))).toEqual([]);
      // Nothing naming the foreign role was sent: no secret policy, no attachment at all.
      expect(run.all(T.secretPolicy)).toHaveLength(0);
      expect(run.all(T.attachment)).toHaveLength(0);
      expect(JSON.stringify(run.resources.map((r) => r.inputs))).not.toContain("999999999999");
    } finally {
      caught.stop();
    }
  });
});

test("a reader ARN of another partition (aws-cn while deploying to aws) fails the run before anything is created", async () => {
  const caught = catchProgramErrors();
  try {
    const run = await startRun();
    new AppStoreConnectApiKey("cn", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, readers: [`arn:aws-cn:iam::${ACCOUNT}:role/reader-a`] });
    const error = await firstProgramError(caught);
    await settle();
    expect(error?.message).toContain(`readers: 'arn:aws-cn:iam::${ACCOUNT}:role/reader-a' is a role in partition aws-cn, but the secret is deployed in partition aws.`);
    expect(run.resources.map((r) => r.type).filter((t) => t.startsWith("aws:"))).toEqual([]);
  } finally {
    caught.stop();
  }
});

describe("kmsKeyArn must be a key ARN", () => {
  test.each([
    [`arn:aws:kms:${REGION}:${ACCOUNT}:alias/app-store-connect`, /^kmsKeyArn: the alias 'arn:aws:kms:eu-west-1:111122223333:alias\/app-store-connect' is not a KMS key ARN\. IAM policies match a key by its key ARN/],
    ["alias/app-store-connect", /^kmsKeyArn: the alias 'alias\/app-store-connect' is not a KMS key ARN/],
    ["1234abcd-12ab-34cd-56ef-1234567890ab", /^kmsKeyArn: '1234abcd-12ab-34cd-56ef-1234567890ab' is not a KMS key ARN/],
  ])("a plain %s is refused before anything is created, with the fix", async (value, message) => {
    const run = await startRun();
    let caught: unknown;
    try {
      new AppStoreConnectApiKey("k", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, kmsKeyArn: value });
    } catch (e) {
      caught = e;
    }
    await settle();
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).toContain("aws.kms.getKeyOutput");
    expect(run.resources).toEqual([]);
  });

  test("a value that is not ARN-like is not echoed (it could be a pasted secret)", () => {
    const pasted = keyA.keyObject.export({ format: "der", type: "pkcs8" }).toString("base64");
    let message = "";
    try {
      new AppStoreConnectApiKey("k", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, kmsKeyArn: pasted });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^kmsKeyArn: the value given is not a KMS key ARN/);
    expect(containsKeyMaterial(message, keyA)).toBe(false);
  });

  test("an alias ARN arriving as an Output fails the run before the secret is created or the key written", async () => {
    const caught = catchProgramErrors();
    try {
      const run = await startRun();
      new AppStoreConnectApiKey("k", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, kmsKeyArn: pulumi.output(`arn:aws:kms:${REGION}:${ACCOUNT}:alias/x`) });
      await firstProgramError(caught);
      await settle();
      expect(caught.errors.map((e) => e.message.replace(/^(error serializing property "\w+": )+/, ""))).toEqual([expect.stringMatching(/^kmsKeyArn: the alias 'arn:aws:kms:eu-west-1:111122223333:alias\/x' is not a KMS key ARN/)]);
      expect(run.all(T.secret)).toHaveLength(0);
      expect(run.all(T.version)).toHaveLength(0);
      expect(run.all(T.policy)).toHaveLength(0);
    } finally {
      caught.stop();
    }
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
    const message = await expectRefused(role as unknown as AscRole, "ROLE_INVALID");
    expect(message).toContain("cannot create API keys with the Marketing or Customer Support role");
  });

  test("an unknown role is refused", async () => {
    const message = await expectRefused("OWNER" as AscRole, "ROLE_INVALID");
    expect(message).toContain("'OWNER'");
  });
});

describe("rotation and onRotate", () => {
  const onRotate = { command: "./notify.sh", dir: "/srv/hooks", environment: { SLACK_CHANNEL: "#releases", ASC_KEY_ID: "spoofed" } };

  // previousKeyId comes from the mocked probe here (the engine tier covers the real probe): this
  // checks the wiring probe.previousKeyId → component output and onRotate's environment.
  test("two runs with different keys: same secret, new version, hook re-triggered; probe.previousKeyId wired to the output and onRotate env", async () => {
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

describe("ordinary Pulumi values as inputs", () => {
  const EXCLUSIVE = "aws:iam/policyAttachment:PolicyAttachment";

  test("readers as one Output of a list (a StackReference output): one exclusive attachment of the reader policy to those roles", async () => {
    const b = await build({ privateKey: keyA.pem, readers: pulumi.output([READER_A, READER_B, READER_A]) });
    await settle([b.component.readerPolicyArn]);
    expect(b.run.all(T.attachment)).toHaveLength(0);
    const attachment = b.run.one(EXCLUSIVE);
    expect(attachment.name).toBe("ci-readers");
    expect(attachment.inputs).toEqual({ policyArn: `arn:aws:iam::${ACCOUNT}:policy/ci-reader-20300102`, roles: ["reader-a", "reader-b"] });
    // The resource policy names the same readers.
    expect(JSON.stringify(b.run.one(T.secretPolicy).inputs.policy)).toContain("reader-b");
  });

  test("readers as one Output that resolves to an empty list fail the run with READER_INVALID before anything is created (the exclusive attachment needs a role)", async () => {
    const caught = catchProgramErrors();
    try {
      const run = await startRun();
      new AppStoreConnectApiKey("none", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, readers: pulumi.output<string[]>([]) });
      const error = await firstProgramError(caught);
      await settle();
      expect(error?.message.replace(/^(error serializing property "\w+": )+/, "")).toMatch(/^readers: the list of readers is empty.*Leave readers out/);
      expect(isAscCredentialError(error) || pulumi.ResourceError.isInstance(error)).toBe(true);
      expect(run.resources.map((r) => r.type).filter((t) => t.startsWith("aws:"))).toEqual([]);
    } finally {
      caught.stop();
    }
  });

  test("readers as aws.iam.Role objects: attached by the role's name, named by position", async () => {
    const run = await startRun();
    const roleA = new aws.iam.Role("lambda", { assumeRolePolicy: "{}" });
    const roleB = new aws.iam.Role("task", { assumeRolePolicy: "{}" });
    const c = new AppStoreConnectApiKey("ci", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, readers: [roleA, READER_C, roleB] });
    await settle([c.readerPolicyArn]);
    expect(run.all(T.attachment).map((a) => [a.name, a.inputs.role]).sort()).toEqual([
      ["ci-reader-#0", "lambda"],
      ["ci-reader-#1", "task"],
      ["ci-reader-reader-c", "reader-c"],
    ]);
  });

  test("role as an Output: recorded like a plain one; ADMIN from an Output still needs allowAdminRole, and stops the secret", async () => {
    const ok = await build({ privateKey: keyA.pem, role: pulumi.output<AscRole[]>(["SALES", "FINANCE"]) });
    expect(await valueOf(ok.component.roles)).toEqual(["SALES", "FINANCE"]);
    expect((ok.run.one(T.secret).inputs.tags as Record<string, string>)["asc:roles"]).toBe("SALES FINANCE");

    const caught = catchProgramErrors();
    try {
      const run = await startRun();
      new AppStoreConnectApiKey("admin", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: keyA.pem, role: pulumi.output<AscRole>("ADMIN") });
      const error = await firstProgramError(caught);
      expect(error?.message).toContain("role: ADMIN was declared but allowAdminRole is not true");
      expect(run.all(T.secret)).toHaveLength(0);
      expect(run.all(T.version)).toHaveLength(0);
    } finally {
      caught.stop();
    }
  });

  test("the probe, the secret and the secret version are exposed for dependsOn", async () => {
    const b = await build({ privateKey: keyA.pem });
    expect(pulumi.CustomResource.isInstance(b.component.probe)).toBe(true);
    expect(b.component.secret).toBeInstanceOf(aws.secretsmanager.Secret);
    expect(b.component.secretVersion).toBeInstanceOf(aws.secretsmanager.SecretVersion);
    expect(await valueOf(b.component.secretVersion.versionId)).toBe(await valueOf(b.component.secretVersionId));
  });
});
