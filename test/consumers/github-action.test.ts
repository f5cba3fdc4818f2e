/**
 * The repository's GitHub Actions composite action (action.yml), run the way the runner runs it:
 * each step's `env:` evaluated (its `${{ inputs.* }}` expressions replaced by the inputs, defaults
 * applied), its `run:` script executed by `bash --noprofile --norc -eo pipefail`, with GITHUB_ENV
 * and RUNNER_TEMP pointing at temporary paths. Composite actions get no INPUT_* variables (only
 * JavaScript and Docker actions do), so none are set: a script that relied on them would pass here
 * and break on a real runner. The working directory is the packed consumer project, which has the
 * package installed, so `npx --package=pulumi-asc-credential` finds it there; the npm registry is
 * pointed at a closed port, so nothing is fetched.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { run } from "../support/child";
import { REPO_ROOT, packedConsumer } from "../support/consumer-project";
import { generateTestKey, TEAM, type TestKey } from "../support/keys";
import { cleanUp, expectClean, expectedVariables, expectKeyFile, listTree, parseAssignments, parseExportLines, startAwsSide, storedJson, tempDir, type AwsSide } from "./helpers";

jest.setTimeout(120_000);

interface ActionInput {
  description?: string;
  required?: boolean;
  default?: string;
}
interface ActionStep {
  name?: string;
  shell?: string;
  env?: Record<string, string>;
  run?: string;
  uses?: string;
  with?: Record<string, string>;
}
interface Action {
  name: string;
  description: string;
  inputs: Record<string, ActionInput>;
  runs: { using: string; steps: ActionStep[] };
}

const action = parse(readFileSync(join(REPO_ROOT, "action.yml"), "utf8")) as Action;

let aws: AwsSide;
let consumerDir: string;
beforeAll(async () => {
  consumerDir = packedConsumer("runtime").dir;
  aws = await startAwsSide();
}, 120_000);
afterAll(async () => {
  cleanUp();
  await aws?.stop();
});

describe("action.yml", () => {
  test("is a composite action with inputs secret-id (required), format (default github) and version-stage (optional)", () => {
    expect(action.runs.using).toBe("composite");
    expect(Object.keys(action.inputs).sort()).toEqual(["format", "secret-id", "version-stage"]);
    expect(action.inputs["secret-id"]!.required).toBe(true);
    expect(action.inputs.format).toMatchObject({ default: "github" });
    expect(action.inputs["version-stage"]!.required ?? false).toBe(false);
    for (const input of Object.values(action.inputs)) expect(typeof input.description).toBe("string");
  });

  test("no expression is spliced into a script: inputs reach it through env only", () => {
    for (const step of action.runs.steps) {
      expect(step.uses).toBeUndefined();
      expect(step.shell).toBe("bash");
      expect(step.run).not.toContain("${{");
      for (const value of Object.values(step.env ?? {})) expect(value).toMatch(/^\$\{\{ inputs\.[a-z-]+ \}\}$/);
    }
  });
});

/**
 * The runner's expression evaluation, for the one kind of expression this test understands:
 * `${{ inputs.NAME }}` becomes the input's value (or its default) wherever it appears, in `env:`
 * and in `run:` alike, as on a real runner. The second is what makes splicing inputs into a script
 * an injection; the static test above forbids it, this makes a regression show as one.
 */
function evaluate(text: string, inputs: Record<string, string>): string {
  return text.replace(/\$\{\{(.*?)\}\}/g, (whole, inner: string) => {
    const match = /^\s*inputs\.([\w-]+)\s*$/.exec(inner);
    if (!match) throw new Error(`the test runner evaluates only \${{ inputs.NAME }}, not ${whole}`);
    const input = action.inputs[match[1]!];
    if (!input) throw new Error(`no input ${match[1]}`);
    return inputs[match[1]!] ?? input.default ?? "";
  });
}

function stepEnv(step: ActionStep, inputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(step.env ?? {}).map(([name, expression]) => [name, evaluate(expression, inputs)]));
}

interface Job {
  githubEnv: string;
  runnerTemp: string;
  home: string;
  /** GITHUB_ACTION_PATH: the runner's checkout of the action at the ref the workflow names. */
  actionPath: string;
  /** Created by a step only if an input got executed. */
  marker: string;
}

function newJob(): Job {
  const root = tempDir("job");
  const job = { githubEnv: join(root, "_runner_file_commands", "set_env_1"), runnerTemp: join(root, "_temp"), home: join(root, "home"), actionPath: REPO_ROOT, marker: join(root, "PWNED") };
  for (const dir of [dirname(job.githubEnv), job.runnerTemp, job.home]) mkdirSync(dir, { recursive: true });
  writeFileSync(job.githubEnv, "");
  return job;
}

