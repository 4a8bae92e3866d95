// The Taro hooks (werun-sam-client/react) with React 18, a minimal
// @tarojs/taro (taro/taro.mjs) and the mock platform.
import "./dom.mjs";

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";

import { hide, openPage, show } from "@tarojs/taro";
import { act, cleanup, renderHook, waitFor } from "@testing-library/react";
import { WeRunClient } from "werun-sam-client";
import { createMockPlatform, MockServer } from "werun-sam-client/mock";
import { useGroupBoard, useJoinFromShareTicket, useSummary, useWeRunSync } from "werun-sam-client/react";

afterEach(cleanup);

const NOON = Date.parse("2026-03-10T12:00:00+08:00");

/** A page opened on a new mock device, and its client. */
function page(options = {}) {
  const server = options.server ?? new MockServer({ now: () => NOON });
  const p = createMockPlatform({ server, weRun: [4000, 9000, 12000], ...options });
  openPage(p);
  const c = new WeRunClient({ baseURL: "https://mock.invalid", platform: p, sleep: async () => {} });
  return { p, c, server, count: (call) => p.calls.filter((x) => x === call).length };
}

const settled = (result) => waitFor(() => assert.equal(result.current.loading, false));

describe("useWeRunSync", () => {
  test("syncs once on the first show though the mount and useDidShow both fire; again only after a hide", async () => {
    const { c, count } = page();
    const { result } = renderHook(() => useWeRunSync(c));
    act(show); // Taro's first onShow, after the mount
    assert.equal(result.current.loading, true);
    await settled(result);
    assert.equal(result.current.data.changed, 3);
    assert.equal(count("POST /v1/werun/decrypt"), 1);

    act(show);
    await settled(result);
    assert.equal(count("POST /v1/werun/decrypt"), 1, "a show without a hide is the same show");
    act(hide);
    act(show);
    await settled(result);
    assert.equal(count("POST /v1/werun/decrypt"), 2);
  });

  test("a refusal is its error, typed, and refresh tries again", async () => {
    const { p, c } = page();
    p.authSetting["scope.werun"] = false;
    const { result } = renderHook(() => useWeRunSync(c));
    await settled(result);
    assert.equal(result.current.error.code, "WERUN_DENIED");
    assert.equal(result.current.data, undefined);
    p.authSetting["scope.werun"] = true;
    act(() => result.current.refresh());
    await settled(result);
    assert.equal(result.current.error, undefined);
    assert.equal(result.current.data.changed, 3);
  });
});

describe("useSummary", () => {
  test("reads again when its key (the sync's data) changes", async () => {
    const { c, count } = page();
    const { result } = renderHook(() => {
      const sync = useWeRunSync(c);
      return { sync, summary: useSummary(c, { key: sync.data }) };
    });
    await waitFor(() => assert.equal(result.current.summary.data?.today, 12000));
    assert.equal(result.current.summary.loading, false);
    assert.equal(count("GET /v1/steps/summary"), 2, "before the sync and after it");
  });

  test("with the cache, offline answers the last summary, stale", async () => {
    const { p, c } = page();
    await c.sync();
    const { result } = renderHook(() => useSummary(c, { cache: true }));
    await settled(result);
    assert.equal(result.current.stale, false);
    const fresh = result.current.data;
    p.network = "none";
    act(() => result.current.refresh());
    await settled(result);
    assert.deepEqual(result.current.data, fresh);
    assert.equal(result.current.stale, true);
    assert.equal(result.current.error, undefined);
  });

  test("unmounting aborts the call in flight, and nothing is surfaced", async () => {
    const { p, c } = page();
    await c.login();
    let view;
    const request = p.request;
    p.request = (o) => {
      const task = request(o);
      view.unmount(); // the page closes while the request runs
      return task;
    };
    view = renderHook(() => useSummary(c));
    await waitFor(() => assert.ok(p.calls.includes("abort /v1/steps/summary")));
    assert.deepEqual(p.calls.slice(-2), ["GET /v1/steps/summary", "abort /v1/steps/summary"]);
    assert.equal(view.result.current.error, undefined);
  });
});

describe("useGroupBoard and useJoinFromShareTicket", () => {
  test("joins from the card that opened the page, once per ticket; the board follows the group", async () => {
    const server = new MockServer({ now: () => NOON });
    const alice = page({ server });
    await alice.c.sync();
    await alice.c.setProfile({ nickname: "alice" });
    await alice.c.joinGroup(() => alice.p.getShareInfo({ shareTicket: "family" }));

    const bob = page({ server, enterOptions: { path: "pages/index/index", query: {}, scene: 1044, shareTicket: "family" } });
    await bob.c.setProfile({ nickname: "bob" });
    const { result } = renderHook(() => {
      const joined = useJoinFromShareTicket(bob.c);
      return { joined, board: useGroupBoard(bob.c, joined.data?.groupId) };
    });
    assert.equal(result.current.board.loading, false, "idle without a group");
    await waitFor(() => assert.equal(result.current.board.data?.members, 2));
    assert.equal(result.current.joined.data.members, 2);
    assert.deepEqual(result.current.board.data.entries.map((e) => [e.nickname, e.steps]), [["alice", 12000], ["bob", 0]]);

    act(show);
    assert.equal(bob.count("POST /v1/groups"), 1, "the same ticket on a show joins no more");
    bob.p.enterOptions = { ...bob.p.enterOptions, shareTicket: "work" }; // a warm start from another card
    act(show);
    await waitFor(() => assert.equal(result.current.joined.data?.members, 1));
    assert.equal(bob.count("POST /v1/groups"), 2);
    assert.notEqual(result.current.board.data?.members, 2);
  });

  test("without a ticket, nothing is asked", async () => {
    const { p, c } = page();
    const { result } = renderHook(() => useJoinFromShareTicket(c));
    assert.equal(result.current.loading, false);
    assert.deepEqual(p.calls, []);
  });
});
