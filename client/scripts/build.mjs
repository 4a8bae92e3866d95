// Type-checks the sources with the type tests (test/types; native wx, as
// its own typings declare it, is a Platform: a program of its own, since
// wx's typings and React's declare the same DOM globals), then builds dist/esm (Taro's
// bundlers) and dist/cjs (WeChat's developer tools build from npm), each
// marked with its module type for Node.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
for (const config of ["tsconfig.typecheck.json", "tsconfig.wx.json"]) {
  execFileSync(process.execPath, [tsc, "-p", config], { stdio: "inherit" });
}
rmSync("dist", { recursive: true, force: true });
for (const [config, dir, type] of [
  ["tsconfig.json", "dist/esm", "module"],
  ["tsconfig.cjs.json", "dist/cjs", "commonjs"],
]) {
  execFileSync(process.execPath, [tsc, "-p", config], { stdio: "inherit" });
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/package.json`, JSON.stringify({ type }) + "\n");
}
