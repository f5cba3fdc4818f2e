import { sign, type KeyObject } from "node:crypto";
import { AscCredentialError } from "./errors";
import { describeSeen, optionError } from "./options";
import { checkIssuerId, checkKeyId, checkKeyType } from "./identifiers";
import { assertValid, issueError, validateWithKeyObject, type CredentialInput } from "./validate";

/** Apple's audience for App Store Connect API tokens. */
export const ASC_AUDIENCE = "appstoreconnect-v1";
/** Default token lifetime: under Apple's 20-minute cap with room for clock skew. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 900;
/** Apple rejects tokens whose `exp - iat` exceeds 20 minutes. */
export const MAX_TOKEN_LIFETIME_SECONDS = 1200;

/** Options of {@link createToken}. */
export interface TokenOptions {
  /** Seconds from `iat` to `exp`; 1 to 1200, default 900. */
  lifetimeSeconds?: number;
  /** Restricts the token to these requests, each `METHOD /path[?query]`. */
  scope?: string[];
  /** The issue time, as a `Date` or epoch seconds. Defaults to the current time. */
  now?: Date | number;
  /** Defaults to `appstoreconnect-v1`. */
  audience?: string;
}

const SCOPE_ENTRY = /^(GET|POST|PATCH|PUT|DELETE) \/[^\s]*$/;

/**
 * Mints an ES256 JWT for the App Store Connect API.
 *
 * Header `{alg:"ES256", kid, typ:"JWT"}`; team keys get `{iss, iat, exp, aud}`, individual keys
 * `{sub:"user", iat, exp, aud}`; `scope` only when given. The signature is the 64-byte r||s
 * form JWTs use. The imported signing key is cached by fingerprint, so minting repeatedly with
 * the same credential does not re-import the PEM.
 *
 * @throws {@link AscCredentialError} for an invalid credential (`KEY_*`, `ISSUER_ID_*`),
 * `TOKEN_LIFETIME_INVALID` or `SCOPE_INVALID`.
 */
export async function createToken(credential: CredentialInput, options: TokenOptions = {}): Promise<string> {
  return createTokenSync(credential, options);
}

/**
 * The synchronous body of {@link createToken}, for callers that mint in a hot loop.
 * @internal
 */
export function createTokenSync(credential: CredentialInput, options: TokenOptions = {}): string {
  const lifetime = options.lifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
  if (typeof lifetime !== "number" || !Number.isInteger(lifetime) || lifetime <= 0 || lifetime > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new AscCredentialError(
      "TOKEN_LIFETIME_INVALID",
      `lifetimeSeconds ${typeof lifetime === "number" ? lifetime : `of ${describeSeen(lifetime)}`} is not allowed: ${typeof lifetime === "number" && lifetime > MAX_TOKEN_LIFETIME_SECONDS ? "Apple rejects tokens living longer than 20 minutes" : "a lifetime is a whole, positive number of seconds"}. Use a whole number of seconds from 1 to ${MAX_TOKEN_LIFETIME_SECONDS}; ${DEFAULT_TOKEN_LIFETIME_SECONDS} (the default) leaves room for clock skew.`,
      "lifetimeSeconds",
    );
  }
  const scope = options.scope;
  if (scope !== undefined) checkScope(scope);
  const key = signingKeyFor(credential);
  const iat = toEpochSeconds(options.now);
  const audience = options.audience ?? ASC_AUDIENCE;
  const claims =
    credential.keyType === "individual"
      ? scope
        ? { sub: "user", iat, exp: iat + lifetime, aud: audience, scope }
        : { sub: "user", iat, exp: iat + lifetime, aud: audience }
      : scope
        ? { iss: credential.issuerId, iat, exp: iat + lifetime, aud: audience, scope }
        : { iss: credential.issuerId, iat, exp: iat + lifetime, aud: audience };
  const signingInput = headerSegment(credential.keyId) + "." + Buffer.from(JSON.stringify(claims)).toString("base64url");
  const signature = sign("sha256", Buffer.from(signingInput), { key, dsaEncoding: "ieee-p1363" });
  return signingInput + "." + signature.toString("base64url");
}

function checkScope(scope: unknown): void {
  if (!Array.isArray(scope) || scope.length === 0) {
    throw new AscCredentialError("SCOPE_INVALID", "scope must be a non-empty array of 'METHOD /path' entries, like [\"GET /v1/apps\"]. Leave scope out for an unrestricted token.", "scope");
  }
  scope.forEach((entry: unknown, index) => {
    if (typeof entry !== "string" || !SCOPE_ENTRY.test(entry)) {
      const seen = typeof entry !== "string" ? `a ${typeof entry}` : entry.length <= 80 && /^[\x20-\x7e]*$/.test(entry) ? `'${entry}'` : `a string of ${entry.length} characters`;
      throw new AscCredentialError(
        "SCOPE_INVALID",
        `scope[${index}] is ${seen}, not a request pattern. Write each entry as an upper-case method, one space and a path starting with '/', like "GET /v1/apps?filter[platform]=IOS".`,
        "scope",
      );
    }
  });
}

