/**
 * The Vault loader against servers that are not a well-behaved Vault: answers that echo the token
 * or a key back, oversized or endless bodies, redirects, stalls mid-answer, logins without a
 * token, and a token pasted into the path, namespace or address. Every failure must be a typed
 * error within its timeout, with no token, JWT or key material in its message.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { AscTokenSource } from "../../src/runtime/token-source";
import { MAX_VAULT_RESPONSE_BYTES, VAULT_RELOGIN_BACKOFF_MS, vaultLoader, type VaultSource } from "../../src/runtime/vault";
import { containsKeyMaterial, generateTestKey, pemBlock, TEAM, type TestKey } from "../support/keys";
import { JWT_PATTERN } from "../support/leak-guard";
import { listenOnLoopback } from "../support/local-server";
import { selfSignedServer } from "../support/tls";
import { rejection, storedJson } from "./helpers";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
}

interface Scripted {
  address: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 answering every request with `handler`. */
async function scripted(handler: (req: IncomingMessage, res: ServerResponse, seen: Seen[]) => void): Promise<Scripted> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    req.resume();
    handler(req, res, seen);
  });
  const { url, close } = await listenOnLoopback(server);
  return { address: url, seen, close };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers }).end(text);
}

// Shaped like real Vault tokens; unique per run.
const TOKEN = `hvs.CAESI${Math.random().toString(36).slice(2)}Gh4KHGh2cy5${Math.random().toString(36).slice(2, 10)}`;
const LOGIN_TOKEN = `hvs.CAESIlogin${Math.random().toString(36).slice(2)}Qx7Vb2Lm9`;
const SECRET_ID = "f3d9a2b1-77c4-4e0b-9d51-5a2c6e8b1f09";

let key: TestKey;
beforeAll(() => {
  key = generateTestKey();
});

function expectClean(message: string): void {
  for (const secret of [TOKEN, LOGIN_TOKEN, SECRET_ID]) expect(message.includes(secret)).toBe(false);
  expect(JWT_PATTERN.test(message)).toBe(false);
  expect(containsKeyMaterial(message, key)).toBe(false);
  expect(message).not.toMatch(/BEGIN|PRIVATE KEY/);
}

async function failure(server: Scripted, source: Partial<VaultSource> = {}, timeoutMs = 2_000): Promise<{ code: string; message: string }> {
  return rejection(() => vaultLoader({ address: server.address, token: TOKEN, path: "app-store-connect/ci", ...source })(timeoutMs));
}

test("a refusal that echoes the token, a JWT, the key and a long blob: VAULT_PERMISSION_DENIED with none of them", async () => {
  const jwt = `eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.${"A".repeat(40)}`;
  const server = await scripted((_req, res) => json(res, 403, { errors: [`permission denied for ${TOKEN} (jwt ${jwt}) ${key.pem} ${"Zq8".repeat(60)}`] }));
  try {
    const error = await failure(server);
    expect(error.code).toBe("VAULT_PERMISSION_DENIED");
    expect(error.message).toContain("permission denied for");
    expect(error.message.length).toBeLessThan(900);
    expectClean(error.message);
  } finally {
    await server.close();
  }
});

test.each([
  ["percent-encoded, one escape per character", (t: string) => [...t].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join("")],
  ["one character per line", (t: string) => [...t].join("\n")],
  ["in pieces of 5", (t: string) => t.replace(/(.{5})/g, "$1 ")],
])("a refusal echoing the token %s: no 12 of its letters and digits reach the message", async (_, echo) => {
  const server = await scripted((_req, res) => json(res, 403, { errors: [`permission denied for ${echo(TOKEN)}`] }));
  try {
    const error = await failure(server);
    expect(error.code).toBe("VAULT_PERMISSION_DENIED");
    const letters = decodeURIComponent(error.message.replace(/%(?![0-9A-Fa-f]{2})/g, "%25")).replace(/[^A-Za-z0-9]/g, "");
    const secret = TOKEN.replace(/[^A-Za-z0-9]/g, "");
    for (let i = 0; i + 12 <= secret.length; i++) expect(letters.includes(secret.slice(i, i + 12))).toBe(false);
  } finally {
    await server.close();
  }
});

