import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { client, pkg, rejectsWith } from "../helpers.mjs";
import { api, apiFail, groupName, post, sim, simFail, stand_in } from "../wx.mjs";

describe("sync", () => {
  test("a first sync logs in before fetching WeRun data and stores the days", async () => {
    const p = stand_in();
    const { c } = client(p);
    const synced = await c.sync();
    assert.equal(synced.days.length, 7);
    assert.equal(synced.changed, 7);
    assert.deepEqual(p.calls, ["login", "POST /v1/session", "getWeRunData", "POST /v1/werun/decrypt"]);
    assert.deepEqual(await c.steps(synced.days[0].date, synced.days[6].date), synced.days);
    const summary = await c.summary();
    assert.equal(summary.today, synced.days[6].steps);
    assert.equal(p.count("login"), 1, "the stored session serves the reads");
  });

  test("a first sync with a cloudID", async () => {
    const p = stand_in();
    const { c } = client(p, { cloudID: true });
    const synced = await c.sync();
    assert.equal(synced.changed, 7);
    assert.deepEqual(p.calls, ["login", "POST /v1/session", "getWeRunData", "POST /v1/werun/cloudid"]);
  });

  // sync and joinGroup send open data the same way.
  for (const { name, send, fetched, sent } of [
    { name: "a sync", send: (c) => c.sync(), fetched: "getWeRunData", sent: "POST /v1/werun/decrypt" },
    {
      name: "a group join",
      send: (c, p) => c.joinGroup(() => p.wx.getShareInfo({ shareTicket: groupName() })),
      fetched: "getShareInfo",
      sent: "POST /v1/groups",
    },
  ]) {
    test(`after the session key rotated elsewhere ${name} logs in again once and fetches again`, async () => {
      const p = stand_in();
      const { c } = client(p);
      await c.login();
      await post(`${sim}/_sim/login`, { openid: p.openid }); // a wx.login the backend never saw
      await send(c, p);
      assert.deepEqual(p.calls.slice(2), [
        fetched, sent, // DECRYPT_FAILED: a key the backend lacks
        "login", "POST /v1/session", fetched, sent,
      ]);
      assert.deepEqual(p.answers, ["200", "422 DECRYPT_FAILED", "200", "200"]);
    });

    test(`a cloudID that expired once is fetched again for ${name}, without a new login`, async () => {
      const p = stand_in();
      const { c } = client(p, { cloudID: true });
      await c.login();
      await simFail("/wxa/getopendata", -601006, 1);
      await send(c, p);
      assert.equal(p.count(fetched), 2);
      assert.equal(p.count("login"), 1);
      assert.deepEqual(p.answers, ["200", "422 CLOUDID_EXPIRED", "200"]);
    });
  }

  test("INVALID_STEP_DATA after a proven key fetches again once, then is surfaced", async () => {
    const p = stand_in({ weRun: (openid) => ({ openid, stepInfoList: [{ timestamp: Math.floor(Date.now() / 1000), step: -5 }] }) });
    const { c } = client(p);
    await rejectsWith(c.sync(), "INVALID_STEP_DATA");
    assert.equal(p.count("getWeRunData"), 2);
    assert.equal(p.count("login"), 1);
  });

  test("a 503 with a short Retry-After is waited out once, then the same data is sent", async () => {
    const p = stand_in();
    const { c, sleeps } = client(p);
    await c.login();
    await apiFail({ times: 1, status: 503, code: "UNAVAILABLE", retryAfter: 2, path: "/v1/werun/decrypt" });
    const synced = await c.sync();
    assert.equal(synced.changed, 7);
    assert.deepEqual(sleeps, [2000]);
    assert.equal(p.count("getWeRunData"), 1);
    assert.equal(p.count("POST /v1/werun/decrypt"), 2);
  });

  test("a WeChat too slow to answer is WECHAT_UNAVAILABLE: waited out once, and the same code resent", async () => {
    const p = stand_in();
    const sleeps = [];
    const { c } = client(p, {
      // WeChat recovers while the client waits.
      sleep: async (ms) => {
        sleeps.push(ms);
        await post(`${sim}/_sim/delay`, { path: "/sns/jscode2session", ms: 0 });
      },
    });
    await post(`${sim}/_sim/delay`, { path: "/sns/jscode2session", ms: 4000 });
    await c.login();
    assert.equal(sleeps.length, 1);
    assert.ok(sleeps[0] > 0 && sleeps[0] <= 5000, `waited ${sleeps[0]} ms`);
    assert.deepEqual(p.calls, ["login", "POST /v1/session", "POST /v1/session"]);
    assert.deepEqual(p.answers, ["502 WECHAT_UNAVAILABLE", "200"]);
  });

  test("a 5xx without the envelope is UNAVAILABLE: one short wait, then surfaced", async () => {
    const p = stand_in();
    const { c, sleeps } = client(p);
    await c.login();
    await apiFail({ times: 2, status: 503, raw: true, message: "Service Unavailable", path: "/v1/werun/decrypt" });
    const err = await rejectsWith(c.sync(), "UNAVAILABLE");
    assert.equal(err.status, 503);
    assert.deepEqual(sleeps, [1000]);
    assert.deepEqual(p.answers.slice(1), ["503 (no envelope)", "503 (no envelope)"]);
    assert.equal(p.count("POST /v1/werun/decrypt"), 2);
  });
});

