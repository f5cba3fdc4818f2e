/**
 * The CLI's central promise: whatever slot a key (or a token) lands in — a path flag, an ID flag,
 * a URL, a stack name, a Vault path, address or token, any environment variable the resolver
 * reads — no 12-character run of it reaches stdout, stderr or `--json`. Every command × every slot × every accepted encoding of a
 * generated key, and a token, run through the CLI's `main` in this process (the built binary is
 * the same code; test/cli/cli.test.ts runs it as a process). The Vault slots talk to a local
 * server that repeats the whole request (URL, headers, body) in Vault's `errors` field.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main";
import { ISSUER_ID_VARIABLES, KEY_CONTENT_VARIABLES, KEY_DIRECTORY_VARIABLE, KEY_ID_VARIABLES, KEY_PATH_VARIABLES, KEY_TYPE_VARIABLE } from "../../src/runtime/resolve";
import { createToken } from "../../src/core";
import { requestsCarrying, startEchoingVault, type EchoingVault } from "../support/echoing-vault";
import { acceptedTextForms, containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";

jest.setTimeout(300_000);

let dir: string;
let key: TestKey;
let keyFile: string;
let token: string;
/** The encodings of the key a user could paste, plus a token. */
let payloads: [string, string][];
let echo: EchoingVault;

beforeAll(async () => {
  echo = await startEchoingVault();
  dir = mkdtempSync(join(tmpdir(), "asc-cli-leak-"));
  key = generateTestKey();
  // The key the commands do use, in its file; the payload is another key, in the wrong slot.
  const used = generateTestKey();
  keyFile = join(dir, `AuthKey_${TEAM.keyId}.p8`);
  writeFileSync(keyFile, used.pem, { mode: 0o600 });
  token = await createToken({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem });
  const forms = acceptedTextForms(key);
  const bodyLine = key.pem.split("\n")[1]!;
  const bytes = (hex: string): string[] => hex.match(/../g)!;
  const d = Buffer.from(key.keyObject.export({ format: "jwk" }).d ?? "", "base64url").toString("hex");
  payloads = [
    ...forms,
    ["a single PEM body line", bodyLine],
    ["hex of the DER", key.der.toString("hex")],
    // What `openssl ec -text -noout` prints, and a hex dump of the DER as xxd shows it.
    ["openssl ec -text", `Private-Key: (256 bit)\npriv:\n    ${bytes(d).join(":").replace(/((?:..:){15})/g, "$1\n    ")}\npub:`],
    ["xxd of the DER", key.der.toString("hex").match(/.{1,32}/g)!.map((line, i) => `${(i * 16).toString(16).padStart(8, "0")}: ${line.match(/.{1,4}/g)!.join(" ")}`).join("\n")],
    ["a token", token],
  ];
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await echo.close();
});

/** Environment that keeps every AWS call on this machine and failing fast. */
const BASE_ENV = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://127.0.0.1:9", AWS_MAX_ATTEMPTS: "1", HOME: "" };

interface Case {
  command: string[];
  /** The command line with the payload in the slot. */
  args: (payload: string) => string[];
  env?: (payload: string) => Record<string, string>;
}

const team = (): string[] => ["--key", keyFile, "--issuer-id", TEAM.issuerId];
const COMMANDS: string[][] = [["doctor"], ["doctor", "--json"], ["token"], ["fingerprint"], ["config"], ["export", "--format", "env"]];

