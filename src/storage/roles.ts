/**
 * App Store Connect roles a team key is created with, and the least-privilege rules applied to
 * them. Pure: no Pulumi.
 * @packageDocumentation
 */
import { AscCredentialError } from "../core";

/**
 * A role an App Store Connect API key can be created with (it cannot be edited later). The user
 * roles Marketing and Customer Support are left out: Apple does not let keys be created with them.
 */
export type AscRole = "ADMIN" | "APP_MANAGER" | "DEVELOPER" | "FINANCE" | "SALES" | "ACCESS_TO_REPORTS";

/** Every {@link AscRole}. */
export const KEY_ROLES: readonly AscRole[] = ["ADMIN", "APP_MANAGER", "DEVELOPER", "FINANCE", "SALES", "ACCESS_TO_REPORTS"];

const USER_ONLY_ROLES: readonly string[] = ["MARKETING", "CUSTOMER_SUPPORT"];

/**
 * Normalises `role` to a de-duplicated list and enforces the rules: known key roles only, and
 * `ADMIN` only with `allowAdminRole`.
 * @throws {@link AscCredentialError} `ROLE_INVALID` or `ROLE_ADMIN_NOT_ALLOWED` (field `role`).
 */
export function checkRoles(role: AscRole | readonly AscRole[] | undefined, allowAdminRole = false): AscRole[] {
  const roles: unknown[] = role === undefined || role === null ? [] : Array.isArray(role) ? [...(role as readonly unknown[])] : [role];
  const out: AscRole[] = [];
  for (const r of roles) {
    if (typeof r !== "string" || !(KEY_ROLES as readonly string[]).includes(r)) {
      const seen = typeof r === "string" && /^[A-Za-z_]{1,40}$/.test(r) ? `'${r}'` : `a value of type ${r === null ? "null" : typeof r}`;
      const why = typeof r === "string" && USER_ONLY_ROLES.includes(r)
        ? " App Store Connect cannot create API keys with the Marketing or Customer Support role."
        : "";
      throw new AscCredentialError(
        "ROLE_INVALID",
        `role: ${seen} is not a role an App Store Connect API key can have.${why} Use the role the key was created with, one of ${KEY_ROLES.join(", ")}.`,
        "role",
      );
    }
    if (!out.includes(r as AscRole)) out.push(r as AscRole);
  }
  if (out.includes("ADMIN") && !allowAdminRole) {
    throw new AscCredentialError(
      "ROLE_ADMIN_NOT_ALLOWED",
      "role: ADMIN was declared but allowAdminRole is not true. An Admin key can manage users, keys and every app, which automation rarely needs: create a key with the narrowest role that works (APP_MANAGER for pricing and metadata, SALES or FINANCE for reports, DEVELOPER for builds), or set allowAdminRole: true to accept the risk.",
      "role",
    );
  }
  return out;
}

/** The `asc:roles` tag value: the roles, space-separated, or `unspecified`. */
export function rolesTag(roles: readonly AscRole[]): string {
  return roles.length > 0 ? roles.join(" ") : "unspecified";
}
