/**
 * `pulumi-asc-credential/runtime`: the consumer side (core, probe, token source), importable
 * without any `@pulumi/*` package.
 * @packageDocumentation
 */
export * from "./core";
export {
  CLOCK_SKEW_WARNING_SECONDS,
  DEFAULT_ASC_BASE_URL,
  DEFAULT_PROBE_RETRIES,
  DEFAULT_PROBE_RETRY_BASE_DELAY_MS,
  DEFAULT_PROBE_TIMEOUT_MS,
  MAX_PROBE_RETRIES,
  probeCredential,
  type ProbeOptions,
  type ProbeResult,
} from "./probe/probe-credential";
export { AscTokenSource, type FileSourceOptions, type SecretsManagerSourceOptions, type TokenSourceOptions } from "./runtime/token-source";
export type { SecretsManagerLike } from "./runtime/secrets-manager";
