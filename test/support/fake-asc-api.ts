/**
 * A FAKE of the App Store Connect API, for tests only. It is not Apple's server: it implements
 * the token rules Apple documents (developer.apple.com: "Generating Tokens for API
 * Requests" and "Parsing the error response code") so clients can be tested offline on
 * 127.0.0.1.
 *
 * What it checks on every `/v1/*` request, in this order:
 * - an `Authorization: Bearer …` header (missing → 401 NOT_AUTHORIZED, "credentials are missing");
 * - a well-formed token: three base64url segments, a JSON header and payload, header
 *   `alg: "ES256"`, `typ: "JWT"` and a string `kid` (else 403 FORBIDDEN_ERROR: Apple lists 403
 *   for "a token formatted wrongly");
 * - a registered `kid` (401), then the ES256 signature in JWT (IEEE P1363, r||s) form against the
 *   registered public key (401);
 * - only then a revoked `kid` → 403 FORBIDDEN_ERROR (Apple lists 403 for revoked keys): a forged
 *   token naming a revoked key gets 401 like any other forgery;
 * - team keys: `iss` equal to the registered issuer ID and no `sub`; individual keys:
 *   `sub: "user"` and no `iss` (401);
 * - `aud: "appstoreconnect-v1"`, numeric `iat` and `exp`, `exp - iat` ≤ 1200, `exp` not more
 *   than 1200 s ahead of the fake's clock and not in its past (401);
 * - `scope`, when present, must have an entry matching the request (401 NOT_AUTHORIZED).
 *   Choice: Apple documents only that such a token "is rejected"; 401 is what a token that is
 *   not valid for the request gets elsewhere. An entry matches when its method equals the
 *   request's, its path equals the request's path, and each of its query parameters is present
 *   with the same value in the request's query.
 *
 * Where the fake is STRICTER than Apple documents (so a client that passes here may still pass
 * at Apple, never the reverse): `typ: "JWT"` is required (Apple's example carries it, no rule
 * says it is checked); a team key's token with a `sub` claim is refused (Apple documents `sub`
 * only for individual keys); a malformed token gets 403 whatever is wrong with it (Apple does not
 * say which parts it parses before answering).
 *
 * `iat` is required by default, as Apple documents it. Widely used clients omit it (codemagic-cli-
 * tools signs `{iss, exp, aud}` only) and work against Apple every day, so Apple evidently does not
 * enforce it; `{ requireIssuedAt: false }` accepts a token without `iat` (one that has an `iat`
 * must still carry a number), for tests of such a client. The lifetime rule then bounds `exp`
 * against the fake's clock only.
 *
 * After authentication: a scripted answer ({@link FakeAscApi.enqueue}) when one is queued (an
 * unauthenticated request never consumes one); else 404 NOT_FOUND with Apple's error JSON for a
 * path outside the few resources the fake knows (`/v1/apps`, `/v1/builds`, `/v1/bundleIds`,
 * `/v1/users`, each optionally `/{id}`: the fake holds no resources, so an `/{id}` is 404 too);
 * else 200 with an empty JSON:API list. Paths outside `/v1/` get 404 without authentication.
 * Every answer carries a `Date` header from the fake's clock (real clock +
 * {@link FakeAscApi.clockSkewSeconds}). Tokens are never logged or recorded;
 * {@link FakeAscApi.requests} records only the `kid`.
 */
