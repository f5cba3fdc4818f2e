/**
 * The online call's attempt loop: `GET {baseUrl}/v1/apps?limit=1` with a timeout per attempt,
 * bounded retries with full-jitter backoff, one extra attempt after a 401, and the clock skew read
 * from the `Date` header. The clock, sleep, randomness and `fetch` are passed in, so tests drive
 * time instead of waiting for it.
 * @packageDocumentation
 */
import { networkErrorName, tlsAdvice } from "../core/network";
import { explainAnswer, isJsonApiList, isRetryable, notTheApi, parseAppleErrors, skewWarning } from "./explain";
import { CLOCK_SKEW_WARNING_SECONDS, MAX_CLOCK_ADJUSTMENT_SECONDS, MAX_RETRY_DELAY_MS, type ProbeResult, type ResolvedProbeOptions } from "./options";

/** What the loop needs from the outside world. */
export interface ProbeEnvironment {
  fetch: typeof globalThis.fetch;
  /** Epoch milliseconds. */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1). */
  random: () => number;
}

/** The real world: global fetch, Date.now, timers and Math.random. */
export const REAL_ENVIRONMENT: ProbeEnvironment = {
  fetch: (input, init) => globalThis.fetch(input, init),
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

/** A success body is read to check its shape; an app list of one entry is a few kilobytes. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Calls the API with `firstToken`. `resign(skewSeconds)` mints a fresh token dated that many
 * seconds from the local clock (never more than {@link MAX_CLOCK_ADJUSTMENT_SECONDS}).
 * `base` carries what the result already knows (mode, fingerprint). Never throws.
 */
export async function callApi(
  firstToken: string,
  resign: (skewSeconds: number) => string,
  base: ProbeResult,
  options: ResolvedProbeOptions,
  keyType: "team" | "individual",
  env: ProbeEnvironment,
): Promise<ProbeResult> {
  let token = firstToken;
  const sent = [firstToken];
  // At most one extra attempt after a 401, not counted against `retries`: re-signed on Apple's
  // clock when the clocks disagree (within the cap), else freshly signed, since transient 401s
  // that pass on a retry are a known Apple behaviour.
  let second401: "none" | "apple-clock" | "fresh" = "none";
  const url = `${options.baseUrl}/v1/apps?limit=1`;
  let lastProblem = "";
  // What a TLS failure means and how to fix it, when the last attempt failed that way.
  let lastAdvice: string | undefined;
  let attempts = 0;
  // A 429's Retry-After replaces the backoff before the next attempt.
  let retryAfterMs: number | undefined;
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    if (attempt > 0) await env.sleep(retryAfterMs ?? backoff(attempt, options.retryBaseDelayMs, env.random));
    retryAfterMs = undefined;
    attempts++;
    let response: Response;
    let body: string;
    try {
      response = await env.fetch(url, {
        headers: { authorization: `Bearer ${token}`, accept: "application/json" },
        // A redirect means baseUrl is wrong; following it would hand the token to another URL.
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      body = await readBounded(response);
    } catch (error) {
      const name = networkErrorName(error) ?? "unknown";
      lastProblem = (error as { name?: string })?.name === "TimeoutError" ? `no answer within ${options.timeoutMs} ms` : `network error (${name})`;
      lastAdvice = tlsAdvice(name);
      continue;
    }
    const status = response.status;
    const result: ProbeResult = { ...base, apiStatus: status };
    const skew = clockSkew(response.headers.get("date"), env.now());
    if (skew !== undefined) {
      result.clockSkewSeconds = skew;
      const warning = skewWarning(skew);
      if (warning) result.warnings = [warning];
    }
    if (status >= 200 && status < 300) {
      if (!isJsonApiList(body)) return { ...result, error: notTheApi(status) };
      const warnings = result.warnings ?? [];
      if (second401 === "apple-clock") warnings.push("The key is valid, but Apple accepted it only with a token dated on Apple's clock; tokens minted on this machine will fail until its clock is fixed.");
      if (second401 === "fresh") warnings.push("Apple answered the first request with HTTP 401 and accepted a freshly signed token on the retry. Transient 401s happen at Apple; if they recur, check that only one key ID is in use and that this machine's clock is right.");
      return warnings.length > 0 ? { ...result, ok: true, warnings } : { ...result, ok: true };
    }
    if (status === 401 && second401 === "none" && parseAppleErrors(body)) {
      // Only Apple's own 401 is worth asking again; a proxy's login page is not. A different
      // question (is the key valid?), so not counted as a retry.
      const skewed = skew !== undefined && Math.abs(skew) > CLOCK_SKEW_WARNING_SECONDS;
      // Beyond the cap the skew is reported, and no token dated far from this clock is minted
      // (a far-future token is one a proxy could collect and replay later).
      if (skewed && Math.abs(skew) <= MAX_CLOCK_ADJUSTMENT_SECONDS) {
        second401 = "apple-clock";
        token = resign(skew);
      } else {
        second401 = "fresh";
        token = resign(0);
      }
      sent.push(token);
      attempt--;
      continue;
    }
    if (isRetryable(status) && attempt < options.retries) {
      lastProblem = `HTTP ${status}`;
      lastAdvice = undefined;
      const retryAfter = Number(response.headers.get("retry-after"));
      if (status === 429 && Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = Math.min(retryAfter * 1000, MAX_RETRY_DELAY_MS);
      continue;
    }
    return { ...result, error: explainAnswer({ status, body, keyType, skew, second401, attempts, sent }) };
  }
  return {
    ...base,
    error: {
      code: "API_UNREACHABLE",
      message: `The App Store Connect API could not be reached after ${attempts} attempt${attempts === 1 ? "" : "s"} (last: ${lastProblem}). ${lastAdvice ? `${lastAdvice} To deploy without the call, use validation.mode "offline".` : 'Check network access from this machine (proxy, firewall, DNS) and validation.baseUrl, and try again; validation.mode "offline" skips the call.'}`,
    },
  };
}

/** Server clock minus local clock in whole seconds, or undefined for a missing or unusable header. */
export function clockSkew(dateHeader: string | null, nowMs: number): number | undefined {
  if (!dateHeader || dateHeader.length > 100) return undefined;
  const server = Date.parse(dateHeader);
  if (!Number.isFinite(server)) return undefined;
  return Math.round((server - nowMs) / 1000);
}

/** Full jitter: a random wait up to the doubled ceiling. */
export function backoff(attempt: number, baseDelay: number, random: () => number): number {
  const ceiling = Math.min(MAX_RETRY_DELAY_MS, baseDelay * 2 ** (attempt - 1));
  const r = random();
  return (Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0) * ceiling;
}

// An answer's body is only needed for Apple's error JSON or to check a list's shape; a bound
// keeps a hostile or broken server from filling memory. The attempt's timeout covers the body.
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
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
}
