/**
 * What every store's component shares: the credential inputs, their validation (role rules, the
 * probe), the stored JSON built only once validation passed, the credential outputs and the
 * `onRotate` hook. A store adds where the JSON goes and who may read it.
 * @packageDocumentation
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { formatStoredCredential, parsePrivateKey, type KeyType } from "../core";
import { AscCredentialError, isAscCredentialError } from "../core/errors";
import { keyMaterialDetector } from "../core/key-material";
import { ApiKeyProbe } from "../probe/api-key-probe";
import { checkRoles, rolesTag, type AscRole } from "./roles";

/** How the key is checked before anything is stored. */
export interface AscKeyValidationArgs {
  /**
   * `offline` (default): parse the key and sign and verify a probe token locally, no network.
   * `online`: also call `GET /v1/apps?limit=1` on the App Store Connect API with it.
   */
  mode?: pulumi.Input<"offline" | "online">;
  /** Base URL of the App Store Connect API (online mode). Default `https://api.appstoreconnect.apple.com`. */
  baseUrl?: pulumi.Input<string>;
  /** Timeout of one online request, in milliseconds (1 to 120 000; default 10 000). */
  timeoutMs?: pulumi.Input<number>;
}

/** A local command run after every key change (create and each rotation). */
export interface AscOnRotateArgs {
  /**
   * Shell command, run on the machine running `pulumi up` once the new key is stored. It gets
   * `ASC_KEY_ID`, `ASC_PREVIOUS_KEY_ID` (empty on the first run), `ASC_FINGERPRINT` and where the
   * key is stored (README "Rotation"); read the key itself from the store if needed.
   */
  command: pulumi.Input<string>;
  /**
   * Extra environment variables. Must not hold secrets: the command's inputs are shown in
   * previews. The `ASC_*` variables win over entries of the same name.
   */
  environment?: Record<string, pulumi.Input<string>>;
  /** Working directory of the command. Default: the Pulumi program's directory. */
  dir?: pulumi.Input<string>;
}

/** The credential inputs every store's component takes. */
export interface AscCredentialArgs {
  /** Key ID: the 10 upper-case letters/digits shown in the key's row (e.g. `2X9R4HXF34`). Not the key's name. */
  keyId: pulumi.Input<string>;
  /** Issuer ID of the team (UUID at the top of the keys page). Required for team keys, absent for individual keys. */
  issuerId?: pulumi.Input<string>;
  /**
   * The private key, in any accepted form (the `.p8` PEM, with mangled line ends or `\n` escapes,
   * base64 of the file, ...). Always treated as secret; take it from `config.requireSecret`.
   */
  privateKey: pulumi.Input<string>;
  /** `team` (default) or `individual`. */
  keyType?: pulumi.Input<KeyType>;
  /**
   * Role(s) the key was created with, recorded as a tag and an output. `ADMIN` requires
   * {@link allowAdminRole}. A plain value is checked when the component is constructed, an
   * `Output` once it resolves.
   */
  role?: pulumi.Input<AscRole | AscRole[]>;
  /** Set to `true` to accept an `ADMIN` key. Default `false`. */
  allowAdminRole?: boolean;
  /** How the key is validated before it is stored. */
  validation?: AscKeyValidationArgs;
  /** Command to run when the key changes (for example to restart consumers). */
  onRotate?: AscOnRotateArgs;
}

/** True for a value that is already known while the program runs (not an Output or a Promise). */
export function isPlain<T>(value: pulumi.Input<T> | undefined): value is T {
  return !pulumi.Output.isInstance(value) && !(value instanceof Promise);
}

/**
 * Checks plain roles at once, before the component registers anything, so a refused role
 * creates nothing. Returns `undefined` for roles only known later.
 * @throws AscCredentialError `ROLE_INVALID` or `ROLE_ADMIN_NOT_ALLOWED`.
 */
export function checkPlainRoles(args: Pick<AscCredentialArgs, "role" | "allowAdminRole">): AscRole[] | undefined {
  return args.role === undefined || isPlain(args.role) ? checkRoles(args.role as AscRole | AscRole[] | undefined, args.allowAdminRole ?? false) : undefined;
}

/** The validated credential, as the component's children and outputs see it. */
export interface ValidatedCredential {
  /** The validation resource; the stored JSON is ordered after it. */
  probe: ApiKeyProbe;
  roles: pulumi.Output<AscRole[]>;
  /** The stored JSON (secret), from the key normalised in the program and the probe's outputs. */
  storedJson: pulumi.Output<string>;
  /**
   * Tags naming the key, from the probe rather than the inputs: a key pasted into keyId never
   * reaches a plan's tags, and nothing tagged is written before the key passed validation.
   */
  tags: Record<string, pulumi.Input<string>>;
  /** Options for the resource that writes {@link storedJson}: under the component, after the probe. */
  storeOptions: pulumi.CustomResourceOptions;
}

/** Every string in a value (object keys included), however deeply nested. */
function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => stringsIn(v, out));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      stringsIn(v, out);
    }
  }
  return out;
}

/**
 * Refuses a store input (its fields' resolved values) that holds part of the key: it would be
 * kept in plain text, in the stack's state and in the store's own metadata.
 * @throws AscCredentialError `OPTION_INVALID` naming the field, never its value.
 */
