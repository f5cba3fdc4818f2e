import js from "@eslint/js";
import jestPlugin from "eslint-plugin-jest";
import tseslint from "typescript-eslint";

/**
 * The layer table (README "Layers"), as data: what each folder of src/ may import. A
 * specifier is allowed when it matches one of the layer's patterns; everything else is an error,
 * for `import`, `export … from`, `require()` and `import()` alike.
 * Exported for test/tooling/layers.test.ts.
 */
export const LAYERS = {
  core: { files: ["src/core/**"], allow: ["^\\./[\\w.-]+$", "^jose$", "^node:crypto$"] },
  apple: { files: ["src/apple/**"], allow: ["^\\./[\\w.-]+$", "^\\.\\./core(/[\\w.-]+)?$"] },
  probe: { files: ["src/probe/**"], allow: ["^\\./[\\w.-]+$", "^\\.\\./(core|apple)(/[\\w.-]+)?$", "^@pulumi/pulumi(/[\\w.-]+)?$", "^pulumi-asc-credential/probe-provider$"] },
  storage: { files: ["src/storage/*.ts"], allow: ["^\\./[\\w.-]+$", "^\\.\\./(core|probe)(/[\\w.-]+)?$", "^@pulumi/(pulumi|command)(/[\\w.-]+)?$"] },
  "storage/aws": { files: ["src/storage/aws/**"], allow: ["^\\./[\\w.-]+$", "^\\.\\./(?!(?:aws|vault)$)[\\w.-]+$", "^\\.\\./\\.\\./(core|probe)(/[\\w.-]+)?$", "^@pulumi/(pulumi|command|aws)(/[\\w.-]+)?$"] },
  "storage/vault": { files: ["src/storage/vault/**"], allow: ["^\\./[\\w.-]+$", "^\\.\\./(?!(?:aws|vault)$)[\\w.-]+$", "^\\.\\./\\.\\./(core|probe)(/[\\w.-]+)?$", "^@pulumi/(pulumi|command|vault)(/[\\w.-]+)?$"] },
  runtime: { files: ["src/runtime/**"], ignores: ["src/runtime/index.ts"], allow: ["^\\./[\\w.-]+$", "^\\.\\./(core|apple)(/[\\w.-]+)?$", "^node:(?!child_process)[\\w/]+$", "^@aws-sdk/client-secrets-manager$"] },
  // The runtime entry also re-exports the doctor report's types (`export type`, no code).
  "runtime entry": { files: ["src/runtime/index.ts"], allow: ["^\\./[\\w.-]+$", "^\\.\\./(core|apple)(/[\\w.-]+)?$", "^\\.\\./cli/doctor-report$"] },
  cli: { files: ["src/cli/*.ts"], allow: ["^\\./[\\w.-]+$", "^\\./commands/[\\w.-]+$", "^\\.\\./(core|apple|runtime)(/[\\w.-]+)?$", "^node:[\\w/]+$"] },
  // One file per subcommand, loaded only when it runs.
  "cli commands": { files: ["src/cli/commands/**"], allow: ["^\\./[\\w.-]+$", "^\\.\\./[\\w.-]+$", "^\\.\\./\\.\\./(core|apple|runtime)(/[\\w.-]+)?$", "^node:[\\w/]+$"] },
};

/** One regex matching every specifier a layer may NOT import. */
export function forbiddenPattern(allow) {
  return `^(?!(?:${allow.map((a) => a.replace(/^\^|\$$/g, "")).join("|")})$).*`;
}

function layerRules([name, layer]) {
  const forbidden = forbiddenPattern(layer.allow);
  const message = `the ${name} layer may import only: ${layer.allow.join(", ")} (README "Layers"; the table is in eslint.config.mjs)`;
  // esquery ends a /regex/ at the first slash, escaped or not.
  const inSelector = forbidden.replace(/\//g, "\\x2F");
  const call = (callee) => `CallExpression[callee.name='${callee}'] > Literal.arguments[value=/${inSelector}/]`;
  return {
    files: layer.files,
    ...(layer.ignores ? { ignores: layer.ignores } : {}),
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ regex: forbidden, message }] }],
      "no-restricted-syntax": [
        "error",
        { selector: call("require"), message },
        { selector: `ImportExpression > Literal.source[value=/${inSelector}/]`, message },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "examples/*/node_modules/", "bench/.out/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", URL: "readonly", fetch: "readonly", AbortSignal: "readonly", AbortController: "readonly", __dirname: "readonly", require: "readonly", module: "writable" } },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  ...Object.entries(LAYERS).map(layerRules),
  { files: ["test/**/*.ts", "bench/**"], rules: { "@typescript-eslint/no-non-null-assertion": "off" } },
  // A skipped or focused test would pass CI without running what it claims (scripts/test-all.mjs
  // also counts skipped and todo tests as failures).
  {
    files: ["test/**"],
    plugins: { jest: jestPlugin },
    rules: { "jest/no-disabled-tests": "error", "jest/no-focused-tests": "error" },
  },
);
