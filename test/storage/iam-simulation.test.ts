/**
 * The generated policies (taken from a mocked program run, i.e. exactly what would be sent to
 * AWS) evaluated by @cloud-copilot/iam-simulate (AGPL, dev dependency only, never shipped).
 *
 * The simulator does not derive `aws:PrincipalArn` / `aws:PrincipalAccount` from the request
 * principal, so {@link request} sets them the way AWS does: for an assumed-role session,
 * `aws:PrincipalArn` is the role's ARN (with its path), not the `sts:…:assumed-role/…` ARN.
 */
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import type { PolicyDocument } from "../../src/storage";
import { AppStoreConnectApiKey } from "../../src/storage";
import { generateTestKey, TEAM } from "../support/keys";
import { ACCOUNT, DEPLOYER_ROLE, REGION, resetStack, reveal, settle, startRun, valueOf } from "./harness";

const OTHER_ACCOUNT = "444455556666";
const READER_A = `arn:aws:iam::${ACCOUNT}:role/reader-a`;
const READER_B = `arn:aws:iam::${ACCOUNT}:role/apps/ci/reader-b`;
const EXTERNAL_READER = `arn:aws:iam::${OTHER_ACCOUNT}:role/partner-reader`;
const OTHER_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:someone-else-XyZ123`;
const ALL: PolicyDocument = { Version: "2012-10-17", Statement: [{ Sid: "Admin", Effect: "Allow", Action: "*", Resource: "*" }] };

type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

interface Generated {
  secretArn: string;
  keyArn: string;
  secretPolicy: PolicyDocument;
  keyPolicy: PolicyDocument;
  reader: PolicyDocument;
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
    readers: [READER_A, READER_B],
    externalReaders: [EXTERNAL_READER],
  });
  await settle([c.secretArn, c.kmsKeyArn, c.readerPolicyArn]);
  const policyOf = (type: string): PolicyDocument => JSON.parse(reveal<string>(run.one(type).inputs.policy)) as PolicyDocument;
  g = {
    secretArn: await valueOf(c.secretArn),
    keyArn: await valueOf(c.kmsKeyArn),
    secretPolicy: policyOf("aws:secretsmanager/secretPolicy:SecretPolicy"),
    keyPolicy: policyOf("aws:kms/key:Key"),
    reader: policyOf("aws:iam/policy:Policy"),
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
  resource: "secret" | "key" | "otherSecret";
  /** Identity policies; "reader" is the generated reader policy (resolved once generated). */
  identity: (PolicyDocument | "reader")[];
  context?: Record<string, string>;
  expected: Decision;
}

async function decide(c: Case): Promise<Decision> {
  const principalArn = principalArnOf(c.principal, c.rolePath);
  const resource = c.resource === "key" ? g.keyArn : c.resource === "secret" ? g.secretArn : OTHER_SECRET;
  const simulation: Simulation = {
    request: {
      principal: c.principal,
      action: c.action,
      resource: { resource, accountId: ACCOUNT },
      contextVariables: { "aws:PrincipalArn": principalArn, "aws:PrincipalAccount": principalArn.split(":")[4] as string, ...c.context },
    },
    identityPolicies: c.identity.map((policy, i) => ({ name: `identity-${i}`, policy: policy === "reader" ? g.reader : policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    // A secret's resource policy applies to that secret only; the other secret has none.
    resourcePolicy: c.resource === "key" ? g.keyPolicy : c.resource === "secret" ? g.secretPolicy : undefined,
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === "error") throw new Error(`${c.name}: simulation input rejected: ${result.errors.message}`);
  return result.overallResult as Decision;
}

const viaSecretsManager = (region = REGION, account = ACCOUNT): Record<string, string> => ({
  "kms:ViaService": `secretsmanager.${region}.amazonaws.com`,
  "kms:CallerAccount": account,
});
const session = (account: string, role: string): string => `arn:aws:sts::${account}:assumed-role/${role}/session-1`;
const reader = (): "reader"[] => ["reader"];

const cases: Case[] = [
  // Readers: read this secret, nothing else.
  { name: "reader session can GetSecretValue", principal: session(ACCOUNT, "reader-a"), action: "secretsmanager:GetSecretValue", resource: "secret", identity: reader(), expected: "Allowed" },
  { name: "reader with a role path can GetSecretValue", principal: session(ACCOUNT, "reader-b"), rolePath: "/apps/ci/", action: "secretsmanager:GetSecretValue", resource: "secret", identity: reader(), expected: "Allowed" },
  { name: "reader can DescribeSecret", principal: READER_A, action: "secretsmanager:DescribeSecret", resource: "secret", identity: reader(), expected: "Allowed" },
  { name: "reader cannot PutSecretValue", principal: READER_A, action: "secretsmanager:PutSecretValue", resource: "secret", identity: reader(), expected: "ImplicitlyDenied" },
  { name: "reader cannot DeleteSecret", principal: READER_A, action: "secretsmanager:DeleteSecret", resource: "secret", identity: reader(), expected: "ImplicitlyDenied" },
  { name: "reader cannot PutResourcePolicy", principal: READER_A, action: "secretsmanager:PutResourcePolicy", resource: "secret", identity: reader(), expected: "ImplicitlyDenied" },
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
  { name: "reader kms:Decrypt via Secrets Manager", principal: READER_A, action: "kms:Decrypt", resource: "key", identity: reader(), context: viaSecretsManager(), expected: "Allowed" },
  { name: "reader direct kms:Decrypt", principal: READER_A, action: "kms:Decrypt", resource: "key", identity: reader(), expected: "ImplicitlyDenied" },
  { name: "reader kms:Decrypt via Secrets Manager in another region", principal: READER_A, action: "kms:Decrypt", resource: "key", identity: reader(), context: viaSecretsManager("us-east-1"), expected: "ImplicitlyDenied" },
  { name: "reader kms:Decrypt via another service (SSM)", principal: READER_A, action: "kms:Decrypt", resource: "key", identity: reader(), context: { "kms:ViaService": `ssm.${REGION}.amazonaws.com`, "kms:CallerAccount": ACCOUNT }, expected: "ImplicitlyDenied" },
  { name: "reader cannot kms:Encrypt directly", principal: READER_A, action: "kms:Encrypt", resource: "key", identity: reader(), expected: "ImplicitlyDenied" },
  { name: "principal without any policy: direct kms:Decrypt", principal: session(ACCOUNT, "nobody"), action: "kms:Decrypt", resource: "key", identity: [], expected: "ImplicitlyDenied" },
  { name: "unlisted cross-account principal with *:* cannot decrypt even via Secrets Manager", principal: session(OTHER_ACCOUNT, "Attacker"), action: "kms:Decrypt", resource: "key", identity: [ALL], context: viaSecretsManager(REGION, OTHER_ACCOUNT), expected: "ImplicitlyDenied" },
  { name: "external reader kms:Decrypt via Secrets Manager", principal: session(OTHER_ACCOUNT, "partner-reader"), action: "kms:Decrypt", resource: "key", identity: reader(), context: viaSecretsManager(REGION, OTHER_ACCOUNT), expected: "Allowed" },
  { name: "external reader direct kms:Decrypt", principal: session(OTHER_ACCOUNT, "partner-reader"), action: "kms:Decrypt", resource: "key", identity: reader(), expected: "ImplicitlyDenied" },
  { name: "account admin can still manage the key (root statement delegates to IAM)", principal: session(ACCOUNT, "AdminRole"), action: "kms:PutKeyPolicy", resource: "key", identity: [ALL], expected: "Allowed" },
];

describe("IAM decisions over the generated policies", () => {
  test("the generated policies are the ones under test", () => {
    expect(g.secretPolicy.Statement.map((s) => s.Sid)).toEqual(["DenyEveryoneNotListed", "AllowExternalReaders"]);
    expect(g.keyPolicy.Statement.map((s) => s.Sid)).toEqual([
      "EnableIamPoliciesForThisAccount",
      "AllowUseOnlyViaSecretsManagerInThisAccount",
      "AllowExternalReadersDecryptViaSecretsManager",
    ]);
    expect(JSON.stringify(g.secretPolicy)).toContain(DEPLOYER_ROLE);
  });

  test(`${cases.length} cases, every decision exact`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
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
          expect(r === g.secretArn || r === g.keyArn).toBe(true);
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
    const actions = g.reader.Statement.flatMap((s) => asList(s.Action)).sort();
    expect(actions).toEqual(["kms:Decrypt", "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]);
  });
});
