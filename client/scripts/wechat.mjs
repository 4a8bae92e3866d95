// Builds the package as WeChat's developer tools do, for the tests' `es6`
// and `enhance` runs: npm pack, miniprogram-ci's packNpmManually (Tools →
// Build npm), then its compileJS under two project settings:
//
//   es6      es6: true, enhance: false — the legacy ES6→ES5 transform an
//            upload or preview with `es6` alone uses (no regeneratorRuntime
//            is injected then);
//   enhance  es6: true, enhance: true — the enhanced compile, whose Babel
//            helpers the tools add as files under @babel/runtime.
//
// compileJS is miniprogram-ci's internal export (the one the tools' own
// compile calls), so its version is pinned in package.json. Each setting's
// output goes to .wechat/<setting>/, laid out as in the mini program:
// miniprogram_npm/werun-sam-client/index.js and the helpers it requires.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";

const SETTINGS = {
  es6: { es6: true, enhance: false },
  enhance: { es6: true, enhance: true },
};
const ENTRY = "miniprogram_npm/werun-sam-client/index.js";
const out = new URL("../.wechat/", import.meta.url).pathname;

const ci = createRequire(import.meta.url)("miniprogram-ci");
const work = mkdtempSync(join(tmpdir(), "werun-client-wechat-"));
try {
  // The package as a mini program project installs it.
  const lib = join(work, "lib");
  const pkg = join(lib, "node_modules", "werun-sam-client");
  mkdirSync(pkg, { recursive: true });
  const [packed] = JSON.parse(execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], { encoding: "utf8" }));
  execFileSync("tar", ["-xzf", join(work, packed.filename), "-C", pkg, "--strip-components=1"]);
  writeFileSync(join(lib, "package.json"), JSON.stringify({ name: "lib", dependencies: { "werun-sam-client": "*" } }));

  // The smallest project compileJS accepts: one page, and no upload (the
  // key is never read for a compile, but the project wants a path).
  const project = join(work, "project");
  const root = join(project, "miniprogram");
  mkdirSync(join(root, "pages", "index"), { recursive: true });
  writeFileSync(join(project, "project.config.json"), JSON.stringify({ appid: "wx0000000000000000", compileType: "miniprogram", miniprogramRoot: "miniprogram/" }));
  writeFileSync(join(root, "app.json"), JSON.stringify({ pages: ["pages/index/index"] }));
  for (const f of ["app.js", "pages/index/index.js", "pages/index/index.wxml"]) writeFileSync(join(root, f), "");
  writeFileSync(join(root, "pages/index/index.json"), "{}");
  writeFileSync(join(work, "unused.key"), "");

  const built = await ci.packNpmManually({ packageJsonPath: join(lib, "package.json"), miniprogramNpmDistDir: root });
  if (built.warnList.length) throw new Error(`packNpmManually: ${JSON.stringify(built.warnList)}`);
  const p = new ci.Project({ appid: "wx0000000000000000", type: "miniProgram", projectPath: project, privateKeyPath: join(work, "unused.key"), ignores: [] });

  rmSync(out, { recursive: true, force: true });
  for (const [name, setting] of Object.entries(SETTINGS)) {
    const { code, helpers } = await ci.compileJS(p, ENTRY, { root: "miniprogram", setting });
    write(join(out, name, ENTRY), code);
    // The helpers and the helpers they require, as the tools add them.
    const todo = [...helpers];
    for (const seen = new Set(); todo.length; ) {
      const h = todo.pop();
      if (seen.has(h)) continue;
      seen.add(h);
      const src = await ci.getHelperContent(setting, h);
      write(join(out, name, `${h}.js`), src);
      for (const [, dep] of src.matchAll(/require\("(\.\/[^"]+)"\)/g)) todo.push(posix.join(posix.dirname(h), dep));
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

function write(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