describe("no retry loop", () => {
  test("data that never decrypts (the wrong iv) gets one new login, then DECRYPT_FAILED", async () => {
    const p = stand_in({ weRun: (openid) => ({ openid, days: 3 }) });
    const { c } = client(p);
    const fetch = p.wx.getWeRunData;
    p.wx.getWeRunData = (o) => fetch({ ...o, success: (d) => o.success({ ...d, iv: "AAAAAAAAAAAAAAAAAAAAAA==" }) });
    await rejectsWith(c.sync(), "DECRYPT_FAILED");
    assert.deepEqual(p.answers, ["200", "422 DECRYPT_FAILED", "200", "422 DECRYPT_FAILED"]);
    assert.equal(p.count("login"), 2);
    assert.equal(p.count("POST /v1/werun/decrypt"), 2);
  });

  test("a permanent error is surfaced at once", async () => {
    const p = stand_in({ weRun: (openid) => ({ openid, stepInfoList: [] }) });
    const { c, sleeps } = client(p);
    await rejectsWith(c.sync(), "NO_STEP_DATA");
    assert.deepEqual(p.calls, ["login", "POST /v1/session", "getWeRunData", "POST /v1/werun/decrypt"]);
    assert.deepEqual(sleeps, []);
  });

  test("a malformed cloudID is INVALID_FIELD, surfaced at once", async () => {
    const p = stand_in({ weRun: () => ({ encryptedData: "x", iv: "y", cloudID: "not a cloudID!" }) });
    const { c } = client(p, { cloudID: true });
    await rejectsWith(c.sync(), "INVALID_FIELD");
    assert.deepEqual(p.answers, ["200", "400 INVALID_FIELD"]);
  });

  test("WeChat's spent daily quota (Retry-After 3600) is surfaced, not waited out", async () => {
    const p = stand_in();
    const { c, sleeps } = client(p);
    await simFail("/sns/jscode2session", 45009, 1);
    const err = await rejectsWith(c.sync(), "WECHAT_QUOTA_EXHAUSTED");
    assert.equal(err.status, 503);
    assert.equal(err.retryAfter, 3600);
    assert.deepEqual(sleeps, []);
    assert.equal(p.count("POST /v1/session"), 1);
  });

  test("a 401 that persists is renewed once, then surfaced", async () => {
    const p = stand_in();
    const { c } = client(p);
    await c.login();
    await apiFail({ times: 2, status: 401, code: "TOKEN_EXPIRED", path: "/v1/steps" });
    await rejectsWith(c.steps(), "TOKEN_EXPIRED");
    assert.equal(p.count("login"), 2);
    assert.equal(p.count("GET /v1/steps"), 2);
  });
});

