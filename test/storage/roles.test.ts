/** checkRoles: the least-privilege rules for the role a key was created with (pure, no Pulumi). */
import { checkRoles, KEY_ROLES, rolesTag, type AscRole } from "../../src/storage/roles";

function thrown(fn: () => unknown): Error & { code?: string; field?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string; field?: string };
  }
  throw new Error("expected a throw");
}

test("no role, one role, or a list: normalised to a de-duplicated list in the given order", () => {
  expect(checkRoles(undefined)).toEqual([]);
  expect(checkRoles("APP_MANAGER")).toEqual(["APP_MANAGER"]);
  expect(checkRoles(["SALES", "FINANCE", "SALES"])).toEqual(["SALES", "FINANCE"]);
  expect(checkRoles([])).toEqual([]);
});

test("every key role is accepted; ADMIN only with allowAdminRole", () => {
  for (const role of KEY_ROLES.filter((r) => r !== "ADMIN")) expect(checkRoles(role)).toEqual([role]);
  expect(thrown(() => checkRoles("ADMIN"))).toMatchObject({ code: "ROLE_ADMIN_NOT_ALLOWED", field: "role", message: expect.stringMatching(/^role: ADMIN was declared but allowAdminRole is not true\..*APP_MANAGER/) });
  expect(thrown(() => checkRoles(["DEVELOPER", "ADMIN"]))).toMatchObject({ code: "ROLE_ADMIN_NOT_ALLOWED" });
  expect(checkRoles("ADMIN", true)).toEqual(["ADMIN"]);
});

test.each<[string, unknown, RegExp]>([
  ["MARKETING", "MARKETING", /cannot create API keys with the Marketing or Customer Support role/],
  ["CUSTOMER_SUPPORT", ["APP_MANAGER", "CUSTOMER_SUPPORT"], /cannot create API keys with the Marketing or Customer Support role/],
  ["an unknown role", "OWNER", /^role: 'OWNER' is not a role an App Store Connect API key can have\. Use the role the key was created with, one of ADMIN, APP_MANAGER/],
  ["lower case", "app_manager", /'app_manager' is not a role/],
  ["a number", 42, /a value of type number/],
  ["null in a list", [null], /a value of type null/],
  ["a long string (never quoted)", "A".repeat(60), /a value of type string/],
])("%s is ROLE_INVALID, naming the field and the roles to use", (_label, role, message) => {
  expect(thrown(() => checkRoles(role as AscRole))).toMatchObject({ code: "ROLE_INVALID", field: "role", message: expect.stringMatching(message) });
});

test("the roles tag", () => {
  expect(rolesTag([])).toBe("unspecified");
  expect(rolesTag(["SALES", "FINANCE"])).toBe("SALES FINANCE");
});
