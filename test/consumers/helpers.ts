/**
 * Shared by the consumers tier: moto as the AWS side (the SDK's default client pointed at it by
 * the environment, as in a CI job), the built CLI's `export` run with exactly that environment,
 * the venv of real consumer tools (scripts/install-consumers.sh), and checks on what export wrote.
 */
import { randomUUID } from "node:crypto";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { parsePrivateKey } from "../../src/core/private-key";
import { ensureBuilt, runCli, type CliResult } from "../cli/built-cli";
import { containsKeyMaterial, type TestKey } from "../support/keys";
import { JWT_PATTERN } from "../support/leak-guard";
import { startMoto, type MotoServer } from "../support/moto-server";

export { storedJson } from "../runtime/helpers";

const repoRoot = resolve(__dirname, "..", "..");

/** moto plus a client to seed secrets, and the environment that points the CLI's SDK at it. */
export interface AwsSide {
  moto: MotoServer;
  client: SecretsManagerClient;
  /** What a CI job's AWS step leaves in the environment, aimed at moto. */
  env: Record<string, string>;
  /** Creates a secret holding `value`; resolves to its name. */
  createSecret(value: string): Promise<string>;
  /** A new version (AWSCURRENT moves, the old becomes AWSPREVIOUS). */
  rotate(secretId: string, value: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startAwsSide(): Promise<AwsSide> {
  ensureBuilt();
  const moto = await startMoto();
  const region = "us-east-1";
  const client = new SecretsManagerClient({ endpoint: moto.endpoint, region, credentials: { accessKeyId: "testing", secretAccessKey: "testing" }, maxAttempts: 1 });
  // No shared config or credentials file and no instance metadata: the SDK's default chain finds
  // exactly these variables, as in a job after aws-actions/configure-aws-credentials.
  const nowhere = join(tmpdir(), `asc-no-aws-config-${randomUUID()}`);
  const env = {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_CONFIG_FILE: join(nowhere, "config"),
    AWS_SHARED_CREDENTIALS_FILE: join(nowhere, "credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
  };
  return {
    moto,
    client,
    env,
    async createSecret(value) {
      const name = `app-store-connect/consumers/${randomUUID()}`;
      await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
      return name;
    },
    async rotate(secretId, value) {
      await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
    },
    async stop() {
      client.destroy();
      await moto.stop();
    },
  };
}

/** A fresh directory, removed by {@link cleanUp}. Its name passes export's plain-path check. */
const made: string[] = [];
export function tempDir(label = "work"): string {
  const dir = mkdtempSync(join(tmpdir(), `asc-consumers-${label}-`));
  made.push(dir);
  return dir;
}
export function cleanUp(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs `asc-credential export` (the built CLI) with `env` and a HOME of its own, and checks that
 * neither stream holds key material of `keys` or a JWT, whatever the outcome.
 */
export async function exportWith(args: string[], env: Record<string, string>, keys: TestKey[], options: { cwd?: string } = {}): Promise<CliResult> {
  const result = await runCli(["export", ...args], { HOME: env.HOME ?? tempDir("home"), ...env }, options);
  expectClean(result, keys);
  return result;
}

/** Neither stream holds key material or a token. */
export function expectClean(result: { stdout: string; stderr: string }, keys: readonly TestKey[]): void {
  for (const [name, text] of [["stdout", result.stdout], ["stderr", result.stderr]] as const) {
    for (const key of keys) expect({ stream: name, holdsKeyMaterial: containsKeyMaterial(text, key) }).toEqual({ stream: name, holdsKeyMaterial: false });
    expect({ stream: name, holdsJwt: JWT_PATTERN.test(text) }).toEqual({ stream: name, holdsJwt: false });
  }
}

/** A failed export: exit 1, one `asc-credential: CODE: ...` line naming `mentions`. */
export function expectFailure(result: CliResult, code: string, ...mentions: string[]): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: "" });
  expect(result.stderr).toMatch(new RegExp(`^asc-credential: ${code}: `));
  for (const mention of mentions) expect(result.stderr).toContain(mention);
}

/** `mode & 0o777` of a path (lstat: a link is not followed). */
export function modeOf(path: string): number {
  return lstatSync(path).mode & 0o777;
}

/** Every entry under `dir`, relative, sorted (empty when it does not exist). */
export function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (sub: string): void => {
    for (const name of readdirSync(join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      out.push(rel);
      if (statSync(join(dir, rel)).isDirectory()) walk(rel);
    }
  };
  walk("");
  return out.sort();
}

/**
 * The key file as export must write it: a regular file, 0600, in a 0700 directory, holding the
 * key's normalised PKCS#8 PEM (LF, 64 columns, one trailing newline) and nothing else.
 */
export function expectKeyFile(path: string, key: TestKey): void {
  expect(lstatSync(path).isFile()).toBe(true);
  expect(modeOf(path).toString(8)).toBe("600");
  expect(modeOf(join(path, "..")).toString(8)).toBe("700");
  const text = readFileSync(path, "utf8");
  expect(text).toBe(parsePrivateKey(key.pem).pem);
  expect(text).not.toContain("\r");
  expect(text.endsWith("-\n")).toBe(true);
}

/** `export NAME=value` lines (values as shellQuote writes them), unquoted. */
export function parseExportLines(stdout: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of stdout.split("\n").filter(Boolean)) {
    const match = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`not an export line: ${line.slice(0, 80)}`);
    vars.set(match[1]!, unquote(match[2]!));
  }
  return vars;
}