/** Epoch seconds above this (the year 5138) can only be a mistake, usually `Date.now()` in milliseconds. */
const MAX_EPOCH_SECONDS = 1e11;

/**
 * A token's issue time in whole epoch seconds: `now` as a `Date` or epoch seconds, or the
 * current time when absent. Shared with the probe so both refuse the same bad values.
 * @throws {@link AscCredentialError} `OPTION_INVALID` (option `now`) for an invalid Date, NaN,
 * a negative number, milliseconds where seconds belong, or a value of another type.
 * @internal
 */
export function toEpochSeconds(now: Date | number | undefined): number {
  if (now === undefined) return Math.floor(Date.now() / 1000);
  const seconds = now instanceof Date ? now.getTime() / 1000 : now;
  // An invalid Date or NaN would serialise as `"iat":null`, a token Apple rejects with a bare 401;
  // milliseconds would date the token tens of thousands of years ahead.
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0 || seconds >= MAX_EPOCH_SECONDS) {
    const seen = now instanceof Date ? (Number.isFinite(seconds) ? `a Date in the year ${now.getUTCFullYear()}` : "an invalid Date") : describeSeen(seconds);
    const hint = typeof seconds === "number" && seconds >= MAX_EPOCH_SECONDS && !(now instanceof Date) ? " (that looks like milliseconds: divide by 1000)" : "";
    throw optionError("now", `${seen}${hint}`, "a valid Date or epoch seconds (Math.floor(Date.now() / 1000))", "the current time");
  }
  return Math.floor(seconds);
}

const headers = new Map<string, string>();
function headerSegment(keyId: string): string {
  let segment = headers.get(keyId);
  if (segment === undefined) {
    segment = Buffer.from(JSON.stringify({ alg: "ES256", kid: keyId, typ: "JWT" })).toString("base64url");
    if (headers.size >= CACHE_LIMIT) headers.clear();
    headers.set(keyId, segment);
  }
  return segment;
}

// The cache maps what the caller passed to the key imported from it. It is small and bounded:
// a process uses one or two credentials, and a key rotation adds one more.
const CACHE_LIMIT = 16;
interface CachedKey {
  fingerprint: string;
  keyObject: KeyObject;
  /** For byte input: a copy of the bytes, because a caller may refill the same buffer with another key. */
  bytes?: Buffer;
}
const byText = new Map<string, CachedKey>();
let byBytes = new WeakMap<Uint8Array, CachedKey>();
const byFingerprint = new Map<string, KeyObject>();

function signingKeyFor(credential: CredentialInput): KeyObject {
  const privateKey = credential?.privateKey;
  const cached = typeof privateKey === "string" ? byText.get(privateKey) : privateKey instanceof Uint8Array ? byBytes.get(privateKey) : undefined;
  if (cached !== undefined && (cached.bytes === undefined || cached.bytes.equals(privateKey as Uint8Array))) {
    // The key itself was validated when it was cached; the identifiers may differ per call.
    const first = [...checkKeyType(credential.keyType), ...checkKeyId(credential.keyId, credential.privateKeyFileName), ...checkIssuerId(credential.issuerId, credential.keyType === "individual" ? "individual" : "team", credential.keyId)][0];
    if (first) throw issueError(first);
    return cached.keyObject;
  }
  // Cached under the value validation read, which a getter may make differ from the one above.
  const { result, keyObject, privateKey: validated } = validateWithKeyObject(credential);
  assertValid(result);
  const fingerprint = result.key.fingerprint;
  const shared = byFingerprint.get(fingerprint) ?? keyObject!;
  if (byFingerprint.size >= CACHE_LIMIT) byFingerprint.clear();
  byFingerprint.set(fingerprint, shared);
  if (typeof validated === "string") {
    if (byText.size >= CACHE_LIMIT) byText.clear();
    byText.set(validated, { fingerprint, keyObject: shared });
  } else if (validated instanceof Uint8Array) {
    byBytes.set(validated, { fingerprint, keyObject: shared, bytes: Buffer.from(validated) });
  }
  return shared;
}

/**
 * Caches the key imported while validating `pem` (the canonical PEM), so that the first token
 * minted from a credential just read does not import it a second time.
 * @internal
 */
export function rememberSigningKey(pem: string, keyObject: KeyObject, fingerprint: string): void {
  const shared = byFingerprint.get(fingerprint) ?? keyObject;
  if (byFingerprint.size >= CACHE_LIMIT) byFingerprint.clear();
  byFingerprint.set(fingerprint, shared);
  if (byText.size >= CACHE_LIMIT) byText.clear();
  byText.set(pem, { fingerprint, keyObject: shared });
}

/**
 * Forgets every cached signing key, e.g. after a rotation when the old key must not linger.
 */
export function clearSigningKeyCache(): void {
  byText.clear();
  byBytes = new WeakMap();
  byFingerprint.clear();
  headers.clear();
}
