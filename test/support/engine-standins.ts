/**
 * A stand-in for a resource the engine tier cannot run.
 *
 * `RotationHookStandIn` stands in for the `onRotate` `@pulumi/command` `local.Command`: the
 * command provider plugin (`pulumi-resource-command`) cannot be obtained here (the Go module
 * proxy refuses it), so the real hook never runs in this tier. The stand-in copies the property
 * the tests care about — `triggers` semantics: a changed fingerprint replaces the resource, and
 * each create is one run of the hook — and records every run as a line in `logFile`.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ResourceProvider } from "@pulumi/pulumi/dynamic";

type Props = Record<string, unknown>;

const rotationHookProvider: ResourceProvider = {
  async diff(_id: string, olds: Props, news: Props) {
    // Like `triggers` on command.local.Command: any change of the fingerprint replaces it.
    const replace = olds.fingerprint !== news.fingerprint;
    return { changes: replace, replaces: replace ? ["fingerprint"] : [], deleteBeforeReplace: false };
  },
  async create(inputs: Props) {
    // One line per run, with only the non-secret environment the real hook gets.
    const line = JSON.stringify({ keyId: inputs.keyId, previousKeyId: inputs.previousKeyId ?? null, fingerprint: inputs.fingerprint });
    require("node:fs").appendFileSync(String(inputs.logFile), `${line}\n`);
    return { id: `run-${Date.now()}`, outs: inputs };
  },
  async delete() {
    // The real hook has no delete command either.
  },
};

export interface RotationHookStandInArgs {
  keyId: pulumi.Input<string>;
  previousKeyId?: pulumi.Input<string | undefined>;
  fingerprint: pulumi.Input<string>;
  /** Each run appends one JSON line here. */
  logFile: string;
}

/** STAND-IN for the onRotate `command.local.Command` (see the module comment). */
export class RotationHookStandIn extends pulumi.dynamic.Resource {
  constructor(name: string, args: RotationHookStandInArgs, opts?: pulumi.CustomResourceOptions) {
    super(rotationHookProvider, name, { ...args }, opts, "asc-credential-test", "RotationHookStandIn");
  }
}

/** Reads the runs recorded by {@link RotationHookStandIn}. */
export function hookRuns(logFile: string): { keyId: string; previousKeyId: string | null; fingerprint: string }[] {
  const fs = require("node:fs") as typeof import("node:fs");
  if (!fs.existsSync(logFile)) return [];
  return fs
    .readFileSync(logFile, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as { keyId: string; previousKeyId: string | null; fingerprint: string });
}

const storeProvider: ResourceProvider = {
  async diff(_id: string, olds: Props, news: Props) {
    return { changes: olds.fingerprint !== news.fingerprint, replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs: Props) {
    record(inputs);
    return { id: "stored", outs: { fingerprint: inputs.fingerprint, logFile: inputs.logFile } };
  },
  async update(_id: string, _olds: Props, news: Props) {
    record(news);
    return { outs: { fingerprint: news.fingerprint, logFile: news.logFile } };
  },
  async delete() {
    // Nothing outside the state.
  },
};

/** One line per write: when it happened and what it wrote (the fingerprint, never the key). */
function record(inputs: Props): void {
  const stored = JSON.parse(String(inputs.storedJson)) as { keyId: string; fingerprint: string };
  const line = JSON.stringify({ at: new Date().toISOString(), keyId: stored.keyId, fingerprint: stored.fingerprint });
  require("node:fs").appendFileSync(String(inputs.logFile), `${line}\n`);
}

export interface StoreStandInArgs {
  /** The stored JSON (secret), as a store's component would write it. */
  storedJson: pulumi.Input<string>;
  fingerprint: pulumi.Input<string>;
  logFile: string;
}

/**
 * STAND-IN for a store's write (the AWS SecretVersion, the Vault KV entry): the engine tier has no
 * AWS or Vault provider plugin, so this dynamic resource takes the store's place with the same
 * inputs and the same options (`storeOptions`: under the component, after the probe).
 */
export class StoreStandIn extends pulumi.dynamic.Resource {
  constructor(name: string, args: StoreStandInArgs, opts?: pulumi.CustomResourceOptions) {
    super(storeProvider, name, { ...args }, opts, "asc-credential-test", "StoreStandIn");
  }
}

/** Reads the writes recorded by {@link StoreStandIn}. */
export function storeWrites(logFile: string): { at: string; keyId: string; fingerprint: string }[] {
  const fs = require("node:fs") as typeof import("node:fs");
  if (!fs.existsSync(logFile)) return [];
  return fs
    .readFileSync(logFile, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as { at: string; keyId: string; fingerprint: string });
}
