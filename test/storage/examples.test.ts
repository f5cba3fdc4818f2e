/**
 * Every example type-checks against this repository's source (each example's tsconfig maps
 * `pulumi-asc-credential` to ../../src), so CI catches an example drifting from the API.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "../..");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const EXAMPLES = ["basic", "per-integration"];

function tsc(project: string): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [TSC, "--noEmit", "--listFiles", "-p", project], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

test("the examples listed here are all the examples there are", () => {
  expect(readdirSync(join(ROOT, "examples")).sort()).toEqual([...EXAMPLES].sort());
});

describe.each(EXAMPLES)("examples/%s", (name) => {
  const dir = join(ROOT, "examples", name);

  test("is a Pulumi nodejs project whose key comes from secret config", () => {
    expect(readFileSync(join(dir, "Pulumi.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies["pulumi-asc-credential"]).toBe("file:../..");
    const source = readFileSync(join(dir, "index.ts"), "utf8");
    expect(source).toMatch(/requireSecret\(/);
    // No key file read by the program and no key inline (comments may mention the .p8).
    expect(source).not.toMatch(/readFileSync|["'][^"'\n]*\.p8["']|BEGIN PRIVATE KEY/);
  });

  test("type-checks with tsc --noEmit against the repository source", async () => {
    if (!existsSync(TSC)) throw new Error(`TypeScript not installed at ${TSC}: run npm ci in the repository root.`);
    const { code, output } = await tsc(dir);
    expect({ code, errors: output.split("\n").filter((l) => /error TS\d+/.test(l)) }).toEqual({ code: 0, errors: [] });
    // Proves the import resolved to the component source, not to an untyped stand-in.
    expect(output).toContain(join(ROOT, "src/storage/app-store-connect-api-key.ts"));
  }, 180_000);
});
