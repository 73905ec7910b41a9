#!/usr/bin/env node
// Validate .glb/.gltf files with the Khronos glTF validator (npm package gltf-validator).
//   node scripts/validate_gltf.mjs FILE...   prints one JSON object: {"FILE": report, ...}
// A report is the validator's own (issues.numErrors, issues.messages, info...). Exits 0 when
// every file has no errors, 1 when one has, 2 when a file cannot be read or parsed.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const validator = require("gltf-validator");

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/validate_gltf.mjs FILE.glb [FILE...]");
  process.exit(2);
}

const reports = {};
let status = 0;
for (const file of files) {
  try {
    const bytes = new Uint8Array(await readFile(file));
    const report = await validator.validateBytes(bytes, {
      uri: path.basename(file),
      maxIssues: 200,
      externalResourceFunction: async (uri) =>
        new Uint8Array(await readFile(path.resolve(path.dirname(file), decodeURIComponent(uri)))),
    });
    reports[file] = report;
    if (report.issues.numErrors > 0) status = Math.max(status, 1);
  } catch (err) {
    reports[file] = { error: String(err) };
    status = 2;
  }
}
process.stdout.write(JSON.stringify(reports, null, 1) + "\n");
process.exit(status);
