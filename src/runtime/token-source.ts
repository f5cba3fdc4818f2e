import { AscCredentialError, isAscCredentialError } from "../core/errors";
import { networkErrorName } from "../core/network";
import { checkNumber, checkTimeoutMs, describeSeen, optionError } from "../core/options";
import { createToken, DEFAULT_TOKEN_LIFETIME_SECONDS, MAX_TOKEN_LIFETIME_SECONDS } from "../core/token";
import type { LoadedCredential } from "./credential";
import { DEFAULT_READ_TIMEOUT_MS } from "./read-bounded";
import { credentialLoader, type EnvSource, type FileSource, type SecretsManagerSource } from "./sources";
import { vaultLoader, type VaultSource } from "./vault";

/** Default seconds between two reads of the credential. */
export const DEFAULT_REFRESH_SECONDS = 300;
/** A day: a credential read less often than that would miss a rotation for too long. */
const MAX_REFRESH_SECONDS = 86_400;
// After a failed re-read while the current token is still good: retry after this long (or
// refreshSeconds, if shorter).
const READ_RETRY_MS = 30_000;

/** Options every {@link AscTokenSource} accepts. */
export interface TokenSourceOptions {
  /** Re-read the credential (secret, env, file) after this many seconds, 0 to 86 400; default 300. */
  refreshSeconds?: number;
  /** Lifetime of each token, 1 to 1200 s; default 900. */
  tokenLifetimeSeconds?: number;
  /** Restricts tokens to these requests, each `METHOD /path[?query]`. */
  scope?: string[];
  /** Mint a new token this many seconds before the current one expires; default 60 (half the lifetime for lifetimes under 2 minutes). */
  refreshMarginSeconds?: number;
  /**
   * The longest one read of the credential may take, in ms (1 to 120 000; default 10 000). A read
   * that takes longer fails with `SECRET_READ_FAILED` and is abandoned; the next call reads anew.
   */
  readTimeoutMs?: number;
  /** The clock, in epoch milliseconds; default `Date.now`. For tests. */
  now?: () => number;
  /** The `fetch` used by {@link AscTokenSource.fetch}; default the global `fetch`. */
  fetch?: typeof globalThis.fetch;
}

/** Options of {@link AscTokenSource.fromSecretsManager}. */
export interface SecretsManagerSourceOptions extends TokenSourceOptions, Omit<SecretsManagerSource, "timeoutMs"> {}

/** Options of {@link AscTokenSource.fromFile}. */
export interface FileSourceOptions extends TokenSourceOptions, Omit<FileSource, "file" | "timeoutMs"> {}

/** Options of {@link AscTokenSource.fromVault}; `now` is the clock of both the tokens and a Vault login's expiry. */
export interface VaultSourceOptions extends TokenSourceOptions, Omit<VaultSource, "timeoutMs" | "now"> {}

type Loader = (timeoutMs: number) => Promise<LoadedCredential>;

/**
 * Supplies App Store Connect API tokens from a stored credential, for long-running consumers.
 * How it caches, re-reads and rides out an outage: README "Runtime: AscTokenSource".
 *
 * - {@link getToken} returns a cached token until `refreshMarginSeconds` before it expires.
 *   Concurrent callers share one credential read and one signing.
 * - The credential is re-read after `refreshSeconds` (in the background while the token in hand
 *   is fresh) or after {@link invalidate}; {@link fetch} does that at once when the API answers 401.
 * - Every read is bounded by `readTimeoutMs`. Nothing here logs; errors are
 *   {@link AscCredentialError}s naming the source, never its content, the key or a token.
 */
export class AscTokenSource {
  private readonly loader: Loader;
  private readonly refreshMs: number;
  private readonly lifetimeSeconds: number;
  private readonly marginSeconds: number;
  private readonly readTimeoutMs: number;
  private readonly scope: string[] | undefined;
  private readonly clock: () => number;
  private readonly fetchImpl: typeof globalThis.fetch | undefined;

  // Fast path: a resolved promise of the current token, valid while cachedFrom <= clock() < cachedUntil.
  private cached: Promise<string> | undefined;
  private cachedFrom = 0;
  private cachedUntil = 0;

  private credential: LoadedCredential | undefined;
  /** When the credential is due for a re-read. */
  private readDueAt = 0;
  /** After a failed background re-read: when to try again (the credential stays due meanwhile). */
  private retryAt = 0;
  /** After a 401's re-read found the same key: until then, a 401 only has a new token signed. */
  private quietUntil = 0;
  private token: string | undefined;
  /** The token's issue time (ms): a clock that reads earlier was stepped backward. */
  private tokenIssuedAt = 0;
  private tokenFreshUntil = 0;
  /** The read under way, shared by every caller and by the background refresh. */
  private reading: Promise<LoadedCredential> | undefined;
  private signing: Promise<string> | undefined;
  // Bumped by invalidate(): a read started before it must not repopulate the cache.
  private generation = 0;

