/**
 * `pulumi-asc-credential/runtime` works in a project without any
 * `@pulumi/*` package: the packed tarball installed with its own dependencies only, then a
 * token minted from APP_STORE_CONNECT_* variables in a child node process of that project.
 * Needs a fresh dist/ (`npm test` builds first) and the npm registry or cache on a first run.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runNode } from "../support/child";
import { packedConsumer } from "../support/consumer-project";
import { generateTestKey, TEAM } from "../support/keys";
import { decodeJwt, signedBy } from "./helpers";

let consumer: string;
beforeAll(async () => {
  ({ dir: consumer } = packedConsumer("runtime"));
}, 600_000);

const SCRIPT = `
const { AscTokenSource } = require("pulumi-asc-credential/runtime");
AscTokenSource.fromEnv(process.env).getToken().then((token) => {
  let pulumiResolvable = true;
  try { require.resolve("@pulumi/pulumi"); } catch { pulumiResolvable = false; }
  process.stdout.write(JSON.stringify({
    token,
    entry: require.resolve("pulumi-asc-credential/runtime"),
    loadedPulumi: Object.keys(require.cache).filter((p) => p.includes("/@pulumi/")),
    pulumiResolvable,
  }));
}, (error) => { process.stderr.write(String(error && error.code) + "\\n"); process.exit(1); });
`;

test("require('pulumi-asc-credential/runtime') mints a token with no @pulumi package installed", async () => {
  expect(existsSync(join(consumer, "node_modules", "@pulumi"))).toBe(false);
  const key = generateTestKey();
  const env = {
    PATH: process.env.PATH ?? "",
    APP_STORE_CONNECT_KEY_ID: TEAM.keyId,
    APP_STORE_CONNECT_ISSUER_ID: TEAM.issuerId,
    APP_STORE_CONNECT_PRIVATE_KEY: key.pem.replace(/\n/g, "\\n"),
  };
  const child = await runNode(["-e", SCRIPT], { cwd: consumer, env });
  expect(child.stderr).toBe("");
  expect(child.code).toBe(0);
  const result = JSON.parse(child.stdout) as { token: string; entry: string; loadedPulumi: string[]; pulumiResolvable: boolean };
  expect(result.entry).toBe(join(consumer, "node_modules", "pulumi-asc-credential", "dist", "runtime", "index.js"));
  expect(result.loadedPulumi).toEqual([]);
  expect(result.pulumiResolvable).toBe(false);
  expect(decodeJwt(result.token).header.kid).toBe(TEAM.keyId);
  expect(signedBy(result.token, key)).toBe(true);
}, 60_000);