describe("sessions", () => {
  test("a 401 TOKEN_EXPIRED is renewed once", async () => {
    const p = stand_in();
    const { c } = client(p);
    await c.sync();
    await apiFail({ times: 1, status: 401, code: "TOKEN_EXPIRED", path: "/v1/steps" });
    assert.equal((await c.steps()).length, 7);
    assert.equal(p.count("login"), 2);
  });

  test("a stored token this deployment did not sign (INVALID_TOKEN) is renewed", async () => {
    const p = stand_in();
    const { c } = client(p);
    p.storage.set("werun-sam:session", { token: "v1.forged.token", expiresAt: Date.now() + 3_600_000 });
    assert.deepEqual(await c.steps(), []);
    assert.deepEqual(p.calls, ["GET /v1/steps", "login", "POST /v1/session", "GET /v1/steps"]);
  });

  test("a token past its expiry is renewed before it is sent", async () => {
    const p = stand_in();
    const { c } = client(p);
    p.storage.set("werun-sam:session", { token: "old", expiresAt: Date.now() - 1 });
    await c.summary();
    assert.deepEqual(p.calls, ["login", "POST /v1/session", "GET /v1/steps/summary"]);
  });

  test("concurrent calls without a session share one login", async () => {
    const p = stand_in();
    const { c } = client(p);
    await Promise.all([c.steps(), c.summary(), c.steps()]);
    assert.equal(p.count("login"), 1);
  });

  test("after logout nothing logs in until login()", async () => {
    const p = stand_in();
    const { c } = client(p);
    await c.sync();
    c.logout();
    const before = p.calls.length;
    await rejectsWith(c.sync(), "SIGNED_OUT");
    await rejectsWith(client(p).c.summary(), "SIGNED_OUT"); // the state is in storage
    assert.equal(p.calls.length, before, "no wx call, no request");
    await c.login();
    assert.equal(c.signedOut, false);
    assert.equal((await c.steps()).length, 7);
  });

  test("a logout while a call is logging in stays: the login is not stored", async () => {
    const p = stand_in();
    const { c } = client(p);
    const reading = c.steps();
    c.logout();
    await rejectsWith(reading, "SIGNED_OUT");
    assert.equal(c.signedOut, true);
    assert.deepEqual(p.calls, ["login", "POST /v1/session"]);
    await c.login(); // the user's own login ends the sign-out
    assert.deepEqual(await c.steps(), []);
  });

  test("a wx.login failure is WX_FAILED", async () => {
    const p = stand_in();
    p.wx.login = (o) => o.fail({ errMsg: "login:fail network" });
    await rejectsWith(client(p).c.login(), "WX_FAILED");
  });
});

describe("reads", () => {
  test("a bad date range is INVALID_RANGE, and the query is encoded", async () => {
    const p = stand_in();
    await rejectsWith(client(p).c.steps("2026-02-01", "2026-01-01"), "INVALID_RANGE");
    await rejectsWith(client(p).c.steps("2026-01-01&to=x", undefined), "INVALID_RANGE");
  });
});

