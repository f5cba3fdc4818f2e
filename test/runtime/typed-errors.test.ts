/**
 * Every failure of the runtime entry's public functions is an AscCredentialError with a stable
 * code: random arguments of any shape, a Secrets Manager client that answers anything (or throws
 * anything) and a local server in Vault's place that answers anything never let another kind of
 * error out.
 */
import fc from "fast-check";
import { createServer } from "node:http";
import * as runtime from "../../src/runtime";
import { ERROR_CODES, isAscCredentialError } from "../../src/core";
import { generateTestKey, TEAM } from "../support/keys";
import { listenOnLoopback } from "../support/local-server";
import { storedJson } from "./helpers";
import { ISSUER_ID_VARIABLES, KEY_CONTENT_VARIABLES, KEY_DIRECTORY_VARIABLE, KEY_ID_VARIABLES, KEY_PATH_VARIABLES, KEY_TYPE_VARIABLE } from "../../src/runtime/resolve";

jest.setTimeout(120_000);

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const key = generateTestKey();

/** Awaits `work`; any failure must be an AscCredentialError with a known code. */
async function onlyTyped(what: string, work: () => unknown): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!isAscCredentialError(error)) throw new Error(`${what} failed with ${(error as Error)?.constructor?.name ?? typeof error}: ${String((error as Error)?.message ?? error).slice(0, 200)}`, { cause: error });
    expect(ERROR_CODES).toContain(error.code);
  }
}

class ExplodingString {
  get SecretString(): string {
    throw new Error(key.pem);
  }
}
class ExplodingBinary {
  get SecretBinary(): Uint8Array {
    throw new Error(key.pem);
  }
}

/** Values of every shape, and strings and objects that look like the real thing. */
const anything = fc.oneof(
  fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withBoxedValues: true, withSparseArray: true }),
  fc.constantFrom(key.pem, Buffer.from(key.pem).toString("base64"), "", "-", "/dev/null", "/", "arn:aws:secretsmanager:eu-west-1:1:secret:x", TEAM.keyId, TEAM.issuerId, "team", "individual"),
);
const options = fc.dictionary(fc.constantFrom("keyId", "issuerId", "keyType", "privateKey", "privateKeyFileName", "lifetimeSeconds", "scope", "now", "audience", "mode", "baseUrl", "timeoutMs", "retries", "retryBaseDelayMs", "refreshSeconds", "tokenLifetimeSeconds", "refreshMarginSeconds", "readTimeoutMs", "secretId", "versionStage", "region", "file", "env", "force", "createParents"), anything);

test("core and the token source, with arguments of any shape", async () => {
  await fc.assert(
    fc.asyncProperty(anything, options, options, async (a, b, c) => {
      await onlyTyped("parsePrivateKey", () => runtime.parsePrivateKey(a as string));
      await onlyTyped("createToken", () => runtime.createToken(b as never, c as never));
      await onlyTyped("readCredential", () => runtime.readCredential({ ...b, timeoutMs: 200 } as never));
      await onlyTyped("writeKeyFile", () => runtime.writeKeyFile(b as never, "/nonexistent/asc-typed-errors", c as never));
      await onlyTyped("fromFile", () => runtime.AscTokenSource.fromFile(a as string, { ...b, readTimeoutMs: 200 } as never).getToken());
      await onlyTyped("fromEnv", () => runtime.AscTokenSource.fromEnv(b as never, c as never).getToken());
      await onlyTyped("fromSecretsManager", () => runtime.AscTokenSource.fromSecretsManager({ ...b, client: { send: async () => ({}) } } as never).getToken());
      await onlyTyped("formatStoredCredential", () => runtime.formatStoredCredential(b as never));
      // Never throws at all.
      expect(typeof runtime.validateCredential(b as never).ok).toBe("boolean");
      expect(typeof (await runtime.probeCredential(b as never, { ...c, mode: "offline" } as never)).ok).toBe("boolean");
    }),
    { numRuns: RUNS },
  );
});

