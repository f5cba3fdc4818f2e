/**
 * The App Store Connect API as a credential sees it: the probe (sign, verify, optionally call
 * the API), its options and Apple's answers decoded. Depends on core only.
 * @packageDocumentation
 */
export {
  CLOCK_SKEW_WARNING_SECONDS,
  DEFAULT_ASC_BASE_URL,
  DEFAULT_PROBE_RETRIES,
  DEFAULT_PROBE_RETRY_BASE_DELAY_MS,
  DEFAULT_PROBE_TIMEOUT_MS,
  MAX_CLOCK_ADJUSTMENT_SECONDS,
  MAX_PROBE_RETRIES,
  type ProbeError,
  type ProbeOptions,
  type ProbeResult,
} from "./options";
export { probeCredential } from "./probe-credential";
