/**
 * The dynamic provider behind {@link ApiKeyProbe}.
 *
 * Pulumi serializes a dynamic provider into the stack state and evaluates it in a separate
 * process whose module paths start at the program's directory. What is serialized is only a
 * small delegate (see api-key-probe.ts) that loads this module by its public package path,
 * `pulumi-asc-credential/probe-provider`; this module itself is ordinary code, never serialized.
 *
 * @module
 */
import type { CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult } from "@pulumi/pulumi/dynamic";
import { AscCredentialError, isAscCredentialError } from "../core/errors";
import { isSafeToPrint, redact } from "../core/redact";
import { validateCredential } from "../core/validate";
import { DEFAULT_ASC_BASE_URL, resolveProbeOptions } from "../apple/options";
import { probeCredential } from "../apple/probe-credential";

/** The string the Pulumi engine passes for a value not yet known at preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const CREDENTIAL_FIELDS = ["keyId", "issuerId", "privateKey", "keyType", "privateKeyFileName"];
const DIFF_FIELDS = ["keyId", "issuerId", "keyType", "fingerprint", "mode", "baseUrl"];

type Props = Record<string, unknown>;

function isKnown(value: unknown): boolean {
  return value !== UNKNOWN;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Validates the inputs without any network call. Every issue becomes a failure on its
 * property; unknown values pass through. Returns the normalised key in place of the raw one,
 * plus the derived fingerprint and public key, so a plan shows a fingerprint change.
 */
async function check(olds: Props, news: Props): Promise<CheckResult> {
  const failures: CheckFailure[] = [];
  const inputs: Props = {};
  for (const [name, value] of Object.entries(news)) {
    if (value !== undefined && value !== null) inputs[name] = value;
  }
  if (inputs.keyType === undefined) inputs.keyType = "team";
  if (inputs.mode === undefined) inputs.mode = "offline";

  const unknown = new Set(CREDENTIAL_FIELDS.filter((field) => !isKnown(inputs[field])));
  // The issuer rule depends on the key type.
  if (unknown.has("keyType")) unknown.add("issuerId");
  const known = (field: string): unknown => (unknown.has(field) ? undefined : inputs[field]);

  const fileName = known("privateKeyFileName");
  if (fileName !== undefined && typeof fileName !== "string") {
    failures.push(failure("privateKeyFileName", fileName, `privateKeyFileName must be a file name like AuthKey_2X9R4HXF34.p8, but a value of type ${typeof fileName} was given.`));
  } else if (typeof fileName === "string" && !isSafeToPrint(fileName, 255)) {
    // Inputs are stored in the state as they are (this one not as a secret): a key pasted here
    // must stop the preview rather than be kept.
    failures.push(failure("privateKeyFileName", fileName, "privateKeyFileName must be a file name like AuthKey_2X9R4HXF34.p8, but the value given is not one (it may hold key material). Pass the key in privateKey and its file's name here."));
  }
  const validation = validateCredential({
    keyId: known("keyId") as string,
    issuerId: known("issuerId") as string | undefined,
    privateKey: known("privateKey") as string,
    keyType: known("keyType") as "team" | "individual" | undefined,
    privateKeyFileName: typeof fileName === "string" ? fileName : undefined,
  });
  for (const issue of validation.issues) {
    if (!unknown.has(issue.field)) failures.push(failure(issue.field, inputs[issue.field], issue.message));
  }
  failures.push(...checkOptions(inputs));
  const baseUrl = inputs.baseUrl;
  if (typeof baseUrl === "string" && isKnown(baseUrl) && redact(baseUrl) !== baseUrl && !failures.some((f) => f.reason.startsWith("baseUrl"))) {
    // Kept in the state as it is (an input and an output, not secret), like privateKeyFileName.
    failures.push(failure("baseUrl", baseUrl, `baseUrl holds what may be key material or a token (a long opaque run of characters), and it is kept in the stack's state in plain text. Give only the API's base URL, e.g. ${DEFAULT_ASC_BASE_URL} or a proxy's https URL without a token in it.`));
  }

  const halfRotation = validation.key && validation.issues.length === 0 ? halfRotationFailure(olds, inputs, validation.key.fingerprint) : undefined;
  if (halfRotation) failures.push(halfRotation);

  if (validation.key) {
    inputs.privateKey = validation.key.pem;
    inputs.fingerprint = validation.key.fingerprint;
    inputs.publicKeyPem = validation.key.publicKeyPem;
  } else if (unknown.has("privateKey")) {
    inputs.fingerprint = UNKNOWN;
    inputs.publicKeyPem = UNKNOWN;
  } else {
    delete inputs.fingerprint;
    delete inputs.publicKeyPem;
  }
  return { inputs, failures };
}

/**
 * App Store Connect issues every key with its own Key ID, so a changed key under the same
 * `keyId`, or a changed `keyId` for the same key, is a pair Apple refuses (most often half of a
 * rotation). Offline nothing else would notice before every consumer gets 401, so it fails here;
 * online, Apple judges the pair at up (how a wrong key stored before is corrected).
 */
function halfRotationFailure(olds: Props, inputs: Props, fingerprint: string): CheckFailure | undefined {
  if (inputs.mode !== "offline" || !isKnown(inputs.keyId) || typeof olds.keyId !== "string" || typeof olds.fingerprint !== "string" || !isKnown(olds.fingerprint)) return undefined;
  const keyIdChanged = olds.keyId !== inputs.keyId;
  const keyChanged = olds.fingerprint !== fingerprint;
  const confirm = `If the pair stored before was the wrong one, let Apple confirm the new pair at up with validation: { mode: "online" }.`;
  if (keyChanged && !keyIdChanged) {
    return failure(
      "keyId",
      inputs.keyId,
      `keyId is still ${String(inputs.keyId)} but privateKey is another key (${olds.fingerprint} => ${fingerprint}). Every App Store Connect key has its own Key ID: set keyId to the new key's Key ID (the <KEYID> of its AuthKey_<KEYID>.p8) with its privateKey. ${confirm}`,
    );
  }
  if (keyIdChanged && !keyChanged) {
    return failure(
      "privateKey",
      undefined,
      `privateKey is still the key of ${olds.keyId} (${fingerprint}) but keyId changed to ${String(inputs.keyId)}. A new key comes with its own private key: set privateKey to the contents of AuthKey_${String(inputs.keyId)}.p8. ${confirm}`,
    );
  }
  return undefined;
}

