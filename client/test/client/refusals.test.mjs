// Refusals, offline devices, aborts and the offline cache.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { client, pkg, rejectsWith } from "../helpers.mjs";
import { stand_in } from "../wx.mjs";

describe("refusals get their own codes, before anything is sent", () => {
  for (const { name, setup, code } of [
    { name: "a user who refused WeRun before", setup: (p) => (p.authSetting["scope.werun"] = false), code: "WERUN_DENIED" },
    { name: "a user who refuses when asked", setup: (p) => (p.refuse = { errMsg: "authorize:fail auth deny" }), code: "WERUN_DENIED" },
    { name: "a user who refused the privacy agreement (errno 104)", setup: (p) => (p.refuse = { errMsg: "authorize:fail privacy permission is not authorized", errno: 104 }), code: "WERUN_DENIED" },
    { name: "a privacy guide without WeRun (errno 112)", setup: (p) => (p.refuse = { errMsg: "authorize:fail api scope is not declared in the privacy agreement", errno: 112 }), code: "PRIVACY_NOT_DECLARED" },
  ]) {
    test(`${name}: ${code}, and no wx.login nor request`, async () => {
      const p = stand_in();
      setup(p);
      const err = await rejectsWith(client(p).c.sync(), code);
      assert.deepEqual(p.calls, []);
      assert.ok(pkg(p).isWeRunError(err, "sync"));
      assert.ok(!pkg(p).isWeRunError(err, "steps"));
    });
  }

  test("WeRun not enabled on the device is WERUN_UNAVAILABLE", async () => {
    const p = stand_in();
    p.wx.getWeRunData = (o) => o.fail({ errMsg: "getWeRunData:fail device not support" });
    await rejectsWith(client(p).c.sync(), "WERUN_UNAVAILABLE");
  });

  test("a user asked once and allowing is not asked again", async () => {
    const p = stand_in();
    const { c } = client(p);
    await c.sync();
    await c.sync();
    assert.deepEqual(p.asked, ["getSetting", "authorize scope.werun", "getSetting"]);
  });
});

describe("offline is NETWORK, whichever call noticed it", () => {
  test("without a session: wx.login fails, getNetworkType says none", async () => {
    const p = stand_in();
    p.network = "none";
    await rejectsWith(client(p).c.sync(), "NETWORK");
    assert.deepEqual(p.calls, ["login"]);
  });

  test("with a session: the request fails", async () => {
    const p = stand_in();
    const { c } = client(p);
    await c.login();
    p.network = "none";
    await rejectsWith(c.summary(), "NETWORK");
  });

  test("without getNetworkType, an errMsg naming the network", async () => {
    const p = stand_in();
    delete p.wx.getNetworkType;
    p.wx.login = (o) => o.fail({ errMsg: "login:fail network error" });
    await rejectsWith(client(p).c.login(), "NETWORK");
    p.wx.login = (o) => o.fail({ errMsg: "login:fail system error" });
    await rejectsWith(client(p).c.login(), "WX_FAILED");
  });
});

/** Makes p's next request to path abort through controller right after it is sent. */
function abortWhenSent(p, path, controller) {
  const request = p.wx.request;
  p.wx.request = (o) => {
    const task = request(o);
    if (new URL(o.url).pathname === path) controller.abort();
    return task;
  };
}

describe("cancel", () => {
  test("an abort while the request runs aborts it and rejects ABORTED", async () => {
    const p = stand_in();
    const { c } = client(p);
    await c.login();
    const controller = new AbortController();
    abortWhenSent(p, "/v1/steps", controller);
    await rejectsWith(c.steps(undefined, undefined, { signal: controller.signal }), "ABORTED");
    assert.deepEqual(p.calls.slice(-2), ["GET /v1/steps", "abort /v1/steps"]);
  });

  test("a minimal { aborted, onabort } signal, already aborted: nothing runs", async () => {
    const p = stand_in();
    await rejectsWith(client(p).c.sync({ signal: { aborted: true, onabort: null } }), "ABORTED");
    assert.deepEqual(p.calls, []);
  });

  test("a minimal signal aborting a sync while it logs in", async () => {
    const p = stand_in();
    const signal = { aborted: false, onabort: null };
    const login = p.wx.login;
    p.wx.login = (o) => {
      login(o);
      signal.aborted = true;
      signal.onabort();
    };
    await rejectsWith(client(p).c.sync({ signal }), "ABORTED");
    assert.equal(p.count("getWeRunData"), 0);
  });

  test("deleteAccount, once sent, runs to its end whatever the signal", async () => {
    const p = stand_in();
    const { c } = client(p);
    await c.sync();
    const controller = new AbortController();
    abortWhenSent(p, "/v1/me", controller);
    await c.deleteAccount({ signal: controller.signal });
    assert.equal(p.answers.at(-1), "204");
    assert.equal(c.signedOut, true);
  });
});

describe("offline cache", () => {
  test("answers the last value, stale, when offline; rejects NETWORK with nothing cached", async () => {
    const p = stand_in();
    const { c } = client(p);
    const synced = await c.sync();
    const fresh = await c.steps(undefined, undefined, { cache: true });
    assert.equal(fresh.stale, false);
    assert.deepEqual(fresh.value, synced.days);
    p.network = "none";
    assert.deepEqual(await c.steps(undefined, undefined, { cache: true }), { ...fresh, stale: true });
    await rejectsWith(c.summary({ cache: true }), "NETWORK");
    await rejectsWith(c.steps(), "NETWORK"); // without the option, no cache
  });

  for (const [name, end] of [
    ["logout", async (c) => c.logout()],
    ["deleteAccount", (c) => c.deleteAccount()],
  ]) {
    test(`${name} clears it (boards hold other users' names)`, async () => {
      const p = stand_in();
      const { c } = client(p);
      await c.sync();
      await c.friendsBoard(undefined, { cache: true });
      assert.ok(p.storage.has("werun-sam:session:cache"));
      await end(c);
      assert.ok(!p.storage.has("werun-sam:session:cache"));
    });
  }
});
