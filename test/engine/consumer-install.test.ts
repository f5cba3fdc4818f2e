/**
 * Engine tier: the package as users get it. The packed tarball is installed into a consumer
 * project (test/support/consumer-project.ts); a script INSIDE that project runs an inline-program
 * up / preview / destroy, so `require("pulumi-asc-credential")` — in the program and in the
 * dynamic-provider plugin — resolves to the installed tarball, never to this repository.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join, sep } from "node:path";
import { packedConsumer } from "../support/consumer-project";
import { createSandbox, type EngineSandbox, filesUnder, JWT_PATTERN, REPO_ROOT, requirePulumi, stateResources, type StateResource } from "../support/engine-harness";
import { containsKeyMaterial, generateTestKey, TEAM } from "../support/keys";
import { runSync } from "../support/child";

jest.setTimeout(180_000);

const PROJECT = "asc-credential-consumer";
const PROBE_TYPE = "pulumi-nodejs:dynamic/asc-credential:ApiKeyProbe";

// Runs inside the consumer project; prints one JSON line. Reads the key from a file so the key
// never appears on a command line.
const SCRIPT = `"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const { LocalWorkspace } = require("@pulumi/pulumi/automation");
const { ApiKeyProbe } = require("pulumi-asc-credential");

async function main() {
  const privateKey = readFileSync(join(__dirname, "AuthKey.p8"), "utf8");
  const program = async () => {
    const probe = new ApiKeyProbe("probe", { keyId: ${JSON.stringify(TEAM.keyId)}, issuerId: ${JSON.stringify(TEAM.issuerId)}, privateKey });
    return { keyId: probe.keyId, fingerprint: probe.fingerprint };
  };
  // No projectSettings: the workspace reads this directory's own Pulumi.yaml.
  const stack = await LocalWorkspace.createOrSelectStack({ stackName: "consumer", projectName: ${JSON.stringify(PROJECT)}, program }, { workDir: __dirname });
  const chunks = [];
  const io = { onOutput: (t) => chunks.push(t), onError: (t) => chunks.push(t) };
  const up = await stack.up(io);
  const preview = await stack.preview(io);
  const destroy = await stack.destroy(io);
  // The stack is kept (its history is inspected); the backend is a temp dir.
  return {
    resolvedMain: require.resolve("pulumi-asc-credential"),
    resolvedRuntime: require.resolve("pulumi-asc-credential/runtime"),
    resolvedProbeProvider: require.resolve("pulumi-asc-credential/probe-provider"),
    up: { result: up.summary.result, changes: up.summary.resourceChanges, keyId: up.outputs.keyId.value, fingerprint: up.outputs.fingerprint.value },
    preview: preview.changeSummary,
    destroy: destroy.summary.resourceChanges,
    output: chunks.join(""),
  };
}
main().then((r) => console.log(JSON.stringify(r)), (e) => { console.error(String((e && e.message) || e)); process.exit(1); });
`;

interface ScriptResult {
  resolvedMain: string;
  resolvedRuntime: string;
  resolvedProbeProvider: string;
  up: { result: string; changes: Record<string, number>; keyId: string; fingerprint: string };
  preview: Record<string, number>;
  destroy: Record<string, number>;
  output: string;
}

let sb: EngineSandbox;
let consumerDir: string;
let projectDir: string;

beforeAll(async () => {
  requirePulumi();
  sb = createSandbox("asc-engine-consumer-");
  // npm test has just built dist/; rebuilding here would delete dist/ under the other engine
  // tests running in parallel. A first install needs the npm registry and takes minutes.
  ({ dir: consumerDir } = packedConsumer("pulumi"));
  // A project of its own inside the consumer (the consumer dir is shared and cached), resolving
  // packages from the consumer's node_modules only.
  projectDir = join(consumerDir, `engine-project-${process.pid}`);
  rmSync(projectDir, { recursive: true, force: true });
  mkdirSync(projectDir);
}, 900_000);

afterAll(() => {
  if (projectDir) rmSync(projectDir, { recursive: true, force: true });
  sb?.cleanup();
});

test("packed tarball in a consumer project: up, preview (no-op) and destroy run with the provider loaded from the installed package", () => {
  const key = generateTestKey();
  writeFileSync(join(projectDir, "Pulumi.yaml"), `name: ${PROJECT}\nruntime: nodejs\ndescription: consumer of the packed pulumi-asc-credential tarball\n`);
  writeFileSync(join(projectDir, "AuthKey.p8"), key.pem, { mode: 0o600 });
  writeFileSync(join(projectDir, "run.cjs"), SCRIPT);

  const run = runSync(process.execPath, ["run.cjs"], { cwd: projectDir, env: { ...process.env, ...sb.envVars, NODE_PATH: "" }, timeoutMs: 170_000 });
  const printed = `${run.stdout}\n${run.stderr}`;
  expect(containsKeyMaterial(printed, key)).toBe(false);
  if (run.code !== 0) throw new Error(`the consumer script failed (exit ${run.code}): ${printed}`);
  const result = JSON.parse(run.stdout.trim().split("\n").pop()!) as ScriptResult;

  // Resolved from the installed tarball (a real copy under the consumer's node_modules).
  const installed = join(consumerDir, "node_modules", "pulumi-asc-credential") + sep;
  for (const resolved of [result.resolvedMain, result.resolvedRuntime, result.resolvedProbeProvider]) {
    expect(resolved.startsWith(installed)).toBe(true);
    expect(realpathSync(resolved).startsWith(REPO_ROOT + sep)).toBe(false);
  }
  expect(existsSync(join(installed, "src"))).toBe(false);

  expect(result.up.result).toBe("succeeded");
  expect(result.up.changes).toEqual({ create: 2 });
  expect(result.up.keyId).toBe(TEAM.keyId);
  expect(result.up.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(result.preview).toEqual({ same: 2 });
  expect(result.destroy).toEqual({ delete: 2 });
  expect(containsKeyMaterial(result.output, key)).toBe(false);
  expect(result.output).not.toMatch(JWT_PATTERN);

  // The serialized provider in the state reaches the package by name and captured nothing from
  // this repository (no absolute path, no source module).
  const checkpoints = filesUnder(join(sb.backendDir, ".pulumi", "history", PROJECT)).filter((f) => f.path.endsWith(".checkpoint.json"));
  const probes: StateResource[] = checkpoints.flatMap((f) => stateResources(f.text)).filter((r) => r.type === PROBE_TYPE);
  expect(probes.length).toBeGreaterThan(0);
  const providerText = String(probes[0]!.inputs!.__provider);
  expect(providerText).toContain('require("pulumi-asc-credential/probe-provider")');
  expect(providerText).not.toContain(REPO_ROOT);
  expect(providerText).not.toContain(consumerDir);
  for (const file of checkpoints) expect(containsKeyMaterial(file.text, key)).toBe(false);
  expect(readdirSync(projectDir)).toContain("Pulumi.yaml");
  expect(readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")).toContain(`name: ${PROJECT}`);
});