function flagCases(): [string, Case][] {
  const flags: [string, (p: string, command: string[]) => string[]][] = [
    ["--key", (p) => ["--key", p, "--issuer-id", TEAM.issuerId]],
    ["--key-env (the variable's name)", (p) => ["--key-env", p, "--issuer-id", TEAM.issuerId]],
    ["--key-id", (p) => [...team(), "--key-id", p]],
    ["--issuer-id", (p) => ["--key", keyFile, "--issuer-id", p]],
    ["--secret-id", (p) => ["--secret-id", p, "--read-timeout", "300"]],
    ["--version-stage", (p) => ["--secret-id", "s", "--version-stage", p, "--read-timeout", "300"]],
    ["--region", (p) => ["--secret-id", "s", "--region", p, "--read-timeout", "300"]],
    ["--read-timeout", (p) => [...team(), "--read-timeout", p]],
    ["an unknown flag's value", (p) => [...team(), `--${p.slice(0, 200)}`]],
    ["a positional argument", (p) => [...team(), p]],
  ];
  const perCommand: [string, (p: string, command: string[]) => string[]][] = [
    ["--base-url (doctor)", (p, c) => (c[0] === "doctor" ? [...team(), "--online", "--base-url", p] : [])],
    ["--lifetime (token)", (p, c) => (c[0] === "token" ? [...team(), "--lifetime", p] : [])],
    ["--scope (token)", (p, c) => (c[0] === "token" ? [...team(), "--scope", p] : [])],
    ["--stack (config)", (p, c) => (c[0] === "config" ? [...team(), "--stack", p] : [])],
    ["--prefix (config)", (p, c) => (c[0] === "config" ? [...team(), "--prefix", p] : [])],
    ["--out (export)", (p, c) => (c[0] === "export" ? [...team(), "--out", join(dir, "out", p.slice(0, 200))] : [])],
    ["--format (export)", (p, c) => (c[0] === "export" ? [...team(), "--format", p] : [])],
  ];
  return COMMANDS.flatMap((command) =>
    [...flags, ...perCommand]
      .filter(([, build]) => build("x", command).length > 0)
      .map(([slot, build]): [string, Case] => [`${command.join(" ")} ${slot}`, { command, args: (p) => build(p, command) }]),
  );
}

function envCases(): [string, Case][] {
  const variables = [...KEY_ID_VARIABLES, ...ISSUER_ID_VARIABLES, ...KEY_PATH_VARIABLES, KEY_TYPE_VARIABLE, KEY_DIRECTORY_VARIABLE, "GITHUB_ENV", "RUNNER_TEMP"];
  const contentVariables = [...KEY_CONTENT_VARIABLES];
  return COMMANDS.flatMap((command) => [
    ...variables.map((name): [string, Case] => [`${command.join(" ")} $${name}`, { command, args: () => [], env: (p) => ({ APP_STORE_CONNECT_PRIVATE_KEY_PATH: keyFile, [name]: p }) }]),
    // The key's own variables hold the payload as a key: accepted or refused, never echoed.
    ...contentVariables.map((name): [string, Case] => [`${command.join(" ")} $${name} (as the key)`, { command, args: () => ["--key-id", TEAM.keyId, "--issuer-id", TEAM.issuerId], env: (p) => ({ [name]: p }) }]),
  ]);
}

/** `--vault-path` and its flags and variables, against the echoing server. */
function vaultCases(): [string, Case][] {
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({ VAULT_ADDR: echo.address, VAULT_TOKEN: "hvs.reader-token-of-the-test", ...extra });
  const vault = (...more: string[]): string[] => ["--vault-path", "app-store-connect/ci", "--read-timeout", "2000", ...more];
  const slots: [string, (p: string) => string[], ((p: string) => Record<string, string>)?][] = [
    ["--vault-path", (p) => ["--vault-path", p, "--read-timeout", "2000"]],
    ["--vault-mount", (p) => vault("--vault-mount", p)],
    ["--vault-version", (p) => vault("--vault-version", p)],
    ["--vault-address", (p) => vault("--vault-address", p)],
    ...["VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE", "BAO_ADDR", "BAO_TOKEN", "BAO_NAMESPACE"].map((name): [string, (p: string) => string[], (p: string) => Record<string, string>] => [
      `$${name} (with --vault-path)`,
      () => vault(),
      (p) => {
        const variables = env({ [name]: p });
        // A BAO_ variable counts only where its VAULT_ twin is unset.
        if (name.startsWith("BAO_")) delete variables[name.replace("BAO_", "VAULT_")];
        return variables;
      },
    ]),
  ];
  return COMMANDS.flatMap((command) => slots.map(([slot, args, variables]): [string, Case] => [`${command.join(" ")} ${slot}`, { command, args, env: variables ?? (() => env()) }]));
}

async function runMain(args: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t) => void (out += t), err: (t) => void (err += t), env: { ...BASE_ENV, ...env }, colour: false });
  return { code, out, err };
}

test("the matrix is what it claims: every command, every slot, every encoding", () => {
  const cases = [...flagCases(), ...envCases(), ...vaultCases()];
  expect(payloads.length).toBeGreaterThanOrEqual(20);
  expect(cases.length).toBeGreaterThanOrEqual(150);
  process.stdout.write(`CLI leak matrix: ${cases.length} command x slot cases x ${payloads.length} payloads = ${cases.length * payloads.length} runs\n`);
});

