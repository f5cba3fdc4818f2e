/**
 * The generated policies (taken from a mocked program run, i.e. exactly what would be sent to
 * AWS) evaluated by @cloud-copilot/iam-simulate (AGPL, dev dependency only, never shipped).
 *
 * The simulator does not derive `aws:PrincipalArn` / `aws:PrincipalAccount` from the request
 * principal, so {@link request} sets them the way AWS does: for an assumed-role session,
 * `aws:PrincipalArn` is the role's ARN (with its path), not the `sts:…:assumed-role/…` ARN.
 *
 * The simulator's validating entry point drops request context keys it does not know for the
 * action, and it does not recognise `kms:EncryptionContext:<key>` (it matches variable keys only
 * after a `/`), so cases carrying an encryption context run through its unvalidated entry point,
 * which evaluates the context as given; every other case fails if any context key was dropped.
 */
import { runSimulation, runUnsafeSimulation, type Simulation } from "@cloud-copilot/iam-simulate";

// The simulator's unvalidated entry point loads the resource policy without metadata and then
// reads its name, which throws; the validating entry point names it. Give it the same default.
jest.mock("@cloud-copilot/iam-policy", () => {
  const actual = jest.requireActual<typeof import("@cloud-copilot/iam-policy")>("@cloud-copilot/iam-policy");
  return { ...actual, loadPolicy: (doc: unknown, metadata?: { name?: string }) => actual.loadPolicy(doc as never, metadata ?? { name: "resource-policy" }) };
});
import type { PolicyDocument } from "../../../src/storage/aws";
import { AppStoreConnectApiKey } from "../../../src/storage/aws";
import { generateTestKey, TEAM } from "../../support/keys";
import { ACCOUNT, DEPLOYER_ROLE, REGION, resetStack, reveal, settle, startRun, valueOf } from "../harness";

const OTHER_ACCOUNT = "444455556666";
const READER_A = `arn:aws:iam::${ACCOUNT}:role/reader-a`;
const READER_B = `arn:aws:iam::${ACCOUNT}:role/apps/ci/reader-b`;
const EXTERNAL_READER = `arn:aws:iam::${OTHER_ACCOUNT}:role/partner-reader`;
const OTHER_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:someone-else-XyZ123`;
const REPLICA_REGION = "us-east-1";
/** A customer-managed key the caller passes as `kmsKeyArn`, shared with other secrets. */
const GIVEN_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000000-aaaa-bbbb-cccc-000000000000`;
const ALL: PolicyDocument = { Version: "2012-10-17", Statement: [{ Sid: "Admin", Effect: "Allow", Action: "*", Resource: "*" }] };
/** AWS's default key policy: IAM policies of the account decide, so the reader policy is what is tested. */
const DEFAULT_KEY_POLICY: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Sid: "EnableIamPolicies", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" }],
};

type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

interface Generated {
  secretArn: string;
  replicaArn: string;
  keyArn: string;
  secretPolicy: PolicyDocument;
  keyPolicy: PolicyDocument;
  reader: PolicyDocument;
  /** The second component's, which encrypts with {@link GIVEN_KEY}. */
  givenSecretArn: string;
  readerGiven: PolicyDocument;
}

let g: Generated;

beforeAll(async () => {
  resetStack();
  const run = await startRun();
  const c = new AppStoreConnectApiKey("sim", {
    keyId: TEAM.keyId,
    issuerId: TEAM.issuerId,
    privateKey: generateTestKey().pem,
    role: "APP_MANAGER",
    // The deployer reads too: being a reader must not take its administrator rights away.
    readers: [READER_A, READER_B, DEPLOYER_ROLE],
    externalReaders: [EXTERNAL_READER],
    replicaRegions: [REPLICA_REGION],
  });
  const given = new AppStoreConnectApiKey("given", {
    keyId: TEAM.keyId,
    issuerId: TEAM.issuerId,
    privateKey: generateTestKey().pem,
    kmsKeyArn: GIVEN_KEY,
    readers: [READER_A],
  });
  await settle([c.secretArn, c.kmsKeyArn, c.readerPolicyArn, given.secretArn, given.readerPolicyArn]);
  const policyOf = (type: string, name: string): PolicyDocument =>
    JSON.parse(reveal<string>(run.all(type).find((r) => r.name === name)?.inputs.policy)) as PolicyDocument;
  const secretArn = await valueOf(c.secretArn);
  g = {
    secretArn,
    replicaArn: secretArn.replace(`:${REGION}:`, `:${REPLICA_REGION}:`),
    keyArn: await valueOf(c.kmsKeyArn),
    secretPolicy: policyOf("aws:secretsmanager/secretPolicy:SecretPolicy", "sim-secret-policy"),
    keyPolicy: policyOf("aws:kms/key:Key", "sim-key"),
    reader: policyOf("aws:iam/policy:Policy", "sim-reader"),
    givenSecretArn: await valueOf(given.secretArn),
    readerGiven: policyOf("aws:iam/policy:Policy", "given-reader"),
  };
});

