/**
 * The probe's options, their defaults and ranges, and what it reports.
 * @packageDocumentation
 */
import type { ErrorCode } from "../core/errors";
import { checkNumber, checkTimeoutMs, optionError } from "../core/options";
import { redact } from "../core/redact";

/** The App Store Connect API's production base URL. */
export const DEFAULT_ASC_BASE_URL = "https://api.appstoreconnect.apple.com";
/** Skew beyond this many seconds produces a warning: a 20-minute token may then fail. */
export const CLOCK_SKEW_WARNING_SECONDS = 60;
/** A server's `Date` may move a re-signed token this far from the local clock, and no further. */
export const MAX_CLOCK_ADJUSTMENT_SECONDS = 900;
/** Default per-attempt timeout of the online call. */
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
/** Default number of retries after a 429, a 5xx or a network error (so 3 attempts in all). */
export const DEFAULT_PROBE_RETRIES = 2;
/** Default first retry delay; later ones double, with full jitter, capped at 5 s. */
export const DEFAULT_PROBE_RETRY_BASE_DELAY_MS = 250;
/** The most retries {@link ProbeOptions.retries} accepts: a probe is a check, not a queue. */
export const MAX_PROBE_RETRIES = 10;
/** The longest wait between two attempts (backoff and Retry-After alike). */
export const MAX_RETRY_DELAY_MS = 5_000;

/**
 * Options of {@link probeCredential}. Every option is checked before anything is signed or
 * sent, whatever the mode; one outside its range is reported as `OPTION_INVALID`, naming it.
 */
export interface ProbeOptions {
  /** `offline` (default) signs and verifies locally; `online` also calls the API. */
  mode?: "offline" | "online";
  /**
   * Defaults to {@link DEFAULT_ASC_BASE_URL}. Must be `https:`, or `http:` to a loopback host
   * (127.0.0.0/8, ::1, localhost) for a local test server; no user name or password.
   */
  baseUrl?: string;
  /** Per-attempt timeout of the online call in ms, 1 to 120 000; default {@link DEFAULT_PROBE_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Retries after a 429, a 5xx or a network error: a whole number from 0 to {@link MAX_PROBE_RETRIES}; default {@link DEFAULT_PROBE_RETRIES}. */
  retries?: number;
  /** First retry delay in ms (0 to 5 000); later ones double, with full jitter, capped at 5 s. Default {@link DEFAULT_PROBE_RETRY_BASE_DELAY_MS}. */
  retryBaseDelayMs?: number;
  /** Issue time of the probe token, as a `Date` or epoch seconds (not milliseconds). */
  now?: Date | number;
}

/** The outcome of {@link probeCredential}. Never carries key material or a token. */
export interface ProbeResult {
  ok: boolean;
  mode: "offline" | "online";
  /** Fingerprint of the key's public half, when the key parsed. */
  fingerprint?: string;
  /** The key's public half (SPKI PEM), when the key parsed. */
  publicKeyPem?: string;
  /** The API's final HTTP status (online). */
  apiStatus?: number;
  /** Server clock minus local clock, from the response `Date` header (online). */
  clockSkewSeconds?: number;
  /** What made the probe fail. */
  error?: ProbeError;
  /** Things that passed but deserve attention, such as clock skew. */
  warnings?: string[];
}

/** A probe failure: a stable code and a message that names the fix. */
export interface ProbeError {
  code: ErrorCode;
  message: string;
}

/** {@link ProbeOptions} with every default filled in and every range checked. */
export interface ResolvedProbeOptions {
  mode: "offline" | "online";
  baseUrl: string;
  timeoutMs: number;
  retries: number;
  retryBaseDelayMs: number;
}

/**
 * Checks the options and fills in the defaults.
 * @throws AscCredentialError `OPTION_INVALID` naming the option and its range.
 */
export function resolveProbeOptions(options: ProbeOptions): ResolvedProbeOptions {
  const mode = options.mode ?? "offline";
  if (mode !== "offline" && mode !== "online") throw optionError("mode", typeof mode === "string" ? `'${redact(mode).slice(0, 20)}'` : `a value of type ${typeof mode}`, '"offline" or "online"', '"offline"');
  const baseUrl = options.baseUrl ?? DEFAULT_ASC_BASE_URL;
  const problem = checkBaseUrl(baseUrl);
  if (problem) throw optionError("baseUrl", problem.seen, problem.range, DEFAULT_ASC_BASE_URL);
  return {
    mode,
    baseUrl: baseUrl.replace(/\/+$/, ""),
    timeoutMs: checkTimeoutMs(options.timeoutMs, DEFAULT_PROBE_TIMEOUT_MS),
    retries: checkNumber("retries", options.retries, { min: 0, max: MAX_PROBE_RETRIES, integer: true, unit: "retries", defaultValue: DEFAULT_PROBE_RETRIES }) ?? DEFAULT_PROBE_RETRIES,
    retryBaseDelayMs: checkNumber("retryBaseDelayMs", options.retryBaseDelayMs, { min: 0, max: MAX_RETRY_DELAY_MS, unit: "milliseconds", defaultValue: DEFAULT_PROBE_RETRY_BASE_DELAY_MS }) ?? DEFAULT_PROBE_RETRY_BASE_DELAY_MS,
  };
}

/** True for a URL host that names this machine: 127.0.0.0/8, ::1 or localhost. */
function isLoopbackHost(hostname: string): boolean {
  // WHATWG URL parsing has already normalised IPv4 forms such as 127.1 to dotted quads.
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

const BASE_URL_RANGE = `an https URL like ${DEFAULT_ASC_BASE_URL} (http only to a loopback host such as a local test server)`;

/**
 * What is wrong with an API base URL, in words (`seen`) with the accepted `range`, or
 * `undefined` when it is usable. Never repeats the URL, which may carry credentials or a pasted
 * secret.
 * @internal
 */
export function checkBaseUrl(baseUrl: unknown): { seen: string; range: string } | undefined {
  const range = BASE_URL_RANGE;
  if (typeof baseUrl !== "string") return { seen: `a value of type ${baseUrl === null ? "null" : typeof baseUrl}`, range };
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return { seen: `a value of ${baseUrl.length} characters that is not a URL`, range };
  }
  if (url.username || url.password) {
    return { seen: "a URL with a user name or password (the API is authorised by the bearer token alone)", range: `${range}, without credentials` };
  }
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:") {
    // A bearer token sent in clear text to another machine can be read and replayed until it expires.
    return isLoopbackHost(url.hostname) ? undefined : { seen: "a plain http:// URL to a host other than this machine, which would send the bearer token unencrypted", range };
  }
  return { seen: `a URL with the scheme ${/^[a-z][a-z0-9+.-]{0,15}:$/.test(url.protocol) ? `'${url.protocol}'` : "of another kind"}`, range };
}