/** Runs every step of the action as the runner would; stops at the first failing step. */
async function runAction(inputs: Record<string, string>, job: Job, keys: TestKey[]): Promise<{ code: number; stdout: string; stderr: string }> {
  for (const name of Object.keys(action.inputs).filter((n) => action.inputs[n]!.required)) {
    if (!(name in inputs)) throw new Error(`input ${name} is required`);
  }
  let stdout = "";
  let stderr = "";
  for (const [index, step] of action.runs.steps.entries()) {
    const script = join(job.runnerTemp, `step-${index}.sh`);
    writeFileSync(script, evaluate(step.run ?? "", inputs));
    const result = await run("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], {
      cwd: consumerDir,
      timeoutMs: 90_000,
      env: {
        // The Node under test first, as actions/setup-node would leave it.
        PATH: `${dirname(process.execPath)}:${process.env.PATH ?? "/usr/bin:/bin"}`,
        HOME: job.home,
        CI: "true",
        GITHUB_ACTIONS: "true",
        GITHUB_WORKSPACE: consumerDir,
        GITHUB_ENV: job.githubEnv,
        RUNNER_TEMP: job.runnerTemp,
        GITHUB_ACTION_PATH: job.actionPath,
        ASC_MARKER: job.marker,
        // What aws-actions/configure-aws-credentials leaves behind, aimed at moto.
        ...aws.env,
        // npx must resolve the installed package, never the registry.
        npm_config_registry: "http://127.0.0.1:9/",
        npm_config_offline: "true",
        npm_config_update_notifier: "false",
        npm_config_cache: join(job.home, ".npm"),
        ...stepEnv(step, inputs),
      },
    });
    stdout += result.stdout;
    stderr += result.stderr;
    if (result.code !== 0) {
      const failed = { code: result.code, stdout, stderr };
      expectClean(failed, keys);
      return failed;
    }
  }
  const done = { code: 0, stdout, stderr };
  expectClean(done, keys);
  return done;
}

function keyDirectoryOf(job: Job): string {
  return join(job.runnerTemp, "asc-credential");
}

