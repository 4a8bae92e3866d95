// Loads the package as WeChat's compiler left it (scripts/wechat.mjs) into
// a context that holds only ECMAScript's built-ins and the platform object:
// no regeneratorRuntime, no timers, no Node or web API. Each file is a
// CommonJS module, as the mini program runtime wraps it.
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import vm from "node:vm";

const ENTRY = "miniprogram_npm/werun-sam-client/index.js";
const scripts = new Map();

/** The package's exports under setting ("es6" or "enhance"), in a new context whose only global besides the built-ins is wx. */
export function loadWeChatBuild(setting, wx) {
  const root = new URL(`../.wechat/${setting}/`, import.meta.url);
  const context = vm.createContext({ wx });
  const modules = new Map();
  const load = (file) => {
    if (modules.has(file)) return modules.get(file).exports;
    const module = { exports: {} };
    modules.set(file, module);
    const key = `${setting}/${file}`;
    if (!scripts.has(key)) {
      const src = readFileSync(new URL(file, root), "utf8");
      scripts.set(key, new vm.Script(`(function (module, exports, require) {${src}\n})`, { filename: key }));
    }
    const require = (spec) => load(posix.join(posix.dirname(file), spec.endsWith(".js") ? spec : `${spec}.js`));
    scripts.get(key).runInContext(context)(module, module.exports, require);
    return module.exports;
  };
  return load(ENTRY);
}
