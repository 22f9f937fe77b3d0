// Parses every *.tf file of a directory with HashiCorp's HCL parser (@cdktf/hcl2json: the Go
// hcl/v2 library compiled to WebAssembly) and prints {"file.tf": <its JSON form>, ...}.
// A syntax error exits 1 with the parser's message (file, line, column).
//   node tests/observability/hcl2json.js deploy/terraform
"use strict";
const fs = require("fs");
const path = require("path");
const { parse } = require("@cdktf/hcl2json");

async function main() {
  const dir = process.argv[2];
  if (!dir) throw new Error("usage: hcl2json.js DIR");
  const out = {};
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith(".tf")).sort()) {
    out[name] = await parse(name, fs.readFileSync(path.join(dir, name), "utf8"));
  }
  process.stdout.write(JSON.stringify(out, null, 1) + "\n");
}

main().catch((err) => {
  process.stderr.write(`hcl2json: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
