#!/usr/bin/env node
// The README's test command (`npm test`): builds the package, installs what each tier needs (the
// Node lines under test, the Pulumi CLI, moto), runs every tier on every supported Node line and
// ends with one line `N passed, N failed`.
//
// A tier whose tool cannot be installed is reported as failed with the installer's reason; it is
// never skipped. A skipped or todo test counts as a failure too: green must mean every test ran.
// Arguments select: `npm test -- unit component` (tiers), `npm test -- --node 22 runtime`
// (one Node line); an unknown name exits 2.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const TIERS = ["unit", "component", "engine", "runtime", "tooling", "consumers"];

/** `KEY=value` lines of scripts/tool-versions.env. */
export function toolVersions(text = readFileSync(join(root, "scripts", "tool-versions.env"), "utf8")) {
  const versions = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Z0-9_]+)=("?)(.*)\2$/.exec(line.trim());
    if (match) versions[match[1]] = match[3];
  }
  return versions;
}

/**
 * Parses the arguments into Node lines and tiers; `{ error }` for anything unknown.
 * Exported for test/scripts/test-all.test.ts.
 */
export function parseSelection(args, lines) {
  const tiers = [];
  const nodes = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--node") {
      const line = args[++i];
      if (!lines.includes(line)) return { error: `unknown Node line '${line ?? ""}'; supported lines: ${lines.join(", ")}.` };
      nodes.push(line);
    } else if (TIERS.includes(arg)) {
      tiers.push(arg);
    } else {
      return { error: `unknown tier '${arg}'; valid tiers: ${TIERS.join(", ")} (none: all of them).` };
    }
  }
  return { tiers: tiers.length > 0 ? [...new Set(tiers)] : TIERS, nodes: nodes.length > 0 ? [...new Set(nodes)] : lines };
}

/**
 * One tier's line of the summary from jest's --json report and exit status.
 * Exported for test/scripts/test-all.test.ts.
 */
export function tierResult(tier, summary, status) {
  // A suite that fails to load has no test results: count it as a failure, not as nothing.
  // Skipped (pending) and todo tests are failures as well: jest exits 0 for them.
  const skipped = summary.numPendingTests + summary.numTodoTests;
  const failed = summary.numFailedTests + summary.numRuntimeErrorTestSuites + skipped;
  const entry = { tier, passed: summary.numPassedTests, failed, skipped };
  const notes = [];
  if (skipped > 0) notes.push(`${skipped} skipped/todo counted as failed: skipped tests are not allowed`);
  if (summary.numTotalTests === 0) {
    entry.failed += 1;
    notes.push("no test ran in this tier");
  } else if (status !== 0 && failed === 0) {
    entry.failed += 1;
    notes.push(`jest exited ${status}`);
  }
  if (notes.length > 0) entry.note = notes.join("; ");
  return entry;
}

/** The closing line every runner reads, summing all entries. Exported for the tests. */
export function summaryLine(results) {
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  return `${passed} passed, ${failed} failed`;
}

