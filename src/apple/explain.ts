/**
 * What Apple's answers mean for a credential: the error JSON decoded
 * (`{"errors":[{"status","code","title","detail",...}]}`), made safe to print, and turned into
 * an actionable {@link ProbeError}. A server's body is never repeated: only these decoded fields,
 * each through the redaction, reach a message.
 * @packageDocumentation
 */
import { printable, redactKnown } from "../core/redact";
import { CLOCK_SKEW_WARNING_SECONDS, DEFAULT_ASC_BASE_URL, type ProbeError } from "./options";

/** One entry of Apple's `errors` array, as far as this package reads it. */
export interface AppleErrorEntry {
  status?: string;
  code?: string;
  title?: string;
  detail?: string;
}

/** Returns the entries when `body` is Apple's error JSON, `undefined` otherwise. */
export function parseAppleErrors(body: string): AppleErrorEntry[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const entries: AppleErrorEntry[] = [];
  for (const raw of errors) {
    if (raw === null || typeof raw !== "object") return undefined;
    const entry: AppleErrorEntry = {};
    for (const field of ["status", "code", "title", "detail"] as const) {
      const value = (raw as Record<string, unknown>)[field];
      if (typeof value === "string") entry[field] = value;
    }
    if (entry.status === undefined && entry.code === undefined) return undefined;
    entries.push(entry);
  }
  return entries;
}

/** How much of one of Apple's fields is read at all (a body may be a megabyte); 300 characters are shown. */
const MAX_FIELD_READ = 2_000;

/**
 * Apple's text, made safe to print: at most three entries, each cut to its first characters,
 * redacted (of every token `sent`, in any piece), without control characters, and bounded.
 */
export function describeAppleErrors(entries: AppleErrorEntry[], sent: readonly string[] = []): string {
  return entries
    .slice(0, 3)
    .map((e) =>
      [e.code, e.title, e.detail]
        .filter((part): part is string => typeof part === "string" && part !== "")
        .map((part) => printable(redactKnown(part.slice(0, MAX_FIELD_READ).replace(/\s+/g, " "), sent)).slice(0, 300))
        .join(": "),
    )
    .join("; ");
}

/** True when `body` is a JSON:API list document, the shape of every App Store Connect list answer. */
export function isJsonApiList(body: string): boolean {
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed !== null && typeof parsed === "object" && Array.isArray((parsed as { data?: unknown }).data);
  } catch {
    return false;
  }
}

/** Status codes worth another attempt. */
export function isRetryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/** What a failed answer tells about the credential. */
export interface FailedAnswer {
  status: number;
  body: string;
  keyType: "team" | "individual";
  /** Server clock minus local clock, when the answer had a usable `Date` header. */
  skew: number | undefined;
  /** How the one extra attempt after a 401 was spent, if it was. */
  second401: "none" | "apple-clock" | "fresh";
  /** Attempts made in all. */
  attempts: number;
  /** Every token sent: removed from Apple's text in any piece the server echoed. */
  sent: readonly string[];
}

/** Turns a final non-2xx answer into the error a user can act on. */
export function explainAnswer(answer: FailedAnswer): ProbeError {
  const { status, body, keyType, skew, second401, attempts, sent } = answer;
  const apple = parseAppleErrors(body);
  const said = apple ? ` Apple said: ${describeAppleErrors(apple, sent)}.` : "";
  const skewed = skew !== undefined && Math.abs(skew) > CLOCK_SKEW_WARNING_SECONDS;
  const skewNote = !skewed
    ? ""
    : second401 === "apple-clock"
      ? ` This machine's clock is also off by ${skew} s, but a token dated on Apple's clock was rejected too, so the clock is not the only problem.`
      : ` This machine's clock is off by ${skew} s, which alone makes Apple reject tokens.`;
  if (status >= 300 && status < 400) {
    return { code: "API_UNEXPECTED", message: `The API answered with a redirect (HTTP ${status}). The App Store Connect API does not redirect, so baseUrl points somewhere else; the probe never follows a redirect with a bearer token. Set validation.baseUrl to the API's own address, ${DEFAULT_ASC_BASE_URL}.` };
  }
  if ((status === 401 || status === 403) && !apple) {
    return { code: "API_UNEXPECTED", message: `The API answered HTTP ${status} without Apple's error JSON: something other than the App Store Connect API (a proxy or a wrong baseUrl) answered. Check validation.baseUrl and any HTTP proxy.` };
  }
  if (status === 401) {
    const who = keyType === "team" ? "issuerId is the Issuer ID at the top of the keys page (not the Team ID), " : 'the key is an individual key (tokens use sub "user"), ';
    const twice = second401 === "fresh" ? " It rejected a freshly signed token on a second try too, so this is not a transient 401." : "";
    return { code: "API_UNAUTHORIZED", message: `App Store Connect rejected the key (HTTP 401).${said}${twice} Check that ${who}keyId is the Key ID (not the key's name) of this private key, that the key was not revoked, and that this machine's clock is right.${skewNote}` };
  }
  if (status === 403) {
    return {
      code: "API_FORBIDDEN",
      message: `App Store Connect refused the key (HTTP 403).${said} The key may be revoked, or its role may lack access to apps: create a new key with the needed role in Users and Access > Integrations, then swap keyId and privateKey. Apple also answers 403 to a token it cannot parse; this package always signs well-formed tokens, so if the key is active, check that no proxy between this machine and Apple rewrites the Authorization header.${skewNote}`,
    };
  }
  if (isRetryable(status)) {
    return { code: "API_UNREACHABLE", message: `The App Store Connect API kept failing (HTTP ${status}) after ${attempts} attempts.${said} Apple may be having an outage or rate-limiting this key; try again later, or use validation.mode "offline" to deploy without the call.` };
  }
  return { code: "API_UNEXPECTED", message: `The App Store Connect API answered HTTP ${status}${apple ? "" : " with a body that is not Apple's error JSON"}.${said} Check validation.baseUrl; if it is right, this is worth a bug report.` };
}

/** Why a success answer is not trusted: something other than the API answered. */
export function notTheApi(status: number): ProbeError {
  return { code: "API_UNEXPECTED", message: `The API answered HTTP ${status}, but not with the App Store Connect API's JSON list (a "data" array): something other than the API (a proxy, a captive portal or a wrong baseUrl) answered. Check validation.baseUrl and any HTTP proxy.` };
}

/** The clock warning, when the skew is large enough to matter. */
export function skewWarning(skew: number): string | undefined {
  if (Math.abs(skew) <= CLOCK_SKEW_WARNING_SECONDS) return undefined;
  return `This machine's clock is ${Math.abs(skew)} s ${skew > 0 ? "behind" : "ahead of"} Apple's. Tokens near the 20-minute limit will be rejected; sync the clock (NTP) or use a shorter token lifetime.`;
}
