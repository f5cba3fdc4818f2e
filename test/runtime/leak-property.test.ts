/**
 * The runtime's side of the promise: every option of every source (a path, a variable, a secret
 * ID, a stage, a region, a key ID, an issuer ID, a directory, a Vault path, mount, address, token,
 * namespace or login), holding any accepted encoding of a generated key or a token, yields an
 * error (or a result) with no 12-character run of either. The Vault slots talk to a local server
 * that repeats the whole request (URL, headers, body) in Vault's `errors` field.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { probeCredential } from "../../src/apple/probe-credential";
import { createToken, isAscCredentialError } from "../../src/core";
import { ISSUER_ID_VARIABLES, KEY_CONTENT_VARIABLES, KEY_DIRECTORY_VARIABLE, KEY_ID_VARIABLES, KEY_PATH_VARIABLES, KEY_TYPE_VARIABLE } from "../../src/runtime/resolve";
import { readCredential } from "../../src/runtime/sources";
import { AscTokenSource } from "../../src/runtime/token-source";
import type { VaultSource } from "../../src/runtime/vault";
import { writeKeyFile } from "../../src/runtime/write-key-file";
import { requestsCarrying, startEchoingVault, type EchoingVault } from "../support/echoing-vault";
import { acceptedTextForms, containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";
import { storedJson } from "./helpers";

jest.setTimeout(300_000);

let dir: string;
let key: TestKey;
let used: TestKey;
let token: string;
let payloads: [string, string][];
let echo: EchoingVault;

beforeAll(async () => {
  echo = await startEchoingVault();
  dir = mkdtempSync(join(tmpdir(), "asc-runtime-leak-"));
  key = generateTestKey();
  used = generateTestKey();
  token = await createToken({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem });
  const forms = acceptedTextForms(key);
  payloads = [...forms, ["a single PEM body line", key.pem.split("\n")[1]!], ["hex of the DER", key.der.toString("hex")], ["a token", token]];
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await echo.close();
});

/** A Secrets Manager client that answers with the stored JSON of `used`, or fails like AWS. */
function client(failing: boolean): { send: () => Promise<never> | Promise<{ SecretString: string; $metadata: object }> } {
  return { send: () => (failing ? Promise.reject(Object.assign(new Error(`denied ${token}`), { name: "AccessDeniedException" })) : Promise.resolve({ SecretString: storedJson(used, TEAM.keyId, TEAM.issuerId), $metadata: {} })) };
}

/** Every way the payload can reach a runtime function; each resolves to the text it produced. */
const SLOTS: [string, (p: string) => Promise<unknown>][] = [
  ["fromFile(path)", (p) => AscTokenSource.fromFile(p, { issuerId: TEAM.issuerId }).getToken()],
  ["fromFile keyId", (p) => AscTokenSource.fromFile(join(dir, "missing.p8"), { keyId: p, issuerId: TEAM.issuerId }).getToken()],
  ["fromFile issuerId", (p) => AscTokenSource.fromFile(join(dir, "AuthKey_2X9R4HXF34.p8"), { issuerId: p }).getToken()],
  ["fromFile keyType", (p) => AscTokenSource.fromFile(join(dir, "x.p8"), { keyType: p as "team" }).getToken()],
  ["readCredential({ file })", (p) => readCredential({ file: p })],
  ...[...KEY_ID_VARIABLES, ...ISSUER_ID_VARIABLES, ...KEY_PATH_VARIABLES, KEY_TYPE_VARIABLE, KEY_DIRECTORY_VARIABLE].map(
    (name): [string, (p: string) => Promise<unknown>] => [`fromEnv $${name}`, (p) => AscTokenSource.fromEnv({ APP_STORE_CONNECT_PRIVATE_KEY: used.pem, APP_STORE_CONNECT_KEY_ID: TEAM.keyId, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, [name]: p }).getToken()],
  ),
  ...KEY_CONTENT_VARIABLES.map((name): [string, (p: string) => Promise<unknown>] => [`fromEnv $${name} (as the key, no key ID)`, (p) => AscTokenSource.fromEnv({ [name]: p }).getToken()]),
  ["fromSecretsManager secretId (failing read)", (p) => AscTokenSource.fromSecretsManager({ secretId: p, client: client(true) }).getToken()],
  ["fromSecretsManager versionStage", (p) => AscTokenSource.fromSecretsManager({ secretId: "s", versionStage: p, client: client(false) }).getToken()],
  ["readCredential secretId", (p) => readCredential({ secretId: p, client: client(true) })],
  ["readCredential region", (p) => readCredential({ secretId: "s", region: p, client: client(false) })],
  ["writeKeyFile directory", (p) => Promise.resolve().then(() => writeKeyFile({ keyId: TEAM.keyId, privateKey: used.pem }, join(dir, p.slice(0, 200))))],
  ["writeKeyFile keyId", (p) => Promise.resolve().then(() => writeKeyFile({ keyId: p, privateKey: used.pem }, join(dir, "keys")))],
  ["probeCredential baseUrl", (p) => probeCredential({ keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: used.pem }, { mode: "online", baseUrl: p })],
  ["probeCredential keyId", (p) => probeCredential({ keyId: p, issuerId: TEAM.issuerId, privateKey: used.pem })],
  ...vaultSlots(),
];

