import js from "@eslint/js";
import jestPlugin from "eslint-plugin-jest";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "examples/*/node_modules/", "bench/.out/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", setTimeout: "readonly", clearTimeout: "readonly", URL: "readonly", fetch: "readonly", AbortSignal: "readonly", __dirname: "readonly", require: "readonly", module: "writable" } },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  { files: ["test/**/*.ts", "bench/**"], rules: { "@typescript-eslint/no-non-null-assertion": "off" } },
  // A skipped or focused test would pass CI without running what it claims (scripts/test-all.mjs
  // also counts skipped and todo tests as failures).
  {
    files: ["test/**"],
    plugins: { jest: jestPlugin },
    rules: { "jest/no-disabled-tests": "error", "jest/no-focused-tests": "error" },
  },
);
