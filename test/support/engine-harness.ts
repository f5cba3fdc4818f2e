/**
 * Harness for the engine tier: the real Pulumi CLI, a local file backend in a temp dir,
 * passphrase secrets, and Automation API stacks with INLINE programs.
 *
 * Why inline programs: the Node language host (`pulumi-language-nodejs`) cannot be obtained here
 * (the Go module proxy refuses it), and an inline program hosts the language runtime inside this
 * process, so only the `pulumi` CLI and the dynamic-provider shim next to it are needed
 * (scripts/install-pulumi.sh provides both; scripts/test-all.mjs puts them on PATH).
 *
 * The dynamic-provider plugin runs with the stack's work dir as its cwd and resolves the
 * serialized provider's `require("pulumi-asc-credential/runtime")` from there, so work dirs sit
 * under a sandbox root whose node_modules maps `pulumi-asc-credential` to a copy of the built
 * package (package.json + dist/, so `npm run build` must have run) and every other entry to the
 * repo's own install.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { LocalWorkspace, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import { runSync } from "./child";
import { containsKeyMaterial, type TestKey } from "./keys";

export const REPO_ROOT = join(__dirname, "..", "..");

const FIX = "Run the tier through `npm test -- engine` (scripts/test-all.mjs builds/installs the CLI and puts it on PATH), or run `bash scripts/install-pulumi.sh` and prepend the directory it prints to PATH.";

/**
 * Finds `pulumi` on PATH and the dynamic-provider shim next to it. Throws (never skips) with the
 * fix when either is missing, so a tier without its tool fails loudly.
 */
export function requirePulumi(): { binDir: string; version: string } {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "pulumi");
    if (!existsSync(candidate)) continue;
    const binDir = dirname(realpathSync(candidate));
    const shim = join(binDir, "pulumi-resource-pulumi-nodejs");
    if (!existsSync(shim)) {
      throw new Error(`The engine tier found ${candidate} but no pulumi-resource-pulumi-nodejs next to it (${shim}); dynamic resources cannot run without it. ${FIX}`);
    }
    const version = runSync(candidate, ["version"], { env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } }).stdout.trim();
    return { binDir, version: version.replace(/^v/, "") };
  }
  throw new Error(`The engine tier needs the Pulumi CLI, and \`pulumi\` is not on PATH. ${FIX}`);
}

/**
 * Gives `workDir` a node_modules where `pulumi-asc-credential` is `packageDir` and every other
 * package is a link to the repo's own install.
 */
export function linkNodeModules(workDir: string, packageDir: string): void {
  const target = join(workDir, "node_modules");
  mkdirSync(target, { recursive: true });
  const source = join(REPO_ROOT, "node_modules");
  for (const entry of readdirSync(source)) {
    if (entry === "pulumi-asc-credential" || entry === ".bin") continue;
    symlinkSync(join(source, entry), join(target, entry));
  }
  symlinkSync(packageDir, join(target, "pulumi-asc-credential"));
}

/**
 * Copies the built package (package.json + dist/) to `dir`, so the provider loads what the
 * package would ship, and a rebuild of dist/ while the tier runs cannot pull it away.
 */
export function snapshotPackage(dir: string): string {
  const dist = join(REPO_ROOT, "dist");
  const built = () => existsSync(join(dist, "index.js")) && existsSync(join(dist, "runtime", "index.js"));
  // A rebuild (`rm -rf dist && tsc`) may be under way; it takes well under a minute.
  for (let waited = 0; !built() && waited < 60_000; waited += 1000) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  if (!built()) {
    throw new Error("dist/ is missing: the dynamic provider loads `pulumi-asc-credential/runtime` from the built package. Run `npm run build` first (npm test does).");
  }
  mkdirSync(dir, { recursive: true });
  cpSync(join(REPO_ROOT, "package.json"), join(dir, "package.json"));
  cpSync(dist, join(dir, "dist"), { recursive: true });
  return dir;
}

/** A temp root with a file backend, a PULUMI_HOME and one work dir per project. */
export interface EngineSandbox {
  root: string;
  backendDir: string;
  /** The copy of the built package that work dirs resolve `pulumi-asc-credential` to. */
  packageDir: string;
  passphrase: string;
  /** Environment for the CLI (Automation API envVars and direct CLI calls). */
  envVars: Record<string, string>;
  /** Creates `<root>/<name>` (resolving packages through `<root>/node_modules`). */
  workDir(name: string): string;
  cleanup(): void;
}