function checkNoKeyIn(rawKey: string, inputs: Record<string, unknown>): void {
  let pem: string;
  try {
    pem = parsePrivateKey(rawKey).pem;
  } catch {
    return; // The probe reports what is wrong with the key.
  }
  const holdsKey = keyMaterialDetector(pem);
  for (const [field, value] of Object.entries(inputs)) {
    if (stringsIn(value).some(holdsKey)) {
      throw new AscCredentialError(
        "OPTION_INVALID",
        `${field}: holds part of privateKey, and ${field} is kept in plain text (in the stack's state and the store's metadata, readable without the key's protection). Take the key out of ${field}: it belongs in privateKey only, as a secret (config.requireSecret).`,
        field,
      );
    }
  }
}

/**
 * Registers the probe for `args` under `component` and derives what a store writes. The stored
 * JSON needs the probe's outputs, so no store can write it before validation passed.
 * `plainInputs` are the store's other inputs (field name to value): the probe, and so every
 * child after it, waits until none of them holds part of the key.
 */
export function createValidatedCredential(component: pulumi.ComponentResource, name: string, args: AscCredentialArgs, plainRoles: AscRole[] | undefined, plainInputs: Record<string, unknown> = {}): ValidatedCredential {
  const privateKey = pulumi.secret(args.privateKey);
  const noKeyInPlainInputs = pulumi.all([privateKey, pulumi.output({ name, ...plainInputs, onRotate: args.onRotate, role: args.role })]).apply(([raw, inputs]): pulumi.Resource[] => {
    asResourceError(component, () => checkNoKeyIn(raw, inputs));
    return [];
  });
  const probe = new ApiKeyProbe(
    `${name}-probe`,
    {
      keyId: args.keyId,
      issuerId: args.issuerId,
      privateKey,
      keyType: args.keyType,
      mode: args.validation?.mode,
      baseUrl: args.validation?.baseUrl,
      timeoutMs: args.validation?.timeoutMs,
    },
    { parent: component, dependsOn: noKeyInPlainInputs },
  );
  const roles =
    plainRoles !== undefined
      ? pulumi.output(plainRoles)
      : pulumi.output(args.role).apply((role) => asResourceError(component, () => checkRoles(role as AscRole | AscRole[] | undefined, args.allowAdminRole ?? false)));
  const storedJson = pulumi.secret(
    pulumi.all([privateKey, probe.keyType, probe.keyId, probe.issuerId, probe.fingerprint]).apply(([raw, keyType, keyId, issuerId, fingerprint]) =>
      asResourceError(component, () => {
        // Core is pure and synchronous: the key is normalised here, so the probe keeps no copy.
        const key = parsePrivateKey(raw);
        if (key.fingerprint !== fingerprint) {
          // The probe kept its old outputs: it was left out of this deployment, or the key changed while it ran.
          throw new pulumi.ResourceError(
            `privateKey is not the key the probe validated in this deployment (validated ${fingerprint}, now ${key.fingerprint}), so it is not stored. Either the probe was left out (pulumi up --target or --exclude: include ${name}-probe), or the key changed while the deployment ran (run pulumi up again).`,
            component,
          );
        }
        return formatStoredCredential({ keyType: keyType as KeyType, keyId, issuerId, privateKey: key.pem, fingerprint });
      }),
    ),
  );
  const tags = {
    "asc:key-id": probe.keyId,
    "asc:key-type": probe.keyType,
    "asc:roles": roles.apply(rolesTag),
    "managed-by": "pulumi-asc-credential",
  };
  return { probe, roles, storedJson, tags, storeOptions: { parent: component, dependsOn: [probe] } };
}

/**
 * The `onRotate` command: re-run whenever the fingerprint changes, after `storedBy` wrote the
 * new key, with only non-secret environment.
 */
export function createOnRotate(
  component: pulumi.ComponentResource,
  name: string,
  onRotate: AscOnRotateArgs,
  probe: ApiKeyProbe,
  storeEnvironment: Record<string, pulumi.Input<string>>,
  storedBy: pulumi.Resource,
): command.local.Command {
  return new command.local.Command(
    `${name}-on-rotate`,
    {
      create: onRotate.command,
      ...(onRotate.dir !== undefined ? { dir: onRotate.dir } : {}),
      environment: {
        ...onRotate.environment,
        ...storeEnvironment,
        ASC_KEY_ID: probe.keyId,
        ASC_PREVIOUS_KEY_ID: probe.previousKeyId.apply((k) => k ?? ""),
        ASC_FINGERPRINT: probe.fingerprint,
      },
      triggers: [probe.fingerprint],
    },
    { parent: component, dependsOn: [storedBy] },
  );
}

/**
 * Runs a check and rethrows its error as a `ResourceError` on the component: the engine then
 * prints the message against the component, without a stack trace.
 */
export function asResourceError<T>(resource: pulumi.Resource, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof pulumi.ResourceError) throw e;
    // Only this package's messages are shown: they never carry key material.
    const message = isAscCredentialError(e) ? e.message : "an unexpected error occurred while checking the inputs";
    throw new pulumi.ResourceError(message, resource, true);
  }
}
