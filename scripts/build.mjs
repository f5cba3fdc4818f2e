#!/usr/bin/env node
// `npm run build`: dist/ as published. Each entry point is one CommonJS bundle (esbuild), so a cold
// process loads one file instead of a dozen: the runtime entry and the CLI start close to a
// hand-written script (bench/RESULTS.md). Declarations come from tsc, file by file, so the types
// map onto src/. Packages stay external: @pulumi/*, the AWS SDK and jose load from node_modules.
import { spawnSync } from "node:child_process";
import { chmodSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

/** src entry → dist file; the package.json exports map and bin point at these. */
export const ENTRY_POINTS = {
  "src/index.ts": "dist/index.js",
  "src/runtime/index.ts": "dist/runtime/index.js",
  "src/storage/vault/index.ts": "dist/storage/vault/index.js",
  "src/probe/provider.ts": "dist/probe/provider.js",
  "src/cli/main.ts": "dist/cli/main.js",
  // The CLI dispatcher requires each command only when it runs.
  ...Object.fromEntries(readdirSync(join(root, "src", "cli", "commands")).filter((f) => f.endsWith(".ts")).map((f) => [`src/cli/commands/${f}`, `dist/cli/commands/${f.replace(/\.ts$/, ".js")}`])),
};

/** Keeps the dispatcher's `require("./commands/…")` a require of the command's own bundle. */
const commandsStayOut = {
  name: "commands-stay-out",
  setup(build) {
    build.onResolve({ filter: /^\.\/commands\// }, (args) => (args.importer.endsWith(join("src", "cli", "main.ts")) ? { path: args.path, external: true } : undefined));
  },
};

rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

for (const [entry, out] of Object.entries(ENTRY_POINTS)) {
  await esbuild.build({
    entryPoints: [join(root, entry)],
    outfile: join(root, out),
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node22",
    // Every package (and this package's own subpaths, which the serialized probe loads by name).
    packages: "external",
    plugins: [commandsStayOut],
    logLevel: "warning",
    legalComments: "none",
  });
}
chmodSync(join(root, ENTRY_POINTS["src/cli/main.ts"]), 0o755);
