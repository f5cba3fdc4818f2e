// Tiers are jest projects so one runner reports them together; the engine and runtime tiers need
// tools that scripts/test-all.mjs installs and starts first (Pulumi CLI, moto); tooling needs moto.
const tsJest = ["ts-jest", { tsconfig: "tsconfig.test.json", diagnostics: false }];
const common = {
  testEnvironment: "node",
  // jose v6 ships ESM only; jest's module loader cannot require(esm), so it is transpiled.
  transform: { "^.+\\.[tj]s$": tsJest },
  transformIgnorePatterns: ["/node_modules/(?!jose/)"],
  moduleFileExtensions: ["ts", "js", "json"],
  // Every tier: a test that prints a JWT or a generated key's material fails.
  setupFilesAfterEnv: ["<rootDir>/test/support/leak-guard.ts"],
};
module.exports = {
  // Packs the package and installs it into consumer projects once per run (cached by content).
  globalSetup: "<rootDir>/test/support/global-setup.ts",
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/{core,apple,probe,cli}/**/*.test.ts"] },
    { ...common, displayName: "component", testMatch: ["<rootDir>/test/{storage,types}/**/*.test.ts"] },
    { ...common, displayName: "engine", testMatch: ["<rootDir>/test/engine/**/*.test.ts"] },
    { ...common, displayName: "runtime", testMatch: ["<rootDir>/test/runtime/**/*.test.ts"] },
    // What `export` writes, loaded by the real tools that consume a key (codemagic-cli-tools, PyJWT).
    { ...common, displayName: "consumers", testMatch: ["<rootDir>/test/consumers/**/*.test.ts"] },
    // Tests of the test tooling itself: scripts/, test/support, the lint rule.
    { ...common, displayName: "tooling", testMatch: ["<rootDir>/test/tooling/**/*.test.ts"] },
  ],
};
