import { importSPKI, jwtVerify } from "jose";
import type { ErrorCode } from "../core/errors";
import { createTokenSync } from "../core/token";
import { validateCredential, type CredentialInput } from "../core/validate";
import { describeAppleErrors, parseAppleErrors } from "./apple-errors";

/** The App Store Connect API's production base URL. */
export const DEFAULT_ASC_BASE_URL = "https://api.appstoreconnect.apple.com";
/** Skew beyond this many seconds produces a warning: a 20-minute token may then fail. */
export const CLOCK_SKEW_WARNING_SECONDS = 60;
/** The probe token lives long enough for retries, far below Apple's 20-minute cap. */
const PROBE_TOKEN_LIFETIME_SECONDS = 300;

/** Options of {@link probeCredential}. */
export interface ProbeOptions {
  /** `offline` (default) signs and verifies locally; `online` also calls the API. */
  mode?: "offline" | "online";
  /** Defaults to {@link DEFAULT_ASC_BASE_URL}. */
  baseUrl?: string;
  /** Per-attempt timeout of the online call; default 10 000 ms. */
  timeoutMs?: number;
  /** Retries after a 429, a 5xx or a network error; default 2. */
  retries?: number;
  /** First retry delay; later ones double, with full jitter, capped at 5 s. Default 250 ms. */
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

/**
 * Validates a credential and proves it can sign: mints a probe ES256 JWT and verifies it with
 * the public key derived from the private key. In `online` mode it also calls
 * `GET {baseUrl}/v1/apps?limit=1` with that token, with a timeout and bounded retries, and maps
 * Apple's answer to an actionable error. Never throws on a bad key or a failed call.
 */
export async function probeCredential(credential: CredentialInput, options: ProbeOptions = {}): Promise<ProbeResult> {
  const mode = options.mode ?? "offline";
  const validation = validateCredential(credential);
  const fingerprint = validation.key?.fingerprint;
  const base: ProbeResult = fingerprint ? { ok: false, mode, fingerprint } : { ok: false, mode };
  const first = validation.issues[0];
  if (first || !validation.key) {
    return { ...base, error: { code: first?.code ?? "KEY_MALFORMED", message: first?.message ?? "privateKey could not be read." } };
  }

  const keyType = credential.keyType ?? "team";
  let token: string;
  try {
    token = createTokenSync(credential, { lifetimeSeconds: PROBE_TOKEN_LIFETIME_SECONDS, ...(options.now !== undefined ? { now: options.now } : {}) });
    const publicKey = await importSPKI(validation.key.publicKeyPem, "ES256");
    await jwtVerify(token, publicKey, {
      audience: "appstoreconnect-v1",
      ...(keyType === "team" && credential.issuerId ? { issuer: credential.issuerId } : {}),
      ...(keyType === "individual" ? { subject: "user" } : {}),
      // The probe checks the signature and claims, not the caller's chosen `now`.
      currentDate: new Date(((typeof options.now === "number" ? options.now : options.now instanceof Date ? options.now.getTime() / 1000 : Date.now() / 1000) + 1) * 1000),
      algorithms: ["ES256"],
    });
  } catch {
    return { ...base, error: { code: "KEY_MALFORMED", message: "privateKey parsed, but a token signed with it did not verify with its own public key. The key file is damaged: download a new key from App Store Connect." } };
  }
  if (mode === "offline") return { ok: true, mode, fingerprint: validation.key.fingerprint };
  // A clock far off Apple's makes any token fail; re-signing on Apple's time tells a bad key
  // apart from a bad clock, which is then reported as a warning rather than hidden.
  const issuedAt = toEpochSeconds(options.now);
  const resign = (skewSeconds: number): string => createTokenSync(credential, { lifetimeSeconds: PROBE_TOKEN_LIFETIME_SECONDS, now: issuedAt + skewSeconds });
  return callApi(token, resign, { ...base, fingerprint: validation.key.fingerprint }, options, keyType);
}

function toEpochSeconds(now: Date | number | undefined): number {
  if (now === undefined) return Math.floor(Date.now() / 1000);
  return Math.floor(now instanceof Date ? now.getTime() / 1000 : now);
}

const RETRYABLE = (status: number): boolean => status === 429 || status >= 500;

async function callApi(firstToken: string, resign: (skewSeconds: number) => string, base: ProbeResult, options: ProbeOptions, keyType: "team" | "individual"): Promise<ProbeResult> {
  let token = firstToken;
  let resigned = false;
  const baseUrl = (options.baseUrl ?? DEFAULT_ASC_BASE_URL).replace(/\/+$/, "");
  const url = `${baseUrl}/v1/apps?limit=1`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = Math.max(0, Math.floor(options.retries ?? 2));
  const baseDelay = options.retryBaseDelayMs ?? 250;
  let lastProblem = "";
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await sleep(backoff(attempt, baseDelay));
    let response: Response;
    let body: string;
    try {
      response = await fetch(url, {
        headers: { authorization: `Bearer ${token}`, accept: "application/json" },
        signal: AbortSignal.timeout(timeoutMs),
      });
      body = await readBounded(response);
    } catch (error) {
      lastProblem = (error as { name?: string }).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : `network error (${networkErrorName(error)})`;
      continue;
    }
    const result: ProbeResult = { ...base, apiStatus: response.status };
    const skew = clockSkew(response.headers.get("date"));
    if (skew !== undefined) {
      result.clockSkewSeconds = skew;
      if (Math.abs(skew) > CLOCK_SKEW_WARNING_SECONDS) {
        result.warnings = [`This machine's clock is ${Math.abs(skew)} s ${skew > 0 ? "behind" : "ahead of"} Apple's. Tokens near the 20-minute limit will be rejected; sync the clock (NTP) or use a shorter token lifetime.`];
      }
    }
    if (response.status >= 200 && response.status < 300) {
      if (resigned) result.warnings = [...(result.warnings ?? []), "The key is valid, but Apple accepted it only with a token dated on Apple's clock; tokens minted on this machine will fail until its clock is fixed."];
      return { ...result, ok: true };
    }
    if (response.status === 401 && !resigned && skew !== undefined && Math.abs(skew) > CLOCK_SKEW_WARNING_SECONDS) {
      // Not counted as a retry: it is a different question (is the key valid on Apple's time?).
      resigned = true;
      token = resign(skew);
      attempt--;
      continue;
    }
    if (RETRYABLE(response.status) && attempt < retries) {
      lastProblem = `HTTP ${response.status}`;
      const retryAfter = Number(response.headers.get("retry-after"));
      if (response.status === 429 && Number.isFinite(retryAfter) && retryAfter > 0) await sleep(Math.min(retryAfter, 5) * 1000);
      continue;
    }
    return { ...result, error: explain(response.status, body, keyType, skew, url, retries, resigned) };
  }
  return {
    ...base,
    error: {
      code: "API_UNREACHABLE",
      message: `The App Store Connect API at ${baseUrl} could not be reached after ${retries + 1} attempts (last: ${lastProblem}). Check network access from this machine (proxy, firewall, DNS) and try again; validation.mode "offline" skips the call.`,
    },
  };
}

