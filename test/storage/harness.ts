/**
 * A mocked Pulumi "program run" for the component tier: records every child's exact inputs and
 * answers like the engine and AWS would. The probe's mock derives its outputs from the key with
 * the core's parsePrivateKey and keeps the last state per resource name across runs, so two runs
 * in one test behave like `pulumi up` twice on one stack (rotation).
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { parsePrivateKey } from "../../src/core";

export const ACCOUNT = "111122223333";
export const REGION = "eu-west-1";
export const DEPLOYER_ROLE = `arn:aws:iam::${ACCOUNT}:role/infra/deployer`;
export const DEPLOYER_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci-session-42`;

/** The sentinel Pulumi's RPC layer uses for a secret value. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface Recorded {
  type: string;
  name: string;
  /** Inputs as the engine received them; secret values stay wrapped (see {@link isSecretValue}). */
  inputs: Record<string, unknown>;
  provider?: string;
  custom: boolean;
}

export interface Invoked {
  token: string;
  inputs: Record<string, unknown>;
  provider?: string;
}

export interface Run {
  resources: Recorded[];
  calls: Invoked[];
  /** The one recorded resource of `type` (fails the test when there are 0 or several). */
  one(type: string): Recorded;
  all(type: string): Recorded[];
}

/** True for a value the engine received marked secret. */
export function isSecretValue(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** The plain value behind a possibly secret one. */
export function reveal<T = unknown>(v: unknown): T {
  return (isSecretValue(v) ? (v as { value: unknown }).value : v) as T;
}

const probeStates = new Map<string, Record<string, unknown>>();

/** Forgets the probe states of earlier runs (a fresh stack). */
export function resetStack(): void {
  probeStates.clear();
}

function shortHash(s: string, n = 8): string {
  return createHash("sha256").update(s).digest("hex").slice(0, n);
}

/** Options of one mocked program run. */
export interface RunOptions {
  /** Run as `pulumi preview`: resources the mocks give no state to have unknown outputs. */
  preview?: boolean;
  /**
   * Replaces the probe's outputs (after it derived them from the key), so a test can tell the
   * probe's values apart from the component's inputs.
   */
  probeOverrides?: Record<string, unknown>;
  /** Preview only: the probe reports nothing, so all its outputs are unknown (a first preview). */
  probeUnknown?: boolean;
  /**
   * The probe's registration fails with this message, as when the engine's check or create of it
   * fails (a refused key at preview, Apple's 401 at up).
   */
  probeFails?: string;
}

function probeOutputs(name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const parsed = parsePrivateKey(reveal<string>(inputs.privateKey));
  const keyType = (inputs.keyType as string | undefined) ?? "team";
  const previous = probeStates.get(name);
  const changed = previous !== undefined && previous.fingerprint !== parsed.fingerprint;
  const state: Record<string, unknown> = {
    keyId: inputs.keyId,
    issuerId: keyType === "individual" ? undefined : inputs.issuerId,
    keyType,
    fingerprint: parsed.fingerprint,
    publicKeyPem: parsed.publicKeyPem,
    validatedAt: "2030-01-02T03:04:05.000Z",
    mode: inputs.mode ?? "offline",
    previousKeyId: changed ? previous.keyId : previous?.previousKeyId,
    previousFingerprint: changed ? previous.fingerprint : previous?.previousFingerprint,
  };
  probeStates.set(name, state);
  return state;
}

function awsState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "aws:kms/key:Key": {
      const keyId = `${shortHash(name, 8)}-1111-2222-3333-${shortHash(name + "k", 12)}`;
      return { ...inputs, keyId, arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}` };
    }
    case "aws:kms/alias:Alias":
      return { ...inputs, name: `${String(inputs.namePrefix)}20300102`, arn: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/x` };
    case "aws:secretsmanager/secret:Secret": {
      const secretName = (inputs.name as string | undefined) ?? `${String(inputs.namePrefix)}20300102`;
      return { ...inputs, name: secretName, arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${secretName}-AbCdEf` };
    }
    case "aws:secretsmanager/secretVersion:SecretVersion":
      return { ...inputs, versionId: `v-${shortHash(JSON.stringify(reveal(inputs.secretString)), 16)}` };
    case "aws:iam/policy:Policy":
      return { ...inputs, arn: `arn:aws:iam::${ACCOUNT}:policy/${name}-20300102` };
    case "aws:iam/role:Role":
      return { ...inputs, name, arn: `arn:aws:iam::${ACCOUNT}:role/${name}` };
    case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
      return { ...inputs, arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${String(inputs.url).replace(/^https:\/\//, "")}` };
    default:
      return { ...inputs };
  }
}

