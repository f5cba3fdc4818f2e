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
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/{core,apple,probe,cli}/**/*.test.ts"] },
    { ...common, displayName: "component", testMatch: ["<rootDir>/test/{storage,types}/**/*.test.ts"] },
    { ...common, displayName: "engine", testMatch: ["<rootDir>/test/engine/**/*.test.ts"] },
    { ...common, displayName: "runtime", testMatch: ["<rootDir>/test/runtime/**/*.test.ts"] },
    // Tests of the test tooling itself: scripts/, test/support, the lint rule.
    { ...common, displayName: "tooling", testMatch: ["<rootDir>/test/tooling/**/*.test.ts"] },
  ],
};
