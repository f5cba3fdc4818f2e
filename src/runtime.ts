/**
 * `pulumi-asc-credential/runtime`: the consumer side (core, probe, token source), importable
 * without any `@pulumi/*` package.
 * @packageDocumentation
 */
export * from "./core";
export { probeCredential, DEFAULT_ASC_BASE_URL, type ProbeOptions, type ProbeResult } from "./probe/probe-credential";
export { AscTokenSource, type FileSourceOptions, type SecretsManagerSourceOptions, type TokenSourceOptions } from "./runtime/token-source";
export type { SecretsManagerLike } from "./runtime/secrets-manager";