describe("the user's data", () => {
  const storedToken = (p) => p.storage.get("werun-sam:session").token;
  const deleteWith = (token) => fetch(`${api}/v1/me`, { method: "DELETE", headers: { Authorization: `Bearer ${token}` } });

  test("an export holds the synced days", async () => {
    const p = stand_in();
    const { c } = client(p);
    const synced = await c.sync();
    const exported = await c.exportData();
    assert.equal(exported.openid, p.openid);
    assert.deepEqual(
      exported.days.map(({ date, steps }) => ({ date, steps })),
      synced.days.map(({ date, steps }) => ({ date, steps })),
    );
  });

  test("after deleteAccount no call logs in until login(), which is DELETION_IN_PROGRESS until the deletion completes", async () => {
    const p = stand_in();
    const { c, sleeps } = client(p);
    await c.sync();
    await c.deleteAccount();
    assert.equal(p.answers.at(-1), "204");
    assert.equal(c.signedOut, true);
    const before = p.calls.length;
    await rejectsWith(c.steps(), "SIGNED_OUT");
    await rejectsWith(c.sync(), "SIGNED_OUT");
    await rejectsWith(client(p).c.exportData(), "SIGNED_OUT"); // the state is in storage
    await c.deleteAccount(); // done already: no throw, no login
    assert.equal(p.calls.length, before, "no wx call, no request");
    // The API's Retry-After (60 s) is longer than maxRetryAfter: surfaced, not waited out.
    const err = await rejectsWith(c.login(), "DELETION_IN_PROGRESS");
    assert.equal(err.status, 409);
    assert.ok(err.retryAfter > 5, `Retry-After ${err.retryAfter}`);
    assert.ok(pkg(p).isWeRunError(err, "login"));
    assert.deepEqual(sleeps, []);
    assert.deepEqual(p.calls.slice(before), ["login", "POST /v1/session"]);
    assert.equal(c.signedOut, true, "still signed out: nothing logs in by itself");
  });

  test("another device of a deleted user: its call logs in once and fails DELETION_IN_PROGRESS", async () => {
    const phone = stand_in();
    await client(phone).c.sync();
    const tablet = stand_in({ openid: phone.openid });
    const { c } = client(tablet);
    await c.login();
    await client(phone).c.deleteAccount();
    await rejectsWith(c.summary(), "DELETION_IN_PROGRESS");
    assert.deepEqual(tablet.answers.slice(1), ["401 INVALID_TOKEN", "409 DELETION_IN_PROGRESS"]);
    assert.equal(tablet.count("login"), 2, "one new login, no loop");
  });

  test("a DELETION_IN_PROGRESS with a short Retry-After is waited out once, then surfaced", async () => {
    const p = stand_in();
    const { c, sleeps } = client(p);
    await apiFail({ times: 1, status: 409, code: "DELETION_IN_PROGRESS", retryAfter: 2, path: "/v1/session" });
    await c.login();
    assert.deepEqual(sleeps, [2000]);
    assert.deepEqual(p.answers, ["409 DELETION_IN_PROGRESS", "200"]);
    c.logout();
    await apiFail({ times: 2, status: 409, code: "DELETION_IN_PROGRESS", retryAfter: 2, path: "/v1/session" });
    await rejectsWith(c.login(), "DELETION_IN_PROGRESS");
    assert.deepEqual(sleeps, [2000, 2000]);
    assert.equal(p.count("POST /v1/session"), 4);
  });

  test("a deletion whose first answer is a 503 is resent once with the same token", async () => {
    const p = stand_in();
    const { c, sleeps } = client(p);
    await c.sync();
    await apiFail({ times: 1, status: 503, code: "UNAVAILABLE", retryAfter: 1, path: "/v1/me" });
    await c.deleteAccount();
    assert.deepEqual(sleeps, [1000]);
    assert.deepEqual(p.answers.slice(-2), ["503 UNAVAILABLE", "204"]);
    assert.equal(p.count("login"), 1, "one session, so one token");
    assert.equal(c.signedOut, true);
  });

  test("a call refused while the deletion runs does not log in, and a 401 for the resend (the deletion done) resolves", async () => {
    const p = stand_in();
    const sleeps = [];
    let refused;
    const { c } = client(p, {
      // While the client waits, the first attempt's deletion runs (as when
      // its answer is lost), a read with the now revoked token is refused,
      // and the deletion completes: the resend's token is refused too.
      sleep: async (ms) => {
        sleeps.push(ms);
        assert.equal((await deleteWith(storedToken(p))).status, 204);
        refused = await rejectsWith(c.steps(), "SIGNED_OUT");
        await apiFail({ times: 1, status: 401, code: "INVALID_TOKEN", path: "/v1/me" });
      },
    });
    await c.sync();
    await apiFail({ times: 1, status: 503, code: "UNAVAILABLE", retryAfter: 1, path: "/v1/me" });
    await c.deleteAccount();
    assert.ok(refused);
    assert.deepEqual(p.answers.slice(-3), ["503 UNAVAILABLE", "401 INVALID_TOKEN", "401 INVALID_TOKEN"]);
    assert.equal(p.count("login"), 1, "neither the read nor the deletion logged in");
    assert.equal(c.signedOut, true);
  });

  test("a 503 with a long Retry-After is surfaced, and deleteAccount again finishes", async () => {
    const p = stand_in();
    const { c, sleeps } = client(p);
    await c.sync();
    await apiFail({ times: 1, status: 503, code: "UNAVAILABLE", retryAfter: 60, path: "/v1/me" });
    const err = await rejectsWith(c.deleteAccount(), "UNAVAILABLE");
    assert.equal(err.retryAfter, 60);
    assert.deepEqual(sleeps, []);
    assert.equal(c.signedOut, false);
    await c.deleteAccount();
    assert.equal(p.answers.at(-1), "204");
    assert.equal(c.signedOut, true);
    assert.equal(p.count("login"), 1);
  });

  test("deleteAccount after logout() is SIGNED_OUT: it does not log in", async () => {
    const p = stand_in();
    const { c } = client(p);
    await c.login();
    c.logout();
    await rejectsWith(c.deleteAccount(), "SIGNED_OUT");
    assert.deepEqual(p.calls, ["login", "POST /v1/session"]);
  });
});
