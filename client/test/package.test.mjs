// npm pack makes what a mini program project installs: both builds, the
// types, and nothing of the sources' tooling.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";

const dir = mkdtempSync(join(tmpdir(), "werun-client-pack-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("npm pack gives an installable package with the CommonJS and ES builds and their types", async () => {
  // dist/ is built before the tests (make client); --ignore-scripts keeps
  // prepack from building it again.
  const [packed] = JSON.parse(
    execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], { encoding: "utf8" }),
  );
  const files = packed.files.map((f) => f.path);
  for (const f of ["package.json", "dist/cjs/index.js", "dist/cjs/index.d.ts", "dist/esm/index.js", "dist/esm/index.d.ts"]) {
    assert.ok(files.includes(f), `${f} missing from ${files}`);
  }
  assert.ok(!files.some((f) => f.startsWith("src/") || f.startsWith("test/") || f.startsWith("node_modules/")), `${files}`);

  const root = join(dir, "node_modules", "werun-sam-client");
  execFileSync("mkdir", ["-p", root]);
  execFileSync("tar", ["-xzf", join(dir, packed.filename), "-C", root, "--strip-components=1"]);
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  assert.deepEqual(manifest.dependencies ?? {}, {}, "no runtime dependency");

  const cjs = createRequire(join(dir, "index.js"))("werun-sam-client");
  const esm = await import(pathToFileURL(join(root, manifest.exports["."].import.default)).href);
  for (const m of [cjs, esm]) {
    assert.equal(typeof m.WeRunClient, "function");
    assert.equal(new m.WeRunError("SIGNED_OUT", "m").code, "SIGNED_OUT");
  }
});
