/**
 * scripts/test-all.mjs (`npm test`): what counts as a failure, and tier selection. It is an ES
 * module, so it runs in child node processes rather than in jest's module loader.
 */
import { join } from "node:path";
import { REPO_ROOT } from "../support/built-package";
import { runNode } from "../support/child";

const SCRIPT = join(REPO_ROOT, "scripts", "test-all.mjs");

function node(args: string[]): ReturnType<typeof runNode> {
  return runNode(args, { cwd: REPO_ROOT, timeoutMs: 30_000 });
}

interface JestSummary {
  numPassedTests: number;
  numFailedTests: number;
  numRuntimeErrorTestSuites: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTests: number;
}

async function tierResult(summary: Partial<JestSummary>, status: number): Promise<{ passed: number; failed: number; skipped: number; note?: string }> {
  const full: JestSummary = { numPassedTests: 0, numFailedTests: 0, numRuntimeErrorTestSuites: 0, numPendingTests: 0, numTodoTests: 0, numTotalTests: 0, ...summary };
  const code = `import(${JSON.stringify(SCRIPT)}).then((m) => process.stdout.write(JSON.stringify(m.tierResult("unit", ${JSON.stringify(full)}, ${status}))))`;
  const result = await node(["-e", code]);
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout);
}

describe("tierResult", () => {
  test("skipped and todo tests count as failures, with the reason", async () => {
    const entry = await tierResult({ numPassedTests: 10, numPendingTests: 2, numTodoTests: 1, numTotalTests: 13 }, 0);
    expect(entry).toMatchObject({ passed: 10, failed: 3, skipped: 3 });
    expect(entry.note).toContain("skipped tests are not allowed");
  });

  test("all passed is clean; failures, suites that did not load and empty tiers fail", async () => {
    expect(await tierResult({ numPassedTests: 5, numTotalTests: 5 }, 0)).toEqual({ tier: "unit", passed: 5, failed: 0, skipped: 0 });
    expect(await tierResult({ numPassedTests: 4, numFailedTests: 1, numTotalTests: 5 }, 1)).toMatchObject({ failed: 1 });
    expect(await tierResult({ numPassedTests: 4, numRuntimeErrorTestSuites: 1, numTotalTests: 4 }, 1)).toMatchObject({ failed: 1 });
    expect(await tierResult({}, 1)).toMatchObject({ failed: 1, note: "no test ran in this tier" });
    expect(await tierResult({ numPassedTests: 5, numTotalTests: 5 }, 1)).toMatchObject({ failed: 1, note: "jest exited 1" });
  });
});

async function call<T>(fn: string, ...args: unknown[]): Promise<T> {
  const code = `import(${JSON.stringify(SCRIPT)}).then((m) => process.stdout.write(JSON.stringify(m.${fn}(...${JSON.stringify(args)}))))`;
  const result = await node(["-e", code]);
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout) as T;
}

describe("selection", () => {
  test("no arguments: every tier on every Node line, in tool-versions.env's order", async () => {
    const lines = (await call<Record<string, string>>("toolVersions")).NODE_LINES!.split(" ");
    expect(lines).toEqual(["24", "22"]);
    expect(await call("parseSelection", [], lines)).toEqual({ tiers: ["unit", "component", "engine", "runtime", "tooling", "consumers"], nodes: ["24", "22"] });
  });

  test("tiers and --node narrow it; repeats collapse", async () => {
    expect(await call("parseSelection", ["--node", "22", "runtime", "unit", "runtime"], ["24", "22"])).toEqual({ tiers: ["runtime", "unit"], nodes: ["22"] });
  });

  test("an unknown tier or Node line is an error naming the valid ones", async () => {
    expect(await call("parseSelection", ["units"], ["24", "22"])).toEqual({ error: "unknown tier 'units'; valid tiers: unit, component, engine, runtime, tooling, consumers (none: all of them)." });
    expect(await call("parseSelection", ["--node", "20"], ["24", "22"])).toEqual({ error: "unknown Node line '20'; supported lines: 24, 22." });
    expect(await call("parseSelection", ["--node"], ["24", "22"])).toEqual({ error: "unknown Node line ''; supported lines: 24, 22." });
  });

  test("the summary line sums every entry", async () => {
    expect(await call("summaryLine", [{ passed: 3, failed: 0 }, { passed: 4, failed: 2 }])).toBe("7 passed, 2 failed");
  });
});

test("an unknown tier name exits 2 with the valid names, before building anything", async () => {
  const result = await node([SCRIPT, "unit", "units"]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("unknown tier 'units'");
  expect(result.stderr).toContain("valid tiers: unit, component, engine, runtime, tooling, consumers");
  expect(result.stdout).not.toContain("== build");
});