describe("running the action", () => {
  test("default format: the next steps' variables land in GITHUB_ENV, the key under RUNNER_TEMP/asc-credential", async () => {
    const key = generateTestKey();
    const secretId = await aws.createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId));
    const job = newJob();
    const result = await runAction({ "secret-id": secretId }, job, [key]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    const keyPath = join(keyDirectoryOf(job), `AuthKey_${TEAM.keyId}.p8`);
    expect(Object.fromEntries(parseAssignments(readFileSync(job.githubEnv, "utf8"), false))).toEqual(expectedVariables(keyPath, keyDirectoryOf(job), TEAM.keyId, TEAM.issuerId));
    expectKeyFile(keyPath, key);
    expect(listTree(keyDirectoryOf(job))).toEqual([`AuthKey_${TEAM.keyId}.p8`]);
    expect(result.stdout).toContain(`Key file: ${keyPath}`);
  });

  test("runs the package version of the action's own checkout, not whatever npm has as latest: a pinned action pins the code that handles the key", async () => {
    const key = generateTestKey();
    const secretId = await aws.createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId));
    const job = newJob();
    // The action at another ref: its package.json names a version that is not the installed one.
    job.actionPath = tempDir("action");
    writeFileSync(join(job.actionPath, "package.json"), JSON.stringify({ name: "pulumi-asc-credential", version: "0.0.1-not-installed" }));
    const result = await runAction({ "secret-id": secretId }, job, [key]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain("Running pulumi-asc-credential@0.0.1-not-installed");
    expect(result.stderr).toMatch(/npm error/);
    expect(readFileSync(job.githubEnv, "utf8")).toBe("");
    expect(existsSync(keyDirectoryOf(job))).toBe(false);
  });

  test("without GITHUB_ACTION_PATH (not run by a runner as an action) the step fails saying so, before anything runs", async () => {
    const job = newJob();
    job.actionPath = "";
    const result = await runAction({ "secret-id": "app-store-connect/ci" }, job, []);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^::error title=asc-credential::.*GITHUB_ACTION_PATH/m);
    expect(readFileSync(job.githubEnv, "utf8")).toBe("");
  });

  test("version-stage AWSPREVIOUS: the key before the rotation", async () => {
    const oldKey = generateTestKey();
    const newKey = generateTestKey();
    const secretId = await aws.createSecret(storedJson(oldKey, TEAM.keyId, TEAM.issuerId));
    await aws.rotate(secretId, storedJson(newKey, "9QW8ER7TY6", TEAM.issuerId));
    const job = newJob();
    const result = await runAction({ "secret-id": secretId, "version-stage": "AWSPREVIOUS" }, job, [oldKey, newKey]);
    expect(result.code).toBe(0);
    expectKeyFile(join(keyDirectoryOf(job), `AuthKey_${TEAM.keyId}.p8`), oldKey);
    expect(parseAssignments(readFileSync(job.githubEnv, "utf8"), false).get("APP_STORE_CONNECT_KEY_ID")).toBe(TEAM.keyId);
  });

  test("format env: export lines on the step's output, nothing in GITHUB_ENV", async () => {
    const key = generateTestKey();
    const secretId = await aws.createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId));
    const job = newJob();
    const result = await runAction({ "secret-id": secretId, format: "env" }, job, [key]);
    expect(result.code).toBe(0);
    const keyDirectory = join(job.home, ".appstoreconnect", "private_keys");
    // The step's log: the version it runs, then the CLI's export lines.
    const [running, ...exported] = result.stdout.split("\n");
    expect(running).toMatch(/^Running pulumi-asc-credential@\d+\.\d+\.\d+/);
    expect(Object.fromEntries(parseExportLines(exported.join("\n")))).toEqual(expectedVariables(join(keyDirectory, `AuthKey_${TEAM.keyId}.p8`), keyDirectory, TEAM.keyId, TEAM.issuerId));
    expect(readFileSync(job.githubEnv, "utf8")).toBe("");
  });

  test("a secret the job cannot find fails the step with the CLI's message; nothing written", async () => {
    const job = newJob();
    const result = await runAction({ "secret-id": "app-store-connect/missing" }, job, []);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("asc-credential: SECRET_NOT_FOUND: Secret 'app-store-connect/missing'");
    expect(readFileSync(job.githubEnv, "utf8")).toBe("");
    expect(listTree(job.runnerTemp).filter((name) => !name.startsWith("step-"))).toEqual([]);
  });

  test.each([
    ["secret-id", 'x"; touch "$ASC_MARKER"; echo "', /^asc-credential: SECRET_NOT_FOUND: Secret 'x"; touch "\$ASC_MARKER"; echo "'/m],
    ["secret-id", "$(touch $ASC_MARKER)", /^asc-credential: SECRET_NOT_FOUND: Secret '\$\(touch \$ASC_MARKER\)'/m],
    ["secret-id", "`touch $ASC_MARKER`", /^asc-credential: SECRET_NOT_FOUND: Secret '`touch \$ASC_MARKER`'/m],
    ["secret-id", "x\ntouch $ASC_MARKER", /^asc-credential: SECRET_/m],
    // Still the secret's name, not --key: the file is never read.
    ["secret-id", "--key=/etc/passwd", /^asc-credential: SECRET_NOT_FOUND: Secret '--key=\/etc\/passwd'/m],
    // The runner does not enforce `required: true`: an empty secret-id must still fail clearly.
    ["secret-id", "", /^asc-credential: OPTION_INVALID: .*secretId/m],
    ["version-stage", "AWSCURRENT; touch $ASC_MARKER", /^asc-credential: OPTION_INVALID: .*versionStage/m],
    ["version-stage", "--secret-id=other", /^asc-credential: OPTION_INVALID: .*versionStage/m],
    ["format", "github --out=/tmp", /^asc-credential: --format must be one of/m],
    ["format", "$(touch $ASC_MARKER)", /^asc-credential: --format must be one of/m],
  ])("a hostile %s input (%j) is a value, never code or another option: the step fails, nothing runs, nothing is written", async (input, value, says) => {
    const key = generateTestKey();
    const secretId = await aws.createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId));
    const job = newJob();
    const result = await runAction({ "secret-id": secretId, [input]: value }, job, [key]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(says);
    expect(existsSync(job.marker)).toBe(false);
    expect(readFileSync(job.githubEnv, "utf8")).toBe("");
    expect(existsSync(keyDirectoryOf(job))).toBe(false);
  });
});

/**
 * examples/ci-github-actions/.github/workflows/release.yml: its shape (OIDC, then this action),
 * and its fastlane and xcodebuild steps' own shell, run up to the tool itself in the environment
 * the action leaves behind (fastlane and Xcode are not here; what they are handed is checked).
 */
