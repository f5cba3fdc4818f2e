/**
 * What `asc-credential export` writes and prints for each tool, as pure data: file names and
 * contents, variables and the text for stdout. Conventions of each tool: README "Using the key in
 * CI". Values are paths and identifiers only, never key content (except inside the 0600 files).
 * @packageDocumentation
 */
import { join } from "node:path";
import { AscCredentialError } from "../core/errors";
import { quote } from "../core/redact";
import type { LoadedCredential } from "../runtime/credential";
import type { PrivateFile } from "../runtime/write-key-file";
import { shellQuote } from "./io";

/** The formats `export` knows. */
export const EXPORT_FORMATS = ["fastlane", "xcode", "env", "dotenv", "github"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Everything one export does. */
export interface ExportPlan {
  /** The directory the private files go into (0700). */
  keyDirectory: string;
  files: PrivateFile[];
  /** The key file's path. */
  keyPath: string;
  /** Every variable of every convention, in a stable order. */
  variables: [string, string][];
  /** Lines to append to `$GITHUB_ENV` (github format). */
  githubEnv?: string;
  /** What goes to stdout. */
  stdout: string;
}

/** Every convention's variables for a key file at `keyPath`. */
export function exportVariables(credential: LoadedCredential, keyPath: string, keyDirectory: string): [string, string][] {
  const team = credential.keyType === "team" && credential.issuerId !== undefined;
  const issuer = (name: string): [string, string][] => (team ? [[name, credential.issuerId!]] : []);
  return [
    // This package.
    ["APP_STORE_CONNECT_KEY_ID", credential.keyId],
    ...issuer("APP_STORE_CONNECT_ISSUER_ID"),
    ["APP_STORE_CONNECT_PRIVATE_KEY_PATH", keyPath],
    ...(credential.keyType === "individual" ? ([["APP_STORE_CONNECT_KEY_TYPE", "individual"]] as [string, string][]) : []),
    // fastlane.
    ["APP_STORE_CONNECT_API_KEY_KEY_ID", credential.keyId],
    ...issuer("APP_STORE_CONNECT_API_KEY_ISSUER_ID"),
    ["APP_STORE_CONNECT_API_KEY_KEY_FILEPATH", keyPath],
    // codemagic-cli-tools (shares APP_STORE_CONNECT_ISSUER_ID); its file reference, not the key.
    ["APP_STORE_CONNECT_KEY_IDENTIFIER", credential.keyId],
    ["APP_STORE_CONNECT_PRIVATE_KEY", `@file:${keyPath}`],
    // Expo EAS.
    ["EXPO_ASC_API_KEY_PATH", keyPath],
    ["EXPO_ASC_KEY_ID", credential.keyId],
    ...issuer("EXPO_ASC_ISSUER_ID"),
    // The asc CLI.
    ["ASC_KEY_ID", credential.keyId],
    ...issuer("ASC_ISSUER_ID"),
    ["ASC_PRIVATE_KEY_PATH", keyPath],
    // altool (and codemagic) find AuthKey_<KEYID>.p8 here.
    ["API_PRIVATE_KEYS_DIR", keyDirectory],
  ];
}

/** fastlane's `api_key_path` JSON: `{key_id, issuer_id, key, in_house}`. */
export function fastlaneApiKeyJson(credential: LoadedCredential): string {
  return `${JSON.stringify({ key_id: credential.keyId, ...(credential.keyType === "team" && credential.issuerId !== undefined ? { issuer_id: credential.issuerId } : {}), key: credential.privateKey, in_house: false }, null, 2)}\n`;
}

/** The plan for `format`, the files going under `directory`. */
export function planExport(format: ExportFormat, credential: LoadedCredential, directory: string): ExportPlan {
  const keyDirectory = format === "xcode" ? join(directory, "private_keys") : directory;
  const keyName = `AuthKey_${credential.keyId}.p8`;
  const keyPath = join(keyDirectory, keyName);
  const keyFile: PrivateFile = { name: keyName, content: credential.privateKey, sameKeyAs: credential.privateKey };
  const variables = exportVariables(credential, keyPath, keyDirectory);
  const plan: ExportPlan = { keyDirectory, keyPath, variables, files: [keyFile], stdout: "" };
  switch (format) {
    case "fastlane": {
      plan.files.push({ name: "api_key.json", content: fastlaneApiKeyJson(credential) });
      plan.stdout = `${join(keyDirectory, "api_key.json")}\n`;
      break;
    }
    case "xcode": {
      const issuer = credential.keyType === "team" && credential.issuerId !== undefined ? credential.issuerId : undefined;
      plan.stdout = [
        "# xcodebuild (archive, export, upload):",
        `-authenticationKeyPath ${shellQuote(keyPath)} -authenticationKeyID ${credential.keyId}${issuer ? ` -authenticationKeyIssuerID ${issuer}` : ""}`,
        "# xcrun notarytool:",
        issuer ? `--key ${shellQuote(keyPath)} --key-id ${credential.keyId} --issuer ${issuer}` : "# (individual keys cannot notarize: use a team key)",
        "# xcrun altool (finds AuthKey_<KEYID>.p8 in this directory):",
        `export API_PRIVATE_KEYS_DIR=${shellQuote(keyDirectory)}`,
        "",
      ].join("\n");
      break;
    }
    case "env": {
      plan.stdout = variables.map(([name, value]) => `export ${name}=${shellQuote(value)}\n`).join("");
      break;
    }
    case "dotenv": {
      plan.files.push({ name: ".env", content: variables.map(([name, value]) => `${name}=${dotenvValue(value)}\n`).join("") });
      plan.stdout = `${join(keyDirectory, ".env")}\n`;
      break;
    }
    case "github": {
      plan.githubEnv = variables.map(([name, value]) => `${name}=${value}\n`).join("");
      plan.stdout = `Set ${variables.length} variables for the next steps (GITHUB_ENV): ${variables.map(([name]) => name).join(", ")}\nKey file: ${keyPath}\n`;
      break;
    }
  }
  return plan;
}

/**
 * A value for a `.env` line that a shell (`set -a; . .env`), python-dotenv, Node's dotenv and
 * Ruby's dotenv (fastlane) all read the same: plain, or in single quotes. Those readers escape
 * and join quotes each their own way, so a value with a quote or a backslash is refused.
 */
function dotenvValue(value: string): string {
  if (/^[\w@%+=:,./-]+$/.test(value)) return value;
  if (!/['\\]/.test(value)) return `'${value}'`;
  throw new AscCredentialError(
    "OUTPUT_INVALID",
    `Output: the .env file would hold the path ${quote(value)}, and dotenv readers (python-dotenv, Node's dotenv, fastlane's) each read a quote or backslash in a value differently, so they would see another path or none. Pass --out a directory whose path has no ' or \\.`,
    "--out",
  );
}