/** Role ARN behind a principal, as AWS sets `aws:PrincipalArn` (sessions map to their role). */
function principalArnOf(principal: string, rolePath = "/"): string {
  const session = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(principal);
  return session ? `arn:aws:iam::${session[1]}:role${rolePath}${session[2]}` : principal;
}

interface Case {
  name: string;
  principal: string;
  /** Path of the role behind an assumed-role session (the session ARN does not show it). */
  rolePath?: string;
  action: string;
  /** `replica`: the secret's replica; `givenKey`: {@link GIVEN_KEY}, under AWS's default key policy. */
  resource: "secret" | "replica" | "key" | "givenKey" | "otherSecret";
  /** Identity policies; "reader" / "readerGiven" are the generated reader policies (resolved once generated). */
  identity: (PolicyDocument | "reader" | "readerGiven")[];
  /** Extra request context; a function when it needs the generated ARNs. */
  context?: Record<string, string> | (() => Record<string, string>);
  expected: Decision;
}

async function decide(c: Case): Promise<Decision> {
  const principalArn = principalArnOf(c.principal, c.rolePath);
  const resource = { key: g.keyArn, givenKey: GIVEN_KEY, secret: g.secretArn, replica: g.replicaArn, otherSecret: OTHER_SECRET }[c.resource];
  // Secrets Manager copies a secret's resource policy to its replicas; the other secret has none.
  const resourcePolicy = { key: g.keyPolicy, givenKey: DEFAULT_KEY_POLICY, secret: g.secretPolicy, replica: g.secretPolicy, otherSecret: undefined }[c.resource];
  const simulation: Simulation = {
    request: {
      principal: c.principal,
      action: c.action,
      resource: { resource, accountId: ACCOUNT },
      contextVariables: {
        "aws:PrincipalArn": principalArn,
        "aws:PrincipalAccount": principalArn.split(":")[4] as string,
        ...(typeof c.context === "function" ? c.context() : c.context),
      },
    },
    identityPolicies: c.identity.map((policy, i) => ({
      name: `identity-${i}`,
      policy: policy === "reader" ? g.reader : policy === "readerGiven" ? g.readerGiven : policy,
    })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy,
  };
  if (Object.keys(simulation.request.contextVariables).some((k) => /^kms:EncryptionContext:/i.test(k))) {
    return runUnsafeSimulation(simulation, {}) as Decision;
  }
  const result = await runSimulation(simulation, {});
  if (result.resultType === "error") throw new Error(`${c.name}: simulation input rejected: ${result.errors.message}`);
  if (result.resultType === "single" && (result.result.ignoredContextKeys ?? []).length > 0) {
    throw new Error(`${c.name}: the simulator ignored context keys ${String(result.result.ignoredContextKeys)}`);
  }
  return result.overallResult as Decision;
}

/** The context of a KMS call Secrets Manager makes for a caller; `secretArn` is the encryption context it passes. */
const viaSecretsManager = (region = REGION, account = ACCOUNT, secretArn?: string): Record<string, string> => ({
  "kms:ViaService": `secretsmanager.${region}.amazonaws.com`,
  "kms:CallerAccount": account,
  ...(secretArn !== undefined ? { "kms:EncryptionContext:SecretARN": secretArn } : {}),
});
const session = (account: string, role: string): string => `arn:aws:sts::${account}:assumed-role/${role}/session-1`;
const reader = (): "reader"[] => ["reader"];

const cases: Case[] = [
  // Readers: read this secret, nothing else (writes are explicitly denied by the resource policy).
  { name: "reader session can GetSecretValue", principal: session(ACCOUNT, "reader-a"), action: "secretsmanager:GetSecretValue", resource: "secret", identity: reader(), expected: "Allowed" },
  { name: "reader with a role path can GetSecretValue", principal: session(ACCOUNT, "reader-b"), rolePath: "/apps/ci/", action: "secretsmanager:GetSecretValue", resource: "secret", identity: reader(), expected: "Allowed" },
  { name: "reader can DescribeSecret", principal: READER_A, action: "secretsmanager:DescribeSecret", resource: "secret", identity: reader(), expected: "Allowed" },
  { name: "reader cannot PutSecretValue", principal: READER_A, action: "secretsmanager:PutSecretValue", resource: "secret", identity: reader(), expected: "ExplicitlyDenied" },
  { name: "reader cannot DeleteSecret", principal: READER_A, action: "secretsmanager:DeleteSecret", resource: "secret", identity: reader(), expected: "ExplicitlyDenied" },
  { name: "reader cannot PutResourcePolicy", principal: READER_A, action: "secretsmanager:PutResourcePolicy", resource: "secret", identity: reader(), expected: "ExplicitlyDenied" },
  { name: "reader cannot read another secret", principal: READER_A, action: "secretsmanager:GetSecretValue", resource: "otherSecret", identity: reader(), expected: "ImplicitlyDenied" },
  { name: "unlisted role given the reader policy by mistake is still denied", principal: session(ACCOUNT, "intruder"), action: "secretsmanager:GetSecretValue", resource: "secret", identity: reader(), expected: "ExplicitlyDenied" },
  // Account admins not on the list are locked out by the resource policy.
  { name: "account admin with *:* not listed cannot GetSecretValue", principal: session(ACCOUNT, "AdminRole"), action: "secretsmanager:GetSecretValue", resource: "secret", identity: [ALL], expected: "ExplicitlyDenied" },
  { name: "account admin with *:* not listed cannot PutResourcePolicy", principal: session(ACCOUNT, "AdminRole"), action: "secretsmanager:PutResourcePolicy", resource: "secret", identity: [ALL], expected: "ExplicitlyDenied" },
  { name: "account admin with *:* can still read another secret (the deny is scoped)", principal: session(ACCOUNT, "AdminRole"), action: "secretsmanager:GetSecretValue", resource: "otherSecret", identity: [ALL], expected: "Allowed" },
  // The deployer (default administrator, resolved to its role) keeps control.
  { name: "deployer session can PutSecretValue", principal: session(ACCOUNT, "deployer"), rolePath: "/infra/", action: "secretsmanager:PutSecretValue", resource: "secret", identity: [ALL], expected: "Allowed" },
  { name: "deployer session can UpdateSecret", principal: session(ACCOUNT, "deployer"), rolePath: "/infra/", action: "secretsmanager:UpdateSecret", resource: "secret", identity: [ALL], expected: "Allowed" },
  { name: "deployer session can GetSecretValue", principal: session(ACCOUNT, "deployer"), rolePath: "/infra/", action: "secretsmanager:GetSecretValue", resource: "secret", identity: [ALL], expected: "Allowed" },
  { name: "a same-named role at another path is not the deployer", principal: session(ACCOUNT, "deployer"), rolePath: "/", action: "secretsmanager:PutSecretValue", resource: "secret", identity: [ALL], expected: "ExplicitlyDenied" },
  // The account root is the break-glass path. (The simulator has no notion of the root user's
  // implicit permissions, so an allow-all identity policy stands in for them.)
  { name: "account root can PutResourcePolicy", principal: `arn:aws:iam::${ACCOUNT}:root`, action: "secretsmanager:PutResourcePolicy", resource: "secret", identity: [ALL], expected: "Allowed" },
  { name: "account root can DeleteResourcePolicy", principal: `arn:aws:iam::${ACCOUNT}:root`, action: "secretsmanager:DeleteResourcePolicy", resource: "secret", identity: [ALL], expected: "Allowed" },
  // Cross-account.
  { name: "unlisted cross-account admin is denied", principal: session(OTHER_ACCOUNT, "Attacker"), action: "secretsmanager:GetSecretValue", resource: "secret", identity: [ALL], expected: "ExplicitlyDenied" },
  { name: "listed external reader can GetSecretValue", principal: session(OTHER_ACCOUNT, "partner-reader"), action: "secretsmanager:GetSecretValue", resource: "secret", identity: reader(), expected: "Allowed" },
  { name: "listed external reader cannot PutSecretValue even with *:*", principal: session(OTHER_ACCOUNT, "partner-reader"), action: "secretsmanager:PutSecretValue", resource: "secret", identity: [ALL], expected: "ImplicitlyDenied" },
  // KMS: decrypt only through Secrets Manager in this region.
  { name: "reader kms:Decrypt via Secrets Manager", principal: READER_A, action: "kms:Decrypt", resource: "key", identity: reader(), context: () => viaSecretsManager(REGION, ACCOUNT, g.secretArn), expected: "Allowed" },
  { name: "reader direct kms:Decrypt", principal: READER_A, action: "kms:Decrypt", resource: "key", identity: reader(), expected: "ImplicitlyDenied" },
  { name: "reader kms:Decrypt via Secrets Manager in another region", principal: READER_A, action: "kms:Decrypt", resource: "key", identity: reader(), context: viaSecretsManager("us-east-1"), expected: "ImplicitlyDenied" },
  { name: "reader kms:Decrypt via another service (SSM)", principal: READER_A, action: "kms:Decrypt", resource: "key", identity: reader(), context: { "kms:ViaService": `ssm.${REGION}.amazonaws.com`, "kms:CallerAccount": ACCOUNT }, expected: "ImplicitlyDenied" },
  { name: "reader cannot kms:Encrypt directly", principal: READER_A, action: "kms:Encrypt", resource: "key", identity: reader(), expected: "ImplicitlyDenied" },
  { name: "principal without any policy: direct kms:Decrypt", principal: session(ACCOUNT, "nobody"), action: "kms:Decrypt", resource: "key", identity: [], expected: "ImplicitlyDenied" },
  { name: "unlisted cross-account principal with *:* cannot decrypt even via Secrets Manager", principal: session(OTHER_ACCOUNT, "Attacker"), action: "kms:Decrypt", resource: "key", identity: [ALL], context: viaSecretsManager(REGION, OTHER_ACCOUNT), expected: "ImplicitlyDenied" },
  { name: "external reader kms:Decrypt via Secrets Manager", principal: session(OTHER_ACCOUNT, "partner-reader"), action: "kms:Decrypt", resource: "key", identity: reader(), context: () => viaSecretsManager(REGION, OTHER_ACCOUNT, g.secretArn), expected: "Allowed" },
  { name: "external reader direct kms:Decrypt", principal: session(OTHER_ACCOUNT, "partner-reader"), action: "kms:Decrypt", resource: "key", identity: reader(), expected: "ImplicitlyDenied" },
  { name: "account admin can still manage the key (root statement delegates to IAM)", principal: session(ACCOUNT, "AdminRole"), action: "kms:PutKeyPolicy", resource: "key", identity: [ALL], expected: "Allowed" },
  // A key passed as kmsKeyArn may encrypt other secrets too: the reader policy decrypts only for
  // this secret (Secrets Manager passes the secret ARN as the SecretARN encryption context).
  { name: "reader kms:Decrypt on a given key via Secrets Manager for this secret", principal: READER_A, action: "kms:Decrypt", resource: "givenKey", identity: ["readerGiven"], context: () => viaSecretsManager(REGION, ACCOUNT, g.givenSecretArn), expected: "Allowed" },
  { name: "reader kms:Decrypt on a given key via Secrets Manager for another secret", principal: READER_A, action: "kms:Decrypt", resource: "givenKey", identity: ["readerGiven"], context: viaSecretsManager(REGION, ACCOUNT, OTHER_SECRET), expected: "ImplicitlyDenied" },
  { name: "reader kms:Decrypt on a given key via Secrets Manager without encryption context", principal: READER_A, action: "kms:Decrypt", resource: "givenKey", identity: ["readerGiven"], context: viaSecretsManager(), expected: "ImplicitlyDenied" },
  { name: "reader direct kms:Decrypt on a given key with this secret's context", principal: READER_A, action: "kms:Decrypt", resource: "givenKey", identity: ["readerGiven"], context: () => ({ "kms:EncryptionContext:SecretARN": g.givenSecretArn }), expected: "ImplicitlyDenied" },
  // Readers are held to reading by the resource policy, whatever their identity policies allow.
  { name: "reader with *:* can GetSecretValue", principal: session(ACCOUNT, "reader-a"), action: "secretsmanager:GetSecretValue", resource: "secret", identity: [ALL], expected: "Allowed" },
  { name: "reader with *:* cannot PutSecretValue", principal: session(ACCOUNT, "reader-a"), action: "secretsmanager:PutSecretValue", resource: "secret", identity: [ALL], expected: "ExplicitlyDenied" },
  { name: "reader with *:* cannot DeleteSecret", principal: READER_A, action: "secretsmanager:DeleteSecret", resource: "secret", identity: [ALL], expected: "ExplicitlyDenied" },
  { name: "reader with *:* cannot PutResourcePolicy", principal: READER_A, action: "secretsmanager:PutResourcePolicy", resource: "secret", identity: [ALL], expected: "ExplicitlyDenied" },
  { name: "reader with a role path and *:* cannot UpdateSecret", principal: session(ACCOUNT, "reader-b"), rolePath: "/apps/ci/", action: "secretsmanager:UpdateSecret", resource: "secret", identity: [ALL], expected: "ExplicitlyDenied" },
  { name: "the deployer, also a reader, can still DeleteSecret", principal: session(ACCOUNT, "deployer"), rolePath: "/infra/", action: "secretsmanager:DeleteSecret", resource: "secret", identity: [ALL], expected: "Allowed" },
  // Replicas carry the same resource policy under another ARN: it must hold there too.
  { name: "account admin with *:* not listed cannot GetSecretValue on the replica", principal: session(ACCOUNT, "AdminRole"), action: "secretsmanager:GetSecretValue", resource: "replica", identity: [ALL], expected: "ExplicitlyDenied" },
  { name: "account admin with *:* not listed cannot PutSecretValue on the replica", principal: session(ACCOUNT, "AdminRole"), action: "secretsmanager:PutSecretValue", resource: "replica", identity: [ALL], expected: "ExplicitlyDenied" },
  { name: "reader can GetSecretValue on the replica", principal: session(ACCOUNT, "reader-a"), action: "secretsmanager:GetSecretValue", resource: "replica", identity: reader(), expected: "Allowed" },
  { name: "reader with *:* cannot PutSecretValue on the replica", principal: READER_A, action: "secretsmanager:PutSecretValue", resource: "replica", identity: [ALL], expected: "ExplicitlyDenied" },
  { name: "listed external reader can GetSecretValue on the replica", principal: session(OTHER_ACCOUNT, "partner-reader"), action: "secretsmanager:GetSecretValue", resource: "replica", identity: reader(), expected: "Allowed" },
  { name: "unlisted cross-account admin is denied on the replica", principal: session(OTHER_ACCOUNT, "Attacker"), action: "secretsmanager:GetSecretValue", resource: "replica", identity: [ALL], expected: "ExplicitlyDenied" },
];

describe("IAM decisions over the generated policies", () => {
  test("the generated policies are the ones under test", () => {
    expect(g.secretPolicy.Statement.map((s) => s.Sid)).toEqual(["DenyEveryoneNotListed", "DenyReadersAnythingButReading", "AllowExternalReaders"]);
    for (const s of g.secretPolicy.Statement) expect([s.Sid, s.Resource]).toEqual([s.Sid, [g.secretArn, g.replicaArn]]);
    expect(g.readerGiven.Statement[1]?.Resource).toBe(GIVEN_KEY);
    expect(g.keyPolicy.Statement.map((s) => s.Sid)).toEqual([
      "EnableIamPoliciesForThisAccount",
      "AllowUseOnlyViaSecretsManagerInThisAccount",
      "AllowExternalReadersDecryptViaSecretsManager",
    ]);
    expect(JSON.stringify(g.secretPolicy)).toContain(DEPLOYER_ROLE);
  });

  test(`${cases.length} cases, every decision exact`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(46);
    const decided: [string, Decision][] = [];
    for (const c of cases) decided.push([c.name, await decide(c)]);
    expect(decided).toEqual(cases.map((c) => [c.name, c.expected]));
    // Each decision kind is exercised.
    expect(new Set(cases.map((c) => c.expected))).toEqual(new Set(["Allowed", "ExplicitlyDenied", "ImplicitlyDenied"]));
  });
});