test.each([
  ["dashes", "-"],
  ["one base64url run", "A"],
])("a refusal whose error is 256 KiB of %s: a typed error, short (the field is cut before redaction)", async (_, fill) => {
  const server = await scripted((_req, res) => json(res, 403, { errors: [fill.repeat(MAX_VAULT_RESPONSE_BYTES - 100)] }));
  try {
    const error = await failure(server);
    expect(error.code).toBe("VAULT_PERMISSION_DENIED");
    expect(error.message.length).toBeLessThan(2_000);
  } finally {
    await server.close();
  }
}, 60_000);

test("terminal escapes and bidirectional overrides in Vault's error text do not reach the message", async () => {
  const server = await scripted((_req, res) => json(res, 403, { errors: ["permission denied\u001b]0;owned\u0007\u001b[2J \u009b1m \u202eesrever\u2066"] }));
  try {
    const error = await failure(server);
    expect(error.code).toBe("VAULT_PERMISSION_DENIED");
    expect(error.message).toContain("permission denied");
    // eslint-disable-next-line no-control-regex
    expect(error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
  } finally {
    await server.close();
  }
});

test("https to a server whose certificate is not trusted, or to a plain http server: VAULT_UNREACHABLE saying which, with the fix", async () => {
  const tls = await selfSignedServer((_req, res) => json(res, 200, {}));
  const plain = await scripted((_req, res) => json(res, 200, {}));
  try {
    const untrusted = await rejection(() => vaultLoader({ address: tls.url, token: TOKEN, path: "app-store-connect/ci" })(2_000));
    expect(untrusted.code).toBe("VAULT_UNREACHABLE");
    expect(untrusted.message).toMatch(/TLS certificate/);
    const notTls = await rejection(() => vaultLoader({ address: plain.address.replace("http://", "https://"), token: TOKEN, path: "app-store-connect/ci" })(2_000));
    expect(notTls.code).toBe("VAULT_UNREACHABLE");
    expect(notTls.message).toContain("does not speak TLS at this address");
    expect(plain.seen).toEqual([]);
  } finally {
    tls.server.closeAllConnections();
    await new Promise((resolve) => tls.server.close(resolve));
    await plain.close();
  }
});

test("the token goes only in the X-Vault-Token header, to the configured server, with the namespace header when set", async () => {
  const server = await scripted((_req, res) => json(res, 200, { data: { data: JSON.parse(storedJson(key, TEAM.keyId, TEAM.issuerId)), metadata: { version: 3 } } }));
  try {
    await vaultLoader({ address: `${server.address}/`, token: TOKEN, namespace: "team-ios", path: "app-store-connect/ci" })(2_000);
    expect(server.seen).toHaveLength(1);
    expect(server.seen[0]!.url).toBe("/v1/secret/data/app-store-connect/ci");
    expect(server.seen[0]!.headers["x-vault-token"]).toBe(TOKEN);
    expect(server.seen[0]!.headers["x-vault-namespace"]).toBe("team-ios");
    expect(server.seen[0]!.url.includes(TOKEN)).toBe(false);
  } finally {
    await server.close();
  }
});

test.each([
  ["declared by content-length", true],
  ["streamed without a length", false],
])("an answer larger than the bound (%s) is dropped: SECRET_READ_FAILED", async (_, declared) => {
  const big = JSON.stringify({ data: { data: { pad: "x".repeat(MAX_VAULT_RESPONSE_BYTES + 10) } } });
  const server = await scripted((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", ...(declared ? { "content-length": String(Buffer.byteLength(big)) } : {}) });
    if (declared) res.end(big);
    else {
      // Chunks until the client stops reading: an endless body must not fill memory.
      const more = (): void => {
        if (res.destroyed) return;
        res.write("x".repeat(64 * 1024), () => setImmediate(more));
      };
      more();
    }
  });
  try {
    const error = await failure(server);
    expect(error.code).toBe("SECRET_READ_FAILED");
    expect(error.message).toContain(`more than ${MAX_VAULT_RESPONSE_BYTES} bytes`);
    expectClean(error.message);
  } finally {
    await server.close();
  }
});

test("a redirect is not followed, so the token goes nowhere else: SECRET_READ_FAILED", async () => {
  const elsewhere = await scripted((_req, res) => json(res, 200, {}));
  const server = await scripted((_req, res) => res.writeHead(307, { location: `${elsewhere.address}/v1/secret/data/app-store-connect/ci` }).end());
  try {
    const error = await failure(server);
    expect(error.code).toBe("SECRET_READ_FAILED");
    expect(error.message).toContain("redirect (HTTP 307)");
    expect(elsewhere.seen).toEqual([]);
    expectClean(error.message);
  } finally {
    await server.close();
    await elsewhere.close();
  }
});

test("headers, then a body that never ends: VAULT_UNREACHABLE within the timeout", async () => {
  const server = await scripted((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"data":{"data":');
  });
  try {
    const error = await failure(server, {}, 300);
    expect(error.code).toBe("VAULT_UNREACHABLE");
    expect(error.message).toContain("within 300 ms");
    expectClean(error.message);
  } finally {
    await server.close();
  }
});

test.each([
  ["an HTML error page", 500, "<html>proxy error</html>", "not Vault's JSON"],
  ["rate limiting", 429, JSON.stringify({ errors: ["slow down"] }), "rate limited (HTTP 429: 'slow down')"],
  ["a standby node", 503, JSON.stringify({ errors: ["node is in standby"] }), "unavailable"],
  ["a sealed node", 503, JSON.stringify({ errors: ["Vault is sealed"] }), "is sealed"],
])("%s: a typed error with the status, never the body as-is", async (_, status, body, shown) => {
  const server = await scripted((_req, res) => res.writeHead(status, { "content-type": "text/html" }).end(body));
  try {
    const error = await failure(server);
    expect(error.code).toBe(status === 503 && body.includes("sealed") ? "VAULT_SEALED" : "SECRET_READ_FAILED");
    expect(error.message).toContain(shown);
    expect(error.message).not.toContain("<html>");
    expectClean(error.message);
  } finally {
    await server.close();
  }
});

test("a 200 that is not a KV v2 answer (and a mount check that says nothing): SECRET_FORMAT_INVALID", async () => {
  const server = await scripted((req, res) => (req.url?.startsWith("/v1/sys/internal/ui/mounts/") ? json(res, 403, { errors: ["permission denied"] }) : res.writeHead(200).end("not json at all")));
  try {
    const error = await failure(server);
    expect(error.code).toBe("SECRET_FORMAT_INVALID");
    expect(error.message).toContain("without a KV v2 secret");
    expectClean(error.message);
  } finally {
    await server.close();
  }
});

test("a stored credential whose key does not match its fingerprint: SECRET_FORMAT_INVALID without the key", async () => {
  const other = generateTestKey();
  const tampered = { ...JSON.parse(storedJson(key, TEAM.keyId, TEAM.issuerId)), fingerprint: JSON.parse(storedJson(other, TEAM.keyId, TEAM.issuerId)).fingerprint };
  const server = await scripted((_req, res) => json(res, 200, { data: { data: tampered, metadata: { version: 1 } } }));
  try {
    const error = await failure(server);
    expect(error.code).toBe("SECRET_FORMAT_INVALID");
    expect(error.message).toContain("'secret/app-store-connect/ci'");
    expectClean(error.message);
  } finally {
    await server.close();
  }
});

test("a login answer without a client token: SECRET_READ_FAILED; nothing read", async () => {
  const server = await scripted((_req, res) => json(res, 200, { auth: { policies: ["x"] } }));
  try {
    const error = await failure(server, { token: undefined, appRole: { roleId: "role-id-1234", secretId: SECRET_ID } });
    expect(error.code).toBe("SECRET_READ_FAILED");
    expect(error.message).toContain("holds no client token");
    expect(server.seen.map((s) => [s.method, s.url])).toEqual([["POST", "/v1/auth/approle/login"]]);
    expectClean(error.message);
  } finally {
    await server.close();
  }
});

test("a server that echoes the login token and the secret ID in its refusal: neither reaches the message", async () => {
  const server = await scripted((req, res) => {
    if (req.url === "/v1/auth/approle/login") return json(res, 200, { auth: { client_token: LOGIN_TOKEN, lease_duration: 900 } });
    json(res, 403, { errors: [`token ${LOGIN_TOKEN} from secret_id ${SECRET_ID} is denied`] });
  });
  try {
    const error = await failure(server, { token: undefined, appRole: { roleId: "role-id-1234", secretId: SECRET_ID } });
    expect(error.code).toBe("VAULT_PERMISSION_DENIED");
    expectClean(error.message);
    expect(error.message).toContain("[secret removed]");
    // The login's token went only in the header of the read, never in a URL.
    expect(server.seen.map((s) => s.url).some((u) => u.includes(LOGIN_TOKEN))).toBe(false);
    expect(server.seen[1]!.headers["x-vault-token"]).toBe(LOGIN_TOKEN);
  } finally {
    await server.close();
  }
});

test("a JWT function that throws or returns nothing usable: VAULT_LOGIN_FAILED, no request sent", async () => {
  const server = await scripted((_req, res) => json(res, 500, {}));
  try {
    const threw = await failure(server, { token: undefined, jwt: { role: "ci", jwt: () => { throw new Error(`boom ${TOKEN}`); } } });
    expect(threw.code).toBe("VAULT_LOGIN_FAILED");
    expectClean(threw.message);
    const empty = await failure(server, { token: undefined, jwt: { role: "ci", jwt: async () => "" } });
    expect(empty.code).toBe("OPTION_INVALID");
    expect(server.seen).toEqual([]);
  } finally {
    await server.close();
  }
});

test("a JWT function that never answers fails that load at its bound, and the next load asks it again and logs in", async () => {
  const server = await scripted((req, res) =>
    req.url === "/v1/auth/jwt/login"
      ? json(res, 200, { auth: { client_token: LOGIN_TOKEN, lease_duration: 900 } })
      : json(res, 200, { data: { data: JSON.parse(storedJson(key, TEAM.keyId, TEAM.issuerId)), metadata: { version: 1 } } }),
  );
  try {
    let calls = 0;
    const load = vaultLoader({ address: server.address, path: "app-store-connect/ci", jwt: { role: "ci", jwt: () => (++calls === 1 ? new Promise<string>(() => undefined) : "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvIn0.c2lnbmF0dXJl") } });
    const first = await rejection(() => load(300));
    expect(first.code).toBe("VAULT_UNREACHABLE");
    expect(server.seen).toEqual([]);
    const loaded = await load(2_000);
    expect(loaded.keyId).toBe(TEAM.keyId);
    expect(calls).toBe(2);
    expect(server.seen.map((s) => s.url)).toEqual(["/v1/auth/jwt/login", "/v1/secret/data/app-store-connect/ci"]);
  } finally {
    await server.close();
  }
});

describe("a token pasted where a name belongs never shows", () => {
  let server: Scripted;
  beforeAll(async () => {
    server = await scripted((_req, res) => json(res, 403, { errors: ["permission denied"] }));
  });
  afterAll(() => server.close());

  test.each([
    ["path", { path: `app-store-connect/${TOKEN}` }],
    ["mount", { mount: TOKEN }],
    ["namespace", { namespace: TOKEN }],
    ["the address's path", { address: "" }],
    ["the JWT role", { token: undefined, jwt: { role: TOKEN, jwt: "x.y.z" } }],
  ])("in %s", async (_, given) => {
    const source: Partial<VaultSource> = { ...given };
    if ("address" in given) source.address = `${server.address}/${TOKEN}`;
    let message: string;
    try {
      message = (await failure(server, source)).message;
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.length).toBeGreaterThan(20);
    expectClean(message);
  });

  test.each([
    ["the address", { address: SECRET_ID }],
    ["the mount", { mount: `${SECRET_ID}/..` }],
    ["the namespace", { namespace: `/${SECRET_ID}` }],
    ["the path", { path: `${SECRET_ID}/` }],
    ["the JWT role", { appRole: undefined, jwt: { role: `${SECRET_ID}!`, jwt: "x.y.z" } }],
  ])("a secret ID (a UUID, which messages otherwise show) or a dev token pasted into %s is not shown, whichever check fails first", (_, given) => {
    const devToken = "my-dev-root-token";
    for (const secret of [SECRET_ID, devToken]) {
      const swapped = JSON.parse(JSON.stringify(given).replaceAll(SECRET_ID, secret)) as Partial<VaultSource>;
      let message = "";
      try {
        vaultLoader({ address: server.address, path: "app-store-connect/ci", ...(secret === SECRET_ID ? { appRole: { roleId: "role-id-1234", secretId: SECRET_ID } } : { token: devToken }), ...swapped });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message.length).toBeGreaterThan(20);
      expect(message).not.toContain(secret);
    }
  });

  test("a token pasted as the address's host name, which the URL lower-cases, is not shown", async () => {
    for (const token of ["s.devrootTOKEN", "my-Dev-Root-Token"]) {
      for (const env of [{ VAULT_TOKEN: token }, { BAO_TOKEN: token }]) {
        const error = await rejection(() => vaultLoader({ address: `https://${token}.invalid`, path: "app-store-connect/ci", env })(2_000));
        expect(error.code).toBe("VAULT_UNREACHABLE");
        expect(error.message.toLowerCase()).not.toContain(token.toLowerCase());
      }
    }
  });

  test("VAULT_TOKEN and VAULT_ADDR swapped: the token is not shown", () => {
    let message = "";
    try {
      vaultLoader({ path: "app-store-connect/ci", env: { VAULT_ADDR: "my-dev-root-token", VAULT_TOKEN: server.address } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("VAULT_ADDR");
    expect(message).not.toContain("my-dev-root-token");
  });

  test("a token with a newline or a space is refused without being shown", () => {
    for (const token of [`${TOKEN}\n`, `"${TOKEN}"x y`]) {
      let message = "";
      try {
        vaultLoader({ address: server.address, token, path: "app-store-connect/ci" });
      } catch (error) {
        message = (error as Error).message;
        expect((error as { code: string }).code).toBe("OPTION_INVALID");
      }
      expect(message).toContain("token is not a Vault token");
      expectClean(message);
    }
  });

  test("a secret given as a number (a custom secret ID read from YAML or JSON) is refused without being shown", () => {
    const secret = 904_417_266_351_872;
    for (const given of [{ token: secret }, { token: undefined, appRole: { roleId: secret, secretId: SECRET_ID } }, { token: undefined, appRole: { roleId: "role-id-1234", secretId: secret } }, { token: undefined, jwt: { role: "ci", jwt: secret } }]) {
      let error: { code?: string; message: string } = { message: "" };
      try {
        vaultLoader({ address: server.address, path: "app-store-connect/ci", ...(given as unknown as Partial<VaultSource>) });
      } catch (e) {
        error = e as typeof error;
      }
      expect(error.code).toBe("OPTION_INVALID");
      expect(error.message).toContain("is a number");
      expect(error.message).not.toContain(String(secret).slice(0, 6));
    }
  });

  test("a whole file given as a token, secret ID or JWT is refused as too long, without being shown", async () => {
    // Random base64: a value with millions of distinct 12-character windows.
    const file = randomBytes(2 * 1024 * 1024).toString("base64");
    for (const given of [{ token: file }, { token: undefined, appRole: { roleId: "role-id-1234", secretId: file } }, { token: undefined, jwt: { role: "ci", jwt: file } }]) {
      let error: { code?: string; message: string } = { message: "" };
      try {
        vaultLoader({ address: server.address, path: "app-store-connect/ci", ...(given as Partial<VaultSource>) });
      } catch (e) {
        error = e as typeof error;
      }
      expect(error.code).toBe("OPTION_INVALID");
      expect(error.message).toContain("far longer than any");
      expect(error.message).not.toContain(file.slice(0, 12));
    }
    // Returned by the JWT function at login time: refused there, before anything is sent.
    const seen = server.seen.length;
    const error = await rejection(() => vaultLoader({ address: server.address, path: "app-store-connect/ci", jwt: { role: "ci", jwt: () => file } })(2_000));
    expect(error.code).toBe("OPTION_INVALID");
    expect(error.message).not.toContain(file.slice(0, 12));
    expect(server.seen.length).toBe(seen);
  });

  test("AscTokenSource.fromVault passes the same errors through, clean", async () => {
    const error = await rejection(() => AscTokenSource.fromVault({ address: server.address, token: TOKEN, path: "app-store-connect/ci" }).getToken());
    expect(error.code).toBe("VAULT_PERMISSION_DENIED");
    expectClean(error.message);
  });
});

test("a PEM in a hostile answer's error text never reaches the message (the leak guard would also see it)", async () => {
  const server = await scripted((_req, res) => json(res, 400, { errors: [pemBlock("PRIVATE KEY", key.der.toString("base64"))] }));
  try {
    const error = await failure(server);
    expect(error.code).toBe("SECRET_READ_FAILED");
    expectClean(error.message);
  } finally {
    await server.close();
  }
});

test("a login whose token is refused at once is not repeated at every read: one login per back-off, then one again", async () => {
  let logins = 0;
  const server = await scripted((req, res) => {
    if (req.url === "/v1/auth/approle/login") return json(res, 200, { auth: { client_token: `${LOGIN_TOKEN}${++logins}`, lease_duration: 3600 } });
    json(res, 403, { errors: ["permission denied"] });
  });
  try {
    let now = Date.now();
    const load = vaultLoader({ address: server.address, path: "app-store-connect/ci", appRole: { roleId: "role-id-1234", secretId: SECRET_ID }, now: () => now });
    for (let i = 0; i < 10; i++) expect((await rejection(() => load(2_000))).code).toBe("VAULT_PERMISSION_DENIED");
    // A reader without access (a policy missing, not a token gone stale) makes one token, not one per read.
    expect(logins).toBe(1);
    expect(server.seen.filter((s) => s.url.startsWith("/v1/secret/")).length).toBe(10);
    // After the back-off a refusal may be news (the role's policies were fixed): one login again.
    now += VAULT_RELOGIN_BACKOFF_MS;
    for (let i = 0; i < 3; i++) await rejection(() => load(2_000));
    expect(logins).toBe(2);
  } finally {
    await server.close();
  }
});

test("a cached login token that is revoked is still renewed at once, then the new token is used", async () => {
  let logins = 0;
  const server = await scripted((req, res) => {
    if (req.url === "/v1/auth/approle/login") return json(res, 200, { auth: { client_token: `${LOGIN_TOKEN}${++logins}`, lease_duration: 3600 } });
    // The first token works for one read, then is revoked; the second works.
    const token = req.headers["x-vault-token"];
    const readsWithFirst = server.seen.filter((s) => s.headers["x-vault-token"] === `${LOGIN_TOKEN}1`).length;
    if (token === `${LOGIN_TOKEN}1` && readsWithFirst > 1) return json(res, 403, { errors: ["permission denied"] });
    json(res, 200, { data: { data: JSON.parse(storedJson(key, TEAM.keyId, TEAM.issuerId)), metadata: { version: 1 } } });
  });
  try {
    const load = vaultLoader({ address: server.address, path: "app-store-connect/ci", appRole: { roleId: "role-id-1234", secretId: SECRET_ID } });
    await load(2_000);
    await load(2_000);
    await load(2_000);
    expect(logins).toBe(2);
    expect(server.seen.map((s) => (s.url.endsWith("/login") ? "login" : "read"))).toEqual(["login", "read", "read", "login", "read", "read"]);
  } finally {
    await server.close();
  }
});

test('a current version that is not a whole number: "previous" asks for no made-up version, SECRET_NOT_FOUND', async () => {
  for (const version of [2.5, "3", Number.NEGATIVE_INFINITY, null]) {
    const server = await scripted((_req, res) => json(res, 200, { data: { data: JSON.parse(storedJson(key, TEAM.keyId, TEAM.issuerId)), metadata: { version } } }));
    try {
      const error = await failure(server, { version: "previous" });
      expect(error.code).toBe("SECRET_NOT_FOUND");
      expect(server.seen.map((s) => s.url).filter((url) => url.includes("?version="))).toEqual([]);
    } finally {
      await server.close();
    }
  }
});

test("a clock that is not a function is an option error, not a failed read", () => {
  expect(() => vaultLoader({ address: "http://127.0.0.1:9", token: TOKEN, path: "app-store-connect/ci", now: 1_700_000_000_000 as never })).toThrow(expect.objectContaining({ code: "OPTION_INVALID", field: "now" }) as Error);
});