describe.each(["flags", "environment", "Vault"] as const)("%s", (kind) => {
  test("no slot echoes any 12-character run of the key or the token", async () => {
    const cases = { flags: flagCases, environment: envCases, Vault: vaultCases }[kind]();
    const leaks: string[] = [];
    let runs = 0;
    for (const [label, c] of cases) {
      for (const [form, payload] of payloads) {
        const { out, err } = await runMain([...c.command, ...c.args(payload)], c.env?.(payload) ?? {});
        runs++;
        // `token` prints a token by design, made from the key the command uses; never the payload.
        const printed = `${out}\n${err}`;
        if (containsKeyMaterial(printed, key)) leaks.push(`${label} <- ${form}: key material`);
        // A hex dump's bytes read across the spaces, colons and line breaks between them.
        if (containsKeyMaterial(printed.replace(/[^0-9a-f]/g, ""), key)) leaks.push(`${label} <- ${form}: key material in hexadecimal`);
        // `token` prints a token made by design from the key the command uses: same header and
        // claims as the payload token, so there only the payload's signature must not appear.
        const segments = c.command[0] === "token" ? token.split(".").slice(2) : token.split(".");
        for (const segment of segments) {
          for (let i = 0; i + 12 <= segment.length; i += 4) {
            if (printed.includes(segment.slice(i, i + 12))) {
              leaks.push(`${label} <- ${form}: the token`);
              break;
            }
          }
        }
      }
    }
    expect(leaks).toEqual([]);
    expect(runs).toBeGreaterThan(kind === "Vault" ? 1000 : 1500);
    if (kind === "Vault") expect(requestsCarrying(echo, payloads)).toBeGreaterThan(payloads.length);
  });
});

describe("the Vault token of the environment, pasted into another slot, is not shown", () => {
  // Readable tokens (`bao server -dev -dev-root-token-id=...`, a CI's own) pass every shape rule:
  // only knowing VAULT_TOKEN / BAO_TOKEN keeps them out.
  const TOKENS = ["my-dev-root-token", "ci-vault-reader-token-2024"];
  const slots: [string, (t: string) => string[]][] = [
    ["--vault-path", (t) => ["--vault-path", t, "--read-timeout", "2000"]],
    ["--vault-path (a segment)", (t) => ["--vault-path", `app-store-connect/${t}`, "--read-timeout", "2000"]],
    ["--vault-mount", (t) => ["--vault-path", "app-store-connect/ci", "--vault-mount", t, "--read-timeout", "2000"]],
    ["--vault-address (the host name)", (t) => ["--vault-path", "app-store-connect/ci", "--vault-address", `https://${t}.invalid`, "--read-timeout", "2000"]],
    ["--key", (t) => ["--key", t, "--issuer-id", TEAM.issuerId]],
    ["--key-id", (t) => [...team(), "--key-id", t]],
    ["--issuer-id", (t) => ["--key", keyFile, "--issuer-id", t]],
    ["an unknown flag", (t) => [...team(), `--${t}`]],
    ["a positional argument", (t) => [...team(), t]],
  ];
  test.each(["VAULT_TOKEN", "BAO_TOKEN"])("in %s: no command prints it, on stdout, stderr or --json", async (variable) => {
    const leaks: string[] = [];
    for (const command of COMMANDS.filter((c) => c[0] !== "config")) {
      for (const [slot, args] of slots) {
        for (const vaultToken of TOKENS) {
          const { out, err } = await runMain([...command, ...args(vaultToken)], { VAULT_ADDR: echo.address, [variable]: vaultToken });
          if (`${out}\n${err}`.toLowerCase().includes(vaultToken)) leaks.push(`${command.join(" ")} ${slot} <- ${vaultToken}`);
        }
      }
    }
    expect(leaks).toEqual([]);
  });

  test("a short one (a dev server's 'root') is not cut out of paths and names that contain it", async () => {
    const { out } = await runMain(["doctor", "--json", ...team()], { VAULT_TOKEN: "root" });
    expect(JSON.parse(out).credential.keySourceName).toBe(keyFile);
  });
});
