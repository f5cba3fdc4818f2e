/**
 * Secrets Manager that accepts the connection and never answers, with the REAL AWS SDK client:
 * a cold read fails with SECRET_READ_FAILED at its bound, a due re-read never blocks a caller
 * while a fresh token is in hand, and the source recovers by itself once the service answers.
 * The service is a TCP server on 127.0.0.1 that either stalls or forwards to moto.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { AscTokenSource } from "../../src/runtime/token-source";
import { readCredential } from "../../src/runtime/sources";
import { containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";
import { startMoto, type MotoServer } from "../support/moto-server";
import { decodeJwt, rejection, storedJson, until } from "./helpers";

jest.setTimeout(60_000);

let moto: MotoServer;
let proxy: Server;
let endpoint: string;
let mode: "stall" | "forward" = "stall";
/** Connections the stalled service holds open. */
const held = new Set<Socket>();
/** Connections forwarded to moto, which a switch to "stall" freezes (the SDK reuses connections). */
const forwarded = new Set<Socket>();

function setMode(next: "stall" | "forward"): void {
  mode = next;
  if (next === "stall") {
    for (const socket of forwarded) {
      // Requests on a reused connection now go nowhere (read and dropped, never answered), and a
      // client that gives up still closes it.
      socket.unpipe();
      socket.resume();
      held.add(socket);
    }
    forwarded.clear();
  }
}
let key: TestKey;
const SECRET = "app-store-connect/stalled";
const timings: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  key = generateTestKey();
  const motoPort = Number(new URL(moto.endpoint).port);
  proxy = createServer((socket) => {
    if (mode === "stall") {
      // Accepts and reads the request, and never answers; a client that gives up closes it.
      held.add(socket);
      socket.on("close", () => held.delete(socket));
      socket.on("error", () => undefined);
      socket.resume();
      return;
    }
    const upstream = connect(motoPort, "127.0.0.1");
    forwarded.add(socket);
    socket.on("close", () => {
      forwarded.delete(socket);
      held.delete(socket);
    });
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  endpoint = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  await sdkClient(moto.endpoint).send(new CreateSecretCommand({ Name: SECRET, SecretString: storedJson(key, TEAM.keyId, TEAM.issuerId) }));
});

afterAll(async () => {
  for (const socket of held) socket.destroy();
  await new Promise<void>((resolve) => proxy?.close(() => resolve()));
  await moto?.stop();
  process.stdout.write(`stalled-service timings: ${timings.join("; ")}\n`);
});

beforeEach(() => {
  setMode("stall");
});

/** A real SDK client with no timeout of its own: the bound must come from the package. */
function sdkClient(at: string): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint: at, region: "eu-west-1", credentials: { accessKeyId: "testing", secretAccessKey: "testing" }, maxAttempts: 1 });
}

test("a cold read against a stalled service fails with SECRET_READ_FAILED at readTimeoutMs, naming the secret and the bound, not the secret's content", async () => {
  const source = AscTokenSource.fromSecretsManager({ secretId: SECRET, client: sdkClient(endpoint), readTimeoutMs: 500 });
  const started = Date.now();
  const error = await rejection(() => source.getToken());
  timings.push(`cold read gave up after ${Date.now() - started} ms (readTimeoutMs 500)`);
  expect(error).toMatchObject({ code: "SECRET_READ_FAILED", name: "AscCredentialError" });
  expect(error.message).toMatch(/within 500 ms/);
  expect(error.message).toContain(`Secret '${SECRET}'`);
  expect(held.size).toBeGreaterThan(0);
  expect(containsKeyMaterial(error.message, key)).toBe(false);
});

test("the default client gives up too (the SDK's own default is no timeout at all)", async () => {
  const previous = { ...process.env };
  Object.assign(process.env, { AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint, AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_MAX_ATTEMPTS: "1" });
  try {
    const started = Date.now();
    const error = await rejection(() => readCredential({ secretId: SECRET, timeoutMs: 400 }));
    timings.push(`default client gave up after ${Date.now() - started} ms (timeoutMs 400)`);
    expect(error.code).toBe("SECRET_READ_FAILED");
  } finally {
    process.env = previous;
  }
});

test("a due re-read that stalls serves the fresh token at once and retries in the background; the source recovers when the service answers", async () => {
  setMode("forward");
  let now = Date.now();
  const source = AscTokenSource.fromSecretsManager({ secretId: SECRET, client: sdkClient(endpoint), refreshSeconds: 60, readTimeoutMs: 400, now: () => now });
  const first = await source.getToken();

  setMode("stall");
  now += 61_000;
  const started = Date.now();
  // Many callers while the re-read hangs: each gets the token in hand without waiting for it.
  const tokens = await Promise.all(Array.from({ length: 20 }, () => source.getToken()));
  timings.push(`20 callers during a stalled re-read answered in ${Date.now() - started} ms`);
  expect(new Set(tokens)).toEqual(new Set([first]));
  const stalled = held.size;
  expect(stalled).toBeGreaterThan(0);

  // The re-read gives up at its bound (the client closes its connection); the token is still served.
  await until(() => held.size < stalled);
  expect(await source.getToken()).toBe(first);

  // The service answers again: after the back-off a re-read succeeds, and a new key would be seen.
  setMode("forward");
  now += 31_000;
  expect(await source.getToken()).toBe(first);
  now += 1_000_000; // past the token's life: the next call needs the credential, and reads it
  const next = await source.getToken();
  expect(decodeJwt(next).header.kid).toBe(TEAM.keyId);
  expect(next).not.toBe(first);
});

test("while the token in hand is no longer fresh, a stalled read fails the caller at its bound, and the next call reads anew", async () => {
  setMode("forward");
  let now = Date.now();
  const source = AscTokenSource.fromSecretsManager({ secretId: SECRET, client: sdkClient(endpoint), refreshSeconds: 60, readTimeoutMs: 300, now: () => now });
  await source.getToken();
  setMode("stall");
  now += 2_000_000;
  expect((await rejection(() => source.getToken())).code).toBe("SECRET_READ_FAILED");
  setMode("forward");
  expect(decodeJwt(await source.getToken()).header.kid).toBe(TEAM.keyId);
});