test("the resolver's variables holding values of any type, and writeKeyFile's arguments of any shape", async () => {
  const names = [...KEY_ID_VARIABLES, ...ISSUER_ID_VARIABLES, ...KEY_CONTENT_VARIABLES, ...KEY_PATH_VARIABLES, KEY_TYPE_VARIABLE, KEY_DIRECTORY_VARIABLE];
  const env = fc.dictionary(fc.constantFrom(...names), anything);
  await fc.assert(
    fc.asyncProperty(env, anything, anything, async (variables, credential, writeOptions) => {
      await onlyTyped("readCredential({ env })", () => runtime.readCredential({ env: variables, timeoutMs: 200 } as never));
      await onlyTyped("fromEnv", () => runtime.AscTokenSource.fromEnv(variables as never, { readTimeoutMs: 200 }).getToken());
      await onlyTyped("writeKeyFile", () => runtime.writeKeyFile(credential as never, "/nonexistent/asc-typed-errors", writeOptions as never));
    }),
    { numRuns: RUNS },
  );
  for (const credential of [null, undefined, 5, "key"]) await onlyTyped(`writeKeyFile(${String(credential)})`, () => runtime.writeKeyFile(credential as never, "/nonexistent/asc-typed-errors"));
  await onlyTyped("writeKeyFile(…, null options)", () => runtime.writeKeyFile({ keyId: TEAM.keyId, privateKey: key.pem }, "/nonexistent/asc-typed-errors", null as never));
  // Values that throw when turned into a string (no prototype, a throwing toString) in every slot.
  const hostile = [Object.create(null) as object, { toString: () => { throw new Error("boom"); } }, Symbol("s")];
  for (const value of hostile) {
    await onlyTyped("writeKeyFile(keyId: hostile)", () => runtime.writeKeyFile({ keyId: value, privateKey: key.pem } as never, "/nonexistent/asc-typed-errors"));
    await onlyTyped("writeKeyFile(directory: hostile)", () => runtime.writeKeyFile({ keyId: TEAM.keyId, privateKey: key.pem }, value as never));
  }
  expect(() => runtime.writeKeyFile({ keyId: Object.create(null) as never, privateKey: key.pem }, "/nonexistent/asc-typed-errors")).toThrow(expect.objectContaining({ code: "KEY_ID_INVALID" }) as Error);
  await onlyTyped("readCredential({ env: { a number } })", () => runtime.readCredential({ env: { APP_STORE_CONNECT_PRIVATE_KEY: 5 } as never }));
});

test("a Secrets Manager client that answers anything, or throws anything", async () => {
  const answers = fc.oneof(
    anything.map((value) => ({ resolve: value })),
    fc.record({ SecretString: fc.oneof(fc.string(), fc.json(), fc.constant(storedJson(key, TEAM.keyId, TEAM.issuerId)), anything) }).map((value) => ({ resolve: value })),
    fc.record({ SecretBinary: fc.oneof(fc.uint8Array(), anything) }).map((value) => ({ resolve: value })),
    anything.map((value) => ({ reject: value })),
    fc.record({ name: fc.oneof(fc.string(), fc.constantFrom("ResourceNotFoundException", "AccessDeniedException", "ThrottlingException")), $metadata: anything, message: fc.string() }).map((value) => ({ reject: Object.assign(new Error(String(value.message)), value) })),
    fc.constant({ throwSync: true }),
    // An answer whose fields throw when read (a getter, a Proxy), with the key in the error.
    fc.constantFrom(new ExplodingString(), new ExplodingBinary()).map((value) => ({ resolve: value })),
  );
  await fc.assert(
    fc.asyncProperty(answers, fc.option(fc.constantFrom("AWSPREVIOUS", "AWSCURRENT")), async (answer, versionStage) => {
      const client = {
        send: (): Promise<unknown> => {
          if ("throwSync" in answer) throw new TypeError("client exploded");
          return "reject" in answer ? Promise.reject(answer.reject) : Promise.resolve(answer.resolve);
        },
      };
      const source = runtime.AscTokenSource.fromSecretsManager({ secretId: "s", client: client as never, ...(versionStage ? { versionStage } : {}), readTimeoutMs: 500 });
      await onlyTyped("getToken", () => source.getToken());
      await onlyTyped("readCredential", () => runtime.readCredential({ secretId: "s", client: client as never, timeoutMs: 500 }));
    }),
    { numRuns: RUNS },
  );
});

