// The README's Taro page example, as written there, runs on the mock
// platform with no backend: its ```tsx blocks that start with
// `// src/<path>` are compiled (TypeScript, React's JSX) into .readme/ and
// rendered with the minimal @tarojs/taro and @tarojs/components.
import "./dom.mjs";

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { after, test } from "node:test";

import { openPage, show } from "@tarojs/taro";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { createElement } from "react";
import ts from "typescript";

const out = new URL("../../.readme/", import.meta.url);
after(() => rmSync(out, { recursive: true, force: true }));

const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
const blocks = [...readme.matchAll(/```tsx\n(\/\/ (src\/\S+)\.tsx?\n[\s\S]*?)```/g)];
assert.deepEqual(blocks.map((b) => b[2]), ["src/werun", "src/pages/index/index"], "the README's page example");
for (const [, source, path] of blocks) {
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2020, jsx: ts.JsxEmit.ReactJSX },
  });
  const file = new URL(`${path}.mjs`, out);
  mkdirSync(dirname(file.pathname), { recursive: true });
  writeFileSync(file, outputText);
}

process.env.TARO_APP_MOCK = "1";
const { platform } = await import(new URL("src/werun.mjs", out).href);
const { default: Index } = await import(new URL("src/pages/index/index.mjs", out).href);

test("the page syncs once on its first show and shows the summary", async () => {
  openPage(platform);
  render(createElement(Index));
  act(show);
  await screen.findByText(`今天 ${platform.weRun.at(-1)} 步`);
  assert.ok(screen.getByText("今日排名 1"));
  assert.equal(platform.calls.filter((c) => c === "POST /v1/werun/decrypt").length, 1);
  cleanup();
});

test("a user who refused WeRun is shown why; allowing it in the settings syncs; offline, the cached summary is marked", async () => {
  openPage(platform);
  platform.authSetting["scope.werun"] = false;
  platform.weRun = [...platform.weRun.slice(0, -1), platform.weRun.at(-1) + 100];
  render(createElement(Index));
  fireEvent.click(await screen.findByText("去设置"));
  await screen.findByText(`今天 ${platform.weRun.at(-1)} 步`);
  cleanup();

  // Opened again offline: the last summary, marked.
  platform.network = "none";
  render(createElement(Index));
  await screen.findByText("离线：显示上次的数据");
  assert.ok(screen.getByText(`今天 ${platform.weRun.at(-1)} 步`));
  cleanup();
});
