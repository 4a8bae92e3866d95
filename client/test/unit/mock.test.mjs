// The mock platform (werun-sam-client/mock) drives the real client with no
// backend: what a page in the developer tools or a unit test sees.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { WeRunClient } from "../../dist/esm/index.js";
import { createMockPlatform, MockServer } from "../../dist/esm/mock/index.js";

// A fixed clock: today is 2026-03-10 in China Standard Time.
const NOON = Date.parse("2026-03-10T12:00:00+08:00");

function device(options = {}) {
  const clock = { now: NOON };
  const server = options.server ?? new MockServer({ now: () => clock.now, ...options.serverOptions });
  const p = createMockPlatform({ server, ...options });
  const sleeps = [];
  const c = new WeRunClient({ baseURL: "https://mock.invalid", platform: p, sleep: async (ms) => void sleeps.push(ms) });
  return { p, c, server, clock, sleeps };
}

/** A user on server who synced counts (the last being today's) and set a nickname. */
async function member(server, nickname, weRun) {
  const d = device({ server, weRun });
  await d.c.sync();
  await d.c.setProfile({ nickname });
  d.memberId = (await d.c.profile()).memberId;
  return d;
}

describe("the mock platform", () => {
  test("a sync logs in, sends WeRun's days and reads them back, with no backend", async () => {
    const { p, c } = device({ weRun: [3000, 12000, 9000] });
    const synced = await c.sync();
    assert.deepEqual(synced, {
      days: [{ date: "2026-03-08", steps: 3000 }, { date: "2026-03-09", steps: 12000 }, { date: "2026-03-10", steps: 9000 }],
      changed: 3,
    });
    assert.deepEqual(p.calls, ["getSetting", "authorize", "login", "POST /v1/session", "getWeRunData", "POST /v1/werun/decrypt"]);
    assert.deepEqual(await c.steps("2026-03-09", "2026-03-10"), synced.days.slice(1));
    const summary = await c.summary();
    assert.equal(summary.today, 9000);
    assert.equal(summary.yesterday, 12000);
    assert.equal(summary.last7, 24000);
    assert.equal(summary.rank, 1);
    assert.deepEqual(summary.bestDay, { date: "2026-03-09", steps: 12000 });
    p.weRun = [3000, 12000, 11000];
    assert.equal((await c.sync()).changed, 1, "a day's count only rises");
  });

  test("a wx.login the API never saw rotates the key: the client logs in again once, as against the real API", async () => {
    const { p, c } = device();
    await c.login();
    p.login({ success() {}, fail() {} }); // elsewhere: the session key changes
    await new Promise((r) => setImmediate(r));
    await c.sync();
    assert.deepEqual(p.calls.filter((x) => x !== "getSetting" && x !== "authorize").slice(3), [
      "getWeRunData", "POST /v1/werun/decrypt", // DECRYPT_FAILED
      "login", "POST /v1/session", "getWeRunData", "POST /v1/werun/decrypt",
    ]);
  });

  test("scripted failures: an API answer, a platform call, a refusal, offline", async () => {
    const { p, c, sleeps } = device();
    p.failNext("POST /v1/werun/decrypt", { status: 503, code: "UNAVAILABLE", retryAfter: 1 });
    await c.sync();
    assert.deepEqual(sleeps, [1000]);

    p.failNext("getWeRunData", { errMsg: "getWeRunData:fail device not support" });
    await assert.rejects(c.sync(), { code: "WERUN_UNAVAILABLE" });

    const refused = device();
    refused.p.refuse = { errMsg: "authorize:fail auth deny" };
    await assert.rejects(refused.c.sync(), { code: "WERUN_DENIED" });
    assert.deepEqual(refused.p.calls, ["getSetting", "authorize"]);

    const cached = await c.summary({ cache: true });
    p.network = "none";
    assert.deepEqual(await c.summary({ cache: true }), { ...cached, stale: true });
    await assert.rejects(c.steps(), { code: "NETWORK" });

    p.network = "wifi";
    p.failNext("/v1/steps", { status: 401, code: "TOKEN_EXPIRED" }, 2);
    await assert.rejects(c.steps(), { code: "TOKEN_EXPIRED" });
    assert.equal(p.calls.filter((x) => x === "GET /v1/steps").length, 3);
  });

  test("an abort aborts the request", async () => {
    const { p, c } = device({ latency: 5 });
    await c.login();
    const signal = { aborted: false, onabort: null };
    const reading = c.steps(undefined, undefined, { signal });
    await new Promise((r) => setImmediate(r));
    signal.aborted = true;
    signal.onabort();
    await assert.rejects(reading, { code: "ABORTED" });
    assert.deepEqual(p.calls.slice(-2), ["GET /v1/steps", "abort /v1/steps"]);
  });

  test("groups: two users who open the same chat's card share a board", async () => {
    const { server } = device();
    const alice = await member(server, "alice", [8000, 6000]);
    const bob = await member(server, "bob", [5000, 7000]);
    const joined = await alice.c.joinGroup(() => alice.p.getShareInfo({ shareTicket: "family" }));
    assert.deepEqual(await bob.c.joinGroup(() => bob.p.getShareInfo({ shareTicket: "family" })), { groupId: joined.groupId, members: 2 });
    const board = await bob.c.groupBoard(joined.groupId);
    assert.deepEqual(board.entries.map((e) => [e.rank, e.nickname, e.steps, e.me]), [[1, "bob", 7000, true], [2, "alice", 6000, false]]);
    assert.deepEqual(board.me, { rank: 1, steps: 7000 });
    assert.deepEqual((await alice.c.groups()).groups, [{ groupId: joined.groupId, members: 2, rank: 2, steps: 6000 }]);
    await bob.c.leaveGroup(joined.groupId);
    await assert.rejects(bob.c.groupBoard(joined.groupId), { code: "GROUP_NOT_FOUND" });

    const opened = device({ server, group: "family" });
    assert.equal((await opened.c.joinGroup(() => opened.p.getGroupEnterInfo())).groupId, joined.groupId);
    await assert.rejects(opened.c.joinGroup(() => opened.p.getShareInfo({})), { code: "WX_FAILED" });
  });

  test("friends: an invite accepted makes a board of two", async () => {
    const { server } = device();
    const alice = await member(server, "alice", [9000]);
    const bob = await member(server, "bob", [4000]);
    const { inviteCode } = await alice.c.createInvite();
    assert.deepEqual(await bob.c.acceptInvite(inviteCode), { friendId: alice.memberId, nickname: "alice" });
    await assert.rejects(alice.c.acceptInvite(inviteCode), { code: "INVALID_INVITE" });
    assert.deepEqual((await bob.c.friendsBoard()).entries.map((e) => e.nickname), ["alice", "bob"]);
    await alice.c.removeFriend(bob.memberId);
    assert.deepEqual(await bob.c.friends(), []);
  });

  test("a risky nickname is NICKNAME_REJECTED; a typo'd field INVALID_FIELD", async () => {
    const { c } = device();
    await assert.rejects(c.setProfile({ nickname: "simrisky" }), { code: "NICKNAME_REJECTED" });
    await assert.rejects(c.setProfile({ nickname: "n", avatarURL: "https://x/a.png" }), { code: "INVALID_FIELD" });
  });

  test("a deletion in progress answers logins DELETION_IN_PROGRESS until it is done; then the account is new", async () => {
    const { c, clock, sleeps } = device({ serverOptions: { deletionMs: 20 * 60_000 } });
    await c.sync();
    await c.deleteAccount();
    await assert.rejects(c.login(), { code: "DELETION_IN_PROGRESS", retryAfter: 60, status: 409 });
    assert.deepEqual(sleeps, [], "60 s is not waited out");
    clock.now += 20 * 60_000;
    await c.login();
    assert.deepEqual(await c.steps(), []);
  });
});

