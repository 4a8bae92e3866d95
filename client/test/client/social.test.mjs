// Profiles, groups and friends against the local stack.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { client, member, rejectsWith } from "../helpers.mjs";
import { apiFail, groupName, post, sim, stand_in } from "../wx.mjs";

/** joinGroup with what wx.getShareInfo gives in the group chat named group. */
const joinByShare = (m, group) => m.c.joinGroup(() => m.p.wx.getShareInfo({ shareTicket: group }));

/** The JSON bodies p sent to path, recorded from here on. */
function bodiesTo(p, path) {
  const bodies = [];
  const request = p.wx.request;
  p.wx.request = (o) => {
    if (new URL(o.url).pathname === path) bodies.push(JSON.parse(o.data));
    return request(o);
  };
  return bodies;
}

describe("profile", () => {
  test("empty before the first setProfile, then the stored profile with the caller's memberId", async () => {
    const p = stand_in();
    const { c } = client(p);
    const before = await c.profile();
    assert.equal(before.nickname, "");
    assert.equal(before.avatarUrl, "");
    assert.ok(before.memberId.length > 0);
    const stored = await c.setProfile({ nickname: "  小明 ", avatarUrl: "https://cdn.example.com/a/xm.png" });
    assert.deepEqual(stored, { nickname: "小明", avatarUrl: "https://cdn.example.com/a/xm.png" });
    assert.deepEqual(await c.profile(), { ...stored, memberId: before.memberId });
    assert.deepEqual(p.calls, ["login", "POST /v1/session", "GET /v1/me/profile", "PUT /v1/me/profile", "GET /v1/me/profile"]);
  });

  test("a nickname WeChat's check judges risky is NICKNAME_REJECTED, and the stored one stays", async () => {
    const m = await member("步行者");
    const err = await rejectsWith(m.c.setProfile({ nickname: "simrisky 步行者" }), "NICKNAME_REJECTED");
    assert.equal(err.status, 422);
    assert.equal((await m.c.profile()).nickname, "步行者");
  });

  test("a 401 on a PUT is renewed once and the same body sent again", async () => {
    const p = stand_in();
    const { c } = client(p);
    await c.login();
    await apiFail({ times: 1, status: 401, code: "TOKEN_EXPIRED", path: "/v1/me/profile" });
    const bodies = bodiesTo(p, "/v1/me/profile");
    assert.equal((await c.setProfile({ nickname: "again" })).nickname, "again");
    assert.deepEqual(bodies, [{ nickname: "again" }, { nickname: "again" }]);
    assert.equal(p.count("login"), 2);
    assert.deepEqual(p.answers, ["200", "401 TOKEN_EXPIRED", "200", "200"]);
  });
});

