import { importSPKI, jwtVerify } from "jose";
import { isAscCredentialError, type ErrorCode } from "../core/errors";
import { createTokenSync, toEpochSeconds } from "../core/token";
import { validateCredential, type CredentialInput } from "../core/validate";
import { describeAppleErrors, parseAppleErrors } from "./apple-errors";

/** The App Store Connect API's production base URL. */
export const DEFAULT_ASC_BASE_URL = "https://api.appstoreconnect.apple.com";
/** Skew beyond this many seconds produces a warning: a 20-minute token may then fail. */
export const CLOCK_SKEW_WARNING_SECONDS = 60;
/** Default per-attempt timeout of the online call. */
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
/** Default number of retries after a 429, a 5xx or a network error (so 3 attempts in all). */
export const DEFAULT_PROBE_RETRIES = 2;
/** Default first retry delay; later ones double, with full jitter, capped at 5 s. */
export const DEFAULT_PROBE_RETRY_BASE_DELAY_MS = 250;
/** The most retries {@link ProbeOptions.retries} accepts: a probe is a check, not a queue. */
export const MAX_PROBE_RETRIES = 10;
/** Node's timers cannot wait longer (a larger value would fire at once). */
const MAX_TIMER_MS = 2_147_483_647;
/** The probe token lives long enough for retries, far below Apple's 20-minute cap. */
const PROBE_TOKEN_LIFETIME_SECONDS = 300;
/** A success body is read to check its shape; an app list of one entry is a few kilobytes. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Options of {@link probeCredential}. Every option is checked before anything is signed or
 * sent, whatever the mode: an invalid `now` is reported as `TOKEN_LIFETIME_INVALID` (as
 * `createToken` does), an invalid `baseUrl`, `timeoutMs`, `retries` or `retryBaseDelayMs` as
 * `API_UNEXPECTED` (the code whose fix is "check the API settings"), the message naming the option.
 */
export interface ProbeOptions {
  /** `offline` (default) signs and verifies locally; `online` also calls the API. */
  mode?: "offline" | "online";
  /**
   * Defaults to {@link DEFAULT_ASC_BASE_URL}. Must be `https:`, or `http:` to a loopback host
   * (127.0.0.0/8, ::1, localhost) for a local test server; no user name or password.
   */
  baseUrl?: string;
  /** Per-attempt timeout of the online call in ms, 1 to 2 147 483 647; default {@link DEFAULT_PROBE_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Retries after a 429, a 5xx or a network error: a whole number from 0 to {@link MAX_PROBE_RETRIES}; default {@link DEFAULT_PROBE_RETRIES}. */
  retries?: number;
  /** First retry delay in ms (≥ 0); later ones double, with full jitter, capped at 5 s. Default {@link DEFAULT_PROBE_RETRY_BASE_DELAY_MS}. */
  retryBaseDelayMs?: number;
  /** Issue time of the probe token, as a `Date` or epoch seconds. */
  now?: Date | number;
}

/** The outcome of {@link probeCredential}. Never carries key material or a token. */
export interface ProbeResult {
  ok: boolean;
  mode: "offline" | "online";
  /** Fingerprint of the key's public half, when the key parsed. */
  fingerprint?: string;
  /** The API's final HTTP status (online). */
  apiStatus?: number;
  /** Server clock minus local clock, from the response `Date` header (online). */
  clockSkewSeconds?: number;
  /** What made the probe fail. */
  error?: { code: ErrorCode; message: string };
  /** Things that passed but deserve attention, such as clock skew. */
  warnings?: string[];
}

type ProbeError = { code: ErrorCode; message: string };

/**
 * Validates a credential and proves it can sign: mints a probe ES256 JWT and verifies it with
 * the public key derived from the private key. In `online` mode it also calls
 * `GET {baseUrl}/v1/apps?limit=1` with that token, with a timeout and bounded retries, and maps
 * Apple's answer to an actionable error. Never throws on a bad key, bad options or a failed call.
 */
