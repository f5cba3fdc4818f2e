// Cold start of the runtime entry: a fresh `node` process that mints its first token, through
// `pulumi-asc-credential/runtime`, against the same job written by hand. Side by side in one run:
// every round runs each variant once as its own process, in a rotating order, and the ratio is the
// median of the per-round ratios (variants of one round ran under the same load).
//   env: the key in APP_STORE_CONNECT_* variables; the hand-written script uses node:crypto only.
//        Goal: package <= 1.15 x hand-written.
//   sm:  the stored credential in Secrets Manager (moto on 127.0.0.1); the hand-written script
//        uses the AWS SDK's GetSecretValue and node:crypto. Goal: package <= 1.10 x hand-written.
// The package is resolved by name from a consumer directory, through its exports map, as users do.
// Usage: node bench/cold-start.bench.mjs [--rounds N] [--json]   (after `npm run build`; needs moto:
// scripts/install-moto.sh). Exits 1 when a goal is missed.
import { spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { jsonOutput, loadBuilt, machine, numberOption, require, root, sideBySide, versions } from "./common.mjs";

const ROUNDS = numberOption("rounds", 40);
const { formatStoredCredential, parsePrivateKey } = loadBuilt("runtime/index.js");
const KEY_ID = "2X9R4HXF34";
const ISSUER_ID = "57246542-96fe-1a63-e053-0824d011072a";
const SECRET_ID = "app-store-connect/bench";

const HAND_ENV = `
const { createPrivateKey, sign } = require("node:crypto");
const key = createPrivateKey(process.env.APP_STORE_CONNECT_PRIVATE_KEY);
const now = Math.floor(Date.now() / 1000);
const enc = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const input = enc({ alg: "ES256", kid: process.env.APP_STORE_CONNECT_KEY_ID, typ: "JWT" }) + "." + enc({ iss: process.env.APP_STORE_CONNECT_ISSUER_ID, iat: now, exp: now + 900, aud: "appstoreconnect-v1" });
process.stdout.write(String((input + "." + sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }).toString("base64url")).length));
`;
const PACKAGE_ENV = `
const { AscTokenSource } = require("pulumi-asc-credential/runtime");
AscTokenSource.fromEnv().getToken().then((token) => process.stdout.write(String(token.length)));
`;
const HAND_SM = `
const { SecretsManagerClient, GetSecretValueCommand } = require("@aws-sdk/client-secrets-manager");
const { createPrivateKey, sign } = require("node:crypto");
new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: process.env.ASC_SECRET_ID })).then((out) => {
  const c = JSON.parse(out.SecretString);
  const key = createPrivateKey(c.privateKey);
  const now = Math.floor(Date.now() / 1000);
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = enc({ alg: "ES256", kid: c.keyId, typ: "JWT" }) + "." + enc({ iss: c.issuerId, iat: now, exp: now + 900, aud: "appstoreconnect-v1" });
  process.stdout.write(String((input + "." + sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }).toString("base64url")).length));
});
`;
const PACKAGE_SM = `
const { AscTokenSource } = require("pulumi-asc-credential/runtime");
AscTokenSource.fromSecretsManager({ secretId: process.env.ASC_SECRET_ID }).getToken().then((token) => process.stdout.write(String(token.length)));
`;

/**
 * A consumer directory with the package installed the way npm installs it (package.json and dist/
 * copied, not linked) and the AWS SDK resolvable by name.
 */
function consumer() {
  const dir = mkdtempSync(path.join(tmpdir(), "asc-cold-start-"));
  mkdirSync(path.join(dir, "node_modules", "@aws-sdk"), { recursive: true });
  const installed = path.join(dir, "node_modules", "pulumi-asc-credential");
  cpSync(path.join(root, "package.json"), path.join(installed, "package.json"));
  cpSync(path.join(root, "dist"), path.join(installed, "dist"), { recursive: true });
  symlinkSync(path.join(root, "node_modules", "@aws-sdk", "client-secrets-manager"), path.join(dir, "node_modules", "@aws-sdk", "client-secrets-manager"));
  for (const [name, text] of Object.entries({ "hand-env.js": HAND_ENV, "package-env.js": PACKAGE_ENV, "hand-sm.js": HAND_SM, "package-sm.js": PACKAGE_SM })) writeFileSync(path.join(dir, name), text);
  return dir;
}

function motoBinary() {
  const result = spawnSync("bash", [path.join(root, "scripts", "install-moto.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (result.status !== 0) {
    console.error("bench: moto is needed for the Secrets Manager variant: scripts/install-moto.sh failed (see above).");
    process.exit(2);
  }
  return path.join(result.stdout.trim().split("\n").pop(), "moto_server");
}

async function startMoto() {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(motoBinary(), ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1000) })).ok) return { endpoint, stop: () => child.kill() };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`moto did not start on ${endpoint}`);
}