/** `NAME=value` lines (.env, GITHUB_ENV). */
export function parseAssignments(text: string, quoted: boolean): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split("\n").filter(Boolean)) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`not a NAME=value line: ${line.slice(0, 80)}`);
    vars.set(match[1]!, quoted ? unquote(match[2]!) : match[2]!);
  }
  return vars;
}

function unquote(value: string): string {
  return value.startsWith("'") ? value.slice(1, -1).replace(/'\\''/g, "'") : value;
}

/**
 * Every variable export sets for a key file at `keyPath` in `keyDirectory`, by convention: the
 * contract the tools read (README "Using the key in CI").
 */
export function expectedVariables(keyPath: string, keyDirectory: string, keyId: string, issuerId: string | undefined): Record<string, string> {
  const issuer = (name: string): Record<string, string> => (issuerId === undefined ? {} : { [name]: issuerId });
  return {
    APP_STORE_CONNECT_KEY_ID: keyId,
    ...issuer("APP_STORE_CONNECT_ISSUER_ID"),
    APP_STORE_CONNECT_PRIVATE_KEY_PATH: keyPath,
    ...(issuerId === undefined ? { APP_STORE_CONNECT_KEY_TYPE: "individual" } : {}),
    APP_STORE_CONNECT_API_KEY_KEY_ID: keyId,
    ...issuer("APP_STORE_CONNECT_API_KEY_ISSUER_ID"),
    APP_STORE_CONNECT_API_KEY_KEY_FILEPATH: keyPath,
    APP_STORE_CONNECT_KEY_IDENTIFIER: keyId,
    APP_STORE_CONNECT_PRIVATE_KEY: `@file:${keyPath}`,
    EXPO_ASC_API_KEY_PATH: keyPath,
    EXPO_ASC_KEY_ID: keyId,
    ...issuer("EXPO_ASC_ISSUER_ID"),
    ASC_KEY_ID: keyId,
    ...issuer("ASC_ISSUER_ID"),
    ASC_PRIVATE_KEY_PATH: keyPath,
    API_PRIVATE_KEYS_DIR: keyDirectory,
  };
}

/**
 * The venv bin directory of the real consumer tools: `ASC_CONSUMERS_BIN` (what
 * scripts/test-all.mjs sets from scripts/install-consumers.sh), else the installer's cache.
 * Throws with the fix when it is missing: the tier never skips.
 */
export function consumersBin(): string {
  const versions = Object.fromEntries([...readFileSync(join(repoRoot, "scripts", "tool-versions.env"), "utf8").matchAll(/^([A-Z0-9_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const cacheRoot = process.env.ASC_TOOLS_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "pulumi-asc-credential");
  const dir =
    process.env.ASC_CONSUMERS_BIN ??
    join(cacheRoot, `consumers-venv-codemagic-${versions.CODEMAGIC_CLI_TOOLS_VERSION}-pyjwt-${versions.PYJWT_VERSION}-cryptography-${versions.CRYPTOGRAPHY_VERSION}`, "bin");
  for (const tool of ["python", "app-store-connect"]) {
    if (!existsSync(join(dir, tool))) {
      throw new Error(`${join(dir, tool)} not found. The consumers tier needs codemagic-cli-tools, PyJWT and cryptography: run scripts/install-consumers.sh (or npm test -- consumers), or set ASC_CONSUMERS_BIN to the venv's bin directory.`);
    }
  }
  return dir;
}

/** The directory of this tier's Python drivers. */
export const DRIVERS = join(__dirname, "drivers");