export async function probeCredential(credential: CredentialInput, options: ProbeOptions = {}): Promise<ProbeResult> {
  const mode = options.mode ?? "offline";
  const validation = validateCredential(credential);
  const fingerprint = validation.key?.fingerprint;
  const base: ProbeResult = fingerprint ? { ok: false, mode, fingerprint } : { ok: false, mode };
  let issuedAt: number;
  try {
    issuedAt = toEpochSeconds(options.now);
  } catch (error) {
    return { ...base, error: asProbeError(error) };
  }
  const optionProblem = checkOptions(options);
  if (optionProblem) return { ...base, error: optionProblem };
  const first = validation.issues[0];
  if (first || !validation.key) {
    return { ...base, error: { code: first?.code ?? "KEY_MALFORMED", message: first?.message ?? "privateKey could not be read." } };
  }

  const keyType = credential.keyType ?? "team";
  let token: string;
  try {
    token = createTokenSync(credential, { lifetimeSeconds: PROBE_TOKEN_LIFETIME_SECONDS, now: issuedAt });
  } catch (error) {
    // The credential was validated above; this only reports what core says, never guesses.
    return { ...base, error: asProbeError(error) };
  }
  try {
    const publicKey = await importSPKI(validation.key.publicKeyPem, "ES256");
    await jwtVerify(token, publicKey, {
      audience: "appstoreconnect-v1",
      ...(keyType === "team" && credential.issuerId ? { issuer: credential.issuerId } : {}),
      ...(keyType === "individual" ? { subject: "user" } : {}),
      // The probe checks the signature and claims, not the caller's chosen `now`.
      currentDate: new Date((issuedAt + 1) * 1000),
      algorithms: ["ES256"],
    });
  } catch {
    return { ...base, error: { code: "KEY_MALFORMED", message: "privateKey parsed, but a token signed with it did not verify with its own public key. The key file is damaged: download a new key from App Store Connect." } };
  }
  if (mode === "offline") return { ok: true, mode, fingerprint: validation.key.fingerprint };
  // Re-signing keeps the caller's time base and adds the time the probe has run, so a retried
  // token is as fresh as the first one was.
  // No `scope` on the probe token, on purpose: Apple documents that an unmatched scope is
  // rejected, but not how it matches a query string like `?limit=1`, and a scoped token that
  // Apple's matcher refuses would make a good key look bad. An unscoped token is what
  // every consumer of the key sends anyway.
  const started = Date.now();
  const resign = (skewSeconds: number): string =>
    createTokenSync(credential, { lifetimeSeconds: PROBE_TOKEN_LIFETIME_SECONDS, now: issuedAt + Math.floor((Date.now() - started) / 1000) + skewSeconds });
  return callApi(token, resign, { ...base, fingerprint: validation.key.fingerprint }, options, keyType);
}

function asProbeError(error: unknown): ProbeError {
  if (isAscCredentialError(error)) return { code: error.code, message: error.message };
  return { code: "KEY_MALFORMED", message: "privateKey could not be used to sign a token. Check that it is the .p8 file downloaded from App Store Connect." };
}

/** Describes a number or a non-number in words; numbers hold nothing secret. */
function seen(value: unknown): string {
  return typeof value === "number" ? `the number ${String(value)}` : `a value of type ${value === null ? "null" : typeof value}`;
}

function checkOptions(options: ProbeOptions): ProbeError | undefined {
  const { timeoutMs, retries, retryBaseDelayMs, baseUrl } = options;
  const problem = (message: string): ProbeError => ({ code: "API_UNEXPECTED", message });
  if (baseUrl !== undefined) {
    const message = checkBaseUrl(baseUrl);
    if (message) return problem(message);
  }
  if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMER_MS)) {
    return problem(`timeoutMs is ${seen(timeoutMs)}; use a number of milliseconds from 1 to ${MAX_TIMER_MS}, or leave it out for ${DEFAULT_PROBE_TIMEOUT_MS}.`);
  }
  if (retries !== undefined && (typeof retries !== "number" || !Number.isInteger(retries) || retries < 0 || retries > MAX_PROBE_RETRIES)) {
    return problem(`retries is ${seen(retries)}; use a whole number from 0 to ${MAX_PROBE_RETRIES}, or leave it out for ${DEFAULT_PROBE_RETRIES}.`);
  }
  if (retryBaseDelayMs !== undefined && (typeof retryBaseDelayMs !== "number" || !Number.isFinite(retryBaseDelayMs) || retryBaseDelayMs < 0 || retryBaseDelayMs > MAX_TIMER_MS)) {
    return problem(`retryBaseDelayMs is ${seen(retryBaseDelayMs)}; use a number of milliseconds from 0 to ${MAX_TIMER_MS}, or leave it out for ${DEFAULT_PROBE_RETRY_BASE_DELAY_MS}.`);
  }
  return undefined;
}

