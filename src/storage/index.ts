/**
 * Storage: one folder per secret store, each a component, and the store-neutral parts they share.
 * @packageDocumentation
 */
export type { AscCredentialArgs, AscKeyValidationArgs, AscOnRotateArgs } from "./credential";
export type { AscCredentialComponent } from "./credential-component";
export { checkRoles, KEY_ROLES, type AscRole } from "./roles";
