import type { GetSecretValueCommand, GetSecretValueCommandOutput } from "@aws-sdk/client-secrets-manager";
import { AscCredentialError } from "../core/errors";
import type { LoadedCredential } from "./credential";
import { parseStoredSecret } from "./stored-secret";

/**
 * The one method of `SecretsManagerClient` the token source uses. A real
 * `SecretsManagerClient` fits; so does a stub in tests and benchmarks.
 */
export interface SecretsManagerLike {
  send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput>;
}

/** Where a stored credential lives in Secrets Manager. */
export interface SecretLocation {
  /** The secret's name or ARN (the component's `secretArn` output). */
  secretId: string;
  /** A staging label such as `"AWSPREVIOUS"`; default `AWSCURRENT`. */
  versionStage?: string;
}

// The SDK is loaded on first use so that importing this package (the CLI, Pulumi programs)
// does not pay for it.
type SdkModule = typeof import("@aws-sdk/client-secrets-manager");
let sdk: SdkModule | undefined;
function loadSdk(): SdkModule {
  sdk ??= require("@aws-sdk/client-secrets-manager") as SdkModule;
  return sdk;
}

/** Creates a client from the default AWS configuration (env, profile, instance role). */
export async function defaultSecretsManagerClient(): Promise<SecretsManagerLike> {
  const { SecretsManagerClient } = loadSdk();
  return new SecretsManagerClient({});
}

/**
 * Reads and validates the stored credential. Errors name the secret ID and the staging label,
 * never the secret's content.
 */
export async function readStoredSecret(client: SecretsManagerLike, location: SecretLocation): Promise<LoadedCredential> {
  const { GetSecretValueCommand } = loadSdk();
  const where = `Secret "${location.secretId}"${location.versionStage ? ` (stage ${location.versionStage})` : ""}`;
  let output: GetSecretValueCommandOutput;
  try {
    output = await client.send(
      new GetSecretValueCommand({ SecretId: location.secretId, ...(location.versionStage ? { VersionStage: location.versionStage } : {}) }),
    );
  } catch (error) {
    throw awsError(error, where, location);
  }
  let text = output.SecretString;
  if (text === undefined && output.SecretBinary !== undefined) text = Buffer.from(output.SecretBinary).toString("utf8");
  if (text === undefined) {
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
};

function awsError(error: unknown, where: string, location: SecretLocation): AscCredentialError {
  const name = (error as { name?: unknown })?.name;
  const errorName = typeof name === "string" && /^[A-Za-z0-9_.:-]{1,80}$/.test(name) ? name : "an unknown error";
  if (errorName === "ResourceNotFoundException") {
    const fix = location.versionStage
      ? `Check the secret's name or ARN and that a version carries the label ${location.versionStage} (AWSPREVIOUS exists only after a rotation).`
      : "Check the secret's name or ARN, the AWS region of the client, and that the AppStoreConnectApiKey stack was deployed.";
    return new AscCredentialError("SECRET_NOT_FOUND", `${where} was not found in Secrets Manager. ${fix}`);
  }
  const status = (error as { $metadata?: { httpStatusCode?: unknown } })?.$metadata?.httpStatusCode;
  // The AWS error text is not echoed: it is not ours to vouch for. Its name and status are
  // enough to pick the fix.
  return new AscCredentialError(
    "SECRET_READ_FAILED",
    `${where} could not be read from Secrets Manager (${errorName}${typeof status === "number" ? `, HTTP ${status}` : ""}). ${FIXES[errorName] ?? "Check the AWS credentials, region and network access of this process, and the secret's resource policy."}`,
  );
}