describe("the example release workflow", () => {
  interface Workflow {
    permissions: Record<string, string>;
    jobs: Record<string, { steps: ActionStep[] }>;
  }
  const workflow = parse(readFileSync(join(REPO_ROOT, "examples", "ci-github-actions", ".github", "workflows", "release.yml"), "utf8")) as Workflow;
  const steps = Object.values(workflow.jobs)[0]!.steps;
  const stepNamed = (prefix: string): ActionStep => {
    const found = steps.find((s) => s.name?.startsWith(prefix));
    if (!found?.run) throw new Error(`release.yml has no run step named ${prefix}…`);
    return found;
  };

  test("asks for an OIDC token, assumes the reader role, then runs this repository's action with the secret", () => {
    expect(workflow.permissions["id-token"]).toBe("write");
    const uses = steps.map((s) => s.uses?.replace(/@.*/, "")).filter(Boolean);
    expect(uses.indexOf("aws-actions/configure-aws-credentials")).toBeLessThan(uses.indexOf("your-org/pulumi-asc-credential"));
    const aws = steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))!;
    expect(aws.with?.["role-to-assume"]).toBe("${{ vars.ASC_READER_ROLE_ARN }}");
    const ours = steps.find((s) => s.uses?.startsWith("your-org/pulumi-asc-credential@"))!;
    expect(Object.keys(ours.with ?? {})).toEqual(["secret-id"]);
    for (const step of steps) expect(step.run ?? "").not.toMatch(/\$\{\{\s*(inputs|github\.event)\./);
  });

  test("every step that runs the CLI pins this package's version", () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    const calls = steps.flatMap((s) => (s.run ?? "").match(/--package=pulumi-asc-credential\S*/g) ?? []);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) expect(call).toBe(`--package=pulumi-asc-credential@${version}`);
  });

  /** Runs `script` in the consumer project with the environment the action's GITHUB_ENV holds. */
  async function afterTheAction(script: string, job: Job, key: TestKey): Promise<{ code: number; stdout: string; stderr: string }> {
    const vars = Object.fromEntries(parseAssignments(readFileSync(job.githubEnv, "utf8"), false));
    const result = await run("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
      cwd: consumerDir,
      timeoutMs: 90_000,
      // No AWS variables: these steps work from the key already in the job.
      env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: job.home, RUNNER_TEMP: job.runnerTemp, npm_config_registry: "http://127.0.0.1:9/", npm_config_offline: "true", npm_config_update_notifier: "false", npm_config_cache: join(job.home, ".npm"), ...vars },
    });
    expectClean(result, [key]);
    return result;
  }

  /** The step's script up to (not including) the line that starts `tool`, then `tail`. */
  function upTo(step: ActionStep, tool: RegExp, tail: string): string {
    const lines = step.run!.split("\n");
    const at = lines.findIndex((line) => tool.test(line.trim()));
    if (at === -1) throw new Error(`step ${step.name} has no line matching ${tool}`);
    return [...lines.slice(0, at), tail].join("\n");
  }

  test("fastlane's step hands the lane an api_key.json for the exported key; xcodebuild's hands it the -authenticationKey* arguments", async () => {
    const key = generateTestKey();
    const secretId = await aws.createSecret(storedJson(key, TEAM.keyId, TEAM.issuerId));
    const job = newJob();
    expect((await runAction({ "secret-id": secretId }, job, [key])).code).toBe(0);

    const fastlane = await afterTheAction(upTo(stepNamed("TestFlight with fastlane"), /^bundle exec fastlane/, 'printf "%s" "$ASC_API_KEY_JSON"'), job, key);
    expect({ code: fastlane.code, stderr: fastlane.stderr }).toEqual({ code: 0, stderr: "" });
    const json = JSON.parse(readFileSync(fastlane.stdout, "utf8")) as Record<string, unknown>;
    expect(json).toMatchObject({ key_id: TEAM.keyId, issuer_id: TEAM.issuerId, in_house: false });
    expect(fastlane.stdout).toBe(join(job.runnerTemp, "asc-fastlane", "api_key.json"));

    const xcode = await afterTheAction(upTo(stepNamed("Upload with xcodebuild"), /^xcodebuild /, 'printf "%s\\0" "${auth[@]}"'), job, key);
    expect({ code: xcode.code, stderr: xcode.stderr }).toEqual({ code: 0, stderr: "" });
    const keyPath = join(job.runnerTemp, "asc-xcode", "private_keys", `AuthKey_${TEAM.keyId}.p8`);
    expect(xcode.stdout.split("\0").slice(0, -1)).toEqual(["-authenticationKeyPath", keyPath, "-authenticationKeyID", TEAM.keyId, "-authenticationKeyIssuerID", TEAM.issuerId]);
    expectKeyFile(keyPath, key);
  });
});