describe("shape rules", () => {
  const asList = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

  test("identity and secret resource policies never use a wildcard resource", () => {
    for (const doc of [g.reader, g.secretPolicy]) {
      for (const s of doc.Statement) {
        for (const r of asList(s.Resource)) {
          expect([s.Sid, r]).not.toEqual([s.Sid, "*"]);
          expect(r).not.toMatch(/\*/);
          expect([g.secretArn, g.replicaArn, g.keyArn]).toContain(r);
        }
      }
    }
  });

  test("the key policy's Resource is '*' (= this key) and a '*' principal always has a condition", () => {
    for (const s of g.keyPolicy.Statement) expect(s.Resource).toBe("*");
    for (const doc of [g.keyPolicy, g.secretPolicy]) {
      for (const s of doc.Statement) {
        const principals = s.Principal === "*" ? ["*"] : s.Principal ? asList(s.Principal.AWS) : [];
        if (principals.includes("*")) expect([s.Sid, s.Condition !== undefined]).toEqual([s.Sid, true]);
      }
    }
  });

  test("reader actions are exactly read and decrypt", () => {
    const actions = g.reader.Statement.flatMap((s) => asList(s.Action ?? [])).sort();
    expect(actions).toEqual(["kms:Decrypt", "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]);
  });
});