  private constructor(loader: Loader, options: TokenSourceOptions) {
    this.loader = loader;
    const refreshSeconds = checkNumber("refreshSeconds", options.refreshSeconds, { min: 0, max: MAX_REFRESH_SECONDS, unit: "seconds", defaultValue: DEFAULT_REFRESH_SECONDS }) ?? DEFAULT_REFRESH_SECONDS;
    this.refreshMs = refreshSeconds * 1000;
    this.lifetimeSeconds = options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
    if (!Number.isInteger(this.lifetimeSeconds) || this.lifetimeSeconds <= 0 || this.lifetimeSeconds > MAX_TOKEN_LIFETIME_SECONDS) {
      throw new AscCredentialError("TOKEN_LIFETIME_INVALID", `tokenLifetimeSeconds is ${describeSeen(this.lifetimeSeconds)}; use a whole number of seconds from 1 to ${MAX_TOKEN_LIFETIME_SECONDS} (Apple's 20-minute cap), or leave it out for ${DEFAULT_TOKEN_LIFETIME_SECONDS}.`, "tokenLifetimeSeconds");
    }
    const defaultMargin = Math.min(60, Math.floor(this.lifetimeSeconds / 2));
    this.marginSeconds = checkNumber("refreshMarginSeconds", options.refreshMarginSeconds, { min: 0, max: this.lifetimeSeconds - 1, unit: "seconds (below tokenLifetimeSeconds)", defaultValue: defaultMargin }) ?? defaultMargin;
    this.readTimeoutMs = checkTimeoutMs(options.readTimeoutMs, DEFAULT_READ_TIMEOUT_MS, "readTimeoutMs");
    if (options.scope !== undefined && !Array.isArray(options.scope)) throw optionError("scope", describeSeen(options.scope), 'an array of "METHOD /path" entries');
    this.scope = options.scope ? [...options.scope] : undefined;
    if (options.now !== undefined && typeof options.now !== "function") throw optionError("now", describeSeen(options.now), "a function returning epoch milliseconds", "Date.now");
    if (options.fetch !== undefined && typeof options.fetch !== "function") throw optionError("fetch", describeSeen(options.fetch), "a fetch function", "the global fetch");
    this.clock = options.now ?? Date.now;
    this.fetchImpl = options.fetch;
  }

  /**
   * Tokens from the credential JSON the `AppStoreConnectApiKey` component stores in Secrets
   * Manager (read with `GetSecretValue`; the reader policy grants exactly that).
   */
  static fromSecretsManager(options: SecretsManagerSourceOptions): AscTokenSource {
    const load = credentialLoader({ secretId: options?.secretId, ...pick(options, ["versionStage", "client", "region"]) } as SecretsManagerSource);
    return new AscTokenSource(load, options);
  }

  /**
   * Tokens from the environment: this package's `APP_STORE_CONNECT_*` variables, or those of
   * fastlane, codemagic, EAS or the asc CLI (README "Where a key is found"). Read on first use and
   * on every refresh.
   */
  static fromEnv(env: Readonly<Record<string, string | undefined>> = process.env, options: TokenSourceOptions = {}): AscTokenSource {
    return new AscTokenSource(credentialLoader({ env } as EnvSource), options);
  }

  /**
   * Tokens from a key file. The key ID defaults to `<KEYID>` of an `AuthKey_<KEYID>.p8` file
   * name (and must match it when given). The file is re-read on every refresh.
   */
  static fromFile(path: string, options: FileSourceOptions = {}): AscTokenSource {
    return new AscTokenSource(credentialLoader({ file: path, ...pick(options, ["keyId", "issuerId", "keyType"]) } as FileSource), options);
  }

  /**
   * Tokens from the credential JSON the Vault `AppStoreConnectApiKey` component stores in a KV v2
   * secret. Address, token and namespace default to `VAULT_ADDR`, `VAULT_TOKEN` and
   * `VAULT_NAMESPACE`; `appRole` or `jwt` log in instead, again whenever Vault refuses the token.
   */
  static fromVault(options: VaultSourceOptions): AscTokenSource {
    const load = vaultLoader({ ...pick(options, ["path", "mount", "version", "address", "token", "namespace", "appRole", "jwt", "allowInsecureHttp", "env", "now"]) } as VaultSource);
    return new AscTokenSource(load, options);
  }