/**
 * Installs mocks for one program run and returns what it records. Call it again for the next run.
 */
export async function startRun(opts: RunOptions = {}): Promise<Run> {
  const resources: Recorded[] = [];
  const calls: Invoked[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const inputs = args.inputs as Record<string, unknown>;
        resources.push({ type: args.type, name: args.name, inputs, provider: args.provider, custom: args.custom ?? false });
        if (args.type.startsWith("pulumi-nodejs:dynamic")) {
          if (opts.probeFails !== undefined) throw new Error(opts.probeFails);
          if (opts.probeUnknown) return { id: undefined, state: {} };
          return { id: `${args.name}-id`, state: { ...probeOutputs(args.name, inputs), ...opts.probeOverrides } };
        }
        return { id: `${args.name}-id`, state: awsState(args.type, args.name, inputs) };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        calls.push({ token: args.token, inputs: args.inputs as Record<string, unknown>, provider: args.provider });
        switch (args.token) {
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return { id: ACCOUNT, accountId: ACCOUNT, arn: DEPLOYER_SESSION, userId: "AROAEXAMPLE:ci-session-42" };
          case "aws:iam/getSessionContext:getSessionContext":
            return {
              id: String(args.inputs.arn),
              arn: args.inputs.arn,
              issuerArn: args.inputs.arn === DEPLOYER_SESSION ? DEPLOYER_ROLE : args.inputs.arn,
              issuerName: "deployer",
              sessionName: "ci-session-42",
            };
          case "aws:index/getRegion:getRegion":
            return { id: REGION, region: REGION, name: REGION, endpoint: `ec2.${REGION}.amazonaws.com`, description: "Europe (Ireland)" };
          case "aws:index/getPartition:getPartition":
            return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
          default:
            throw new Error(`unmocked invoke ${args.token}`);
        }
      },
    },
    "asc-test",
    "dev",
    opts.preview ?? false,
  );
  const all = (type: string): Recorded[] => resources.filter((r) => r.type === type);
  return {
    resources,
    calls,
    all,
    one(type: string): Recorded {
      const found = all(type);
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
      return found[0] as Recorded;
    },
  };
}

/**
 * Collects the errors a program run raises from an `apply` (a failed input makes the engine
 * report the program's unhandled rejection; it never reaches the mocks). Jest runs tests in a
 * sandbox whose `process` is a copy, so the listener goes on the real process, reached through a
 * function made in the outer realm; handling each rejection there also tells jest (through
 * `rejectionHandled`) not to fail the test for it. Call `stop()` when done.
 */
export function catchProgramErrors(): { errors: Error[]; stop(): void } {
  const realProcess = (Buffer.constructor as FunctionConstructor)("return process")() as NodeJS.Process;
  const errors: Error[] = [];
  const listener = (reason: unknown, promise: Promise<unknown>): void => {
    if (!errors.includes(reason as Error)) errors.push(reason as Error);
    promise.catch(() => undefined);
  };
  realProcess.on("unhandledRejection", listener);
  return { errors, stop: () => void realProcess.off("unhandledRejection", listener) };
}

/** Waits (up to 2 s) until the run reported a program error; the run may never settle after one. */
export async function firstProgramError(caught: { errors: Error[] }): Promise<Error | undefined> {
  for (let i = 0; i < 200 && caught.errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  return caught.errors[0];
}

/** Every string reachable from a value, skipping values the engine received as secrets. */
export function plainStrings(value: unknown, out: string[] = []): string[] {
  if (isSecretValue(value)) return out;
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => plainStrings(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => plainStrings(v, out));
  return out;
}

/** The value of an output (rejects if it never resolves within the run). */
export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}

/**
 * Waits until every registration of the run reached the mocks: Pulumi registers resources
 * asynchronously, so the component's outputs resolving does not mean every child is recorded.
 */
export async function settle(outputs: pulumi.Output<unknown>[] = []): Promise<void> {
  await Promise.all(outputs.map((o) => valueOf(o)));
  // Not in the typings, but exported: the engine's own "wait until every RPC is done".
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}