export function createSandbox(prefix = "asc-engine-"): EngineSandbox {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const backendDir = join(root, "backend");
  const homeDir = join(root, "pulumi-home");
  mkdirSync(backendDir);
  mkdirSync(homeDir);
  const packageDir = snapshotPackage(join(root, "package"));
  // Work dirs are children of root, so Node's lookup (from the plugin's cwd and from the package
  // copy) walks up to this one node_modules.
  linkNodeModules(root, packageDir);
  // A test value, not a secret: it only encrypts throwaway state in a temp dir.
  const passphrase = "engine-tier-test-passphrase";
  const envVars = {
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_HOME: homeDir,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  return {
    root,
    backendDir,
    packageDir,
    passphrase,
    envVars,
    workDir(name: string) {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Collects everything the CLI printed (stdout and stderr), for assertions and the key-material scan. */
export class OutputLog {
  readonly chunks: string[] = [];
  /** Handlers for one operation: pass as its options; `text()` is that operation's output. */
  capture(): { onOutput: (text: string) => void; onError: (text: string) => void; text: () => string } {
    const mine: string[] = [];
    const keep = (text: string): void => {
      mine.push(text);
      this.chunks.push(text);
    };
    return { onOutput: keep, onError: keep, text: () => mine.join("") };
  }
  /** Adds text captured elsewhere (error messages, direct CLI calls). */
  add(text: string): void {
    this.chunks.push(text);
  }
  text(): string {
    return this.chunks.join("");
  }
}

export async function inlineStack(sandbox: EngineSandbox, workDir: string, projectName: string, stackName: string, program: PulumiFn): Promise<Stack> {
  return LocalWorkspace.createOrSelectStack(
    { stackName, projectName, program },
    { workDir, envVars: sandbox.envVars, projectSettings: { name: projectName, runtime: "nodejs", description: "engine-tier test project" } },
  );
}

/** One resource as the file backend stores it. */
export interface StateResource {
  urn: string;
  type: string;
  id?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

/** Path of the backend's checkpoint for a stack (project-scoped file backend layout). */
export function stateFilePath(sandbox: EngineSandbox, projectName: string, stackName: string): string {
  return join(sandbox.backendDir, ".pulumi", "stacks", projectName, `${stackName}.json`);
}

/** The raw checkpoint text, as written by the CLI (secrets stay encrypted in it). */
export function readStateText(sandbox: EngineSandbox, projectName: string, stackName: string): string {
  return readFileSync(stateFilePath(sandbox, projectName, stackName), "utf8");
}

export function stateResources(stateText: string): StateResource[] {
  const parsed = JSON.parse(stateText) as { checkpoint?: { latest?: { resources?: StateResource[] } } };
  return parsed.checkpoint?.latest?.resources ?? [];
}

/**
 * `pulumi stack export` through the CLI WITHOUT --show-secrets (the Automation API's
 * exportStack adds --show-secrets, which would decrypt secrets into plaintext).
 */
export function cliStackExport(sandbox: EngineSandbox, workDir: string, stackName: string): string {
  const result = runSync("pulumi", ["stack", "export", "--stack", stackName, "--non-interactive"], { cwd: workDir, env: { ...process.env, ...sandbox.envVars } });
  if (result.code !== 0) throw new Error(`pulumi stack export failed (exit ${result.code}): ${result.stderr}`);
  return result.stdout + result.stderr;
}

/** Any compact JWS/JWT (header and payload are base64url JSON objects). */
export const JWT_PATTERN = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

/** The message of an Automation API failure, including the CLI's captured stdout/stderr. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const extra = error as Error & { commandResult?: { stdout?: string; stderr?: string } };
    return [error.message, extra.commandResult?.stdout ?? "", extra.commandResult?.stderr ?? ""].join("\n");
  }
  return String(error);
}

/** Runs an operation that must fail; returns its error text (also kept in `log`). */
export async function failureText(operation: Promise<unknown>, log: OutputLog): Promise<string> {
  try {
    await operation;
  } catch (error) {
    const text = errorText(error);
    log.add(text);
    return text;
  }
  throw new Error("expected the Pulumi operation to fail, but it succeeded");
}

/** Every regular file under `dir` (symlinks are not followed), with its text. */
export function filesUnder(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push({ path, text: readFileSync(path, "utf8") });
  }
  return out;
}

/**
 * Where the stack's state holds `key` (decrypted in memory by `stack export --show-secrets`,
 * never printed): one entry per resource property.
 */
export async function keyCopies(stack: Stack, key: TestKey): Promise<string[]> {
  const deployment = await stack.exportStack();
  const resources = (deployment.deployment as { resources?: StateResource[] }).resources ?? [];
  const copies: string[] = [];
  for (const resource of resources) {
    const name = resource.urn.split("::").pop();
    for (const part of ["inputs", "outputs"] as const) {
      for (const [property, value] of Object.entries(resource[part] ?? {})) if (containsKeyMaterial(JSON.stringify(value), key)) copies.push(`${name} ${part}.${property}`);
    }
  }
  return copies;
}