  /**
   * A valid token. Cached until `refreshMarginSeconds` before it expires; concurrent callers
   * share one credential read and one signing.
   * @throws {@link AscCredentialError} when no fresh token is in hand and the credential cannot
   * be read (within `readTimeoutMs`) or is invalid.
   */
  getToken(): Promise<string> {
    // The warm path allocates nothing: it hands out the same resolved promise.
    const now = this.clock();
    if (this.cached !== undefined && now < this.cachedUntil && now >= this.cachedFrom) return this.cached;
    return this.slowPath();
  }

  /**
   * Drops the cached token and credential: the next {@link getToken} re-reads the source and
   * signs anew. Call it when the API rejects a token.
   */
  invalidate(): void {
    this.generation++;
    this.cached = undefined;
    this.cachedUntil = 0;
    this.token = undefined;
    this.tokenFreshUntil = 0;
    this.credential = undefined;
    this.readDueAt = 0;
    this.retryAt = 0;
    this.quietUntil = 0;
    this.reading = undefined;
    this.signing = undefined;
  }

  /**
   * `fetch` with `Authorization: Bearer <token>`. On a 401 it invalidates, re-reads the
   * credential once and retries once, so a rotated key takes effect without a restart. A
   * request whose body is a stream or an async iterable cannot be replayed and is not retried.
   */
  async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const doFetch = this.fetchImpl ?? globalThis.fetch;
    // A stream (web or Node.js) or an async iterable is read once: a retry would send it empty.
    const body: unknown = init?.body;
    const replayable = !(body instanceof ReadableStream) && !(body !== null && typeof body === "object" && Symbol.asyncIterator in body);
    const request = input instanceof Request ? input : undefined;
    const token = await this.getToken();
    const first = await networkTyped(() => doFetch(request && replayable ? request.clone() : input, withBearer(init, request, token)));
    if (first.status !== 401 || !replayable) return first;
    // Not awaited: a body whose cancel never settles must not hold up the retry.
    first.body?.cancel().catch(() => undefined);
    // Many requests may fail with the same stale token; only the first one acts on it.
    if (this.token === token) this.unauthorized();
    const fresh = await this.getToken();
    return networkTyped(() => doFetch(input, withBearer(init, request, fresh)));
  }

  /**
   * After a 401: re-read the credential (a rotated key) and sign anew. When the last such re-read
   * found the same key, for min(refreshSeconds, 30) s after it only a new token is signed: a key
   * the API keeps refusing must not make every request a read of the store.
   */
  private unauthorized(): void {
    if (this.credential !== undefined && this.clock() < this.quietUntil) {
      this.token = undefined;
      this.tokenFreshUntil = 0;
      this.cached = undefined;
      this.cachedUntil = 0;
      return;
    }
    const before = this.credential;
    this.invalidate();
    if (before === undefined) return;
    const generation = this.generation;
    this.read(generation).then(
      (loaded) => {
        if (generation === this.generation && sameCredential(before, loaded)) this.quietUntil = this.clock() + Math.min(this.refreshMs, READ_RETRY_MS);
      },
      () => undefined,
    );
  }

  private async slowPath(): Promise<string> {
    const now = this.clock();
    // After the clock is stepped backward, no deadline stays further ahead than its interval.
    this.readDueAt = Math.min(this.readDueAt, now + this.refreshMs);
    this.retryAt = Math.min(this.retryAt, now + READ_RETRY_MS);
    const tokenFresh = this.isFresh(now);
    if (tokenFresh && this.credential !== undefined) {
      // The credential is due: re-read it behind the caller's back, and hand out the token in hand.
      if (now >= this.readDueAt && now >= this.retryAt) this.refreshInBackground();
      this.publish(now >= this.readDueAt ? this.retryAt : this.readDueAt);
      return this.token!;
    }
    const generation = this.generation;
    if (this.credential === undefined || now >= this.readDueAt) await this.read(generation);
    if (generation !== this.generation) return this.slowPath();
    return this.sign(generation);
  }

  /** One read for every caller at a time; its failure goes to the callers that wait for it. */
  private read(generation: number): Promise<LoadedCredential> {
    if (this.reading) return this.reading;
    const reading = this.boundedLoad().then(
      (loaded) => {
        if (generation === this.generation) this.accept(loaded);
        return loaded;
      },
      (error: unknown) => {
        throw isAscCredentialError(error) ? error : new AscCredentialError("SECRET_READ_FAILED", "The credential source failed in an unexpected way; the read is retried on the next call.");
      },
    );
    const settle = (): void => {
      if (this.reading === reading) this.reading = undefined;
    };
    reading.then(settle, settle);
    this.reading = reading;
    return reading;
  }

  private refreshInBackground(): void {
    if (this.reading) return;
    const generation = this.generation;
    this.read(generation).catch(() => {
      // The token in hand stays in use and the read is tried again after a short back-off. The
      // credential stays due: nothing new is signed from one whose re-read failed, so once the
      // token in hand expires, callers wait for a read and see its error.
      if (generation === this.generation) this.retryAt = this.clock() + Math.min(this.refreshMs, READ_RETRY_MS);
    });
  }

  /** The loader, abandoned at readTimeoutMs whatever it does. */
  private boundedLoad(): Promise<LoadedCredential> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AscCredentialError("SECRET_READ_FAILED", `The credential could not be read within ${this.readTimeoutMs} ms (readTimeoutMs); the read is retried on the next call.`)), this.readTimeoutMs);
    });
    const loading = Promise.resolve().then(() => this.loader(this.readTimeoutMs));
    loading.catch(() => undefined);
    return Promise.race([loading, timeout]).finally(() => clearTimeout(timer));
  }

  private accept(loaded: LoadedCredential): void {
    if (this.credential === undefined || !sameCredential(this.credential, loaded)) {
      // A rotated key: tokens of the old one are not handed out again.
      this.token = undefined;
      this.tokenFreshUntil = 0;
      this.cached = undefined;
      this.cachedUntil = 0;
    }
    this.credential = loaded;
    this.readDueAt = this.clock() + this.refreshMs;
    this.retryAt = 0;
  }

  /** A token in hand, not near its expiry, and not dated after `now` (a clock stepped backward). */
  private isFresh(now: number): boolean {
    return this.token !== undefined && now >= this.tokenIssuedAt && now < this.tokenFreshUntil;
  }

  private sign(generation: number): Promise<string> {
    if (this.isFresh(this.clock())) {
      this.publish();
      return Promise.resolve(this.token!);
    }
    if (this.signing) return this.signing;
    const credential = this.credential!;
    const iat = Math.floor(this.clock() / 1000);
    const signing = createToken(
      { keyId: credential.keyId, privateKey: credential.privateKey, keyType: credential.keyType, ...(credential.issuerId !== undefined ? { issuerId: credential.issuerId } : {}) },
      { lifetimeSeconds: this.lifetimeSeconds, now: iat, ...(this.scope ? { scope: this.scope } : {}) },
    ).then((token) => {
      if (generation === this.generation && this.credential === credential) {
        this.token = token;
        this.tokenIssuedAt = iat * 1000;
        this.tokenFreshUntil = (iat + this.lifetimeSeconds - this.marginSeconds) * 1000;
        this.publish();
      }
      return token;
    });
    const settle = (): void => {
      if (this.signing === signing) this.signing = undefined;
    };
    signing.then(settle, settle);
    this.signing = signing;
    return signing;
  }

  /** Hands out the token in hand on the fast path until it needs attention (expiry, a read). */
  private publish(nextLookAt = this.readDueAt): void {
    if (this.token === undefined) return;
    this.cached = Promise.resolve(this.token);
    this.cachedFrom = this.tokenIssuedAt;
    this.cachedUntil = Math.min(this.tokenFreshUntil, nextLookAt);
  }
}

