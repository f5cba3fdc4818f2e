/**
 * Reading the stored credential from a Vault (or OpenBao) KV v2 secret over Vault's HTTP API,
 * with the global `fetch`: token auth, or an AppRole / JWT login whose token is renewed by logging
 * in again. Every load is bounded in time (one deadline for logins and reads together) and every
 * answer in size; errors name the secret and the server, never a token, a secret ID or a JWT.
 * @packageDocumentation
 */
import { AscCredentialError, isAscCredentialError } from "../core/errors";
import { networkErrorCode, tlsAdvice } from "../core/network";
import { checkTimeoutMs, describeSeen, optionError } from "../core/options";
import { quote, redact, redactKnown } from "../core/redact";
import { checkVaultAuthMount, checkVaultMount, checkVaultNamespace, checkVaultPath, DEFAULT_VAULT_APPROLE_MOUNT, DEFAULT_VAULT_JWT_MOUNT, DEFAULT_VAULT_KV_MOUNT, MAX_VAULT_SECRET_LENGTH, VAULT_TOKEN_VARIABLES } from "../core/vault-path";

export { DEFAULT_VAULT_APPROLE_MOUNT, DEFAULT_VAULT_JWT_MOUNT };
import type { LoadedCredential } from "./credential";
import { DEFAULT_READ_TIMEOUT_MS, readerBudgetMs } from "./read-bounded";
import { parseStoredSecret } from "./stored-secret";

/**
 * How long a login token Vault refused as soon as it was issued is kept before a refusal leads to
 * another login: such a token lacks a policy, not time, and each login makes a token and a lease.
 */
export const VAULT_RELOGIN_BACKOFF_MS = 30_000;
/** The largest answer read from Vault; a KV v2 read of the stored JSON is about 1 KiB. */
export const MAX_VAULT_RESPONSE_BYTES = 256 * 1024;

/** An AppRole login (`auth/<mount>/login` with a role ID and a secret ID). */
export interface VaultAppRoleLogin {
  /** The role's `role_id` (`bao read auth/approle/role/<name>/role-id`). Secret: never shown. */
  roleId: string;
  /** A `secret_id` issued for the role. Secret: never shown. */
  secretId: string;
  /** The AppRole auth method's mount; default `approle`. */
  mount?: string;
}

/** A JWT / OIDC login (`auth/<mount>/login` with a role name and a signed JWT). */
export interface VaultJwtLogin {
  /** The JWT role's name (the component's `jwtRoleName`). */
  role: string;
  /**
   * The JWT, or a function returning a fresh one (called at every login: CI OIDC tokens such as
   * GitHub Actions' live minutes, and a re-login needs a new one). Secret: never shown.
   */
  jwt: string | (() => string | Promise<string>);
  /** The JWT auth method's mount; default `jwt`. */
  mount?: string;
}

/**
 * The credential the Vault `AppStoreConnectApiKey` component stored in a KV v2 secret. Address,
 * token and namespace default to `VAULT_ADDR`, `VAULT_TOKEN` and `VAULT_NAMESPACE` (or OpenBao's
 * `BAO_ADDR`, `BAO_TOKEN`, `BAO_NAMESPACE`), read when the source is created.
 */
export interface VaultSource {
  /** The secret's path inside the mount (the component's `path` output), e.g. `app-store-connect/ci`. */
  path: string;
  /** The KV v2 mount (the component's `mount` output); default `secret`. */
  mount?: string;
  /**
   * A KV v2 version number, or `"previous"`: the version before the current one, i.e. the key
   * before the last rotation (like Secrets Manager's `AWSPREVIOUS`). Default: the current version.
   */
  version?: number | "previous";
  /**
   * The server, e.g. `https://vault.example.com:8200`; default `VAULT_ADDR`. Plain `http` only to
   * this machine (`localhost`, `127.0.0.0/8`, `[::1]`) unless {@link allowInsecureHttp}.
   */
  address?: string;
  /** A Vault token; default `VAULT_TOKEN`. Not used with {@link appRole} or {@link jwt}. */
  token?: string;
  /** The namespace (Vault Enterprise, OpenBao), sent as `X-Vault-Namespace`; default `VAULT_NAMESPACE`. */
  namespace?: string;
  /** Log in with AppRole instead of a token. */
  appRole?: VaultAppRoleLogin;
  /** Log in with a JWT (e.g. a CI job's OIDC token) instead of a token. */
  jwt?: VaultJwtLogin;
  /** Allow plain `http` to a host other than this machine, which sends the token unencrypted. Default `false`. */
  allowInsecureHttp?: boolean;
  /** The longest one read may take, in ms (1 to 120 000); default 10 000. */
  timeoutMs?: number;
  /** Where `VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_NAMESPACE` (and `BAO_*`) are read; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The clock, in epoch milliseconds, for a login token's expiry; default `Date.now`. For tests. */
  now?: () => number;
}