function explain(status: number, body: string, keyType: "team" | "individual", skew: number | undefined, url: string, retries: number, resigned: boolean): { code: ErrorCode; message: string } {
  const apple = parseAppleErrors(body);
  const said = apple ? ` Apple said: ${describeAppleErrors(apple)}.` : "";
  const skewed = skew !== undefined && Math.abs(skew) > CLOCK_SKEW_WARNING_SECONDS;
  const skewNote = !skewed
    ? ""
    : resigned
      ? ` This machine's clock is also off by ${skew} s, but a token dated on Apple's clock was rejected too, so the clock is not the only problem.`
      : ` This machine's clock is off by ${skew} s, which alone makes Apple reject tokens.`;
  if ((status === 401 || status === 403) && !apple) {
    return { code: "API_UNEXPECTED", message: `${url} answered HTTP ${status} without Apple's error JSON: something other than the App Store Connect API (a proxy or a wrong baseUrl) answered. Check validation.baseUrl and any HTTP proxy.` };
  }
  if (status === 401) {
    const who = keyType === "team" ? "issuerId is the Issuer ID at the top of the keys page (not the Team ID), " : "the key is an individual key (tokens use sub \"user\"), ";
    return { code: "API_UNAUTHORIZED", message: `App Store Connect rejected the key (HTTP 401).${said} Check that ${who}keyId is the Key ID (not the key's name) of this private key, that the key was not revoked, and that this machine's clock is right.${skewNote}` };
  }
  if (status === 403) {
    return { code: "API_FORBIDDEN", message: `App Store Connect refused the key (HTTP 403).${said} The key may be revoked, or its role may lack access to apps; create a new key with the needed role in Users and Access > Integrations, then swap keyId and privateKey.${skewNote}` };
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

// An answer's body is only needed for Apple's small error JSON; a bound keeps a hostile or
// broken server from filling memory.
async function readBounded(response: Response, limit = 64 * 1024): Promise<string> {
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
