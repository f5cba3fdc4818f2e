/**
 * Every example type-checks against this repository's source (each example's tsconfig maps
 * `pulumi-asc-credential` to ../../src), so CI catches an example drifting from the API; and each
 * example's program runs under the component tier's mocks, so its shape (which keys, which roles,
 * which readers) is checked too.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { runNode } from "../support/child";
import { generateTestKey, TEAM } from "../support/keys";
import { ACCOUNT, resetStack, settle, startRun, type Run } from "./harness";

// The examples import the package by name, as a consumer would; here that name is the source.
jest.mock("pulumi-asc-credential", () => jest.requireActual("../../src/index"), { virtual: true });
jest.mock("pulumi-asc-credential/vault", () => jest.requireActual("../../src/storage/vault/index"), { virtual: true });

const ROOT = resolve(__dirname, "../..");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const EXAMPLES = ["basic", "ci-github-actions", "per-integration", "vault"];
/** The component source each example's import must resolve to. */
const COMPONENT_SOURCE: Record<string, string> = {
  basic: "src/storage/aws/app-store-connect-api-key.ts",
  "per-integration": "src/storage/aws/app-store-connect-api-key.ts",
  "ci-github-actions": "src/storage/aws/app-store-connect-api-key.ts",
  vault: "src/storage/vault/app-store-connect-api-key.ts",
};

async function tsc(project: string): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await runNode([TSC, "--noEmit", "--listFiles", "-p", project], { cwd: ROOT, timeoutMs: 170_000 });
  return { code, output: stdout + stderr };
}

test("the examples listed here are all the examples there are", () => {
  expect(readdirSync(join(ROOT, "examples")).sort()).toEqual([...EXAMPLES].sort());
});

