#!/usr/bin/env node
// `npm run demo`: the root Pulumi.yaml project, end to end, on this machine only.
//
// Builds the package if dist/ is missing, provides the Pulumi CLI (scripts/install-pulumi.sh),
// creates a local file-backend stack under .asc-credential-demo/ with a generated passphrase,
// generates two throwaway P-256 keys at first run (never printed), validates the first with
// ApiKeyProbe (offline), rotates to the second, prints the preview diff and the outputs, then
// destroys the stack and removes .asc-credential-demo/ (`--keep` keeps the directory).
//
// Runs the project through the Automation API with an inline program: the Node language host
// (pulumi-language-nodejs) is not needed that way.
//
// Env: ASC_DEMO_DIR overrides the demo directory (tests use a temp dir).
import { spawnSync } from "node:child_process";
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const demoDir = resolve(process.env.ASC_DEMO_DIR ?? join(root, ".asc-credential-demo"));
const keep = process.argv.includes("--keep");
// Demo Key IDs: the Key ID format (10 upper-case letters/digits), not real keys.
const KEY_IDS = ["DEMOKEY001", "DEMOKEY002"];

const heading = (text) => console.log(`\n== ${text}\n`);
const indent = (text) => text.replace(/\s+$/, "").split("\n").map((l) => `    ${l}`).join("\n");

function fail(message) {
  console.error(`\ndemo failed: ${message}`);
  process.exit(1);
}

function ensureBuilt() {
  // `npm run demo` builds first; this catches running the script directly.
  if (!existsSync(join(root, "dist", "index.js"))) fail("dist/ is missing: run `npm run demo`, which builds the package first.");
}

