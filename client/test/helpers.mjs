// What every test file of the client's behaviour uses: a client over a
// stand-in, and a typed rejection. WERUN_CLIENT_BUILD picks the build the
// client comes from: "untranspiled" (dist/esm, the default), or "es6" or
// "enhance", WeChat's compiler's output (test/wechat.mjs).
import assert from "node:assert/strict";

import * as untranspiled from "../dist/esm/index.js";
import { loadWeChatBuild } from "./wechat.mjs";
import { api, stand_in } from "./wx.mjs";

export const build = process.env.WERUN_CLIENT_BUILD || "untranspiled";
if (!["untranspiled", "es6", "enhance"].includes(build)) throw new Error(`WERUN_CLIENT_BUILD=${build}: want untranspiled, es6 or enhance`);

// Every module a test loaded, so a rejection's class is found whichever context made it.
const loaded = [untranspiled];

/** The package's exports for platform p.wx, from the build under test. */
export function pkg(p) {
  if (build === "untranspiled") return untranspiled;
  const m = loadWeChatBuild(build, p.wx);
  loaded.push(m);
  return m;
}

/**
 * A client of the stand-in p whose waits are recorded, not slept. For a
 * compiled build, what its methods resolve to is copied into this realm,
 * so that assert's deep equality (which compares prototypes) holds.
 */
export function client(p, options = {}) {
  const sleeps = [];
  const { WeRunClient } = pkg(p);
  const c = new WeRunClient({
    baseURL: api,
    platform: p.wx,
    sleep: async (ms) => void sleeps.push(ms),
    ...options,
  });
  return { c: build === "untranspiled" ? c : intoThisRealm(c), sleeps };
}

function intoThisRealm(c) {
  return new Proxy(c, {
    get(target, key) {
      const v = Reflect.get(target, key, target);
      if (typeof v !== "function") return v;
      return (...args) => {
        const r = v.apply(target, args);
        return r && typeof r.then === "function" ? r.then((x) => (x === undefined ? x : JSON.parse(JSON.stringify(x)))) : r;
      };
    },
  });
}

/** The WeRunError promise rejects with, asserted to have code. */
export async function rejectsWith(promise, code) {
  const err = await promise.then(
    () => assert.fail(`resolved, want ${code}`),
    (e) => e,
  );
  assert.ok(loaded.some((m) => err instanceof m.WeRunError), `${err} is not an instance of WeRunError`);
  assert.equal(err.code, code, err.message);
  return err;
}

/**
 * A user who synced (a week of steps, unless platform.weRun says
 * otherwise) and set a nickname. Boards are read for yesterday: today's
 * count may not yet pass the plausibility rule.
 */
export async function member(nickname, { platform, options } = {}) {
  const p = stand_in(platform);
  const { c } = client(p, options);
  const synced = await c.sync();
  await c.setProfile({ nickname });
  const { memberId } = await c.profile();
  return { p, c, memberId, synced, yesterday: synced.days.at(-2) };
}