describe.each(EXAMPLES)("examples/%s", (name) => {
  const dir = join(ROOT, "examples", name);

  test("is a Pulumi nodejs project whose key comes from secret config", () => {
    expect(readFileSync(join(dir, "Pulumi.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies["pulumi-asc-credential"]).toBe("file:../..");
    const source = readFileSync(join(dir, "index.ts"), "utf8");
    expect(source).toMatch(/requireSecret\(/);
    // No key file read by the program and no key inline (comments may mention the .p8).
    expect(source).not.toMatch(/readFileSync|["'][^"'\n]*\.p8["']|BEGIN PRIVATE KEY/);
  });

  test("type-checks with tsc --noEmit against the repository source", async () => {
    if (!existsSync(TSC)) throw new Error(`TypeScript not installed at ${TSC}: run npm ci in the repository root.`);
    const { code, output } = await tsc(dir);
    expect({ code, errors: output.split("\n").filter((l) => /error TS\d+/.test(l)) }).toEqual({ code: 0, errors: [] });
    // Proves the import resolved to the component source, not to an untyped stand-in.
    expect(output).toContain(join(ROOT, COMPONENT_SOURCE[name]!));
  }, 180_000);
});

describe("the example programs, run under mocks", () => {
  const T = {
    component: "asc-credential:index:AppStoreConnectApiKey",
    secret: "aws:secretsmanager/secret:Secret",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    role: "aws:iam/role:Role",
    command: "command:local:Command",
    oidcProvider: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  };
  const PROJECT = "asc-test";

  /** Runs an example's program with `config` (unprefixed keys) and waits for all it registered. */
  async function runExample(name: string, config: Record<string, string>): Promise<Run> {
    resetStack();
    const run = await startRun();
    pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`${PROJECT}:${k}`, v])));
    // Loaded once per test file (module cache), with the same @pulumi/pulumi as the mocks.
    const exported = require(join(ROOT, "examples", name, "index.ts")) as Record<string, unknown>;
    const outputs: pulumi.Output<unknown>[] = [];
    const collect = (v: unknown): void => {
      if (pulumi.Output.isInstance(v)) outputs.push(v);
      else if (v && typeof v === "object") Object.values(v).forEach(collect);
    };
    collect(exported);
    expect(outputs.length).toBeGreaterThan(0);
    await settle(outputs);
    return run;
  }
  const tagsOf = (run: Run, secretNamePart: string): Record<string, string> =>
    run.all(T.secret).find((s) => JSON.stringify(s.inputs).includes(secretNamePart))?.inputs.tags as Record<string, string>;

  test("basic: one APP_MANAGER key, read by the two workload roles it creates", async () => {
    const run = await runExample("basic", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: generateTestKey().pem });
    expect(run.all(T.component).map((c) => c.name)).toEqual(["app-store-connect"]);
    expect(run.all(T.role).map((r) => r.name).sort()).toEqual(["metadata-sync-task", "release-notes-lambda"]);
    expect(run.all(T.attachment).map((a) => a.inputs.role).sort()).toEqual(["metadata-sync-task", "release-notes-lambda"]);
    expect(run.all(T.secret)).toHaveLength(1);
    expect(tagsOf(run, "app-store-connect/")["asc:roles"]).toBe("APP_MANAGER");
    expect(run.all(T.command)).toHaveLength(0);
  }, 60_000);

  test("ci-github-actions: GitHub's OIDC provider, a reader role only main of one repository can assume, and the key it reads", async () => {
    const run = await runExample("ci-github-actions", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: generateTestKey().pem, githubRepository: "octo-org/ios-app" });
    const provider = run.one(T.oidcProvider);
    expect(provider.inputs).toMatchObject({ url: "https://token.actions.githubusercontent.com", clientIdLists: ["sts.amazonaws.com"] });
    expect(run.all(T.role).map((r) => r.name)).toEqual(["github-actions-asc-reader"]);
    const trust = JSON.parse(run.one(T.role).inputs.assumeRolePolicy as string) as { Statement: unknown[] };
    // Exactly one way in: a GitHub OIDC token whose sub names this repository's main branch.
    expect(trust.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: { StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": "repo:octo-org/ios-app:ref:refs/heads/main" } },
      },
    ]);
    expect(run.all(T.component).map((c) => c.name)).toEqual(["app-store-connect-ci"]);
    expect(run.all(T.attachment).map((a) => a.inputs.role)).toEqual(["github-actions-asc-reader"]);
    expect(run.all(T.secret).map((s) => s.inputs.name)).toEqual(["app-store-connect/dev/github-actions"]);
    expect(tagsOf(run, "app-store-connect/dev/github-actions")).toMatchObject({ "asc:roles": "APP_MANAGER", consumer: "github-actions", repository: "octo-org/ios-app" });
  }, 60_000);

  test("per-integration: three keys (CI, pricing as APP_MANAGER, analytics as SALES+FINANCE), each with its readers", async () => {
    const role = (n: string): string => `arn:aws:iam::${ACCOUNT}:role/${n}`;
    const run = await runExample("per-integration", {
      issuerId: TEAM.issuerId,
      ciRunnerRoleArn: role("ci-runner"),
      pricingReaders: JSON.stringify([role("pricing-job")]),
      analyticsReaders: JSON.stringify([role("reports-a"), role("reports-b")]),
      ciKeyId: "CIKEY00001",
      ciPrivateKey: generateTestKey().pem,
      pricingKeyId: "PRICING001",
      pricingPrivateKey: generateTestKey().pem,
      analyticsKeyId: "ANALYTICS1",
      analyticsPrivateKey: generateTestKey().pem,
    });
    expect(run.all(T.component).map((c) => c.name)).toEqual(["asc-ci", "asc-pricing", "asc-analytics"]);
    expect(run.all(T.secret).map((s) => s.inputs.name).sort()).toEqual(["app-store-connect/dev/analytics", "app-store-connect/dev/ci", "app-store-connect/dev/pricing"]);
    const shape = ["ci", "pricing", "analytics"].map((i) => {
      const tags = tagsOf(run, `app-store-connect/dev/${i}`);
      const attached = run.all(T.attachment).filter((a) => a.name.startsWith(`asc-${i}-`)).map((a) => a.inputs.role).sort();
      return [i, tags["asc:roles"], tags["asc:key-id"], tags.integration, attached];
    });
    expect(shape).toEqual([
      ["ci", "DEVELOPER", "CIKEY00001", "ci", ["ci-runner"]],
      ["pricing", "APP_MANAGER", "PRICING001", "pricing", ["pricing-job"]],
      ["analytics", "SALES FINANCE", "ANALYTICS1", "analytics", ["reports-a", "reports-b"]],
    ]);
    // Only the CI key has an onRotate hook.
    expect(run.all(T.command).map((c) => c.name)).toEqual(["asc-ci-on-rotate"]);
  }, 60_000);

  test("vault: one APP_MANAGER key in KV v2, its reader policy, an AppRole role and a GitHub Actions JWT role bound to it alone", async () => {
    const run = await runExample("vault", { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: generateTestKey().pem, githubRepository: "acme/ios-app" });
    expect(run.all("asc-credential:vault:AppStoreConnectApiKey").map((c) => c.name)).toEqual(["app-store-connect"]);
    const secret = run.one("vault:kv/secretV2:SecretV2").inputs;
    expect([secret.mount, secret.name]).toEqual(["secret", "app-store-connect/app-store-connect"]);
    expect((secret.customMetadata as { data: Record<string, string> }).data["asc:roles"]).toBe("APP_MANAGER");
    const policy = run.one("vault:index/policy:Policy").inputs;
    expect(policy.policy).toContain('path "secret/data/app-store-connect/app-store-connect" {');
    const appRole = run.one("vault:appRole/authBackendRole:AuthBackendRole").inputs;
    expect([appRole.tokenPolicies, appRole.secretIdTtl]).toEqual([[policy.name], 2_592_000]);
    const jwt = run.one("vault:jwt/authBackendRole:AuthBackendRole").inputs;
    expect([jwt.tokenPolicies, jwt.boundAudiences, jwt.boundClaims, jwt.userClaim]).toEqual([[policy.name], ["https://github.com/acme"], { repository: "acme/ios-app", ref: "refs/heads/main" }, "repository"]);
    const hook = run.one(T.command).inputs.environment as Record<string, string>;
    expect([hook.ASC_VAULT_MOUNT, hook.ASC_VAULT_PATH]).toEqual(["secret", "app-store-connect/app-store-connect"]);
    expect(run.all(T.secret)).toHaveLength(0);
  }, 60_000);
});