function main({ tiers, nodes }, versions) {
  const env = { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" };
  const run = (cmd, args, options = {}) => spawnSync(cmd, args, { cwd: root, env, stdio: ["ignore", "inherit", "inherit"], ...options }).status ?? 1;
  // Runs an install script; its last stdout line is a bin dir.
  const install = (script, ...args) => {
    const result = spawnSync("bash", [join(root, "scripts", script), ...args], { cwd: root, env, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
    if (result.status !== 0) return { error: `scripts/${script} ${args.join(" ")} failed (exit ${result.status}); see its output above for the fix`.replace("  ", " ") };
    return { dir: (result.stdout ?? "").trim().split("\n").pop() };
  };
  const results = [];
  const started = Date.now();
  const finish = () => {
    console.log(`\nTest summary (${Math.round((Date.now() - started) / 1000)} s)`);
    for (const r of results) console.log(`  ${r.label.padEnd(22)} ${r.passed} passed, ${r.failed} failed${r.skipped ? ` (${r.skipped} of them skipped)` : ""}${r.note ? `  (${r.note})` : ""}`);
    if (results.some((r) => r.skipped > 0)) console.log("Skipped or todo tests are counted as failed: remove .skip/.todo, or delete the test.");
    console.log(summaryLine(results));
    process.exit(results.some((r) => r.failed > 0) ? 1 : 0);
  };

  console.log("== build");
  if (run("npm", ["run", "--silent", "build"]) !== 0) {
    console.log("build failed: every tier needs dist/; fix the TypeScript errors above.");
    results.push({ label: "build", passed: 0, failed: 1, skipped: 0 });
    finish();
  }

  const toolErrors = {};
  if (tiers.includes("engine")) {
    console.log("== tools: Pulumi CLI");
    const pulumi = install("install-pulumi.sh");
    if (pulumi.error) toolErrors.engine = pulumi.error;
    else env.PATH = `${pulumi.dir}${delimiter}${env.PATH}`;
  }
  if (tiers.includes("runtime") || tiers.includes("tooling") || tiers.includes("consumers")) {
    console.log("== tools: moto");
    const moto = install("install-moto.sh");
    if (moto.error) toolErrors.runtime = toolErrors.tooling = toolErrors.consumers = moto.error;
    else env.ASC_MOTO_BIN = join(moto.dir, "moto_server");
  }
  if (tiers.includes("runtime")) {
    console.log("== tools: OpenBao");
    const bao = install("install-openbao.sh");
    if (bao.error) toolErrors.runtime = [toolErrors.runtime, bao.error].filter(Boolean).join("; ");
    else env.ASC_BAO_BIN = join(bao.dir, "bao");
  }
  if (tiers.includes("consumers")) {
    console.log("== tools: codemagic-cli-tools, PyJWT");
    const consumers = install("install-consumers.sh");
    if (consumers.error) toolErrors.consumers = [toolErrors.consumers, consumers.error].filter(Boolean).join("; ");
    else env.ASC_CONSUMERS_BIN = consumers.dir;
  }

  const jest = join(root, "node_modules", "jest", "bin", "jest.js");
  const outDir = mkdtempSync(join(tmpdir(), "asc-credential-test-"));
  for (const line of nodes) {
    // Line 24 is the `node` devDependency when its version matches; otherwise (and for 22) the cache.
    const own = join(root, "node_modules", "node", "bin");
    const wanted = `v${versions[`NODE_${line}_VERSION`]}`;
    const ownVersion = existsSync(join(own, "node")) ? spawnSync(join(own, "node"), ["--version"], { encoding: "utf8" }).stdout?.trim() : undefined;
    console.log(`\n== tools: Node ${line}`);
    const node = ownVersion === wanted ? { dir: own } : install("install-node.sh", line);
    for (const tier of tiers) {
      const label = `node ${line} ${tier}`;
      console.log(`\n== tier: ${tier} on Node ${node.error ? line : wanted}`);
      const toolError = node.error ?? toolErrors[tier];
      if (toolError) {
        console.log(`FAIL tier ${tier} on Node ${line}: ${toolError}`);
        results.push({ label, passed: 0, failed: 1, skipped: 0, note: toolError });
        continue;
      }
      const report = join(outDir, `${line}-${tier}.json`);
      // The chosen Node first on PATH, so child processes (the CLI, the dynamic-provider shim,
      // npm in consumer projects) run on it too.
      const status = run(join(node.dir, "node"), [jest, "--ci", "--selectProjects", tier, "--json", `--outputFile=${report}`, "--maxWorkers=2"], {
        env: { ...env, PATH: `${node.dir}${delimiter}${env.PATH}`, ASC_TEST_NODE_LINE: line },
      });
      let summary;
      try {
        summary = JSON.parse(readFileSync(report, "utf8"));
      } catch {
        results.push({ label, passed: 0, failed: 1, skipped: 0, note: `jest exited ${status} without a report` });
        continue;
      }
      results.push({ ...tierResult(tier, summary, status), label: `${label} (${wanted})` });
    }
  }
  rmSync(outDir, { recursive: true, force: true });
  finish();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const versions = toolVersions();
  const selection = parseSelection(process.argv.slice(2), (versions.NODE_LINES ?? "").split(/\s+/).filter(Boolean));
  if (selection.error) {
    console.error(`test-all: ${selection.error}`);
    process.exit(2);
  }
  main(selection, versions);
}