type Json = Record<string, unknown>;

/**
 * Every secret a source holds (its token, role and secret IDs, a given JWT) and the last few it
 * obtained (login tokens, JWTs a function returned): cut out of any message. Bounded, so a
 * process that logs in for months does not keep every token it ever had.
 */
class Secrets {
  private readonly fixed = new Set<string>();
  private readonly recent: string[] = [];

  add(...values: string[]): void {
    // A longer value is refused before anything is sent, so no server can echo it; matching its
    // every 12-character window would cost seconds and hundreds of MB for a file read in by mistake.
    for (const v of values) if (v.length <= MAX_VAULT_SECRET_LENGTH) this.fixed.add(v);
  }

  addRecent(value: string): void {
    if (value.length > MAX_VAULT_SECRET_LENGTH || this.recent.includes(value)) return;
    this.recent.push(value);
    if (this.recent.length > 8) this.recent.shift();
  }

  /** Longest first, so a secret containing another is removed whole. */
  all(): string[] {
    return [...new Set([...this.fixed, ...this.recent])].sort((a, b) => b.length - a.length);
  }
}

interface Answer {
  status: number;
  /** The parsed JSON object, or `undefined` when the body was not one. */
  json: Json | undefined;
}

interface Target {
  base: string;
  /** The address as messages show it. */
  shown: string;
  namespace: string | undefined;
}

/** How tokens are obtained: a fixed one, or a login repeated when its token stops working. */
interface Auth {
  /** Where the token comes from, for messages: `VAULT_TOKEN`, `the AppRole login at auth/approle`. */
  describe: string;
  token(signal: AbortSignal): Promise<{ token: string; cached: boolean }>;
  /**
   * Vault refused `token` (`cached`: it was not obtained for this read). True when logging in
   * again may help; the token is dropped then.
   */
  refused(token: string, cached: boolean): boolean;
}

/**
 * A function that reads `source` anew on each call, within the timeout it is given. The source is
 * checked at once.
 * @throws AscCredentialError at once: `VAULT_ADDRESS_INVALID`, `VAULT_MOUNT_INVALID`,
 * `VAULT_PATH_INVALID`, `OPTION_INVALID` (no token, a bad version), `SOURCE_CONFLICT` (`VAULT_*`
 * and `BAO_*` variables that disagree). Each load rejects with `VAULT_UNREACHABLE`,
 * `VAULT_SEALED`, `VAULT_PERMISSION_DENIED`, `VAULT_LOGIN_FAILED`, `VAULT_MOUNT_NOT_KV2`,
 * `SECRET_NOT_FOUND`, `SECRET_FORMAT_INVALID`, `SECRET_READ_FAILED` or the key's own code.
 */