/**
 * A request that fails before any answer (a bad URL, the network) as an AscCredentialError
 * (`API_UNREACHABLE`), the original error as its `cause`; its text is not repeated (it can quote
 * the URL, which a caller may have filled with anything).
 */
async function networkTyped(request: () => Promise<Response>): Promise<Response> {
  try {
    return await request();
  } catch (error) {
    if (isAscCredentialError(error)) throw error;
    const failure = new AscCredentialError("API_UNREACHABLE", `The request failed before any answer (${networkErrorName(error) ?? "an error"}): check the URL and network access from this process.`);
    Object.defineProperty(failure, "cause", { value: error, enumerable: false });
    throw failure;
  }
}

function sameCredential(a: LoadedCredential, b: LoadedCredential): boolean {
  return a.fingerprint === b.fingerprint && a.keyId === b.keyId && a.issuerId === b.issuerId && a.keyType === b.keyType;
}

function withBearer(init: RequestInit | undefined, request: Request | undefined, token: string): RequestInit {
  const headers = new Headers(init?.headers ?? request?.headers);
  headers.set("authorization", `Bearer ${token}`);
  return { ...init, headers };
}

/** The named properties of `options` that are set. */
function pick<T extends object, K extends keyof T>(options: T | undefined, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (options?.[key] !== undefined) out[key] = options[key];
  return out;
}
