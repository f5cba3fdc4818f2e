/**
 * `pulumi-asc-credential`: App Store Connect API keys as Pulumi resources, plus the core.
 * @packageDocumentation
 */
export * from "./runtime";
export { ApiKeyProbe, type ApiKeyProbeArgs } from "./probe/api-key-probe";
export * from "./storage";