export function vaultLoader(source: VaultSource): (timeoutMs: number) => Promise<LoadedCredential> {
  if (source === null || typeof source !== "object") throw optionError("source", describeSeen(source), "{ path, mount?, address?, token? | appRole? | jwt? }");
  // Every secret the source holds or obtains: removed from any message, whatever slot it was put in.
  const secrets = new Secrets();
  try {
    const env = source.env ?? process.env;
    // Known before any slot is checked: a message about one slot never shows a secret given in another.
    const { token, appRole, jwt } = source;
    for (const value of [token, appRole?.roleId, appRole?.secretId, jwt?.jwt, ...VAULT_TOKEN_VARIABLES.map((name) => env[name])]) if (typeof value === "string" && value !== "") secrets.add(value);
    const mount = checkVaultMount(source.mount ?? DEFAULT_VAULT_KV_MOUNT, "mount");
    const path = checkVaultPath(source.path, "path");
    const version = checkVersion(source.version);
    const namespaceRaw = source.namespace ?? fromEnv(env, "NAMESPACE");
    const namespace = namespaceRaw === undefined || namespaceRaw === "" ? undefined : checkVaultNamespace(namespaceRaw, source.namespace !== undefined ? "namespace" : "VAULT_NAMESPACE");
    const target = checkAddress(source.address ?? fromEnv(env, "ADDR"), source.address !== undefined ? "address" : "VAULT_ADDR", source.allowInsecureHttp === true, namespace);
    if (source.now !== undefined && typeof source.now !== "function") throw optionError("now", describeSeen(source.now), "a function returning epoch milliseconds", "Date.now");
    const now = source.now ?? Date.now;
    const auth = chooseAuth(source, env, target, secrets, now);
    const where = `Vault secret ${quote(`${mount}/${path}`, 160)}${version === undefined ? "" : version === "previous" ? " (previous version)" : ` (version ${version})`} at ${target.shown}`;
    const reader = new KvReader(target, auth, mount, path, where);
    return (timeoutMs) => bounded((signal) => reader.read(version, signal), checkTimeoutMs(timeoutMs, DEFAULT_READ_TIMEOUT_MS), target, where, secrets);
  } catch (error) {
    throw scrubbed(error, secrets);
  }
}

/** `VAULT_<name>`, else OpenBao's `BAO_<name>`; both set and different is an error naming both. */
function fromEnv(env: Readonly<Record<string, string | undefined>>, name: "ADDR" | "TOKEN" | "NAMESPACE"): string | undefined {
  const vault = env[`VAULT_${name}`];
  const bao = env[`BAO_${name}`];
  if (vault !== undefined && vault !== "" && bao !== undefined && bao !== "" && vault !== bao) {
    throw new AscCredentialError("SOURCE_CONFLICT", `VAULT_${name} and BAO_${name} are both set, to different values. Unset one of them, so it is clear which ${name === "ADDR" ? "server" : name === "TOKEN" ? "token" : "namespace"} is used.`, `VAULT_${name}`);
  }
  return vault !== undefined && vault !== "" ? vault : bao !== undefined && bao !== "" ? bao : undefined;
}