test("fetch through the token source: a failing network or a bad URL is typed too", async () => {
  const source = runtime.AscTokenSource.fromEnv({ APP_STORE_CONNECT_KEY_ID: TEAM.keyId, APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId, APP_STORE_CONNECT_PRIVATE_KEY: key.pem });
  for (const input of ["not a url", "http://127.0.0.1:9/v1/apps", "ftp://example.invalid/"]) {
    await onlyTyped(`fetch(${input})`, () => source.fetch(input));
  }
});

test("the Vault source, with options of any shape and a server that answers anything", async () => {
  const vaultOptions = fc.dictionary(fc.constantFrom("path", "mount", "version", "address", "token", "namespace", "appRole", "jwt", "allowInsecureHttp", "env", "now", "timeoutMs", "refreshSeconds", "readTimeoutMs"), anything);
  // What the server sends next: a status, a content type and a body (JSON of any shape, Vault-like
  // shapes with wrong types inside, or bytes that are no JSON at all).
  const json = fc.jsonValue();
  const vaultLike = fc.oneof(
    fc.record({ data: fc.record({ data: fc.oneof(json, fc.constant(JSON.parse(storedJson(key, TEAM.keyId, TEAM.issuerId)) as unknown)), metadata: fc.oneof(json, fc.record({ version: json, current_version: json })) }) }),
    fc.record({ errors: fc.oneof(json, fc.array(json)) }),
    fc.record({ auth: fc.oneof(json, fc.record({ client_token: json, lease_duration: json, renewable: json })) }),
    fc.record({ data: fc.record({ current_version: json, versions: json }) }),
  );
  const answers = fc.record({
    status: fc.constantFrom(200, 204, 301, 307, 400, 401, 403, 404, 412, 429, 500, 503),
    type: fc.constantFrom("application/json", "text/plain", "text/html", ""),
    body: fc.oneof(vaultLike.map((value) => JSON.stringify(value)), fc.json(), fc.string(), fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString("latin1"))),
  });
  let next: { status: number; type: string; body: string }[] = [];
  let served = 0;
  const server = createServer((req, res) => {
    req.resume();
    served++;
    const answer = next.shift() ?? { status: 500, type: "application/json", body: "{}" };
    res.writeHead(answer.status, answer.type ? { "content-type": answer.type } : {}).end(answer.body);
  });
  const { url: address, close } = await listenOnLoopback(server);
  try {
    await fc.assert(
      fc.asyncProperty(vaultOptions, async (given) => {
        await onlyTyped("fromVault(any options)", () => runtime.AscTokenSource.fromVault(given as never).getToken());
        await onlyTyped("readCredential(any Vault options)", () => runtime.readCredential({ path: "app-store-connect/ci", ...given, timeoutMs: 500 } as never));
      }),
      { numRuns: RUNS },
    );
    const logins = [{}, { appRole: { roleId: "role", secretId: "secret" } }, { jwt: { role: "reader", jwt: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln" } }];
    await fc.assert(
      fc.asyncProperty(fc.array(answers, { minLength: 1, maxLength: 4 }), fc.constantFrom(...logins), fc.option(fc.constantFrom(1, 2, "previous" as const)), async (script, login, version) => {
        next = [...script];
        const source = { path: "app-store-connect/ci", address, token: "hvs.test-token", env: {}, ...login, ...(version === null ? {} : { version }) };
        await onlyTyped("fromVault(server answers anything)", () => runtime.AscTokenSource.fromVault({ ...source, readTimeoutMs: 1_000 }).getToken());
        next = [...script];
        await onlyTyped("readCredential(server answers anything)", () => runtime.readCredential({ ...source, timeoutMs: 1_000 }));
      }),
      { numRuns: RUNS },
    );
    // The answers reached the source: two reads per run, each making at least one request.
    expect(served).toBeGreaterThanOrEqual(2 * RUNS);
  } finally {
    await close();
  }
});