/** The Vault source's options and variables, each read through `fromVault` against the echoing server. */
function vaultSlots(): [string, (p: string) => Promise<unknown>][] {
  const base = (): VaultSource => ({ path: "app-store-connect/ci", address: echo.address, token: "hvs.reader-token-of-the-test", env: {}, timeoutMs: 2_000 });
  const viaSource = (options: (p: string) => VaultSource) => (p: string) => AscTokenSource.fromVault({ ...options(p), readTimeoutMs: 2_000 }).getToken();
  const options: [string, (p: string) => VaultSource][] = [
    ["path", (p) => ({ ...base(), path: p })],
    ["mount", (p) => ({ ...base(), mount: p })],
    ["version", (p) => ({ ...base(), version: p as unknown as number })],
    ["address", (p) => ({ ...base(), address: p })],
    ["token", (p) => ({ ...base(), token: p })],
    ["namespace", (p) => ({ ...base(), namespace: p })],
    ["appRole.roleId", (p) => ({ ...base(), token: undefined, appRole: { roleId: p, secretId: "f3d9a2b1-77c4-4e0b-9d51-5a2c6e8b1f09" } })],
    ["appRole.secretId", (p) => ({ ...base(), token: undefined, appRole: { roleId: "role-id-of-the-test", secretId: p } })],
    ["appRole.mount", (p) => ({ ...base(), token: undefined, appRole: { roleId: "role-id-of-the-test", secretId: "f3d9a2b1-77c4-4e0b-9d51-5a2c6e8b1f09", mount: p } })],
    ["jwt.role", (p) => ({ ...base(), token: undefined, jwt: { role: p, jwt: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln" } })],
    ["jwt.jwt", (p) => ({ ...base(), token: undefined, jwt: { role: "asc-reader", jwt: p } })],
    ["jwt.jwt (a function's answer)", (p) => ({ ...base(), token: undefined, jwt: { role: "asc-reader", jwt: () => p } })],
    ["jwt.mount", (p) => ({ ...base(), token: undefined, jwt: { role: "asc-reader", jwt: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", mount: p } })],
    ...["VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE", "BAO_ADDR", "BAO_TOKEN", "BAO_NAMESPACE"].map((name): [string, (p: string) => VaultSource] => [
      `$${name}`,
      (p) => {
        const env: Record<string, string> = { VAULT_ADDR: echo.address, VAULT_TOKEN: "hvs.reader-token-of-the-test", [name]: p };
        // A BAO_ variable counts only where its VAULT_ twin is unset.
        if (name.startsWith("BAO_")) delete env[name.replace("BAO_", "VAULT_")];
        return { path: "app-store-connect/ci", env, timeoutMs: 2_000 };
      },
    ]),
  ];
  return [
    ...options.map(([name, build]): [string, (p: string) => Promise<unknown>] => [`fromVault ${name}`, viaSource(build)]),
    ["readCredential({ path }) path", (p) => readCredential({ ...base(), path: p })],
    ["readCredential({ path }) token", (p) => readCredential({ ...base(), token: p })],
  ];
}

test("every slot, every encoding: no 12-character run of the key or the token in what comes back", async () => {
  const leaks: string[] = [];
  let runs = 0;
  for (const [slot, call] of SLOTS) {
    for (const [form, payload] of payloads) {
      let text: string;
      try {
        const result = await call(payload);
        // A token minted from the key the slot did not touch is fine; only what it reports is checked.
        text = typeof result === "string" ? "" : JSON.stringify(result);
      } catch (error) {
        if (!isAscCredentialError(error)) leaks.push(`${slot} <- ${form}: a ${(error as Error)?.constructor?.name} instead of an AscCredentialError`);
        text = `${(error as Error).message}\n${(error as Error).stack ?? ""}`;
      }
      runs++;
      if (containsKeyMaterial(text, key)) leaks.push(`${slot} <- ${form}: key material`);
      for (const segment of token.split(".")) {
        for (let i = 0; i + 12 <= segment.length; i += 4) {
          if (text.includes(segment.slice(i, i + 12))) {
            leaks.push(`${slot} <- ${form}: the token`);
            break;
          }
        }
      }
    }
  }
  process.stdout.write(`runtime leak matrix: ${SLOTS.length} slots x ${payloads.length} payloads = ${runs} calls\n`);
  expect(leaks).toEqual([]);
  expect(runs).toBe(SLOTS.length * payloads.length);
  process.stdout.write(`Vault requests that carried a payload to the echoing server: ${requestsCarrying(echo, payloads)}\n`);
  expect(requestsCarrying(echo, payloads)).toBeGreaterThan(payloads.length);
});
