// The role type offered to users leaves out the roles Apple cannot create keys with.
import type { AscRole } from "pulumi-asc-credential";

// @ts-expect-error MARKETING is a user role only
export const marketing: AscRole = "MARKETING";
// @ts-expect-error CUSTOMER_SUPPORT is a user role only
export const support: AscRole = "CUSTOMER_SUPPORT";
export const ok: AscRole[] = ["ADMIN", "APP_MANAGER", "DEVELOPER", "FINANCE", "SALES", "ACCESS_TO_REPORTS"];
