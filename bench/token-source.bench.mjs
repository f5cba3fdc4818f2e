// AscTokenSource from the BUILT package (run `npm run build` first):
//   (1) warm getToken(): calls/s returning the cached token, both as a bare call (the promise
//       handed out) and awaited in a loop. Goal >= 5,000,000 calls/s.
//   (2) GetSecretValue count over a time window at a high call rate with a small
//       refreshSeconds: goal one read per refreshSeconds, regardless of call rate.
// The Secrets Manager client is a STUB object implementing `send` (no network, no AWS SDK
// client): it counts calls and answers with the stored JSON, so the numbers measure the token
// source alone. The runtime tier (test/runtime) covers the real SDK against moto.
// Exits 1 when a goal is missed: (1) the bare warm call rate, (2) the read count (within one of
// the expected count). The awaited rate is reported without a goal of its own.
// Usage: node bench/token-source.bench.mjs [--rounds N] [--ms N] [--window-ms N] [--refresh-ms N] [--json]
import { generateKeyPairSync } from "node:crypto";
import { performance } from "node:perf_hooks";
import path from "node:path";
import { jsonOutput as JSON_OUT, loadBuilt, machine, median, numberOption, require, root } from "./common.mjs";

const { AscTokenSource, formatStoredCredential, parsePrivateKey } = loadBuilt("runtime/index.js");
const ROUNDS = numberOption("rounds", 7);
const MS = numberOption("ms", 500);
const WINDOW_MS = numberOption("window-ms", 3000);
const REFRESH_MS = numberOption("refresh-ms", 200);

// A fresh key per run: nothing secret is written to disk or printed.
const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const parsed = parsePrivateKey(privateKey.export({ type: "pkcs8", format: "pem" }).toString());
const secretString = formatStoredCredential({
  keyType: "team",
  keyId: "2X9R4HXF34",
  issuerId: "57246542-96fe-1a63-e053-0824d011072a",
  privateKey: parsed.pem,
  fingerprint: parsed.fingerprint,
});

function stubClient() {
  const stub = {
    reads: 0,
    async send() {
      stub.reads++;
      return { SecretString: secretString, $metadata: {} };
    },
  };
  return stub;
}


// (1) warm cache. Calls run in batches so the clock is read rarely by the harness itself.
async function warmRates() {
  const source = AscTokenSource.fromSecretsManager({ secretId: "bench", client: stubClient() });
  await source.getToken();
  const bare = [];
  const awaited = [];
  let sink = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let calls = 0;
    let start = performance.now();
    let end = start + MS;
    while (performance.now() < end) {
      for (let i = 0; i < 100_000; i++) if (source.getToken() !== undefined) sink++;
      calls += 100_000;
    }
    bare.push(calls / ((performance.now() - start) / 1000));

    calls = 0;
    start = performance.now();
    end = start + MS;
    while (performance.now() < end) {
      for (let i = 0; i < 100_000; i++) sink += (await source.getToken()).length;
      calls += 100_000;
    }
    awaited.push(calls / ((performance.now() - start) / 1000));
  }
  if (sink === 0) throw new Error("unreachable");
  return { bare: median(bare), awaited: median(awaited) };
}

// (2) reads per window at full call rate with a small refreshSeconds.
async function readsPerWindow() {
  const stub = stubClient();
  const source = AscTokenSource.fromSecretsManager({ secretId: "bench", client: stub, refreshSeconds: REFRESH_MS / 1000 });
  await source.getToken();
  const readsBefore = stub.reads;
  const start = performance.now();
  let calls = 0;
  while (performance.now() - start < WINDOW_MS) {
    for (let i = 0; i < 10_000; i++) await source.getToken();
    calls += 10_000;
  }
  const elapsed = performance.now() - start;
  return { calls, elapsedMs: Math.round(elapsed), reads: stub.reads - readsBefore, expectedReads: Math.floor(elapsed / REFRESH_MS), callsPerSecond: calls / (elapsed / 1000) };
}

const warm = await warmRates();
const window = await readsPerWindow();
const pkg = require(path.join(root, "package.json"));
const host = machine();
const result = {
  ...host,
  machine: `${host.cpu} x${host.nproc}, ${host.memoryGiB} GiB`,
  package: pkg.version,
  awsSdk: require("@aws-sdk/client-secrets-manager/package.json").version,
  rounds: ROUNDS,
  msPerRound: MS,
  warmGetTokenCallsPerSecond: Math.round(warm.bare),
  warmAwaitedGetTokenCallsPerSecond: Math.round(warm.awaited),
  goalCallsPerSecond: 5_000_000,
  window: { refreshMs: REFRESH_MS, ...window, callsPerSecond: Math.round(window.callsPerSecond) },
};
const warmGoalMet = warm.bare >= result.goalCallsPerSecond;
const readsGoalMet = Math.abs(window.reads - window.expectedReads) <= 1;
result.goalMet = warmGoalMet && readsGoalMet;
if (JSON_OUT) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const fmt = (n) => n.toLocaleString("en-US");
  console.log(`machine: ${result.machine}; node ${result.node}; package ${result.package}; @aws-sdk/client-secrets-manager ${result.awsSdk}`);
  console.log(`warm getToken() (bare call):   ${fmt(result.warmGetTokenCallsPerSecond)} calls/s (goal >= ${fmt(result.goalCallsPerSecond)}) ${warmGoalMet ? "PASS" : "MISS"}`);
  console.log(`warm await getToken():         ${fmt(result.warmAwaitedGetTokenCallsPerSecond)} calls/s (no goal: includes the await)`);
  console.log(
    `GetSecretValue over ${window.elapsedMs} ms at ${fmt(result.window.callsPerSecond)} calls/s, refreshSeconds ${REFRESH_MS / 1000}: ${window.reads} reads (one per refresh: ${window.expectedReads}) ${readsGoalMet ? "PASS" : "MISS"}`,
  );
  console.log(result.goalMet ? "all goals met" : "goal MISSED");
}
if (!result.goalMet) process.exitCode = 1;
