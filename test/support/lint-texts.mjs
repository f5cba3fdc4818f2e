// Lints sources given on stdin ([{ file, code }], JSON) with the project's ESLint config and
// prints each one's boundary-rule messages (JSON). A child process because ESLint loads its
// config with import(), which jest's module loader cannot run.
import { ESLint } from "eslint";
import { join } from "node:path";

const root = process.argv[2];
const eslint = new ESLint({ cwd: root });
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cases = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const out = [];
for (const { file, code } of cases) {
  const results = code === undefined ? await eslint.lintFiles([file]) : await eslint.lintText(code, { filePath: join(root, file) });
  out.push(results.flatMap((r) => r.messages.filter((m) => m.ruleId === "no-restricted-imports" || m.ruleId === "no-restricted-syntax" || m.fatal).map((m) => `${r.filePath.slice(root.length + 1)}: ${m.message}`)));
}
process.stdout.write(JSON.stringify(out));
