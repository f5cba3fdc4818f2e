/**
 * The public types, as a user's Pulumi program meets them: tsc over small programs
 * (test/types/programs) and the README's TypeScript snippets, against the PACKED package installed
 * in a consumer project, under Pulumi's TypeScript template settings (CommonJS,
 * `moduleResolution: "node"`), under `node16` and under `bundler`.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runNode } from "../support/child";
import { packedConsumer, REPO_ROOT } from "../support/consumer-project";

const TSC = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
const PROGRAMS = join(__dirname, "programs");

/** Pulumi's `typescript` template tsconfig, and the Node-native resolution. */
const SETTINGS: Record<string, Record<string, unknown>> = {
  "pulumi template (commonjs, moduleResolution node)": { target: "es2020", module: "commonjs", moduleResolution: "node", strict: true, outDir: "bin", sourceMap: true, experimentalDecorators: true, pretty: false, noFallthroughCasesInSwitch: true, noImplicitReturns: true, forceConsistentCasingInFileNames: true },
  "node16": { target: "es2022", module: "node16", moduleResolution: "node16", strict: true, noEmit: true },
  "bundler": { target: "es2022", module: "esnext", moduleResolution: "bundler", strict: true, noEmit: true },
};

/** Every ```ts block of the README, each a program of its own. */
function readmeSnippets(): string[] {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

async function tsc(project: string): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await runNode([TSC, "-p", project, "--noEmit"], { timeoutMs: 170_000 });
  return { code, output: stdout + stderr };
}

let work: string;

beforeAll(() => {
  const { dir: consumer } = packedConsumer("pulumi");
  work = mkdtempSync(join(tmpdir(), "asc-credential-types-"));
  symlinkSync(join(consumer, "node_modules"), join(work, "node_modules"));
  const sources = join(work, "src");
  mkdirSync(sources);
  cpSync(PROGRAMS, sources, { recursive: true });
  readmeSnippets().forEach((snippet, i) => writeFileSync(join(sources, `readme-${i}.ts`), snippet));
}, 600_000);

test("the README has the three snippets these tests compile (two in the Quickstart, one in Runtime)", () => {
  expect(readmeSnippets()).toHaveLength(3);
  expect(readdirSync(PROGRAMS).sort()).toEqual(["readers-and-roles.ts", "refused-roles.ts", "runtime-subpath.ts", "vault-subpath.ts"]);
});

test.each(Object.keys(SETTINGS))("every program and README snippet type-checks: %s", async (name) => {
  const project = join(work, `tsconfig.${name.replace(/\W+/g, "-")}.json`);
  writeFileSync(project, JSON.stringify({ compilerOptions: { ...SETTINGS[name], skipLibCheck: true, types: ["node"], typeRoots: [join(REPO_ROOT, "node_modules", "@types")] }, include: ["src/*.ts"] }));
  const { code, output } = await tsc(project);
  expect({ code, errors: output.split("\n").filter((line) => /error TS\d+/.test(line)) }).toEqual({ code: 0, errors: [] });
}, 180_000);

test("the check is not vacuous: a wrong type in a program fails", async () => {
  const project = join(work, "tsconfig.negative.json");
  writeFileSync(join(work, "wrong.ts"), 'import { AppStoreConnectApiKey } from "pulumi-asc-credential";\nnew AppStoreConnectApiKey("x", { keyId: 42, privateKey: "k" });\n');
  writeFileSync(project, JSON.stringify({ compilerOptions: { ...SETTINGS["pulumi template (commonjs, moduleResolution node)"], skipLibCheck: true, types: ["node"], typeRoots: [join(REPO_ROOT, "node_modules", "@types")] }, files: ["wrong.ts"] }));
  const { code, output } = await tsc(project);
  expect(code).not.toBe(0);
  expect(output).toMatch(/wrong\.ts\(2,\d+\): error TS2322/);
}, 180_000);