/** True for a URL host that names this machine: 127.0.0.0/8, ::1 or localhost. */
function isLoopbackHost(hostname: string): boolean {
  // WHATWG URL parsing has already normalised IPv4 forms such as 127.1 to dotted quads.
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Checks an API base URL. Returns what is wrong with it, or `undefined` when it is usable. The
 * message never repeats the URL, which may carry credentials or a pasted secret.
 * @internal
 */
export function checkBaseUrl(baseUrl: unknown): string | undefined {
  const example = `like ${DEFAULT_ASC_BASE_URL} (the default)`;
  if (typeof baseUrl !== "string") return `baseUrl must be an https URL ${example}, but a value of type ${baseUrl === null ? "null" : typeof baseUrl} was given.`;
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return `baseUrl must be an https URL ${example}, but a value of ${baseUrl.length} characters that is not a URL was given.`;
  }
  if (url.username || url.password) {
    return `baseUrl must be a URL without credentials, but it carries a user name or password; the API is authorised by the bearer token alone. Remove them and use an https URL ${example}.`;
  }
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:") {
    // A bearer token sent in clear text to another machine can be read and replayed until it expires.
    return isLoopbackHost(url.hostname)
      ? undefined
      : `baseUrl is a plain http:// URL to a host other than this machine; the probe would send a bearer token unencrypted. Use https (${DEFAULT_ASC_BASE_URL} is the default); http is accepted only for loopback hosts (127.0.0.1, ::1, localhost), such as a local test server.`;
  }
  return `baseUrl must be an https URL ${example}, but a URL with the scheme ${/^[a-z][a-z0-9+.-]{0,15}:$/.test(url.protocol) ? `'${url.protocol}'` : "of another kind"} was given.`;
}

const RETRYABLE = (status: number): boolean => status === 429 || status >= 500;

async function callApi(firstToken: string, resign: (skewSeconds: number) => string, base: ProbeResult, options: ProbeOptions, keyType: "team" | "individual"): Promise<ProbeResult> {
  let token = firstToken;
  // At most one extra attempt after a 401, not counted against `retries`: re-signed on Apple's
  // clock when the clocks disagree, else freshly signed, since transient 401s that pass on a
  // retry are a known Apple behaviour.
  let second401: "none" | "apple-clock" | "fresh" = "none";
  const baseUrl = (options.baseUrl ?? DEFAULT_ASC_BASE_URL).replace(/\/+$/, "");
  const url = `${baseUrl}/v1/apps?limit=1`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const retries = options.retries ?? DEFAULT_PROBE_RETRIES;
  const baseDelay = options.retryBaseDelayMs ?? DEFAULT_PROBE_RETRY_BASE_DELAY_MS;
  let lastProblem = "";
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await sleep(backoff(attempt, baseDelay));
    let response: Response;
    let body: string;
    try {
      response = await fetch(url, {
        headers: { authorization: `Bearer ${token}`, accept: "application/json" },
        // A redirect means baseUrl is wrong; following it would hand the token to another URL.
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
      body = await readBounded(response);
    } catch (error) {
      lastProblem = (error as { name?: string }).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : `network error (${networkErrorName(error)})`;
      continue;
    }
    const result: ProbeResult = { ...base, apiStatus: response.status };
    const skew = clockSkew(response.headers.get("date"));
    const skewed = skew !== undefined && Math.abs(skew) > CLOCK_SKEW_WARNING_SECONDS;
    if (skew !== undefined) {
      result.clockSkewSeconds = skew;
      if (skewed) {
        result.warnings = [`This machine's clock is ${Math.abs(skew)} s ${skew > 0 ? "behind" : "ahead of"} Apple's. Tokens near the 20-minute limit will be rejected; sync the clock (NTP) or use a shorter token lifetime.`];
      }
    }
    if (response.status >= 300 && response.status < 400) {
      return { ...result, error: { code: "API_UNEXPECTED", message: `${url} answered with a redirect (HTTP ${response.status}). The App Store Connect API does not redirect, so baseUrl points somewhere else; the probe never follows a redirect with a bearer token. Set validation.baseUrl to the API's own address, ${DEFAULT_ASC_BASE_URL}.` } };
    }
    if (response.status >= 200 && response.status < 300) {
      if (!isJsonApiList(body)) {
        return { ...result, error: { code: "API_UNEXPECTED", message: `${url} answered HTTP ${response.status}, but not with the App Store Connect API's JSON list (a "data" array): something other than the API (a proxy, a captive portal or a wrong baseUrl) answered. Check validation.baseUrl and any HTTP proxy.` } };
      }
      const warnings = result.warnings ?? [];
      if (second401 === "apple-clock") warnings.push("The key is valid, but Apple accepted it only with a token dated on Apple's clock; tokens minted on this machine will fail until its clock is fixed.");
      if (second401 === "fresh") warnings.push("Apple answered the first request with HTTP 401 and accepted a freshly signed token on the retry. Transient 401s happen at Apple; if they recur, check that only one key ID is in use and that this machine's clock is right.");
      return warnings.length > 0 ? { ...result, ok: true, warnings } : { ...result, ok: true };
    }
    if (response.status === 401 && second401 === "none") {
      if (skewed) {
        // A different question (is the key valid on Apple's time?), so not counted as a retry.
        second401 = "apple-clock";
        token = resign(skew);
        attempt--;
        continue;
      }
      if (parseAppleErrors(body)) {
        // Only Apple's own 401 is worth asking again; a proxy's login page is not.
        second401 = "fresh";
        token = resign(0);
        attempt--;
        continue;
      }
    }
    if (RETRYABLE(response.status) && attempt < retries) {
      lastProblem = `HTTP ${response.status}`;
      const retryAfter = Number(response.headers.get("retry-after"));
      if (response.status === 429 && Number.isFinite(retryAfter) && retryAfter > 0) await sleep(Math.min(retryAfter, 5) * 1000);
      continue;
    }
    return { ...result, error: explain(response.status, body, keyType, skew, url, retries, second401) };
  }
  return {
    ...base,
    error: {
      code: "API_UNREACHABLE",
      message: `The App Store Connect API at ${baseUrl} could not be reached after ${retries + 1} attempts (last: ${lastProblem}). Check network access from this machine (proxy, firewall, DNS) and try again; validation.mode "offline" skips the call.`,
    },
  };
}

/** True when `body` is a JSON:API list document, the shape of every App Store Connect list answer. */
function isJsonApiList(body: string): boolean {
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed !== null && typeof parsed === "object" && Array.isArray((parsed as { data?: unknown }).data);
  } catch {
    return false;
  }
}