/**
 * A failure on a named property makes the engine print that property's raw input value, even a
 * secret one (`property privateKey value {...} has a problem`). So a property is named only when
 * its value is one core would quote in a message anyway (short, plain, not a possible slice of
 * a key) or cannot hold text at all (a number, a boolean, nothing); otherwise the failure has no
 * property, and its reason always starts with the field's name.
 */
function failure(field: string, value: unknown, reason: string): CheckFailure {
  // A URL can carry credentials, whatever it looks like.
  if (field === "privateKey" || field === "baseUrl") return { property: "", reason };
  const printable = typeof value === "string" ? isSafeToPrint(value) : value === undefined || value === null || typeof value === "number" || typeof value === "boolean";
  return { property: printable ? field : "", reason };
}

/** The probe's own rule for each option (apple/options.ts), applied to the known ones. */
function checkOptions(inputs: Props): CheckFailure[] {
  const failures: CheckFailure[] = [];
  for (const option of ["mode", "baseUrl", "timeoutMs"] as const) {
    const value = inputs[option];
    if (value === undefined || !isKnown(value)) continue;
    try {
      resolveProbeOptions({ [option]: value });
    } catch (error) {
      failures.push(failure(option, value, isAscCredentialError(error) ? error.message : `${option} is not valid.`));
    }
  }
  return failures;
}

/** Any change of the credential's identity or of how it is probed is an update, never a replace. */
async function diff(_id: string, olds: Props, news: Props): Promise<DiffResult> {
  const changed = DIFF_FIELDS.filter((field) => !isKnown(news[field]) || (olds[field] ?? undefined) !== (news[field] ?? undefined));
  return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
}

/** Runs the probe and returns the outputs; throws the probe's message (never key material). */
async function probe(inputs: Props): Promise<Props> {
  const keyType = inputs.keyType === "individual" ? "individual" : "team";
  const mode = inputs.mode === "online" ? "online" : "offline";
  const issuerId = optionalString(inputs.issuerId);
  const baseUrl = optionalString(inputs.baseUrl);
  const privateKeyFileName = optionalString(inputs.privateKeyFileName);
  const credential = {
    keyId: inputs.keyId as string,
    privateKey: inputs.privateKey as string,
    keyType,
    ...(issuerId !== undefined ? { issuerId } : {}),
    ...(privateKeyFileName !== undefined ? { privateKeyFileName } : {}),
  } as const;
  const result = await probeCredential(credential, {
    mode,
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    ...(typeof inputs.timeoutMs === "number" ? { timeoutMs: inputs.timeoutMs } : {}),
  });
  if (!result.ok) {
    throw new AscCredentialError(result.error?.code ?? "KEY_MALFORMED", result.error?.message ?? "The App Store Connect API key failed validation.");
  }
  for (const warning of result.warnings ?? []) console.warn(`ApiKeyProbe: ${warning}`);
  const outs: Props = {
    keyId: credential.keyId,
    keyType,
    fingerprint: result.fingerprint,
    publicKeyPem: result.publicKeyPem,
    validatedAt: new Date().toISOString(),
    mode,
  };
  if (issuerId !== undefined) outs.issuerId = issuerId;
  // Kept so that diff can see a baseUrl change (diff receives the old outputs, not inputs).
  if (baseUrl !== undefined) outs.baseUrl = baseUrl;
  if (result.apiStatus !== undefined) outs.apiStatus = result.apiStatus;
  if (result.clockSkewSeconds !== undefined) outs.clockSkewSeconds = result.clockSkewSeconds;
  return outs;
}

async function create(inputs: Props): Promise<CreateResult> {
  const outs = await probe(inputs);
  // Nothing exists remotely; the ID only has to be stable across updates.
  return { id: String(outs.keyId), outs };
}

async function update(_id: string, olds: Props, news: Props): Promise<UpdateResult> {
  const outs = await probe(news);
  // A rotation is a new key with a new Key ID. One of them changing alone corrects a mistake
  // (validated online): the old value was never a key to revoke, so the previous ones stay.
  if (olds.keyId !== outs.keyId && olds.fingerprint !== outs.fingerprint) {
    if (typeof olds.keyId === "string") outs.previousKeyId = olds.keyId;
    if (typeof olds.fingerprint === "string") outs.previousFingerprint = olds.fingerprint;
  } else {
    if (typeof olds.previousKeyId === "string") outs.previousKeyId = olds.previousKeyId;
    if (typeof olds.previousFingerprint === "string") outs.previousFingerprint = olds.previousFingerprint;
  }
  return { outs };
}

// The serialized delegate (api-key-probe.ts) has no read or delete, so the engine's defaults run,
// without this package installed; these two do the same for direct callers.
async function read(id: string, props: Props): Promise<ReadResult> {
  return { id, props };
}

async function remove(): Promise<void> {
  // Nothing was created outside the state.
}

/**
 * The provider object. One instance for the process, so Pulumi's serialization cache holds it
 * once.
 * @internal
 */
export const apiKeyProbeProvider: ResourceProvider = { check, diff, create, update, read, delete: remove };