describe("step challenges on the mock", () => {
  async function challenge() {
    const { server } = device();
    const organizer = await member(server, "organizer", [1000]);
    const event = await organizer.c.createEvent({ name: "春季健步走", startDate: "2026-03-08", endDate: "2026-03-20", dailyGoal: 10000, dailyCap: 20000, goalDays: 2, teams: ["研发", "市场"] });
    const [rd, market] = event.teams;
    // 15000 + 8000 + 25000 capped; bob's one day under the goal.
    const alice = await member(server, "=alice", [15000, 8000, 25000]);
    await alice.c.joinEvent({ joinCode: event.joinCode, teamId: rd.teamId, consent: true });
    const bob = await member(server, "bob", [0, 0, 5000]);
    await bob.c.joinEvent({ joinCode: event.joinCode, teamId: market.teamId, consent: true });
    return { server, organizer, event, rd, market, alice, bob };
  }

  test("the boards credit capped steps and goal days; teams rank by average", async () => {
    const { organizer, event, rd, market, alice } = await challenge();
    assert.equal(event.status, "running");
    const board = await alice.c.eventBoard(event.eventId);
    assert.equal(board.asOf, "2026-03-10");
    assert.deepEqual(board.entries.map((e) => [e.rank, e.nickname, e.total, e.goalDays, e.completed]), [[1, "=alice", 43000, 2, true], [2, "bob", 5000, 0, false]]);
    assert.deepEqual(board.me, { rank: 1, total: 43000, goalDays: 2, completed: true });
    assert.deepEqual((await organizer.c.eventTeams(event.eventId)).teams.map((t) => [t.rank, t.teamId, t.average]), [[1, rd.teamId, 43000], [2, market.teamId, 5000]]);
    assert.equal((await organizer.c.eventBoard(event.eventId, market.teamId)).me, null);
    await assert.rejects(alice.c.participants(event.eventId), { code: "NOT_ORGANIZER", status: 403 });
    await assert.rejects(alice.c.joinEvent({ joinCode: event.joinCode, teamId: market.teamId, consent: true }), { code: "TEAM_LOCKED" });
  });

  test("the export: CSV shared to a chat, XLSX opened, the token only in the header", async () => {
    const { organizer, event, alice } = await challenge();
    const downloads = [];
    const download = organizer.p.downloadFile;
    organizer.p.downloadFile = (o) => (downloads.push(o), download(o));
    const csv = await organizer.c.exportEvent(event.eventId);
    assert.deepEqual(organizer.p.opened, [{ api: "shareFileMessage", filePath: csv.filePath, fileName: `event-${event.eventId}.csv` }]);
    const text = organizer.p.files.get(csv.filePath);
    assert.ok(text.startsWith("\ufeffmemberId,nickname,team,2026-03-08,2026-03-09,2026-03-10,total,goalDays,completed\r\n"), text);
    assert.match(text, new RegExp(`^${alice.memberId},'=alice,研发,15000,8000,20000,43000,2,true\\r$`, "m"));
    assert.ok(downloads[0].header.Authorization.startsWith("Bearer "));
    assert.ok(!downloads[0].url.includes(downloads[0].header.Authorization.slice(7)));

    const xlsx = await organizer.c.exportEvent(event.eventId, "xlsx");
    assert.deepEqual(organizer.p.opened.at(-1), { api: "openDocument", filePath: xlsx.filePath, fileType: "xlsx" });
    await assert.rejects(alice.c.exportEvent(event.eventId), { code: "NOT_ORGANIZER" });
    assert.deepEqual(alice.p.opened, []);

    // An expired token is renewed once, as for any call.
    organizer.p.failNext(`/v1/events/${event.eventId}/export`, { status: 401, code: "TOKEN_EXPIRED" });
    assert.equal((await organizer.c.exportEvent(event.eventId, "csv", { open: false })).format, "csv");
    assert.equal(organizer.p.calls.filter((x) => x === "login").length, 2);
  });

  test("join refusals, rotation, leaving, removing, cancelling", async () => {
    const { server, organizer, event, rd, alice, bob } = await challenge();
    const carol = device({ server });
    await assert.rejects(carol.c.joinEvent({ joinCode: event.joinCode, teamId: rd.teamId, consent: true }), { code: "PROFILE_REQUIRED" });
    await carol.c.setProfile({ nickname: "carol" });
    await assert.rejects(carol.c.joinEvent({ joinCode: event.joinCode, teamId: rd.teamId, consent: false }), { code: "CONSENT_REQUIRED" });
    await assert.rejects(carol.c.joinEvent({ joinCode: event.joinCode, consent: true }), { code: "MISSING_FIELD" });
    const { joinCode } = await organizer.c.rotateJoinCode(event.eventId);
    await assert.rejects(carol.c.joinEvent({ joinCode: event.joinCode, teamId: rd.teamId, consent: true }), { code: "EVENT_NOT_FOUND" });
    assert.equal((await carol.c.joinEvent({ joinCode, teamId: rd.teamId, consent: true })).participants, 3);

    await bob.c.removeParticipant(event.eventId, bob.memberId);
    await organizer.c.removeParticipant(event.eventId, alice.memberId);
    await assert.rejects(alice.c.joinEvent({ joinCode, teamId: rd.teamId, consent: true }), { code: "JOIN_REFUSED" });
    assert.deepEqual((await organizer.c.participants(event.eventId)).participants.map((x) => x.nickname), ["carol"]);
    assert.deepEqual((await carol.c.events()).events.map((e) => e.eventId), [event.eventId]);
    await assert.rejects(carol.c.cancelEvent(event.eventId), { code: "NOT_ORGANIZER" });
    await organizer.c.cancelEvent(event.eventId);
    await assert.rejects(carol.c.event(event.eventId), { code: "EVENT_NOT_FOUND" });
  });
});