function explain(status: number, body: string, keyType: "team" | "individual", skew: number | undefined, url: string, retries: number, second401: "none" | "apple-clock" | "fresh"): ProbeError {
  const apple = parseAppleErrors(body);
  const said = apple ? ` Apple said: ${describeAppleErrors(apple)}.` : "";
  const skewed = skew !== undefined && Math.abs(skew) > CLOCK_SKEW_WARNING_SECONDS;
  const skewNote = !skewed
    ? ""
    : second401 === "apple-clock"
      ? ` This machine's clock is also off by ${skew} s, but a token dated on Apple's clock was rejected too, so the clock is not the only problem.`
      : ` This machine's clock is off by ${skew} s, which alone makes Apple reject tokens.`;
  if ((status === 401 || status === 403) && !apple) {
    return { code: "API_UNEXPECTED", message: `${url} answered HTTP ${status} without Apple's error JSON: something other than the App Store Connect API (a proxy or a wrong baseUrl) answered. Check validation.baseUrl and any HTTP proxy.` };
  }
  if (status === 401) {
    const who = keyType === "team" ? "issuerId is the Issuer ID at the top of the keys page (not the Team ID), " : "the key is an individual key (tokens use sub \"user\"), ";
    const twice = second401 === "fresh" ? " It rejected a freshly signed token on a second try too, so this is not a transient 401." : "";
    return { code: "API_UNAUTHORIZED", message: `App Store Connect rejected the key (HTTP 401).${said}${twice} Check that ${who}keyId is the Key ID (not the key's name) of this private key, that the key was not revoked, and that this machine's clock is right.${skewNote}` };
  }
  if (status === 403) {
    return {
      code: "API_FORBIDDEN",
      message: `App Store Connect refused the key (HTTP 403).${said} The key may be revoked, or its role may lack access to apps: create a new key with the needed role in Users and Access > Integrations, then swap keyId and privateKey. Apple also answers 403 to a token it cannot parse; this package always signs well-formed tokens, so if the key is active, check that no proxy between this machine and Apple rewrites the Authorization header.${skewNote}`,
    };
  }
  if (RETRYABLE(status)) {
    return { code: "API_UNREACHABLE", message: `The App Store Connect API kept failing (HTTP ${status}) after ${retries + 1} attempts.${said} Apple may be having an outage or rate-limiting this key; try again later, or use validation.mode "offline" to deploy without the call.` };
  }
  return { code: "API_UNEXPECTED", message: `The App Store Connect API answered HTTP ${status}${apple ? "" : " with a body that is not Apple's error JSON"}.${said} Check validation.baseUrl; if it is right, this is worth a bug report.` };
}

function clockSkew(dateHeader: string | null): number | undefined {
  if (!dateHeader) return undefined;
  const server = Date.parse(dateHeader);
  if (Number.isNaN(server)) return undefined;
  return Math.round((server - Date.now()) / 1000);
}

function backoff(attempt: number, baseDelay: number): number {
  const ceiling = Math.min(5000, baseDelay * 2 ** (attempt - 1));
  return Math.random() * ceiling;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// An answer's body is only needed for Apple's error JSON or to check a list's shape; a bound
// keeps a hostile or broken server from filling memory.
async function readBounded(response: Response, limit = MAX_BODY_BYTES): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= limit) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
}

function networkErrorName(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (cause && typeof cause.code === "string") return cause.code;
  return (error as { name?: string }).name ?? "unknown";
}