function ensurePulumi() {
  const result = spawnSync("bash", [join(root, "scripts", "install-pulumi.sh")], { cwd: root, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (result.status !== 0) fail("scripts/install-pulumi.sh could not provide the Pulumi CLI; its reason and fix are printed above.");
  const binDir = result.stdout.trim().split("\n").pop();
  process.env.PATH = `${binDir}${delimiter}${process.env.PATH}`;
  return binDir;
}

/** Writes `file` with `content()` once (mode 0600); later runs reuse it. */
function once(file, content) {
  if (!existsSync(file)) writeFileSync(file, content(), { mode: 0o600 });
  return readFileSync(file, "utf8");
}

function fingerprint(pem) {
  const der = createPublicKey(pem).export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(der).digest("hex")}`;
}

/** A project dir with the root Pulumi.yaml and a node_modules resolving this package by name. */
function stageProject() {
  const modules = join(demoDir, "node_modules");
  if (!existsSync(modules)) {
    mkdirSync(modules);
    // The dynamic-provider plugin runs in the project dir and loads `pulumi-asc-credential/runtime`
    // (and @pulumi/pulumi) from there, as it would in a user's project.
    for (const entry of readdirSync(join(root, "node_modules"))) {
      if (entry !== ".bin" && entry !== "pulumi-asc-credential") symlinkSync(join(root, "node_modules", entry), join(modules, entry));
    }
    symlinkSync(root, join(modules, "pulumi-asc-credential"));
  }
  const project = join(demoDir, "project");
  mkdirSync(project, { recursive: true });
  copyFileSync(join(root, "Pulumi.yaml"), join(project, "Pulumi.yaml"));
  return project;
}

function printOutputs(outputs) {
  const names = ["keyId", "fingerprint", "previousKeyId", "previousFingerprint", "mode", "validatedAt"];
  for (const name of names) {
    const output = outputs[name];
    const shown = output === undefined || output.value === undefined ? "(none)" : output.secret ? "[secret]" : output.value;
    console.log(`    ${name.padEnd(20)} ${shown}`);
  }
}

async function main() {
  console.log("pulumi-asc-credential demo: validate and rotate an App Store Connect API key with ApiKeyProbe.");
  console.log("Not deployed here: the AWS storage component (AppStoreConnectApiKey: KMS key, Secrets Manager");
  console.log("secret, policies). This demo runs offline on a local stack; there is no AWS account here.");

  heading("0. Setup");
  ensureBuilt();
  const binDir = ensurePulumi();
  console.log(`Pulumi CLI:     ${binDir}/pulumi`);
  for (const dir of ["backend", "pulumi-home", "keys"]) mkdirSync(join(demoDir, dir), { recursive: true });
  const passphrase = once(join(demoDir, "passphrase"), () => randomBytes(24).toString("base64url"));
  const issuerId = once(join(demoDir, "issuer-id"), () => randomUUID()).trim();
  const keys = KEY_IDS.map((keyId) => {
    const file = join(demoDir, "keys", `AuthKey_${keyId}.p8`);
    const existed = existsSync(file);
    const pem = once(file, () => generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }));
    return { keyId, file, pem, fingerprint: fingerprint(pem), generated: !existed };
  });
  console.log(`Demo directory: ${demoDir} (local file backend, generated passphrase)`);
  for (const k of keys) console.log(`Key ${k.keyId}:  ${k.generated ? "generated" : "reused"} throwaway P-256 key AuthKey_${k.keyId}.p8 (contents never printed)`);
  console.log(`Issuer ID:      ${issuerId} (random, for the demo)`);
  const project = stageProject();
  const projectName = /^name:\s*(\S+)/m.exec(readFileSync(join(project, "Pulumi.yaml"), "utf8"))?.[1] ?? "asc-credential-demo";

  // CommonJS packages; the package is loaded by its own name (self-reference), as users import it.
  const require = createRequire(import.meta.url);
  const { LocalWorkspace } = require("@pulumi/pulumi/automation");
  const { ApiKeyProbe } = require("pulumi-asc-credential");
  let current = keys[0];
  const program = async () => {
    const probe = new ApiKeyProbe("app-store-connect-key", { keyId: current.keyId, issuerId, privateKey: current.pem, privateKeyFileName: current.fileName ?? `AuthKey_${current.keyId}.p8` });
    return {
      keyId: probe.keyId,
      fingerprint: probe.fingerprint,
      previousKeyId: probe.previousKeyId,
      previousFingerprint: probe.previousFingerprint,
      mode: probe.mode,
      validatedAt: probe.validatedAt,
    };
  };
  const envVars = {
    PULUMI_BACKEND_URL: `file://${join(demoDir, "backend")}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_HOME: join(demoDir, "pulumi-home"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  // No projectSettings: the workspace reads the project's Pulumi.yaml (the root one).
  const stack = await LocalWorkspace.createOrSelectStack({ stackName: "demo", projectName, program }, { workDir: project, envVars });
  console.log(`Stack:          ${projectName}/demo`);

  try {
    heading(`1. Validate the first key ${keys[0].keyId} (pulumi up)`);
    const first = await stack.up({ onOutput: () => {} });
    console.log(`Resources: ${JSON.stringify(first.summary.resourceChanges)}`);
    printOutputs(first.outputs);

    current = keys[1];
    heading(`2. Rotate to ${keys[1].keyId}: swap keyId + privateKey, then pulumi preview --diff`);
    let diff = "";
    const preview = await stack.preview({ diff: true, onOutput: (text) => (diff += text) });
    console.log(indent(diff));
    console.log(`\nChange summary: ${JSON.stringify(preview.changeSummary)}`);

    heading("3. A mangled key fails at preview, before anything is written");
    // The usual mistakes at once: the key's name instead of its Key ID, and a .p8 cut short in a CI variable.
    current = { keyId: "pricing-automation", pem: keys[1].pem.slice(0, 150), fileName: `AuthKey_${keys[1].keyId}.p8` };
    let rejected = "";
    const refused = await stack.preview({ onOutput: (text) => (rejected += text) }).then(
      () => false,
      (error) => {
        rejected += `\n${error instanceof Error ? error.message : String(error)}`;
        return true;
      },
    );
    if (!refused) fail("the mangled key was accepted at preview");
    // The engine prints each failure twice (as it happens and in the summary): show each once.
    const problems = [...new Set(rejected.split("\n").filter((line) => line.includes("has a problem")).map((line) => line.slice(line.lastIndexOf("error: ") + 7).trim()))];
    console.log(indent(problems.slice(0, 6).join("\n")));
    current = keys[1];

    heading("4. Apply the rotation (pulumi up)");
    const rotated = await stack.up({ onOutput: () => {} });
    console.log(`Resources: ${JSON.stringify(rotated.summary.resourceChanges)}`);
    printOutputs(rotated.outputs);
    console.log(`\nNext step in real life: once every consumer reads the new key, revoke ${rotated.outputs.previousKeyId?.value} in App Store Connect.`);
  } finally {
    heading("5. Clean up (pulumi destroy)");
    const destroyed = await stack.destroy({ onOutput: () => {} });
    console.log(`Resources: ${JSON.stringify(destroyed.summary.resourceChanges)}`);
    await stack.workspace.removeStack("demo");
    if (keep) {
      console.log(`Kept ${demoDir} (--keep): keys, passphrase and backend are reused by the next run.`);
    } else {
      rmSync(demoDir, { recursive: true, force: true });
      console.log(`Removed ${demoDir} (stack, state, throwaway keys and passphrase).`);
    }
  }
  console.log("\nDemo finished.");
}

main().catch((error) => fail(error instanceof Error ? error.message : String(error)));
