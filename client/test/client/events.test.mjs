// Step challenges against the local stack: create, join with consent,
// the boards' credited totals, the organizer's tools, and the export's
// download.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { client, member, rejectsWith } from "../helpers.mjs";
import { apiFail, stand_in } from "../wx.mjs";

/** The date `offset` days from today in China Standard Time. */
const day = (offset) => new Date(Date.now() + 8 * 3600_000 + offset * 86400_000).toISOString().slice(0, 10);

/** WeRun data of the given counts, keyed by the day's offset from today (none for today: its count may not yet pass the plausibility rule). */
const weRun = (counts) => (openid) => ({
  openid,
  stepInfoList: Object.entries(counts).map(([offset, step]) => ({ timestamp: Date.parse(`${day(Number(offset))}T00:00:00+08:00`) / 1000, step })),
});

/** An organizer and a running event with two teams: 3 days counted so far, goal 10000, cap 20000, 2 goal days to complete. */
async function challenge() {
  const organizer = await member("organizer");
  const request = { name: "春季健步走", startDate: day(-3), endDate: day(2), dailyGoal: 10000, dailyCap: 20000, goalDays: 2, teams: ["研发", "市场"] };
  const event = await organizer.c.createEvent(request);
  const [rd, market] = event.teams;
  return { organizer, request, event, rd, market };
}

/** A user with a nickname and the given counts who joined the event in team. */
async function participant(nickname, counts, event, team) {
  const m = await member(nickname, { platform: { weRun: weRun(counts) } });
  m.joined = await m.c.joinEvent({ joinCode: event.joinCode, teamId: team.teamId, consent: true });
  return m;
}