const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const parsed = parsePrivateKey(privateKey.export({ type: "pkcs8", format: "pem" }).toString());
const moto = await startMoto();
const dir = consumer();
try {
  const awsEnv = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint };
  const { SecretsManagerClient, CreateSecretCommand } = require("@aws-sdk/client-secrets-manager");
  await new SecretsManagerClient({ region: "eu-west-1", endpoint: moto.endpoint, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } }).send(
    new CreateSecretCommand({ Name: SECRET_ID, SecretString: formatStoredCredential({ keyType: "team", keyId: KEY_ID, issuerId: ISSUER_ID, privateKey: parsed.pem, fingerprint: parsed.fingerprint }) }),
  );
  const base = { PATH: process.env.PATH, HOME: process.env.HOME };
  // Each job prints its token's length: a number, never the token.
  const output = /^\d+$/;
  const variants = {
    "hand-env": { args: [path.join(dir, "hand-env.js")], env: { ...base, APP_STORE_CONNECT_PRIVATE_KEY: parsed.pem, APP_STORE_CONNECT_KEY_ID: KEY_ID, APP_STORE_CONNECT_ISSUER_ID: ISSUER_ID }, output },
    "package-env": { args: [path.join(dir, "package-env.js")], env: { ...base, APP_STORE_CONNECT_PRIVATE_KEY: parsed.pem, APP_STORE_CONNECT_KEY_ID: KEY_ID, APP_STORE_CONNECT_ISSUER_ID: ISSUER_ID }, output },
    "hand-sm": { args: [path.join(dir, "hand-sm.js")], env: { ...base, ...awsEnv, ASC_SECRET_ID: SECRET_ID }, output },
    "package-sm": { args: [path.join(dir, "package-sm.js")], env: { ...base, ...awsEnv, ASC_SECRET_ID: SECRET_ID }, output },
  };
  const measured = sideBySide(variants, { env: ["package-env", "hand-env"], sm: ["package-sm", "hand-sm"] }, ROUNDS, dir);
  const goals = { env: 1.15, sm: 1.1 };
  const result = { machine: machine(), versions: versions(), rounds: ROUNDS, ...measured, goals };
  if (jsonOutput) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`cold start, ${ROUNDS} rounds, ${result.machine.node}, load ${result.machine.loadAverage.join(" ")}`);
    for (const [n, ms] of Object.entries(result.medianMs)) console.log(`  ${n.padEnd(12)} median ${ms} ms`);
    console.log(`  env: package / hand-written = ${result.ratio.env} (goal <= ${goals.env})`);
    console.log(`  sm:  package / hand-written = ${result.ratio.sm} (goal <= ${goals.sm})`);
  }
  process.exitCode = result.ratio.env <= goals.env && result.ratio.sm <= goals.sm ? 0 : 1;
} finally {
  moto.stop();
  rmSync(dir, { recursive: true, force: true });
}
