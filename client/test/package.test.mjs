// npm pack makes what a mini program project installs: both builds, the
// types, the mock and react subpaths, and nothing of the sources' tooling;
// npm publish --dry-run sends the same.
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
  for (const build of ["cjs", "esm"]) {
    for (const entry of ["index", "mock/index", "react/index"]) {
      for (const ext of ["js", "d.ts"]) assert.ok(files.includes(`dist/${build}/${entry}.${ext}`), `dist/${build}/${entry}.${ext} missing from ${files}`);
    }
  }
  assert.ok(files.includes("package.json") && files.includes("README.md"));
  assert.ok(!files.some((f) => /^(src|test|scripts|node_modules|\.readme|\.wechat)\//.test(f)), `${files}`);

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

  // The subpaths resolve through exports, as Taro's bundlers resolve them.
  const require = createRequire(join(dir, "index.js"));
  assert.equal(typeof require("werun-sam-client/mock").createMockPlatform, "function");
  const mock = await import(pathToFileURL(join(root, manifest.exports["./mock"].import.default)).href);
  assert.equal(typeof mock.MockServer, "function");
  assert.equal(require.resolve("werun-sam-client/react"), join(root, "dist/cjs/react/index.js"));
  assert.deepEqual(manifest.peerDependenciesMeta, { "@tarojs/taro": { optional: true }, react: { optional: true } });
  // WeChat's npm build packs what main reaches: the core, not the subpaths.
  assert.equal(manifest.main, "dist/cjs/index.js");
  assert.ok(!readFileSync(join(root, manifest.main), "utf8").match(/require\("\.\/(mock|react)/));
});

test("npm publish --dry-run passes and would send what npm pack packs", () => {
  // --offline: a dry run needs no registry.
  const run = (args) => JSON.parse(execFileSync("npm", [...args, "--ignore-scripts", "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
  const published = run(["publish", "--dry-run", "--offline"])["werun-sam-client"];
  const [packed] = run(["pack", "--dry-run"]);
  assert.equal(published.version, packed.version);
  assert.deepEqual(published.files.map((f) => f.path).sort(), packed.files.map((f) => f.path).sort());
});