describe("step challenges", () => {
  test("the organizer creates an event; participants join with consent; the boards credit capped steps and goal days", async () => {
    const { organizer, request, event, rd, market } = await challenge();
    assert.equal(organizer.p.answers.at(-1), "201");
    assert.deepEqual(
      { ...event, eventId: undefined, joinCode: undefined, teams: event.teams.map((t) => t.name) },
      {
        ...request,
        eventId: undefined,
        participants: 0,
        status: "running",
        final: false,
        joinCode: undefined,
        me: { organizer: true, participant: false, memberId: organizer.memberId, teamId: null },
      },
    );

    // 15000 + 8000 + 25000 capped at 20000; two days reach the goal.
    const alice = await participant("alice", { [-3]: 15000, [-2]: 8000, [-1]: 25000 }, event, rd);
    assert.deepEqual(alice.joined.me, { organizer: false, participant: true, memberId: alice.memberId, teamId: rd.teamId });
    assert.equal(alice.joined.participants, 1);
    const bob = await participant("bob", { [-1]: 5000 }, event, market);
    assert.equal(bob.joined.participants, 2);

    const board = await alice.c.eventBoard(event.eventId);
    assert.equal(board.asOf, day(0));
    assert.equal(board.participants, 2);
    assert.deepEqual(
      board.entries.map(({ rank, memberId, nickname, teamId, total, goalDays, completed, me }) => ({ rank, memberId, nickname, teamId, total, goalDays, completed, me })),
      [
        { rank: 1, memberId: alice.memberId, nickname: "alice", teamId: rd.teamId, total: 43000, goalDays: 2, completed: true, me: true },
        { rank: 2, memberId: bob.memberId, nickname: "bob", teamId: market.teamId, total: 5000, goalDays: 0, completed: false, me: false },
      ],
    );
    assert.deepEqual(board.me, { rank: 1, total: 43000, goalDays: 2, completed: true });

    const teams = await bob.c.eventTeams(event.eventId);
    assert.deepEqual(teams.teams, [
      { rank: 1, teamId: rd.teamId, name: "研发", members: 1, total: 43000, average: 43000 },
      { rank: 2, teamId: market.teamId, name: "市场", members: 1, total: 5000, average: 5000 },
    ]);

    // One team's board, read by the organizer, who is no participant.
    const marketBoard = await organizer.c.eventBoard(event.eventId, market.teamId);
    assert.equal(marketBoard.participants, 1);
    assert.deepEqual(marketBoard.entries.map((e) => [e.nickname, e.rank]), [["bob", 1]]);
    assert.equal(marketBoard.me, null);
    await rejectsWith(organizer.c.eventBoard(event.eventId, "no-such-team"), "INVALID_FIELD");

    const { participants, cursor } = await organizer.c.participants(event.eventId);
    assert.equal(cursor, undefined);
    assert.deepEqual(
      participants,
      [
        { memberId: alice.memberId, nickname: "alice", teamId: rd.teamId },
        { memberId: bob.memberId, nickname: "bob", teamId: market.teamId },
      ].sort((a, b) => (a.memberId < b.memberId ? -1 : 1)),
    );
    const refused = await rejectsWith(alice.c.participants(event.eventId), "NOT_ORGANIZER");
    assert.equal(refused.status, 403);

    assert.deepEqual((await bob.c.events()).events.map((e) => [e.eventId, e.me.participant]), [[event.eventId, true]]);
    assert.deepEqual(await bob.c.event(event.eventId), { ...(await organizer.c.event(event.eventId)), me: bob.joined.me });
  });

  test("a join is refused without consent, without the team, for an unknown code, and without a nickname", async () => {
    const { event, rd } = await challenge();
    const m = await member("carol");
    await rejectsWith(m.c.joinEvent({ joinCode: event.joinCode, teamId: rd.teamId, consent: false }), "CONSENT_REQUIRED");
    await rejectsWith(m.c.joinEvent({ joinCode: event.joinCode, consent: true }), "MISSING_FIELD");
    await rejectsWith(m.c.joinEvent({ joinCode: "no-such-code", teamId: rd.teamId, consent: true }), "EVENT_NOT_FOUND");
    const nameless = client(stand_in()).c;
    await rejectsWith(nameless.joinEvent({ joinCode: event.joinCode, teamId: rd.teamId, consent: true }), "PROFILE_REQUIRED");
    await rejectsWith(m.c.event(event.eventId), "EVENT_NOT_FOUND"); // not a participant
  });

  test("a new join code retires the old; leaving, removing and cancelling", async () => {
    const { organizer, event, rd } = await challenge();
    const { joinCode } = await organizer.c.rotateJoinCode(event.eventId);
    assert.notEqual(joinCode, event.joinCode);
    const m = await member("dave");
    await rejectsWith(m.c.joinEvent({ joinCode: event.joinCode, teamId: rd.teamId, consent: true }), "EVENT_NOT_FOUND");
    const alice = await participant("alice", { [-1]: 1000 }, { ...event, joinCode }, rd);
    const bob = await participant("bob", { [-1]: 2000 }, { ...event, joinCode }, rd);

    const notYours = await rejectsWith(alice.c.removeParticipant(event.eventId, bob.memberId), "NOT_ORGANIZER");
    assert.equal(notYours.status, 403);
    await rejectsWith(alice.c.cancelEvent(event.eventId), "NOT_ORGANIZER");
    assert.equal(await bob.c.removeParticipant(event.eventId, bob.memberId), undefined); // a leave
    await rejectsWith(bob.c.event(event.eventId), "EVENT_NOT_FOUND");
    await organizer.c.removeParticipant(event.eventId, alice.memberId);
    await rejectsWith(alice.c.joinEvent({ joinCode, teamId: rd.teamId, consent: true }), "JOIN_REFUSED");
    await rejectsWith(organizer.c.removeParticipant(event.eventId, alice.memberId), "PARTICIPANT_NOT_FOUND");

    assert.equal(await organizer.c.cancelEvent(event.eventId), undefined);
    assert.equal(organizer.p.answers.at(-1), "204");
    await rejectsWith(organizer.c.event(event.eventId), "EVENT_NOT_FOUND");
    await rejectsWith(organizer.c.eventTeams(event.eventId), "EVENT_NOT_FOUND");
  });

  test("a name WeChat's content check judges risky is CONTENT_REJECTED", async () => {
    const m = await member("erin");
    const err = await rejectsWith(m.c.createEvent({ name: "simrisky walk", startDate: day(0), endDate: day(6) }), "CONTENT_REJECTED");
    assert.equal(err.status, 422);
    await rejectsWith(m.c.createEvent({ name: "walk", startDate: day(6), endDate: day(0) }), "INVALID_RANGE");
  });
});

describe("the organizer's export", () => {
  test("downloads with the token in the Authorization header, never in the URL, and reads an error answer back from the file", async () => {
    const p = stand_in();
    const { c } = client(p);
    await c.login();
    const seen = [];
    const download = p.wx.downloadFile;
    p.wx.downloadFile = (o) => (seen.push({ url: o.url, authorization: o.header.Authorization }), download(o));
    await apiFail({ times: 1, status: 403, code: "NOT_ORGANIZER", path: "/v1/events/ev1/export" });
    const err = await rejectsWith(c.exportEvent("ev1", "xlsx"), "NOT_ORGANIZER");
    assert.equal(err.status, 403);
    const token = p.storage.get("werun-sam:session").token;
    assert.equal(seen.length, 1);
    assert.equal(seen[0].authorization, `Bearer ${token}`);
    assert.ok(!seen[0].url.includes(token), seen[0].url);
    assert.equal(new URL(seen[0].url).search, "?format=xlsx");
    assert.deepEqual(p.opened, [], "nothing opened");
  });

  test("a short Retry-After, from the download's headers, is waited out once", async () => {
    const p = stand_in();
    const { c, sleeps } = client(p);
    await c.login();
    await apiFail({ times: 2, status: 503, code: "UNAVAILABLE", retryAfter: 1, path: "/v1/events/ev1/export" });
    const err = await rejectsWith(c.exportEvent("ev1"), "UNAVAILABLE");
    assert.equal(err.retryAfter, 1);
    assert.deepEqual(sleeps, [1000]);
    assert.equal(p.count("download /v1/events/ev1/export"), 2);
  });
});
