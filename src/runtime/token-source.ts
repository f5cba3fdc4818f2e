import { AscCredentialError } from "../core/errors";
import { checkNumber, describeSeen, optionError } from "../core/options";
import { createToken, DEFAULT_TOKEN_LIFETIME_SECONDS, MAX_TOKEN_LIFETIME_SECONDS } from "../core/token";
import { loadFromEnv, loadFromFile, type KeyFileOptions } from "./local-sources";
import { defaultSecretsManagerClient, readStoredSecret, type SecretsManagerLike } from "./secrets-manager";
import type { LoadedCredential } from "./credential";

/** Options every {@link AscTokenSource} accepts. */
export interface TokenSourceOptions {
  /**
   * Re-read the credential (secret, env, file) after this many seconds; default 300. A re-read
   * that fails (throttling, an outage) while the current token is still fresh does not fail the
   * caller: that token is served and the read is retried every min(refreshSeconds, 30) seconds.
   * Nothing new is signed from a credential whose re-read failed, so the error reaches callers
   * once no fresh token is at hand (the first read, after {@link AscTokenSource.invalidate}, or
   * when the token in hand is within `refreshMarginSeconds` of expiry).
   */
  refreshSeconds?: number;
  /** Lifetime of each token, 1 to 1200 s; default 900. */
  tokenLifetimeSeconds?: number;
  /** Restricts tokens to these requests, each `METHOD /path[?query]`. */
  scope?: string[];
  /** Mint a new token this many seconds before the current one expires; default 60 (half the lifetime for lifetimes under 2 minutes). */
  refreshMarginSeconds?: number;
  /** The clock, in epoch milliseconds; default `Date.now`. For tests. */
  now?: () => number;
  /** The `fetch` used by {@link AscTokenSource.fetch}; default the global `fetch`. */
  fetch?: typeof globalThis.fetch;
}

/** Options of {@link AscTokenSource.fromSecretsManager}. */
export interface SecretsManagerSourceOptions extends TokenSourceOptions {
  /** The secret's name or ARN (the component's `secretArn` output). */
  secretId: string;
  /** A configured `SecretsManagerClient` (or anything with its `send`); default one from the default AWS configuration. */
  client?: SecretsManagerLike;
  /** A staging label, e.g. `"AWSPREVIOUS"`; default `AWSCURRENT`. */
  versionStage?: string;
}

/** Options of {@link AscTokenSource.fromFile}. */
export interface FileSourceOptions extends KeyFileOptions, TokenSourceOptions {}

type Loader = () => Promise<LoadedCredential>;

/** Default seconds between two reads of the credential. */
export const DEFAULT_REFRESH_SECONDS = 300;
/** A day: a credential read less often than that would miss a rotation for too long. */
const MAX_REFRESH_SECONDS = 86_400;

// After a failed re-read while the current token is still good: retry the read after this long
// (or refreshSeconds, if shorter).
const READ_RETRY_MS = 30_000;

/**
 * Supplies App Store Connect API tokens from a stored credential, for long-running consumers.
 *
 * - {@link getToken} returns a cached token until `refreshMarginSeconds` before it expires.
 *   Concurrent callers share one credential read and one signing.
 * - The credential is re-read after `refreshSeconds` or {@link invalidate}, so a rotated key is
 *   picked up without a restart; {@link fetch} does that at once when the API answers 401.
 * - Nothing here logs; errors are {@link AscCredentialError}s naming the source, never its
 *   content, the key or a token.
 */
export class AscTokenSource {
  private readonly loader: Loader;
  private readonly refreshMs: number;
  private readonly lifetimeSeconds: number;
  private readonly marginSeconds: number;
  private readonly scope: string[] | undefined;
  private readonly clock: () => number;
  private readonly fetchImpl: typeof globalThis.fetch | undefined;

  // Fast path: a resolved promise of the current token, valid while clock() < cachedUntil.
  private cached: Promise<string> | undefined;
  private cachedUntil = 0;

