/**
 * probeCredential against a server that wants the token: it echoes it back in every shape, lies
 * about the time, and answers nonsense. The probe must never repeat a body as-is, never mint a
 * token dated more than 15 minutes from the local clock, and never throw.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { REAL_ENVIRONMENT, type ProbeEnvironment } from "../../src/apple/attempts";
import { MAX_CLOCK_ADJUSTMENT_SECONDS, type ProbeResult } from "../../src/apple/options";
import { probeCredentialWith } from "../../src/apple/probe-credential";
import { ERROR_CODES } from "../../src/core";
import { containsKeyMaterial, generateTestKey, TEAM, type TestKey } from "../support/keys";
import { selfSignedServer } from "../support/tls";

let key: TestKey;
let server: Server;
let baseUrl: string;
/** What the server does with the next request. */
let answer: (token: string, request: IncomingMessage, response: ServerResponse) => void;
/** Every token the server received. */
const received: string[] = [];

beforeAll(async () => {
  key = generateTestKey();
  server = createServer((request, response) => {
    const token = (request.headers.authorization ?? "").replace(/^Bearer /, "");
    received.push(token);
    answer(token, request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  received.length = 0;
});

const noSleep: ProbeEnvironment = { ...REAL_ENVIRONMENT, sleep: async () => undefined };

function probe(options: { retries?: number } = {}, env: ProbeEnvironment = noSleep): Promise<ProbeResult> {
  return probeCredentialWith(env, { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem }, { mode: "online", baseUrl, timeoutMs: 2000, retries: options.retries ?? 1 });
}

/**
 * True when `text` holds any 12-character run of any segment of `token`, as it is or spelled by
 * the letters and digits of `text` once percent, `\u` and `\x` escapes are decoded (a token echoed
 * one escape per character, or in pieces too short to judge one by one).
 */
function holdsTokenRun(text: string, token: string): boolean {
  for (const segment of token.split(".")) {
    for (let i = 0; i + 12 <= segment.length; i++) if (text.includes(segment.slice(i, i + 12))) return true;
  }
  const letters = (t: string): string =>
    t.replace(/%([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})/g, (_, a?: string, b?: string, c?: string) => String.fromCharCode(parseInt((a ?? b ?? c)!, 16))).replace(/[^A-Za-z0-9]/g, "");
  const spelled = letters(text);
  const secret = letters(token);
  for (let i = 0; i + 12 <= secret.length; i++) if (spelled.includes(secret.slice(i, i + 12))) return true;
  return false;
}

function appleError(status: number, detail: string): string {
  return JSON.stringify({ errors: [{ id: "x", status: String(status), code: status === 401 ? "NOT_AUTHORIZED" : "FORBIDDEN_ERROR", title: `Echo: ${detail.slice(0, 40)}`, detail }] });
}

const percentEncodeAll = (text: string): string => [...text].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`).join("");

const ECHOES: [string, (token: string) => string][] = [
  ["as is", (t) => `token ${t} rejected`],
  ["split across line breaks", (t) => `token ${t.replace(/(.{20})/g, "$1\n")} rejected`],
  ["split across spaces", (t) => `token ${t.replace(/(.{17})/g, "$1 ")}`],
  ["percent-encoded dots", (t) => `token ${t.replace(/\./g, "%2E")}`],
  ["percent-encoded entirely", (t) => `token ${percentEncodeAll(t)}`],
  ["the signature alone", (t) => `signature ${t.split(".")[2]} is invalid`],
  ["the payload alone", (t) => `claims ${t.split(".")[1]}`],
  ["inside a URL", (t) => `see https://example.com/debug?token=${encodeURIComponent(t)}&x=1`],
  ["base64 of the token", (t) => `blob ${Buffer.from(t).toString("base64")}`],
  ["JSON-escaped dots", (t) => `token ${t.replace(/\./g, "\\u002e")}`],
  ["JSON-escaped entirely", (t) => `token ${[...t].map((c) => `\\u00${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join("")}`],
  ["in pieces of 5, comma-separated", (t) => `token ${t.replace(/(.{5})/g, "$1,")}`],
  ["one character per line", (t) => `token ${[...t].join("\n")}`],
  ["as a JSON key", (t) => JSON.stringify({ [t.split(".")[2]!]: "invalid" })],
];

describe.each([401, 403, 400, 500])("a %i answer echoing the token", (status) => {
  test.each(ECHOES)("%s: the message carries Apple's code, never any 12-character run of the token", async (_label, echo) => {
    answer = (token, _request, response) => response.writeHead(status, { "content-type": "application/json" }).end(appleError(status, echo(token)));
    const result = await probe();
    expect(result.ok).toBe(false);
    expect(received.length).toBeGreaterThan(0);
    const text = JSON.stringify(result);
    for (const token of received) expect(holdsTokenRun(text, token)).toBe(false);
    expect(containsKeyMaterial(text, key)).toBe(false);
    if (status === 401 || status === 403) expect(result.error!.message).toMatch(/Apple said: (NOT_AUTHORIZED|FORBIDDEN_ERROR)/);
  });
});

describe("an error field built to make redaction slow: the probe answers with a short, typed error", () => {
  const MEGABYTE = 1024 * 1024;
  const pemHeader = generateTestKey().pem.split("\n")[0]!;
  test.each([
    ["a megabyte of dashes", "-".repeat(MEGABYTE - 200)],
    ["a PEM header and then dashes", `${pemHeader}${"-".repeat(MEGABYTE - 300)}`],
    ["one upper-case run", "A".repeat(MEGABYTE - 200)],
    ["CamelCase words", "Abc".repeat((MEGABYTE - 200) / 3)],
  ])("%s", async (_label, detail) => {
    answer = (_token, _request, response) => response.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ status: "401", code: "NOT_AUTHORIZED", title: "Unauthorized", detail }] }));
    const result = await probe({ retries: 0 });
    expect(result.error?.code).toBe("API_UNAUTHORIZED");
    expect(result.error!.message.length).toBeLessThan(2_000);
  }, 60_000);
});

test("terminal escapes and bidirectional overrides in Apple's fields do not reach the message", async () => {
  const detail = "bad token\u001b]0;owned\u0007\u001b[2J\u001b[31m red \u009b1m \u202eesrever\u2066 \u0000end";
  answer = (_token, _request, response) => response.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ status: "401", code: "NOT_AUTHORIZED\u001b[0m", title: "Unauthorized\r\nInjected: yes", detail }] }));
  const result = await probe();
  expect(result.error?.code).toBe("API_UNAUTHORIZED");
  expect(result.error!.message).toContain("bad token");
  // eslint-disable-next-line no-control-regex
  expect(result.error!.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
});

test("https to a server whose certificate is not trusted (a proxy intercepting TLS): API_UNREACHABLE saying so, with the fix", async () => {
  const tls = await selfSignedServer((_request, response) => response.writeHead(200).end("{}"));
  try {
    const result = await probeCredentialWith(noSleep, { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem }, { mode: "online", baseUrl: tls.url, timeoutMs: 2000, retries: 0 });
    expect(result.error?.code).toBe("API_UNREACHABLE");
    expect(result.error!.message).toMatch(/TLS certificate .*NODE_EXTRA_CA_CERTS/);
  } finally {
    tls.server.closeAllConnections();
    await new Promise((resolve) => tls.server.close(resolve));
  }
});

test("https to a plain http server: API_UNREACHABLE saying it does not speak TLS", async () => {
  const result = await probeCredentialWith(noSleep, { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem }, { mode: "online", baseUrl: baseUrl.replace("http://", "https://"), timeoutMs: 2000, retries: 0 });
  expect(result.error?.code).toBe("API_UNREACHABLE");
  expect(result.error!.message).toContain("does not speak TLS at this address");
  expect(received).toEqual([]);
});

test("a body that is not Apple's JSON is never repeated at all", async () => {
  answer = (token, _request, response) => response.writeHead(401, { "content-type": "text/html" }).end(`<html>Proxy login. Your token: ${token}. Internal ref ZXhhbXBsZS1yZWY</html>`);
  const result = await probe();
  expect(result.error?.code).toBe("API_UNEXPECTED");
  expect(result.error!.message).not.toMatch(/Proxy login|ZXhhbXBsZS1yZWY|html/);
});

describe("a server's Date header moves a re-signed token by at most 15 minutes", () => {
  const DAY = 86_400;
  test.each([
    ["90 days ahead", 90 * DAY],
    ["two years behind", -730 * DAY],
    ["20 minutes ahead", 20 * 60],
  ])("%s: the skew is reported, and no token dated beyond the cap is minted", async (_label, skewSeconds) => {
    answer = (_token, _request, response) =>
      response.writeHead(401, { "content-type": "application/json", date: new Date(Date.now() + skewSeconds * 1000).toUTCString() }).end(appleError(401, "Provide a properly configured and signed bearer token."));
    const started = Math.floor(Date.now() / 1000);
    const result = await probe();
    expect(result).toMatchObject({ ok: false, error: { code: "API_UNAUTHORIZED" } });
    expect(Math.abs(result.clockSkewSeconds! - skewSeconds)).toBeLessThanOrEqual(2);
    expect(received).toHaveLength(2);
    for (const token of received) {
      const { iat, exp } = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { iat: number; exp: number };
      expect(Math.abs(iat - started)).toBeLessThanOrEqual(MAX_CLOCK_ADJUSTMENT_SECONDS + 5);
      expect(exp - iat).toBeLessThanOrEqual(1200);
    }
  });

  test("within the cap, the second token is dated on the server's clock", async () => {
    answer = (_token, _request, response) =>
      response.writeHead(401, { "content-type": "application/json", date: new Date(Date.now() + 600_000).toUTCString() }).end(appleError(401, "expired"));
    await probe();
    const iats = received.map((t) => (JSON.parse(Buffer.from(t.split(".")[1]!, "base64url").toString()) as { iat: number }).iat);
    expect(iats[1]! - iats[0]!).toBeGreaterThanOrEqual(598);
    expect(iats[1]! - iats[0]!).toBeLessThanOrEqual(602);
  });
});

test.each([
  ["the epoch", "Thu, 01 Jan 1970 00:00:00 GMT"],
  ["year 275760", "Sat, 13 Sep 275760 00:00:00 GMT"],
  ["before the epoch", "Mon, 01 Jan 1900 00:00:00 GMT"],
  ["garbage", "tomorrow-ish"],
  ["a number", "99999999999999999999"],
  ["empty", ""],
  ["very long", "Thu, 01 Jan 2026 00:00:00 GMT".repeat(50)],
])("a Date header of %s never makes the probe throw", async (_label, date) => {
  answer = (_token, _request, response) => response.writeHead(401, { "content-type": "application/json", date }).end(appleError(401, "nope"));
  const result = await probe();
  expect(result).toMatchObject({ ok: false, error: { code: "API_UNAUTHORIZED" } });
});

describe("property: whatever the answer, the probe resolves with a typed result and no token", () => {
  const bodies = (token: string): fc.Arbitrary<string> =>
    fc.oneof(
      fc.string(),
      fc.constant(""),
      fc.constant(JSON.stringify({ data: [] })),
      fc.json(),
      fc
        .record({
          status: fc.oneof(fc.string(), fc.constantFrom("401", "403", "500")),
          code: fc.oneof(fc.string(), fc.constantFrom("NOT_AUTHORIZED", "FORBIDDEN_ERROR")),
          title: fc.string(),
          detail: fc.constantFrom(...ECHOES.map(([, echo]) => echo(token))),
        })
        .map((entry) => JSON.stringify({ errors: [entry, entry] })),
    );

  test("random statuses, Date and Retry-After headers, bodies and network failures", async () => {
    // The token the fake fetch echoes is the one it was sent.
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            kind: fc.constantFrom("answer", "answer", "answer", "throw", "throw-odd"),
            status: fc.integer({ min: 200, max: 599 }),
            date: fc.option(fc.oneof(fc.string(), fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? "Invalid" : d.toUTCString())))),
            retryAfter: fc.option(fc.oneof(fc.string(), fc.integer({ min: -5, max: 1e9 }).map(String))),
            bodyIndex: fc.nat(),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.integer({ min: 0, max: 3 }),
        async (script, retries) => {
          const sentTokens: string[] = [];
          let call = 0;
          const env: ProbeEnvironment = {
            ...noSleep,
            fetch: async (_input, init) => {
              const token = (new Headers(init?.headers).get("authorization") ?? "").replace(/^Bearer /, "");
              sentTokens.push(token);
              const step = script[Math.min(call++, script.length - 1)]!;
              if (step.kind === "throw") throw new TypeError(`fetch failed for ${token}`);
              if (step.kind === "throw-odd") throw { toString: () => token, get name(): string { throw new Error(token); } };
              const body = fc.sample(bodies(token), { seed: step.bodyIndex, numRuns: 1 })[0]!;
              const headers = new Headers();
              if (step.date !== null) headers.set("date", step.date.replace(/[\r\n]/g, " "));
              if (step.retryAfter !== null) headers.set("retry-after", step.retryAfter.replace(/[\r\n]/g, " "));
              return new Response([101, 103, 204, 205, 304].includes(step.status) ? null : body, { status: step.status === 101 || step.status === 103 ? 200 : step.status, headers });
            },
          };
          const result = await probeCredentialWith(env, { keyId: TEAM.keyId, issuerId: TEAM.issuerId, privateKey: key.pem }, { mode: "online", baseUrl: "https://api.example.test", retries });
          expect(typeof result.ok).toBe("boolean");
          if (!result.ok) expect(ERROR_CODES).toContain(result.error?.code);
          const text = JSON.stringify(result);
          for (const token of sentTokens) expect(holdsTokenRun(text, token)).toBe(false);
          for (const token of sentTokens) {
            const { iat } = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { iat: number };
            expect(Math.abs(iat - Date.now() / 1000)).toBeLessThanOrEqual(MAX_CLOCK_ADJUSTMENT_SECONDS + 5);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
