import { isAscCredentialError } from "../core/errors";
import { createTokenSync, rememberSigningKey, toEpochSeconds } from "../core/token";
import { validateWithKeyObject, type CredentialInput } from "../core/validate";
import { verifyToken } from "../core/verify";
import { callApi, REAL_ENVIRONMENT, type ProbeEnvironment } from "./attempts";
import { MAX_CLOCK_ADJUSTMENT_SECONDS, resolveProbeOptions, type ProbeError, type ProbeOptions, type ProbeResult, type ResolvedProbeOptions } from "./options";

/** The probe token lives long enough for retries, far below Apple's 20-minute cap. */
const PROBE_TOKEN_LIFETIME_SECONDS = 300;

/**
 * Validates a credential and proves it can sign: mints a probe ES256 JWT and verifies it with
 * the public key derived from the private key. In `online` mode it also calls
 * `GET {baseUrl}/v1/apps?limit=1` with that token, with a timeout and bounded retries, and maps
 * Apple's answer to an actionable error. Never throws: every failure, whatever the key, the
 * options, the server's answer or the clocks, is in the result's `error`.
 */
export function probeCredential(credential: CredentialInput, options: ProbeOptions = {}): Promise<ProbeResult> {
  return probeCredentialWith(REAL_ENVIRONMENT, credential, options);
}

/**
 * {@link probeCredential} with the outside world (fetch, clock, sleep, randomness) given.
 * @internal
 */
export async function probeCredentialWith(env: ProbeEnvironment, credential: CredentialInput, options: ProbeOptions = {}): Promise<ProbeResult> {
  let base: ProbeResult = { ok: false, mode: "offline" };
  try {
    // Inside the try: options may be a Proxy or hold getters that throw.
    const mode = options?.mode === "online" ? "online" : "offline";
    base = { ok: false, mode };
    const { result: validation, keyObject, privateKey } = validateWithKeyObject(credential);
    if (validation.key) base = { ...base, fingerprint: validation.key.fingerprint, publicKeyPem: validation.key.publicKeyPem };
    let issuedAt: number;
    let resolved: ResolvedProbeOptions;
    try {
      issuedAt = options?.now === undefined ? Math.floor(env.now() / 1000) : toEpochSeconds(options.now);
      resolved = resolveProbeOptions(options ?? {});
    } catch (error) {
      return { ...base, error: asProbeError(error) };
    }
    const first = validation.issues[0];
    if (first || !validation.key) {
      return { ...base, error: { code: first?.code ?? "KEY_MALFORMED", message: first?.message ?? "privateKey could not be read." } };
    }
    const keyType = credential.keyType ?? "team";
    // The signer reuses the key just imported instead of importing the text again.
    if (keyObject && typeof privateKey === "string") rememberSigningKey(privateKey, keyObject, validation.key.fingerprint);
    const token = createTokenSync(credential, { lifetimeSeconds: PROBE_TOKEN_LIFETIME_SECONDS, now: issuedAt });
    // The probe checks the signature and claims, not the caller's chosen `now`.
    const verified = await verifyToken(token, validation.key.publicKeyPem, {
      keyType,
      ...(credential.issuerId !== undefined ? { issuerId: credential.issuerId } : {}),
      currentDate: new Date((issuedAt + 1) * 1000),
    });
    if (!verified) {
      return { ...base, error: { code: "KEY_MALFORMED", message: "privateKey parsed, but a token signed with it did not verify with its own public key. The key file is damaged: download a new key from App Store Connect." } };
    }
    if (resolved.mode === "offline") return { ok: true, mode, fingerprint: validation.key.fingerprint, publicKeyPem: validation.key.publicKeyPem };
    // A re-signed token keeps the caller's time base plus the time the probe has run. No `scope`
    // on the probe token, on purpose: how Apple matches a scope against `?limit=1` is not
    // documented, and a refused scope would make a good key look bad.
    const started = env.now();
    const resign = (skewSeconds: number): string => {
      const adjustment = Math.max(-MAX_CLOCK_ADJUSTMENT_SECONDS, Math.min(MAX_CLOCK_ADJUSTMENT_SECONDS, skewSeconds));
      return createTokenSync(credential, { lifetimeSeconds: PROBE_TOKEN_LIFETIME_SECONDS, now: Math.max(0, issuedAt + Math.floor((env.now() - started) / 1000) + adjustment) });
    };
    return await callApi(token, resign, base, resolved, keyType, env);
  } catch (error) {
    return { ...base, error: asProbeError(error) };
  }
}

function asProbeError(error: unknown): ProbeError {
  if (isAscCredentialError(error)) return { code: error.code, message: error.message };
  // Not ours: its text could echo input, so only that it happened is reported.
  return { code: "API_UNEXPECTED", message: "The probe failed in an unexpected way (an internal error, not a problem with the key). Run it again; if it persists, this is worth a bug report." };
}