import { createPublicKey, randomUUID, verify, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Options of {@link FakeAscApi.start}. */
export interface FakeAscApiOptions {
  clockSkewSeconds?: number;
  delayMs?: number;
  /** Default true: a token without `iat` gets 401 (see the module comment). */
  requireIssuedAt?: boolean;
}

/** A key the fake accepts, as App Store Connect knows it after "Generate API Key". */
export interface FakeKeyRegistration {
  keyId: string;
  /** SPKI PEM of the key's public half. */
  publicKeyPem: string;
  /** Required for team keys (the team's Issuer ID). */
  issuerId?: string;
  /** Default `"team"`. */
  keyType?: "team" | "individual";
}

/**
 * A scripted answer for the next authenticated request: a bare status gets Apple's error JSON
 * for that status (or the normal 200 body for 2xx); `reset` destroys the socket without
 * answering; `body` replaces the body verbatim; `delayMs` delays this answer;
 * `retryAfterSeconds` adds a `retry-after` header (Apple does not promise one on 429);
 * `headers` adds any other headers (e.g. a redirect's `location`).
 */
export type ScriptedResponse = number | { status: number; delayMs?: number; reset?: boolean; body?: string; retryAfterSeconds?: number; headers?: Record<string, string> };

/** One request the fake saw. `status` is 0 when the connection was reset instead of answered. */
export interface FakeRequestRecord {
  method: string;
  path: string;
  status: number;
  kid?: string;
}

interface RegisteredKey {
  keyId: string;
  publicKey: KeyObject;
  issuerId?: string;
  keyType: "team" | "individual";
}

const AUDIENCE = "appstoreconnect-v1";
/** The `detail` of the fake's 403 for a revoked key (the fake's wording, not Apple's). */
export const REVOKED_DETAIL = "The API key in use has been revoked";
/** The resources the fake knows; group 1 is the type, group 2 an ID. */
const KNOWN_RESOURCE = /^\/v1\/(apps|builds|bundleIds|users)(?:\/([^/]+))?\/?$/;
const MAX_LIFETIME_SECONDS = 1200;

/** Apple's error texts per status, as its documentation and real responses show them. */
const APPLE_ERRORS: Record<number, { code: string; title: string; detail: string }> = {
  400: { code: "PARAMETER_ERROR", title: "A parameter has an invalid value", detail: "The request contains a parameter with an invalid value." },
  401: {
    code: "NOT_AUTHORIZED",
    title: "Authentication credentials are missing or invalid.",
    detail: "Provide a properly configured and signed bearer token, and make sure that it has not expired. Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens",
  },
  403: { code: "FORBIDDEN_ERROR", title: "This request is forbidden for security reasons", detail: "The API key in use does not allow this request" },
  404: { code: "NOT_FOUND", title: "The specified resource does not exist", detail: "The path provided does not match a defined resource type." },
  429: { code: "RATE_LIMIT_EXCEEDED", title: "The request rate limit has been reached.", detail: "We've received too many requests for this API. Please wait and try again or slow down your request rate." },
  500: { code: "UNEXPECTED_ERROR", title: "An unexpected error occurred.", detail: "An unexpected error occurred on the server side. If this issue continues, contact us at https://developer.apple.com/contact/." },
  503: { code: "SERVICE_UNAVAILABLE", title: "The service is unavailable.", detail: "The service is temporarily unavailable. Please try again later." },
};

/** Apple's error document for `status`, optionally with a more specific `detail`. */
export function appleErrorBody(status: number, detail?: string): string {
  const known = APPLE_ERRORS[status] ?? (status >= 500 ? APPLE_ERRORS[500]! : { code: "UNEXPECTED_ERROR", title: "The request failed.", detail: "The request failed." });
  return JSON.stringify({ errors: [{ id: randomUUID(), status: String(status), code: known.code, title: known.title, detail: detail ?? known.detail }] });
}

/** A FAKE App Store Connect API on 127.0.0.1 (see the module comment for its rules). */
export class FakeAscApi {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly baseUrl: string;
  /** The fake's clock is the real clock plus this many seconds; `Date` headers reflect it. */
  clockSkewSeconds: number;
  /** Every answer is delayed by this many milliseconds (a slow server). */
  delayMs: number;
  /** Every request seen, in order. Holds no tokens. */
  readonly requests: FakeRequestRecord[] = [];
  /** A token without `iat` is refused (401); see the module comment. */
  readonly requireIssuedAt: boolean;

  private readonly keys = new Map<string, RegisteredKey>();
  private readonly revoked = new Set<string>();
  private readonly script: ScriptedResponse[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    options: FakeAscApiOptions,
  ) {
    const address = server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${address.port}`;
    this.clockSkewSeconds = options.clockSkewSeconds ?? 0;
    this.delayMs = options.delayMs ?? 0;
    this.requireIssuedAt = options.requireIssuedAt ?? true;
  }

  /** Starts a fake on an ephemeral port of 127.0.0.1. */
  static async start(options: FakeAscApiOptions = {}): Promise<FakeAscApi> {
    // The handler needs the instance, which needs the listening server's port.
    const holder: { fake?: FakeAscApi } = {};
    const server = createServer((req, res) => holder.fake!.handle(req, res));
    // Keep-alive sockets would hold stop() open; every answer closes its connection.
    server.keepAliveTimeout = 1;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    holder.fake = new FakeAscApi(server, options);
    return holder.fake;
  }

  /** Makes a key known, as creating it in App Store Connect would. */
  registerKey(k: FakeKeyRegistration): void {
    const keyType = k.keyType ?? "team";
    if (keyType === "team" && !k.issuerId) throw new Error("FakeAscApi.registerKey: a team key needs issuerId");
    this.keys.set(k.keyId, { keyId: k.keyId, publicKey: createPublicKey(k.publicKeyPem), keyType, ...(k.issuerId ? { issuerId: k.issuerId } : {}) });
    this.revoked.delete(k.keyId);
  }

  /** Revokes a key: later requests signed with it get 403. */
  revokeKey(keyId: string): void {
    this.revoked.add(keyId);
  }

  /**
   * The next authenticated requests get these answers, in order, instead of normal processing.
   * A request that fails authentication gets its 401/403 and leaves the queue untouched.
   */
  enqueue(...responses: ScriptedResponse[]): void {
    this.script.push(...responses);
  }

  /** Drops scripted answers no request consumed; returns how many there were. */
  clearScript(): number {
    return this.script.splice(0).length;
  }

  /** The fake's current time in epoch seconds. */
  nowSeconds(): number {
    return Math.floor(Date.now() / 1000) + this.clockSkewSeconds;
  }

  /** Stops listening and drops open connections (including slow answers still pending). */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://fake");
    const kid = kidOf(req.headers.authorization);
    const record: FakeRequestRecord = { method, path: url.pathname + url.search, status: 0, ...(kid !== undefined ? { kid } : {}) };
    this.requests.push(record);
    // The body is not needed, but it must be drained for the connection to finish cleanly.
    req.resume();

    const answer = (status: number, body: string, delayMs = 0, extra: Record<string, string> = {}): void => {
      record.status = status;
      this.later(this.delayMs + delayMs, () => this.send(res, status, body, extra));
    };
    if (!url.pathname.startsWith("/v1/")) return answer(404, appleErrorBody(404));
    const denied = this.authenticate(req, method, url);
    if (denied) return answer(denied.status, denied.body);

    const scripted = this.script.shift();
    if (scripted !== undefined) {
      const s = typeof scripted === "number" ? { status: scripted } : scripted;
      if (s.reset) {
        this.later(this.delayMs + (s.delayMs ?? 0), () => req.socket.destroy());
        return;
      }
      const extra = { ...(s.headers ?? {}), ...(s.retryAfterSeconds !== undefined ? { "retry-after": String(s.retryAfterSeconds) } : {}) };
      return answer(s.status, s.body ?? (s.status >= 200 && s.status < 300 ? this.okBody(url) : appleErrorBody(s.status)), s.delayMs ?? 0, extra);
    }
    const resource = KNOWN_RESOURCE.exec(url.pathname);
    if (!resource) return answer(404, appleErrorBody(404));
    if (resource[2] !== undefined) return answer(404, appleErrorBody(404, `There is no resource of type '${resource[1]}' with id '${resource[2].slice(0, 40)}'`));
    answer(200, this.okBody(url));
  }

  /** Apple's answer to a request that fails authentication, or `undefined` when it passes. */
  private authenticate(req: IncomingMessage, method: string, url: URL): { status: number; body: string } | undefined {
    const unauthorized = { status: 401, body: appleErrorBody(401) };
    const malformed = { status: 403, body: appleErrorBody(403, "The bearer token is not a well-formed JWT signed with ES256.") };
    const header = req.headers.authorization;
    if (!header || !/^Bearer\s/i.test(header)) return unauthorized;
    const match = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(header);
    if (!match) return malformed;
    const [, headerSeg, payloadSeg, signatureSeg] = match as unknown as [string, string, string, string];
    const jwtHeader = decodeJson(headerSeg);
    const claims = decodeJson(payloadSeg);
    if (!jwtHeader || !claims) return malformed;
    if (jwtHeader.alg !== "ES256" || jwtHeader.typ !== "JWT" || typeof jwtHeader.kid !== "string") return malformed;

    const key = this.keys.get(jwtHeader.kid);
    if (!key) return unauthorized;
    const signature = Buffer.from(signatureSeg, "base64url");
    const signed = signature.length === 64 && verify("sha256", Buffer.from(`${headerSeg}.${payloadSeg}`), { key: key.publicKey, dsaEncoding: "ieee-p1363" }, signature);
    if (!signed) return unauthorized;
    // Only a token the key really signed learns that the key is revoked.
    if (this.revoked.has(key.keyId)) return { status: 403, body: appleErrorBody(403, REVOKED_DETAIL) };

    if (key.keyType === "team") {
      if (claims.iss !== key.issuerId || claims.sub !== undefined) return unauthorized;
    } else if (claims.sub !== "user" || claims.iss !== undefined) {
      return unauthorized;
    }
    if (claims.aud !== AUDIENCE) return unauthorized;
    const { iat, exp } = claims;
    if (typeof exp !== "number") return unauthorized;
    if (typeof iat !== "number" && (this.requireIssuedAt || iat !== undefined)) return unauthorized;
    const now = this.nowSeconds();
    if ((typeof iat === "number" && exp - iat > MAX_LIFETIME_SECONDS) || exp - now > MAX_LIFETIME_SECONDS || exp <= now) return unauthorized;
    if (claims.scope !== undefined && !scopeAllows(claims.scope, method, url)) return unauthorized;
    return undefined;
  }

  private okBody(url: URL): string {
    return JSON.stringify({ data: [], links: { self: `${this.baseUrl}${url.pathname}${url.search}` }, meta: { paging: { total: 0, limit: 1 } } });
  }

  private send(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      date: new Date(Date.now() + this.clockSkewSeconds * 1000).toUTCString(),
      connection: "close",
      ...extra,
    });
    res.end(body);
  }

  private later(ms: number, fn: () => void): void {
    if (ms <= 0) return fn();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The `kid` of a bearer token's header, without verifying anything (for the request record). */
function kidOf(authorization: string | undefined): string | undefined {
  const headerSeg = /^Bearer ([A-Za-z0-9_-]+)\./.exec(authorization ?? "")?.[1];
  if (!headerSeg) return undefined;
  const kid = decodeJson(headerSeg)?.kid;
  return typeof kid === "string" ? kid : undefined;
}

function scopeAllows(scope: unknown, method: string, url: URL): boolean {
  if (!Array.isArray(scope)) return false;
  return scope.some((entry) => {
    if (typeof entry !== "string") return false;
    const m = /^([A-Z]+) (\/\S*)$/.exec(entry);
    if (!m || m[1] !== method) return false;
    const wanted = new URL(m[2]!, "http://fake");
    if (wanted.pathname !== url.pathname) return false;
    for (const [name, value] of wanted.searchParams) {
      if (!url.searchParams.getAll(name).includes(value)) return false;
    }
    return true;
  });
}
