/**
 * The import-boundary lint rule (eslint.config.mjs, README "Layers"): real ESLint with the
 * project's config, over small sources placed in each layer's folder.
 */
import { join } from "node:path";
import { REPO_ROOT } from "../support/built-package";
import { describeFailure, runSync } from "../support/child";

const FORMS: [string, (spec: string) => string][] = [
  ["import", (spec) => `import { x } from "${spec}";\nexport const y = x;\n`],
  ["export from", (spec) => `export { x } from "${spec}";\n`],
  ["import type", (spec) => `import type { X } from "${spec}";\nexport type Y = X;\n`],
  ["require()", (spec) => `export const m: unknown = require("${spec}");\n`],
  ["import()", (spec) => `export const m = import("${spec}");\n`],
];

const FORBIDDEN: [string, string[]][] = [
  ["src/core/new.ts", ["@pulumi/pulumi", "../runtime/token-source", "../apple", "@aws-sdk/client-secrets-manager", "node:fs"]],
  ["src/apple/new.ts", ["@pulumi/pulumi", "jose", "../runtime", "../probe/provider", "node:fs"]],
  ["src/runtime/new.ts", ["@pulumi/pulumi", "@pulumi/pulumi/dynamic", "../probe/api-key-probe", "../storage/aws", "../cli/doctor", "node:child_process"]],
  ["src/runtime/index.ts", ["@pulumi/pulumi", "../probe/api-key-probe", "../cli/main"]],
  ["src/cli/new.ts", ["@pulumi/pulumi", "@pulumi/aws", "../probe/provider", "../storage"]],
  ["src/cli/commands/new.ts", ["@pulumi/pulumi", "../../probe/provider", "../../storage/aws", "../../cli/main"]],
  ["src/probe/new.ts", ["@pulumi/aws", "../storage/aws", "../runtime", "../cli/doctor"]],
  ["src/storage/aws/new.ts", ["@pulumi/vault", "../vault", "../../runtime", "../../cli/main"]],
  ["src/storage/vault/new.ts", ["@pulumi/aws", "../aws", "@aws-sdk/client-secrets-manager"]],
];

const ALLOWED: [string, string[]][] = [
  ["src/core/new.ts", ["./errors", "jose", "node:crypto"]],
  ["src/apple/new.ts", ["../core", "../core/token", "./apple-errors"]],
  ["src/probe/new.ts", ["../core/validate", "../apple/probe-credential", "@pulumi/pulumi", "@pulumi/pulumi/dynamic", "pulumi-asc-credential/probe-provider"]],
  ["src/storage/roles2.ts", ["../core", "@pulumi/pulumi", "@pulumi/command"]],
  ["src/storage/aws/new.ts", ["../roles", "../../core/stored-credential", "../../probe/api-key-probe", "@pulumi/aws", "@pulumi/command"]],
  ["src/storage/vault/new.ts", ["../roles", "../../probe/api-key-probe", "@pulumi/vault"]],
  ["src/runtime/new.ts", ["../core/token", "../apple", "@aws-sdk/client-secrets-manager", "node:fs/promises"]],
  ["src/runtime/index.ts", ["./token-source", "../core", "../cli/doctor-report"]],
  ["src/cli/new.ts", ["../runtime/token-source", "../apple/probe-credential", "../core", "node:child_process"]],
  ["src/cli/commands/new.ts", ["../io", "../credential-options", "../../runtime/write-key-file", "../../core/redact", "node:fs"]],
];

interface Case {
  file: string;
  code?: string;
  label: string;
}
const cases: Case[] = [
  ...FORBIDDEN.flatMap(([file, specs]) => specs.flatMap((spec) => FORMS.map(([form, make]) => ({ file, code: make(spec), label: `forbidden ${spec} (${form}) in ${file}` })))),
  ...ALLOWED.flatMap(([file, specs]) => specs.flatMap((spec) => FORMS.map(([form, make]) => ({ file, code: make(spec), label: `allowed ${spec} (${form}) in ${file}` })))),
  { file: "src/**/*.ts", label: "the project's own sources" },
];

// One ESLint process for every case (it loads the config with import(), which jest cannot run).
const results = new Map<string, string[]>();
beforeAll(() => {
  const result = runSync(process.execPath, [join(REPO_ROOT, "test", "support", "lint-texts.mjs"), REPO_ROOT], { input: JSON.stringify(cases.map(({ file, code }) => ({ file, code }))), timeoutMs: 110_000 });
  if (result.code !== 0) throw new Error(describeFailure("lint-texts.mjs", result));
  (JSON.parse(result.stdout) as string[][]).forEach((messages, i) => results.set(cases[i]!.label, messages));
}, 120_000);

describe.each(FORBIDDEN)("%s", (file, specs) => {
  test.each(specs)("rejects %s as import, export from, import type, require() and import()", (spec) => {
    for (const [form] of FORMS) {
      const messages = results.get(`forbidden ${spec} (${form}) in ${file}`)!;
      expect(messages).toHaveLength(1);
      expect(messages[0]).toContain('README "Layers"');
    }
  });
});

test.each(ALLOWED)("%s may import what the layer table allows", (file, specs) => {
  for (const spec of specs) for (const [form] of FORMS) expect(results.get(`allowed ${spec} (${form}) in ${file}`)).toEqual([]);
});

test("the project's own sources cross no layer boundary", () => {
  expect(results.get("the project's own sources")).toEqual([]);
});
