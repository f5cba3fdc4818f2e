/**
 * `pulumi-asc-credential`: App Store Connect API keys as Pulumi resources, plus the core.
 * @packageDocumentation
 */
export * from "./runtime";