describe("groups", () => {
  test("two users who join one group by encryptedData share its board", async () => {
    const group = groupName();
    // Bob joins before anything else: the login comes before getShareInfo.
    const bob = { p: stand_in() };
    bob.c = client(bob.p).c;
    const joined = await joinByShare(bob, group);
    assert.equal(joined.members, 1);
    assert.deepEqual(bob.p.calls, ["login", "POST /v1/session", "getShareInfo", "POST /v1/groups"]);
    const synced = await bob.c.sync();
    await bob.c.setProfile({ nickname: "bob" });

    const alice = await member("alice");
    const bodies = bodiesTo(alice.p, "/v1/groups");
    assert.deepEqual(await joinByShare(alice, group), { groupId: joined.groupId, members: 2 });
    assert.deepEqual(Object.keys(bodies[0]).sort(), ["encryptedData", "iv"]);

    const day = synced.days.at(-2);
    const board = await alice.c.groupBoard(joined.groupId, day.date);
    assert.equal(board.date, day.date);
    assert.equal(board.members, 2);
    // The simulator gives everyone the same count for a date: one shared rank.
    assert.deepEqual(
      board.entries.map((e) => [e.nickname, e.rank, e.steps, e.me]).sort(),
      [["alice", 1, day.steps, true], ["bob", 1, day.steps, false]],
    );
    assert.equal(board.entries.find((e) => e.me).memberId, alice.memberId);
    assert.deepEqual(board.me, { rank: 1, steps: day.steps });

    const { groups, cursor } = await bob.c.groups();
    assert.equal(cursor, undefined);
    assert.deepEqual(groups.map((g) => [g.groupId, g.members]), [[joined.groupId, 2]]);
  });

  test("a join by cloudID (wx.getGroupEnterInfo) reaches the same group as one by encryptedData", async () => {
    const group = groupName();
    const alice = await member("alice");
    const { groupId } = await joinByShare(alice, group);

    const p = stand_in({ group });
    const { c } = client(p, { cloudID: true });
    const bodies = bodiesTo(p, "/v1/groups");
    const joined = await c.joinGroup(() => new Promise((success, fail) => p.wx.getGroupEnterInfo({ success, fail })));
    assert.deepEqual(joined, { groupId, members: 2 });
    assert.deepEqual(Object.keys(bodies[0]), ["cloudID"]);
    assert.deepEqual(p.calls, ["login", "POST /v1/session", "getGroupEnterInfo", "POST /v1/groups"]);
  });

  test("group data the function cannot fetch anew is sent once more after a new login, then DECRYPT_FAILED", async () => {
    const p = stand_in();
    const { c } = client(p);
    await c.login();
    await post(`${sim}/_sim/login`, { openid: p.openid }); // the key rotates: the first send fails
    const once = p.wx.getShareInfo({ shareTicket: groupName() }); // under the rotated key, never again
    await rejectsWith(c.joinGroup(() => once), "DECRYPT_FAILED");
    assert.deepEqual(p.answers, ["200", "422 DECRYPT_FAILED", "200", "422 DECRYPT_FAILED"]);
    assert.equal(p.count("POST /v1/groups"), 2);
  });

  test("group data that cannot be had (no shareTicket) is WX_FAILED, and nothing is sent", async () => {
    const p = stand_in();
    const { c } = client(p);
    const err = await rejectsWith(c.joinGroup(() => p.wx.getShareInfo({})), "WX_FAILED");
    assert.match(err.message, /getShareInfo:fail/);
    assert.deepEqual(p.calls, ["login", "POST /v1/session", "getShareInfo"]);
    // A function that forgot to return the data.
    await rejectsWith(c.joinGroup(() => Promise.resolve(undefined)), "WX_FAILED");
    assert.equal(p.count("POST /v1/groups"), 0);
  });

  test("a member who left, like a user who never joined, gets GROUP_NOT_FOUND; the others' board shrinks", async () => {
    const group = groupName();
    const [alice, bob] = await Promise.all([member("alice"), member("bob")]);
    const { groupId } = await joinByShare(alice, group);
    assert.equal((await joinByShare(bob, group)).members, 2);

    assert.equal(await bob.c.leaveGroup(groupId), undefined);
    assert.deepEqual(bob.p.answers.slice(-1), ["204"]);
    const board = await alice.c.groupBoard(groupId, alice.yesterday.date);
    assert.equal(board.members, 1);
    assert.deepEqual(board.entries.map((e) => e.nickname), ["alice"]);
    assert.deepEqual((await bob.c.groups()).groups, []);

    const err = await rejectsWith(bob.c.groupBoard(groupId), "GROUP_NOT_FOUND");
    assert.equal(err.status, 404);
    await rejectsWith(bob.c.leaveGroup(groupId), "GROUP_NOT_FOUND");
    const stranger = stand_in();
    await rejectsWith(client(stranger).c.groupBoard(groupId), "GROUP_NOT_FOUND");
  });

  test("a groupId is one path segment, whatever it holds", async () => {
    const p = stand_in();
    const err = await client(p).c.groupBoard("../../steps/summary?x=1").then(assert.fail, (e) => e);
    assert.equal(err.status, 404, err.message);
    assert.deepEqual(p.calls.slice(-1), ["GET /v1/groups/..%2F..%2Fsteps%2Fsummary%3Fx%3D1/board"]);
  });
});

describe("friends", () => {
  test("an accepted invite makes friends both ways, ranked on one board, until one removes the other", async () => {
    const [alice, bob] = await Promise.all([member("alice"), member("bob")]);
    const invite = await alice.c.createInvite();
    assert.equal(invite.expiresIn, 7 * 24 * 3600);
    assert.deepEqual(alice.p.answers.slice(-1), ["201"]);

    const added = await bob.c.acceptInvite(invite.inviteCode);
    assert.deepEqual(added, { friendId: alice.memberId, nickname: "alice" });
    assert.deepEqual(await bob.c.acceptInvite(invite.inviteCode), added, "accepting again answers the same");
    assert.deepEqual(await alice.c.friends(), [{ friendId: bob.memberId, nickname: "bob", avatarUrl: "" }]);
    assert.deepEqual(await bob.c.friends(), [{ friendId: alice.memberId, nickname: "alice", avatarUrl: "" }]);

    const day = bob.yesterday;
    const board = await bob.c.friendsBoard(day.date);
    assert.equal(board.members, 2);
    assert.deepEqual(
      board.entries.map((e) => [e.nickname, e.rank, e.steps, e.me]).sort(),
      [["alice", 1, day.steps, false], ["bob", 1, day.steps, true]],
    );

    assert.equal(await bob.c.removeFriend(alice.memberId), undefined);
    assert.deepEqual(await alice.c.friends(), []);
    assert.deepEqual((await alice.c.friendsBoard(day.date)).entries.map((e) => e.nickname), ["alice"]);
    const err = await rejectsWith(bob.c.removeFriend(alice.memberId), "FRIEND_NOT_FOUND");
    assert.equal(err.status, 404);
  });

  test("an own or unknown invite is INVALID_INVITE", async () => {
    const alice = await member("alice");
    const { inviteCode } = await alice.c.createInvite();
    await rejectsWith(alice.c.acceptInvite(inviteCode), "INVALID_INVITE");
    await rejectsWith(alice.c.acceptInvite("no-such-code"), "INVALID_INVITE");
  });
});