function checkVersion(version: unknown): number | "previous" | undefined {
  if (version === undefined || version === "previous") return version;
  if (typeof version === "number" && Number.isInteger(version) && version >= 1 && version <= 2 ** 31) return version;
  throw optionError("version", typeof version === "string" ? quote(version) : describeSeen(version), 'a KV v2 version number (1 or more) or "previous"', "the current version");
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** True for `host`, `host:port` or `host/prefix` whose host is a domain name with a dot, an IP address or localhost. */
function looksLikeHost(text: string): boolean {
  try {
    const { hostname } = new URL(`https://${text}`);
    return hostname.includes(".") || hostname.startsWith("[") || hostname === "localhost";
  } catch {
    return false;
  }
}

/** The server's base URL (scheme, host, port, an optional path prefix), checked. */
function checkAddress(raw: string | undefined, field: string, allowInsecureHttp: boolean, namespace: string | undefined): Target {
  const fail = (problem: string, fix: string): never => {
    throw new AscCredentialError("VAULT_ADDRESS_INVALID", `${field}${problem}. ${fix}`, field);
  };
  const example = "Write it like https://vault.example.com:8200 (or http://127.0.0.1:8200 for a dev server on this machine)";
  if (raw === undefined) return fail(" is not set, and no address was given", `Set VAULT_ADDR to the Vault server's address or pass address. ${example}.`);
  if (typeof raw !== "string") return fail(` is ${describeSeen(raw)}`, `${example}.`);
  const text = raw.trim();
  // An address with a user or password part is not echoed: that part is a credential.
  const shown = /@/.test(text) ? "(the address given)" : quote(text);
  // Without a scheme it is shown only if it names a host (a token pasted here names none).
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) fail(` ${looksLikeHost(text) ? shown : `(a value of ${text.length} characters that names no host)`} has no scheme`, `${example}.`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(` ${shown} is not a URL`, `${example}.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") fail(` ${shown} is not an http or https address`, `${example}.`);
  if (url.username !== "" || url.password !== "") fail(" holds a user name or password", "Vault takes the token in a header: remove the credentials from the address.");
  if (url.search !== "" || url.hash !== "") fail(` ${shown} has a query or fragment`, `${example}.`);
  if (url.protocol === "http:" && !isLoopback(url.hostname) && !allowInsecureHttp) {
    fail(` ${shown} is plain http to another machine, which would send the Vault token unencrypted`, "Use https, or set allowInsecureHttp: true if the network path is protected otherwise (a sidecar, a service mesh).");
  }
  const base = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  return { base, shown: `${quote(base)}${namespace ? ` (namespace ${quote(namespace)})` : ""}`, namespace };
}

/** What a secret slot held, in words; a number (a secret ID read from YAML) is not repeated. */
function describeSecretSeen(value: unknown): string {
  return typeof value === "number" ? "a number" : describeSeen(value);
}

function checkSecretString(value: unknown, field: string, what: string): string {
  // Never shown, not even its length: a message says only what is wrong with it.
  if (typeof value !== "string" || value === "") throw optionError(field, typeof value === "string" ? "empty" : describeSecretSeen(value), what);
  if (value.length > MAX_VAULT_SECRET_LENGTH) {
    throw new AscCredentialError("OPTION_INVALID", `${field} is not ${what}: it is far longer than any (over ${MAX_VAULT_SECRET_LENGTH} characters; a whole file read in by mistake?). Pass the value alone.`, field);
  }
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw new AscCredentialError("OPTION_INVALID", `${field} is not ${what}: it holds spaces, line breaks or non-ASCII characters (a pasted value with its quotes or a trailing newline?). Pass the value alone.`, field);
  }
  return value;
}

function chooseAuth(source: VaultSource, env: Readonly<Record<string, string | undefined>>, target: Target, secrets: Secrets, now: () => number): Auth {
  if (source.appRole !== undefined && source.jwt !== undefined) {
    throw new AscCredentialError("OPTION_INVALID", "appRole and jwt are both given; use one way to log in to Vault.", "appRole");
  }
  if (source.appRole !== undefined) {
    const login = source.appRole;
    if (login === null || typeof login !== "object") throw optionError("appRole", describeSeen(login), "{ roleId, secretId, mount? }");
    const roleId = checkSecretString(login.roleId, "appRole.roleId", "an AppRole role ID");
    const secretId = checkSecretString(login.secretId, "appRole.secretId", "an AppRole secret ID");
    secrets.add(roleId, secretId);
    const mount = checkVaultAuthMount(login.mount ?? DEFAULT_VAULT_APPROLE_MOUNT, "appRole.mount");
    return new LoginAuth(target, mount, `the AppRole login at ${quote(`auth/${mount}`)}`, async () => ({ role_id: roleId, secret_id: secretId }), secrets, now);
  }
  if (source.jwt !== undefined) {
    const login = source.jwt;
    if (login === null || typeof login !== "object") throw optionError("jwt", describeSeen(login), "{ role, jwt, mount? }");
    if (typeof login.role !== "string" || !/^[\w.@~-]{1,128}$/.test(login.role)) {
      throw optionError("jwt.role", typeof login.role === "string" ? quote(login.role) : describeSeen(login.role), "the name of the JWT role to log in with (the component's jwtRoleName)");
    }
    const role = login.role;
    const given = login.jwt;
    if (typeof given === "string") secrets.add(checkSecretString(given, "jwt.jwt", "a JWT"));
    else if (typeof given !== "function") throw optionError("jwt.jwt", describeSecretSeen(given), "the JWT, or a function returning a fresh one");
    const mount = checkVaultAuthMount(login.mount ?? DEFAULT_VAULT_JWT_MOUNT, "jwt.mount");
    const body = async (signal: AbortSignal): Promise<Json> => {
      let jwt: unknown;
      if (typeof given === "string") jwt = given;
      else {
        try {
          // Given up with the load: a function that never answers must not hold every later login.
          jwt = await untilAborted(Promise.resolve().then(given), signal);
        } catch {
          if (signal.aborted) throw abandoned(`jwt.jwt: the function that supplies the JWT for the login at ${quote(`auth/${mount}`)}`);
          throw new AscCredentialError("VAULT_LOGIN_FAILED", `jwt.jwt: the function that supplies the JWT for the login at ${quote(`auth/${mount}`)} failed; the read is retried on the next call.`, "jwt.jwt");
        }
        if (typeof jwt === "string") secrets.addRecent(jwt);
      }
      return { role, jwt: checkSecretString(jwt, "jwt.jwt", "a JWT") };
    };
    return new LoginAuth(target, mount, `the JWT login at ${quote(`auth/${mount}`)} (role ${quote(role)})`, body, secrets, now);
  }
  const fromOption = source.token !== undefined;
  const raw = fromOption ? source.token : fromEnv(env, "TOKEN");
  const field = fromOption ? "token" : "VAULT_TOKEN";
  if (raw === undefined) {
    throw new AscCredentialError("OPTION_INVALID", "No Vault token: set VAULT_TOKEN, pass token, or log in with appRole or jwt (README \"Vault store\").", "token");
  }
  const token = checkSecretString(raw, field, "a Vault token");
  secrets.add(token);
  return {
    describe: fromOption ? "the token given" : "the token in VAULT_TOKEN",
    token: async () => ({ token, cached: false }),
    refused: () => false,
  };
}

/** A login whose token is kept until it expires or Vault refuses it; then the next read logs in again. */
class LoginAuth implements Auth {
  private current: { token: string; renewAt: number; loggedInAt: number; refusedAtOnce: boolean } | undefined;
  private loggingIn: Promise<string> | undefined;

  constructor(
    private readonly target: Target,
    private readonly mount: string,
    readonly describe: string,
    private readonly body: (signal: AbortSignal) => Promise<Json>,
    private readonly secrets: Secrets,
    private readonly now: () => number,
  ) {}

  async token(signal: AbortSignal): Promise<{ token: string; cached: boolean }> {
    if (this.current && this.now() < this.current.renewAt) return { token: this.current.token, cached: true };
    this.loggingIn ??= this.login(signal).finally(() => {
      this.loggingIn = undefined;
    });
    return { token: await this.loggingIn, cached: false };
  }

  refused(token: string, cached: boolean): boolean {
    const current = this.current;
    // Another read logged in meanwhile: its token is the one to try.
    if (current?.token !== token) return cached;
    if (!cached) {
      current.refusedAtOnce = true;
      return false;
    }
    if (current.refusedAtOnce && this.now() < current.loggedInAt + VAULT_RELOGIN_BACKOFF_MS) return false;
    this.current = undefined;
    return true;
  }

  private async login(signal: AbortSignal): Promise<string> {
    const where = `Vault ${this.target.shown}, ${this.describe}`;
    const answer = await call(this.target, "POST", `auth/${encodePath(this.mount)}/login`, undefined, await this.body(signal), signal, where);
    if (answer.status !== 200) {
      if (answer.status === 429 || (answer.status >= 300 && answer.status < 400) || answer.status >= 500) throw serverFailure(answer, where);
      const fix =
        answer.status === 404 || saidIncludes(answer, "no handler for route")
          ? `No auth method is enabled at ${quote(`auth/${this.mount}`)}: check the mount (\`bao auth list\`) and the namespace.`
          : "Check the role and its credentials (role ID and secret ID, or the JWT's issuer, audience and bound claims) against the role the component created.";
      throw new AscCredentialError("VAULT_LOGIN_FAILED", `${where}: Vault refused the login (HTTP ${answer.status}${said(answer)}). ${fix}`);
    }
    const auth = answer.json?.auth as Json | undefined;
    const token = auth?.client_token;
    if (typeof token !== "string" || token.length > MAX_VAULT_SECRET_LENGTH || !/^[\x21-\x7e]+$/.test(token)) {
      throw new AscCredentialError("SECRET_READ_FAILED", `${where}: the login answer holds no client token. Check that the address points at a Vault server.`);
    }
    this.secrets.addRecent(token);
    const lease = typeof auth?.lease_duration === "number" && Number.isFinite(auth.lease_duration) && auth.lease_duration > 0 ? auth.lease_duration : 0;
    // Renewed a little before Vault lets the token lapse; a token without a TTL until Vault refuses it.
    const renewAt = lease > 0 ? this.now() + Math.max(1, lease - Math.min(60, Math.ceil(lease / 10))) * 1000 : Number.POSITIVE_INFINITY;
    this.current = { token, renewAt, loggedInAt: this.now(), refusedAtOnce: false };
    return token;
  }
}

/** The KV v2 reads of one secret. */
class KvReader {
  constructor(
    private readonly target: Target,
    private readonly auth: Auth,
    private readonly mount: string,
    private readonly path: string,
    private readonly where: string,
  ) {}

  async read(version: number | "previous" | undefined, s: AbortSignal): Promise<LoadedCredential> {
    let data: Json;
    if (version === "previous") {
      const current = await this.readVersion(undefined, s);
      const n = current.version;
      if (n === undefined || n <= 1) {
        throw new AscCredentialError("SECRET_NOT_FOUND", `${this.where}: the secret has no version before the current one (version ${n ?? "unknown"}). A previous version exists only after a rotation.`);
      }
      data = (await this.readVersion(n - 1, s)).data;
    } else {
      data = (await this.readVersion(version, s)).data;
    }
    return parseStoredSecret(JSON.stringify(data), this.where);
  }

  private async readVersion(version: number | undefined, signal: AbortSignal): Promise<{ data: Json; version: number | undefined }> {
    const apiPath = `${encodePath(this.mount)}/data/${encodePath(this.path)}${version !== undefined ? `?version=${version}` : ""}`;
    const refused = (a: Answer): boolean => a.status === 403 || a.status === 401;
    let { token, cached } = await this.auth.token(signal);
    let answer = await call(this.target, "GET", apiPath, token, undefined, signal, this.where);
    let loggedInAgain = false;
    // A login token that expired or was revoked reads as "permission denied": log in again, once.
    if (refused(answer) && this.auth.refused(token, cached)) {
      ({ token, cached } = await this.auth.token(signal));
      loggedInAgain = true;
      answer = await call(this.target, "GET", apiPath, token, undefined, signal, this.where);
      if (refused(answer)) this.auth.refused(token, cached);
    }
    if (answer.status === 200) {
      const body = answer.json?.data as Json | undefined;
      const data = body?.data;
      if (data !== null && typeof data === "object" && !Array.isArray(data)) {
        const meta = body?.metadata as Json | undefined;
        return { data: data as Json, version: Number.isSafeInteger(meta?.version) ? (meta?.version as number) : undefined };
      }
      // A 200 without KV v2's envelope: a KV v1 mount holding a key named "data/...", or not Vault.
      throw (await this.mountProblem(token, signal)) ?? new AscCredentialError("SECRET_FORMAT_INVALID", `${this.where}: Vault answered without a KV v2 secret (no data.data object). Check that the mount is a KV v2 mount and the address points at Vault.`);
    }
    if (answer.status === 404) {
      const meta = (answer.json?.data as Json | undefined)?.metadata as Json | undefined;
      if (meta && (meta.destroyed === true || (typeof meta.deletion_time === "string" && meta.deletion_time !== ""))) {
        throw new AscCredentialError("SECRET_NOT_FOUND", `${this.where}: that version was ${meta.destroyed === true ? "destroyed" : "deleted"}. Undelete it (\`bao kv undelete\`) or read another version.`);
      }
      if (saidIncludes(answer, "no handler for route")) {
        throw new AscCredentialError("VAULT_MOUNT_NOT_KV2", `${this.where}: no secrets engine is mounted at ${quote(this.mount)}. Check the mount (\`bao secrets list\`), the namespace, and that mount is the component's mount output.`, "mount");
      }
      throw (await this.mountProblem(token, signal)) ?? new AscCredentialError("SECRET_NOT_FOUND", `${this.where} does not exist${version !== undefined ? " at that version" : ""}. Check mount and path (the component's mount and path outputs), the namespace, and that the stack was deployed.`);
    }
    if (answer.status === 403 || answer.status === 401) {
      throw new AscCredentialError(
        "VAULT_PERMISSION_DENIED",
        `${this.where}: Vault refused the read (HTTP ${answer.status}${said(answer)}) with ${this.auth.describe}${loggedInAgain ? ", also after logging in again" : ""}. The token is invalid, expired or revoked, or its policies do not grant read on ${quote(`${this.mount}/data/${this.path}`)}: give it the component's reader policy (readerPolicyName), or log in through a role the component created.`,
      );
    }
    throw serverFailure(answer, this.where);
  }

  /**
   * What the server says about the mount: an error when it is not a KV v2 mount at `mount`,
   * `undefined` when it is one or the token may not ask.
   */
  private async mountProblem(token: string, signal: AbortSignal): Promise<AscCredentialError | undefined> {
    const answer = await call(this.target, "GET", `sys/internal/ui/mounts/${encodePath(this.mount)}/${encodePath(this.path)}`, token, undefined, signal, this.where);
    if (answer.status !== 200) return undefined;
    const data = answer.json?.data as Json | undefined;
    const type = typeof data?.type === "string" ? data.type : undefined;
    const kvVersion = (data?.options as Json | null | undefined)?.version;
    const mountedAt = typeof data?.path === "string" ? data.path.replace(/\/$/, "") : undefined;
    const typeShown = type !== undefined && /^[\w-]{1,40}$/.test(type) ? `a '${type}' secrets engine` : "another kind of secrets engine";
    const fix = "Point mount at a KV version 2 mount (the component's mount output; `bao secrets enable -version=2 kv` makes one).";
    if (type === "kv" && kvVersion === "2" && mountedAt === this.mount) return undefined;
    if (type === "kv" && kvVersion !== "2") return new AscCredentialError("VAULT_MOUNT_NOT_KV2", `${this.where}: the server says ${quote(this.mount)} is a KV version 1 mount, not KV version 2. ${fix}`, "mount");
    if (mountedAt !== undefined && mountedAt !== this.mount && type === "kv") {
      return new AscCredentialError("VAULT_MOUNT_NOT_KV2", `${this.where}: the server says the KV v2 mount holding that path is ${quote(mountedAt)}, not ${quote(this.mount)}. Set mount to ${quote(mountedAt)} and path relative to it.`, "mount");
    }
    return new AscCredentialError("VAULT_MOUNT_NOT_KV2", `${this.where}: the server says ${quote(this.mount)} is ${typeShown}, not a KV version 2 mount. ${fix}`, "mount");
  }
}

/** Each segment percent-encoded (segments were checked to hold no `/`, `?`, `#` or `%`). */
function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** One request, bounded in size; network failures become `VAULT_UNREACHABLE` naming the server. */
async function call(target: Target, method: "GET" | "POST", apiPath: string, token: string | undefined, body: Json | undefined, signal: AbortSignal, where: string): Promise<Answer> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token !== undefined) headers["x-vault-token"] = token;
  if (target.namespace !== undefined) headers["x-vault-namespace"] = target.namespace;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    // Redirects are not followed: the token would go along to wherever the answer points.
    response = await globalThis.fetch(`${target.base}/v1/${apiPath}`, { method, headers, redirect: "manual", signal, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (error) {
    if (signal.aborted) throw abandoned(where);
    const reason = networkReason(error);
    const fix = tlsAdvice(reason) ?? "Check the address (VAULT_ADDR), that Vault runs there, and network access (proxy, firewall, DNS).";
    throw new AscCredentialError("VAULT_UNREACHABLE", `${where}: the server could not be reached (${reason}). ${fix} The read is retried on the next call.`);
  }
  let text: string;
  try {
    text = await boundedText(response, where);
  } catch (error) {
    if (isAscCredentialError(error)) throw error;
    if (signal.aborted) throw abandoned(where);
    throw new AscCredentialError("VAULT_UNREACHABLE", `${where}: the connection broke while the server was answering (${networkReason(error)}); the read is retried on the next call.`);
  }
  let json: Json | undefined;
  try {
    const value: unknown = text === "" ? undefined : JSON.parse(text);
    json = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}

/** `work`, or a rejection as soon as `signal` aborts (when `work` ignores it). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** A request given up at the load's deadline (another load waiting on a shared login sees this). */
function abandoned(where: string): AscCredentialError {
  return new AscCredentialError("VAULT_UNREACHABLE", `${where}: the request was abandoned at the read's timeout; the read is retried on the next call.`);
}

async function boundedText(response: Response, where: string): Promise<string> {
  const tooLarge = (): AscCredentialError =>
    new AscCredentialError("SECRET_READ_FAILED", `${where}: the server answered with more than ${MAX_VAULT_RESPONSE_BYTES} bytes (HTTP ${response.status}), far more than a KV v2 secret; the answer was dropped. Check that the address points at Vault.`);
  const declared = Number(response.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > MAX_VAULT_RESPONSE_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_VAULT_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A network error's code (`ECONNREFUSED`, `ENOTFOUND`, a TLS code), never its text. */
function networkReason(error: unknown): string {
  return networkErrorCode(error) ?? "a network error";
}

/** The first of Vault's `errors` strings, tidied and redacted, as `: '…'`; empty when there is none. */
function said(answer: Answer): string {
  const first = Array.isArray(answer.json?.errors) ? (answer.json.errors as unknown[]).find((e): e is string => typeof e === "string" && e.trim() !== "") : undefined;
  if (first === undefined) return "";
  // Vault wraps messages as "1 error occurred:\n\t* permission denied\n\n".
  // Only its start is read: the answer may hold 256 KiB of it, and 160 characters are shown.
  const text = first.slice(0, 2_000).replace(/^\s*\d+ errors? occurred:\s*/, "").replace(/^\*\s*/, "").replace(/\s+\*\s+/g, "; ").replace(/\s+/g, " ").trim();
  return text === "" ? "" : `: ${quote(redact(text).slice(0, 160), 160)}`;
}

function saidIncludes(answer: Answer, needle: string): boolean {
  return Array.isArray(answer.json?.errors) && (answer.json.errors as unknown[]).some((e) => typeof e === "string" && e.toLowerCase().includes(needle));
}

/** A sealed server, rate limiting, a redirect, a 5xx or anything else not Vault's usual answer. */
function serverFailure(answer: Answer, where: string): AscCredentialError {
  const { status } = answer;
  if (status === 503 && saidIncludes(answer, "sealed")) {
    return new AscCredentialError("VAULT_SEALED", `${where}: the server is sealed (HTTP 503). Unseal it (\`bao operator unseal\`) or point VAULT_ADDR at an unsealed node; the read is retried on the next call.`);
  }
  if (status >= 300 && status < 400) {
    return new AscCredentialError("SECRET_READ_FAILED", `${where}: the server answered with a redirect (HTTP ${status}), which is not followed so the token goes nowhere else. Point the address at the active node or the load balancer in front of Vault.`);
  }
  const reason = status === 429 ? "rate limited" : status === 503 ? "unavailable (standby, maintenance or not initialised)" : status >= 500 ? "a server error" : "an unexpected answer";
  return new AscCredentialError("SECRET_READ_FAILED", `${where}: ${reason} (HTTP ${status}${said(answer)}). ${answer.json === undefined ? "The answer is not Vault's JSON: check that the address points at Vault. " : ""}The read is retried on the next call.`);
}

/** Runs one load within `timeoutMs`, whatever the server does, and removes every secret from its errors. */
async function bounded(work: (signal: AbortSignal) => Promise<LoadedCredential>, timeoutMs: number, target: Target, where: string, secrets: Secrets): Promise<LoadedCredential> {
  // A little under the caller's own bound (AscTokenSource races the same timeoutMs).
  const budget = readerBudgetMs(timeoutMs);
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new AscCredentialError("VAULT_UNREACHABLE", `${where}: Vault at ${target.shown} gave no complete answer within ${timeoutMs} ms. Check that the address points at a Vault server reachable from here (proxy, firewall, DNS), or raise the timeout; the read is retried on the next call.`));
      abort.abort();
    }, budget);
  });
  const working = Promise.resolve().then(() => work(abort.signal));
  working.catch(() => undefined);
  try {
    return await Promise.race([working, timeout]);
  } catch (error) {
    throw scrubbed(error, secrets);
  } finally {
    clearTimeout(timer);
  }
}

/** The error with every known secret cut out of its message; anything not ours becomes a plain read failure. */
function scrubbed(error: unknown, secrets: Secrets): AscCredentialError {
  if (!isAscCredentialError(error)) return new AscCredentialError("SECRET_READ_FAILED", "Reading the Vault secret failed in an unexpected way; the read is retried on the next call.");
  const message = redactKnown(error.message, secrets.all());
  return message === error.message ? error : new AscCredentialError(error.code, message, error.field);
}
