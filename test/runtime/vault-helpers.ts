/**
 * Helpers of the Vault runtime tests: writing what the component declared (recorded under mocks)
 * to a real OpenBao server, the calls the Terraform Vault provider would make for those inputs;
 * tokens and logins; a signed CI-style JWT; counting what the loader sends.
 */
import { createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import type { Declared, DeclaredRole } from "../storage/vault/declared";
import type { OpenBaoServer } from "../support/openbao-server";

type Api = OpenBaoServer["api"];

/** Fails the test with the status and Vault's error strings (never a token: Vault does not echo them). */
export async function ok(call: ReturnType<Api>, what: string): Promise<Record<string, unknown> | undefined> {
  const { status, json } = await call;
  if (status < 200 || status >= 300) throw new Error(`${what}: HTTP ${status} ${JSON.stringify(json?.errors ?? null)}`);
  return json;
}

// Pulumi input → Vault API field, as the provider maps them. A field not listed fails the test, so
// a new component input cannot go unapplied (and unjudged) by accident.
const ROLE_FIELDS: Record<string, string> = {
  bindSecretId: "bind_secret_id",
  tokenPolicies: "token_policies",
  tokenNoDefaultPolicy: "token_no_default_policy",
  tokenTtl: "token_ttl",
  tokenMaxTtl: "token_max_ttl",
  tokenBoundCidrs: "token_bound_cidrs",
  secretIdTtl: "secret_id_ttl",
  secretIdNumUses: "secret_id_num_uses",
  secretIdBoundCidrs: "secret_id_bound_cidrs",
  roleType: "role_type",
  boundAudiences: "bound_audiences",
  boundClaims: "bound_claims",
  boundClaimsType: "bound_claims_type",
  boundSubject: "bound_subject",
  userClaim: "user_claim",
};

function roleBody(role: DeclaredRole): { body: Record<string, unknown>; namespace?: string } {
  const body: Record<string, unknown> = {};
  let namespace: string | undefined;
  for (const [key, value] of Object.entries(role.settings)) {
    if (key === "namespace") namespace = String(value);
    else if (ROLE_FIELDS[key]) body[ROLE_FIELDS[key]] = value;
    else throw new Error(`the component declared the role input ${key}, which these tests do not know how to apply`);
  }
  return { body, ...(namespace !== undefined ? { namespace } : {}) };
}

/** Enables an auth method at `path` (once). */
export async function enableAuth(api: Api, path: string, type: "approle" | "jwt", namespace?: string): Promise<void> {
  const mounts = await ok(api("GET", "sys/auth", undefined, namespace !== undefined ? { namespace } : {}), "list auth methods");
  if ((mounts?.data as Record<string, unknown> | undefined)?.[`${path}/`]) return;
  await ok(api("POST", `sys/auth/${path}`, { type }, namespace !== undefined ? { namespace } : {}), `enable ${type} at ${path}`);
}

/**
 * Writes the declared policy, secret (data, then custom metadata) and roles, as `pulumi up` with
 * the Vault provider would. The auth methods must exist (as the component expects).
 */
export async function applyDeclared(api: Api, d: Declared, namespace?: string): Promise<void> {
  const ns = namespace !== undefined ? { namespace } : {};
  await ok(api("PUT", `sys/policies/acl/${d.policy.name}`, { policy: d.policy.text }, ns), "write the reader policy");
  await ok(api("POST", `${d.secret.mount}/data/${d.secret.path}`, { data: d.secret.data }, ns), "write the secret");
  const metadata = d.secret.customMetadata as { data?: Record<string, string>; maxVersions?: number } | undefined;
  if (metadata) {
    const known = new Set(["data", "maxVersions"]);
    for (const key of Object.keys(metadata)) if (!known.has(key)) throw new Error(`the component declared the custom metadata input ${key}, which these tests do not apply`);
    await ok(api("POST", `${d.secret.mount}/metadata/${d.secret.path}`, { custom_metadata: metadata.data ?? {}, ...(metadata.maxVersions !== undefined ? { max_versions: metadata.maxVersions } : {}) }, ns), "write the custom metadata");
  }
  for (const role of [d.appRole, d.jwtRole]) {
    if (!role) continue;
    const { body, namespace: roleNs } = roleBody(role);
    await ok(api("POST", `auth/${role.backend}/role/${role.roleName}`, body, roleNs !== undefined ? { namespace: roleNs } : ns), `write the role ${role.roleName}`);
  }
}

/** A token with exactly `policies` (no `default`), made by root. */
export async function tokenWith(api: Api, policies: string[], namespace?: string): Promise<string> {
  const json = await ok(api("POST", "auth/token/create", { policies, no_default_policy: true, ttl: "1h" }, namespace !== undefined ? { namespace } : {}), "create a token");
  return (json?.auth as { client_token: string }).client_token;
}

/** The role ID and a new secret ID of an AppRole role. */
export async function appRoleCredentials(api: Api, backend: string, role: string): Promise<{ roleId: string; secretId: string }> {
  const roleId = ((await ok(api("GET", `auth/${backend}/role/${role}/role-id`), "read the role ID"))?.data as { role_id: string }).role_id;
  const secretId = ((await ok(api("POST", `auth/${backend}/role/${role}/secret-id`, {}), "create a secret ID"))?.data as { secret_id: string }).secret_id;
  return { roleId, secretId };
}

/** An issuer standing in for GitHub Actions' OIDC provider: one ES256 key, tokens signed on demand. */
export interface TestIssuer {
  issuer: string;
  publicKeyPem: string;
  sign(claims: Record<string, unknown>, nowSeconds?: number): string;
}

export function testIssuer(issuer = "https://token.actions.githubusercontent.com"): TestIssuer {
  const { privateKey: key } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const publicKeyPem = createPublicKey(key).export({ type: "spki", format: "pem" }).toString();
  return {
    issuer,
    publicKeyPem,
    sign(claims, nowSeconds = Math.floor(Date.now() / 1000)) {
      const header = Buffer.from(JSON.stringify({ alg: "ES256", typ: "JWT", kid: "test" })).toString("base64url");
      const payload = Buffer.from(JSON.stringify({ iss: issuer, iat: nowSeconds, nbf: nowSeconds - 5, exp: nowSeconds + 300, ...claims })).toString("base64url");
      const signature = sign("sha256", Buffer.from(`${header}.${payload}`), { key, dsaEncoding: "ieee-p1363" }).toString("base64url");
      return `${header}.${payload}.${signature}`;
    },
  };
}

/** Every request the code under test sends through the global fetch, with the response's JSON for logins. */
export interface FetchRecord {
  method: string;
  url: string;
  /** For a login: the client token it returned (so a test can revoke it). Never printed. */
  clientToken?: string;
}

/** Records every global fetch call from now on; `restore()` puts the original back. */
export function recordFetches(): { calls: FetchRecord[]; restore(): void } {
  const original = globalThis.fetch;
  const calls: FetchRecord[] = [];
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const record: FetchRecord = { method: init?.method ?? (input instanceof Request ? input.method : "GET"), url };
    calls.push(record);
    const response = await original(input, init);
    if (url.endsWith("/login") && response.ok) {
      const copy = response.clone();
      const json = (await copy.json().catch(() => undefined)) as { auth?: { client_token?: string } } | undefined;
      if (json?.auth?.client_token) record.clientToken = json.auth.client_token;
    }
    return response;
  };
  return { calls, restore: () => void (globalThis.fetch = original) };
}
