import type { GetSecretValueCommand, GetSecretValueCommandOutput } from "@aws-sdk/client-secrets-manager";
import { AscCredentialError } from "../core/errors";
import { quote } from "../core/redact";
import type { LoadedCredential } from "./credential";
import { readerBudgetMs } from "./read-bounded";
import { parseStoredSecret } from "./stored-secret";

/**
 * The one method of `SecretsManagerClient` the package uses. A real `SecretsManagerClient` fits;
 * so does a stub in tests and benchmarks. The second argument carries the abort signal of the
 * read's timeout.
 */
export interface SecretsManagerLike {
  send(command: GetSecretValueCommand, options?: { abortSignal?: AbortSignal }): Promise<GetSecretValueCommandOutput>;
}

/** Where a stored credential lives in Secrets Manager. */
export interface SecretLocation {
  /** The secret's name or ARN (the component's `secretArn` output). */
  secretId: string;
  /** A staging label such as `"AWSPREVIOUS"`; default `AWSCURRENT`. */
  versionStage?: string;
}

// The SDK is loaded on first use: a process that takes its key from elsewhere never pays for it.
type SdkModule = typeof import("@aws-sdk/client-secrets-manager");
let sdk: SdkModule | undefined;
function loadSdk(): SdkModule {
  sdk ??= require("@aws-sdk/client-secrets-manager") as SdkModule;
  return sdk;
}

/**
 * A client from the default AWS configuration (env, profile, instance role), whose requests give
 * up after `timeoutMs` (the SDK's own default is to wait forever).
 */
export function defaultSecretsManagerClient(timeoutMs: number, region?: string): SecretsManagerLike {
  const { SecretsManagerClient } = loadSdk();
  return new SecretsManagerClient({ ...(region ? { region } : {}), requestHandler: { requestTimeout: timeoutMs, connectionTimeout: Math.min(timeoutMs, 5_000) } });
}

/**
 * Reads and validates the stored credential within `timeoutMs`, whatever the client does: the
 * request is aborted then, and a client that ignores the abort is abandoned. Errors name the
 * secret ID and the staging label, never the secret's content.
 */
export async function readStoredSecret(client: SecretsManagerLike, location: SecretLocation, timeoutMs: number): Promise<LoadedCredential> {
  const { GetSecretValueCommand } = loadSdk();
  const where = `Secret ${quote(location.secretId)}${location.versionStage ? ` (stage ${quote(location.versionStage)})` : ""}`;
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new AscCredentialError("SECRET_READ_FAILED", `${where} could not be read from Secrets Manager: no answer within ${timeoutMs} ms. Check network access to Secrets Manager (proxy, VPC endpoint, DNS) from this process; the read is retried on the next call.`));
    }, readerBudgetMs(timeoutMs));
  });
  let output: GetSecretValueCommandOutput;
  try {
    const sending = Promise.resolve().then(() => client.send(new GetSecretValueCommand({ SecretId: location.secretId, ...(location.versionStage ? { VersionStage: location.versionStage } : {}) }), { abortSignal: abort.signal }));
    sending.catch(() => undefined);
    output = await Promise.race([sending, timeout]);
  } catch (error) {
    throw error instanceof AscCredentialError ? error : awsError(error, where, location);
  } finally {
    clearTimeout(timer);
  }
  if (output === null || typeof output !== "object") {
    throw new AscCredentialError("SECRET_READ_FAILED", `${where}: the Secrets Manager client answered with something that is not a GetSecretValue result. Pass a SecretsManagerClient (or leave client out).`);
  }
  let text: unknown;
  try {
    // Read once, in a try: a client's answer may be a Proxy or hold getters that throw.
    text = output.SecretString;
    const binary = text === undefined ? output.SecretBinary : undefined;
    if (binary !== undefined) text = Buffer.from(binary).toString("utf8");
  } catch {
    text = undefined;
  }
  if (typeof text !== "string") {
    throw new AscCredentialError("SECRET_FORMAT_INVALID", `${where} has no value (neither SecretString nor SecretBinary). Deploy the AppStoreConnectApiKey component, which writes the credential JSON.`);
  }
  return parseStoredSecret(text, where);
}

const FIXES: Record<string, string> = {
  AccessDeniedException: "Attach the component's readerPolicyArn to this role and make sure the secret's resource policy names it among the readers.",
  DecryptionFailure: "This role needs kms:Decrypt on the secret's KMS key via secretsmanager (the component's reader policy grants it).",
  InvalidRequestException: "The secret may be scheduled for deletion; restore it (aws secretsmanager restore-secret) or point secretId at a live secret.",
  InvalidParameterException: "Check secretId (a name or full ARN) and versionStage.",
  CredentialsProviderError: "No AWS credentials were found: configure them (AWS_PROFILE, AWS_ACCESS_KEY_ID, an instance or task role) or pass a configured client.",
  AbortError: "The read was abandoned at its timeout; check network access to Secrets Manager.",
  TimeoutError: "Check network access to Secrets Manager (proxy, VPC endpoint, DNS) from this process.",
};

function awsError(error: unknown, where: string, location: SecretLocation): AscCredentialError {
  let name: unknown;
  let status: unknown;
  try {
    name = (error as { name?: unknown })?.name;
    status = (error as { $metadata?: { httpStatusCode?: unknown } })?.$metadata?.httpStatusCode;
  } catch {
    // An error object whose properties throw: nothing to say but that it failed.
  }
  const errorName = typeof name === "string" && /^[A-Za-z0-9_.:-]{1,80}$/.test(name) ? name : "an unknown error";
  if (errorName === "ResourceNotFoundException") {
    const fix = location.versionStage
      ? `Check the secret's name or ARN and that a version carries the label ${quote(location.versionStage)} (AWSPREVIOUS exists only after a rotation).`
      : "Check the secret's name or ARN, the AWS region of the client, and that the AppStoreConnectApiKey stack was deployed.";
    return new AscCredentialError("SECRET_NOT_FOUND", `${where} was not found in Secrets Manager. ${fix}`);
  }
  // The AWS error text is not echoed: it is not ours to vouch for. Its name and status pick the fix.
  return new AscCredentialError(
    "SECRET_READ_FAILED",
    `${where} could not be read from Secrets Manager (${errorName}${typeof status === "number" ? `, HTTP ${status}` : ""}). ${FIXES[errorName] ?? "Check the AWS credentials, region and network access of this process, and the secret's resource policy."}`,
  );
}