  private credential: LoadedCredential | undefined;
  private credentialFreshUntil = 0;
  private token: string | undefined;
  private tokenFreshUntil = 0;
  private inflight: Promise<string> | undefined;
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
    this.scope = options.scope ? [...options.scope] : undefined;
    this.clock = options.now ?? Date.now;
    this.fetchImpl = options.fetch;
  }

  /**
   * Tokens from the credential JSON the `AppStoreConnectApiKey` component stores in Secrets
   * Manager (read with `GetSecretValue`; the reader policy grants exactly that).
   */
  static fromSecretsManager(options: SecretsManagerSourceOptions): AscTokenSource {
    if (typeof options?.secretId !== "string" || options.secretId.trim() === "") {
      throw optionError("secretId", typeof options?.secretId === "string" ? "empty" : describeSeen(options?.secretId), "the secret's name or ARN (the component's secretArn output)");
    }
    let client: Promise<SecretsManagerLike> | undefined = options.client ? Promise.resolve(options.client) : undefined;
    const location = { secretId: options.secretId, ...(options.versionStage ? { versionStage: options.versionStage } : {}) };
    return new AscTokenSource(async () => {
      client ??= defaultSecretsManagerClient();
      return readStoredSecret(await client, location);
    }, options);
  }

  /**
   * Tokens from `APP_STORE_CONNECT_KEY_ID`, `APP_STORE_CONNECT_ISSUER_ID` and
   * `APP_STORE_CONNECT_PRIVATE_KEY` (any accepted key form, e.g. PEM with literal `\n`, or
   * base64) or else `APP_STORE_CONNECT_PRIVATE_KEY_PATH`; `APP_STORE_CONNECT_KEY_TYPE=individual`
   * for individual keys. The variables are read on first use and on every refresh.
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, options: TokenSourceOptions = {}): AscTokenSource {
    return new AscTokenSource(() => loadFromEnv(env), options);
  }

  /**
   * Tokens from a key file. The key ID defaults to `<KEYID>` of an `AuthKey_<KEYID>.p8` file
   * name (and must match it when given). The file is re-read on every refresh.
   */
  static fromFile(path: string, options: FileSourceOptions = {}): AscTokenSource {
    const { keyId, issuerId, keyType } = options;
    const fileOptions: KeyFileOptions = { ...(keyId ? { keyId } : {}), ...(issuerId ? { issuerId } : {}), ...(keyType ? { keyType } : {}) };
    return new AscTokenSource(() => loadFromFile(path, fileOptions), options);
  }

  /**
   * A valid token. Cached until `refreshMarginSeconds` before it expires; concurrent callers
   * share one credential read and one signing.
   * @throws {@link AscCredentialError} when the credential cannot be read or is invalid.
   */
  getToken(): Promise<string> {
    // The warm path allocates nothing: it hands out the same resolved promise.
    if (this.cached !== undefined && this.clock() < this.cachedUntil) return this.cached;
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
    this.credentialFreshUntil = 0;
    this.inflight = undefined;
  }

  /**
   * `fetch` with `Authorization: Bearer <token>`. On a 401 it invalidates, re-reads the
   * credential once and retries once, so a rotated key takes effect without a restart. A
   * request whose body is a stream cannot be replayed and is not retried.
   */
  async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const doFetch = this.fetchImpl ?? globalThis.fetch;
    const replayable = !(init?.body instanceof ReadableStream);
    const request = input instanceof Request ? input : undefined;
    const token = await this.getToken();
    const first = await doFetch(request && replayable ? request.clone() : input, withBearer(init, request, token));
    if (first.status !== 401 || !replayable) return first;
    // Many requests may fail with the same stale token; only the first one invalidates.
    if (this.token === token) this.invalidate();
    const fresh = await this.getToken();
    await first.body?.cancel().catch(() => undefined);
    return doFetch(input, withBearer(init, request, fresh));
  }

  private slowPath(): Promise<string> {
    if (this.inflight !== undefined) return this.inflight;
    const flight = this.refresh().finally(() => {
      if (this.inflight === flight) this.inflight = undefined;
    });
    this.inflight = flight;
    return flight;
  }

  private async refresh(): Promise<string> {
    const generation = this.generation;
    let credential = this.credential;
    if (credential === undefined || this.clock() >= this.credentialFreshUntil) {
      let loaded: LoadedCredential;
      try {
        loaded = await this.loader();
      } catch (error) {
        // A failed re-read (throttling, a brief outage) must not fail callers while the token
        // in hand is still good: serve it and retry the read after a short back-off instead of
        // on every call. invalidate() drops the token, so a 401-driven re-read still fails.
        // The credential stays stale: nothing is signed from a credential whose re-read failed,
        // so once this token is no longer fresh the next call reads again and sees the error.
        if (generation === this.generation && credential !== undefined && this.token !== undefined && this.clock() < this.tokenFreshUntil) {
          this.publish(this.token, this.clock() + Math.min(this.refreshMs, READ_RETRY_MS));
          return this.token;
        }
        throw error;
      }
      if (generation !== this.generation) return this.sign(loaded, generation);
      if (credential === undefined || !sameCredential(credential, loaded)) {
        this.token = undefined;
        this.tokenFreshUntil = 0;
      }
      this.credential = credential = loaded;
      this.credentialFreshUntil = this.clock() + this.refreshMs;
    }
    if (this.token !== undefined && this.clock() < this.tokenFreshUntil) {
      this.publish(this.token);
      return this.token;
    }
    return this.sign(credential, generation);
  }

  private async sign(credential: LoadedCredential, generation: number): Promise<string> {
    const iat = Math.floor(this.clock() / 1000);
    const token = await createToken(
      { keyId: credential.keyId, privateKey: credential.privateKey, keyType: credential.keyType, ...(credential.issuerId !== undefined ? { issuerId: credential.issuerId } : {}) },
      { lifetimeSeconds: this.lifetimeSeconds, now: iat, ...(this.scope ? { scope: this.scope } : {}) },
    );
    if (generation === this.generation) {
      this.token = token;
      this.tokenFreshUntil = (iat + this.lifetimeSeconds - this.marginSeconds) * 1000;
      this.publish(token);
    }
    return token;
  }

  private publish(token: string, readAgainAt = this.credentialFreshUntil): void {
    this.cached = Promise.resolve(token);
    this.cachedUntil = Math.min(this.tokenFreshUntil, readAgainAt);
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
