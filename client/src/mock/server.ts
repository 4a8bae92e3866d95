// The mock platform's API: the werun-sam routes answered from a small
// in-memory model (users, sessions, days, profiles, groups, friends, step
// challenges), with the API's shapes and codes but none of its storage,
// WeChat calls or fair-board rules. "Encrypted" data is plain JSON naming
// the login whose session key sealed it, so a wx.login between fetching
// and sending fails to decrypt as it does for real.
import type { DateString, Day, Event, EventBoard, EventTeams, Export, MyProfile, Summary } from "../client.js";
import type { OpenData } from "../platform.js";

export interface MockServerOptions {
  /** The clock (ms since the epoch); dates are China Standard Time days of it. Default Date.now. */
  now?: () => number;
  /** The daily goal (DAILY_GOAL). Default 10000. */
  dailyGoal?: number;
  /** How long a deletion stays in progress (logins answer 409 DELETION_IN_PROGRESS). Default 0: done at once. */
  deletionMs?: number;
  /** WeChat's content check: whether a nickname or event name is risky. Default: it holds "simrisky", as in the local stack's simulator. */
  isRisky?: (text: string) => boolean;
}

/** One answer of the API: status, JSON body (none for a 204, text for an export), headers. */
export interface MockAnswer {
  statusCode: number;
  data: string;
  header: Record<string, string>;
}

interface User {
  openid: string;
  memberId: string;
  nickname: string;
  avatarUrl: string;
  days: Map<DateString, number>;
  keys: string[];
  lastSyncAt?: Summary["lastSyncAt"];
}

interface Group {
  groupId: string;
  members: Set<string>;
}

interface Challenge {
  eventId: string;
  name: string;
  startDate: DateString;
  endDate: DateString;
  dailyGoal: number;
  dailyCap: number;
  goalDays: number;
  teams: { teamId: string; name: string }[];
  joinCode: string;
  organizer: string;
  participants: Map<string, string | null>;
  teamOnceRunning: Map<string, string | null>;
  removed: Set<string>;
}

interface Standing {
  user: User;
  teamId: string | null;
  total: number;
  goalDays: number;
  completed: boolean;
}

type Query = Record<string, string | undefined>;
type Body = Record<string, unknown>;
type Handler = (openid: string, p: { params: string[]; query: Query; body: Body }) => unknown;

const DAY_MS = 86_400_000;
const TOKEN_LIFE = 86_400;
const DELETION_RETRY_AFTER = 60;

class ApiError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
    readonly retryAfter?: number,
  ) {}
}

const fail = (status: number, code: string, message: string): never => {
  throw new ApiError(status, code, message);
};

/** The werun-sam API in memory; share one among several mock platforms (users) for groups, friends and events. */
export class MockServer {
  private readonly now: () => number;
  private readonly dailyGoal: number;
  private readonly deletionMs: number;
  private readonly isRisky: (text: string) => boolean;
  private readonly users = new Map<string, User>();
  private readonly codes = new Map<string, { openid: string; key: string }>();
  private readonly tokens = new Map<string, string>();
  private readonly cloud = new Map<string, string>();
  private readonly deleting = new Map<string, number>();
  private readonly groups = new Map<string, Group>();
  // A chat's openGId -> its groupId.
  private readonly groupIds = new Map<string, string>();
  private readonly invites = new Map<string, string>();
  private readonly friends = new Set<string>();
  private readonly events = new Map<string, Challenge>();
  private seq = 0;
  private readonly routes: [string, RegExp, Handler][];

  constructor(options: MockServerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.dailyGoal = options.dailyGoal ?? 10000;
    this.deletionMs = options.deletionMs ?? 0;
    this.isRisky = options.isRisky ?? ((t) => t.includes("simrisky"));
    this.routes = [
      ["POST", /^\/v1\/werun\/decrypt$/, (o, { body }) => this.sync(o, this.open(o, fields(body, ["encryptedData", "iv"], []), "stepInfoList"))],
      ["POST", /^\/v1\/werun\/cloudid$/, (o, { body }) => this.sync(o, this.open(o, fields(body, ["cloudID"], []), "stepInfoList"))],
      ["GET", /^\/v1\/steps$/, (o, { query }) => ({ days: this.steps(o, query) })],
      ["GET", /^\/v1\/steps\/summary$/, (o) => this.summary(o)],
      ["GET", /^\/v1\/me\/profile$/, (o) => this.profile(o)],
      ["PUT", /^\/v1\/me\/profile$/, (o, { body }) => this.setProfile(o, fields(body, ["nickname"], ["avatarUrl"]))],
      ["POST", /^\/v1\/groups$/, (o, { body }) => this.joinGroup(o, this.open(o, body, "openGId"))],
      ["GET", /^\/v1\/groups$/, (o) => this.groupList(o)],
      ["GET", /^\/v1\/groups\/([^/]+)\/board$/, (o, { params, query }) => this.board(o, [...this.group(o, params[0]).members], query.date)],
      ["DELETE", /^\/v1\/groups\/([^/]+)$/, (o, { params }) => void this.group(o, params[0]).members.delete(o)],
      ["POST", /^\/v1\/friends\/invites$/, (o) => this.invite(o)],
      ["POST", /^\/v1\/friends$/, (o, { body }) => this.accept(o, String(fields(body, ["inviteCode"], []).inviteCode))],
      ["GET", /^\/v1\/friends$/, (o) => ({ friends: this.friendsOf(o).map((f) => this.friendView(f)) })],
      ["GET", /^\/v1\/friends\/board$/, (o, { query }) => this.board(o, [o, ...this.friendsOf(o)], query.date)],
      ["DELETE", /^\/v1\/friends\/([^/]+)$/, (o, { params }) => this.unfriend(o, params[0])],
      ["GET", /^\/v1\/me\/export$/, (o) => this.exportMe(o)],
      ["DELETE", /^\/v1\/me$/, (o) => this.deleteUser(o)],
      ["POST", /^\/v1\/events$/, (o, { body }) => this.createEvent(o, body)],
      ["GET", /^\/v1\/events$/, (o) => ({ events: [...this.events.values()].filter((e) => e.organizer === o || e.participants.has(o)).sort(byStart).map((e) => this.eventView(o, e)) })],
      ["POST", /^\/v1\/events\/join$/, (o, { body }) => this.joinEvent(o, fields(body, ["joinCode", "consent"], ["teamId"]))],
      ["GET", /^\/v1\/events\/([^/]+)$/, (o, { params }) => this.eventView(o, this.event(o, params[0]))],
      ["DELETE", /^\/v1\/events\/([^/]+)$/, (o, { params }) => void this.events.delete(this.organized(o, params[0]).eventId)],
      ["GET", /^\/v1\/events\/([^/]+)\/participants$/, (o, { params }) => this.participantList(this.organized(o, params[0]))],
      ["POST", /^\/v1\/events\/([^/]+)\/joinCode$/, (o, { params }) => ({ joinCode: (this.organized(o, params[0]).joinCode = this.id("c")) })],
      ["DELETE", /^\/v1\/events\/([^/]+)\/participants\/([^/]+)$/, (o, { params }) => this.removeParticipant(o, params[0], params[1])],
      ["GET", /^\/v1\/events\/([^/]+)\/board$/, (o, { params, query }) => this.eventBoard(o, this.event(o, params[0]), query.teamId)],
      ["GET", /^\/v1\/events\/([^/]+)\/teams$/, (o, { params }) => this.eventTeams(this.event(o, params[0]))],
    ];
  }

  /** Today in China Standard Time. */
  today(): DateString {
    return dateOf(this.now());
  }

  // --- what the mock platform calls ------------------------------------------

  /** A wx.login code for openid, and the session key it stands for. */
  issueCode(openid: string): { code: string; key: string } {
    const code = this.id("code");
    const key = this.id("key");
    this.codes.set(code, { openid, key });
    return { code, key };
  }

  /** Open data sealed under a login's session key, with a cloudID standing for it. */
  seal(key: string | undefined, payload: Body): OpenData {
    const encryptedData = JSON.stringify({ ...payload, key: key ?? "", at: this.now() });
    const cloudID = this.id("cloud");
    this.cloud.set(cloudID, encryptedData);
    return { encryptedData, iv: "bW9jay1pdi1tb2NrLWl2IQ==", cloudID };
  }

  /** Answers one request: method, path with query, the headers, the body as sent. */
  handle(method: string, pathAndQuery: string, header: Record<string, string>, body?: string): MockAnswer {
    try {
      const [path, search = ""] = pathAndQuery.split("?");
      const query: Query = {};
      for (const pair of search.split("&").filter(Boolean)) {
        const [k, v = ""] = pair.split("=");
        query[decodeURIComponent(k)] = decodeURIComponent(v);
      }
      const parsed = parseBody(body);
      if (method === "POST" && path === "/v1/session") return json(200, this.session(String(fields(parsed, ["code"], []).code)));
      if (method === "GET" && /^\/v1\/events\/[^/]+\/export$/.test(path)) {
        const openid = this.caller(header);
        return this.exportEvent(openid, decodeURIComponent(path.split("/")[3]), query.format ?? "csv");
      }
      for (const [m, re, handler] of this.routes) {
        const match = re.exec(path);
        if (!match || m !== method) continue;
        const openid = this.caller(header);
        const answer = handler(openid, { params: match.slice(1).map(decodeURIComponent), query, body: parsed });
        return answer === undefined ? { statusCode: 204, data: "", header: {} } : json(method === "POST" && (path === "/v1/events" || path === "/v1/friends/invites") ? 201 : 200, answer);
      }
      return { statusCode: 404, data: JSON.stringify({ message: "Not Found" }), header: {} };
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      return {
        statusCode: e.status,
        data: JSON.stringify({ error: { code: e.code, message: e.message } }),
        header: e.retryAfter === undefined ? {} : { "Retry-After": String(e.retryAfter) },
      };
    }
  }

  // --- sessions and sync ---------------------------------------------------------

  private session(code: string) {
    const redeemed = this.codes.get(code) ?? fail(400, "INVALID_CODE", "WeChat refused the code: call wx.login again.");
    this.codes.delete(code);
    const until = this.deleting.get(redeemed.openid);
    if (until !== undefined && until > this.now()) {
      throw new ApiError(409, "DELETION_IN_PROGRESS", "This user's account is being deleted: log in again after Retry-After.", DELETION_RETRY_AFTER);
    }
    this.deleting.delete(redeemed.openid);
    const user = this.user(redeemed.openid);
    user.keys = [redeemed.key, ...user.keys].slice(0, 3);
    const token = this.id("token");
    this.tokens.set(token, redeemed.openid);
    return { token, expiresIn: TOKEN_LIFE };
  }

  private caller(header: Record<string, string>): string {
    const auth = Object.keys(header).find((k) => k.toLowerCase() === "authorization");
    const token = auth && /^Bearer (.+)$/.exec(header[auth])?.[1];
    if (!token) fail(401, "MISSING_TOKEN", "Send Authorization: Bearer <token>.");
    return this.tokens.get(token as string) ?? fail(401, "INVALID_TOKEN", "The token is not valid: log in again.");
  }

  /** What sealed data holds, after the checks the API makes: the caller's key, the field wanted. */
  private open(openid: string, body: Body, want: string): Body {
    let sealed = body.encryptedData;
    if (body.cloudID !== undefined) sealed = this.cloud.get(String(body.cloudID)) ?? fail(422, "CLOUDID_EXPIRED", "The cloudID expired: fetch the data again.");
    if (typeof sealed !== "string") return fail(400, "MISSING_FIELD", "encryptedData and iv, or cloudID, are required.");
    const data = parseBody(sealed);
    const user = this.user(openid);
    if (!user.keys.length) fail(422, "NO_SESSION_KEY", "No session key: log in again.");
    if (!user.keys.includes(String(data.key))) fail(422, "DECRYPT_FAILED", "The data did not decrypt: log in again and fetch it again.");
    if (data[want] === undefined) fail(422, want === "openGId" ? "NO_GROUP_DATA" : "NO_STEP_DATA", `The data holds no ${want}.`);
    return data;
  }

  private sync(openid: string, data: Body) {
    const list = data.stepInfoList as { timestamp: number; step: number }[];
    if (!list.length) fail(422, "NO_STEP_DATA", "WeRun gave no days.");
    const user = this.user(openid);
    let changed = 0;
    const days = list.map(({ timestamp, step }) => {
      const date = dateOf(timestamp * 1000);
      if ((user.days.get(date) ?? -1) < step) {
        user.days.set(date, step);
        changed++;
      }
      return { date, steps: step };
    });
    if (changed) user.lastSyncAt = new Date(this.now()).toISOString() as Summary["lastSyncAt"];
    return { days, changed };
  }

  private steps(openid: string, query: Query): Day[] {
    const to = date(query.to) ?? this.today();
    const from = date(query.from) ?? addDays(to, -30);
    if (from > to) fail(400, "INVALID_RANGE", "from must not be after to.");
    return [...this.user(openid).days].filter(([d]) => d >= from && d <= to).sort().map(([d, steps]) => ({ date: d, steps }));
  }

  private summary(openid: string): Summary {
    const user = this.user(openid);
    const today = this.today();
    const on = (offset: number) => user.days.get(addDays(today, offset)) ?? 0;
    const sum = (n: number) => Array.from({ length: n }, (_, i) => on(-i)).reduce((a, b) => a + b, 0);
    let streak = 0;
    for (let i = on(0) >= this.dailyGoal ? 0 : 1; on(-i) >= this.dailyGoal; i++) streak++;
    const days = this.steps(openid, {});
    const best = days.reduce<Day | null>((b, d) => (b === null || d.steps > b.steps ? d : b), null);
    const onToday = [...this.users.values()].filter((u) => u.days.has(today));
    const above = onToday.filter((u) => (u.days.get(today) ?? 0) > on(0)).length;
    const onBoard = user.days.has(today);
    return {
      date: today,
      today: on(0),
      yesterday: on(-1),
      last7: sum(7),
      last30: sum(30),
      average7: Math.floor(sum(7) / 7),
      average30: Math.floor(sum(30) / 30),
      goal: this.dailyGoal,
      streak,
      bestDay: best,
      ...(user.lastSyncAt ? { lastSyncAt: user.lastSyncAt } : {}),
      rank: onBoard ? above + 1 : null,
      percentile: onBoard ? Math.floor(((onToday.length - above) * 100) / onToday.length) : null,
      users: onToday.length,
    };
  }

  // --- profile, groups, friends ----------------------------------------------

  private profile(openid: string): MyProfile {
    const { nickname, avatarUrl, memberId } = this.user(openid);
    return { nickname, avatarUrl, memberId };
  }

  private setProfile(openid: string, body: Body) {
    const nickname = String(body.nickname).trim();
    if (nickname === "" || [...nickname].length > 32) fail(400, "INVALID_FIELD", "nickname: 1 to 32 characters.");
    if (this.isRisky(nickname)) fail(422, "NICKNAME_REJECTED", "WeChat's content check judged the nickname risky.");
    const avatarUrl = body.avatarUrl === undefined ? "" : String(body.avatarUrl);
    if (avatarUrl !== "" && !/^https:\/\/[^\s/"'<>]+\//.test(avatarUrl)) fail(400, "INVALID_FIELD", "avatarUrl: an https:// link.");
    Object.assign(this.user(openid), { nickname, avatarUrl });
    return { nickname, avatarUrl };
  }

  private joinGroup(openid: string, data: Body) {
    const name = String(data.openGId);
    let group = this.groups.get(this.groupIds.get(name) ?? "");
    if (!group) {
      group = { groupId: this.id("g"), members: new Set() };
      this.groupIds.set(name, group.groupId);
      this.groups.set(group.groupId, group);
    }
    group.members.add(openid);
    return { groupId: group.groupId, members: group.members.size };
  }

  private group(openid: string, groupId: string): Group {
    const g = this.groups.get(groupId);
    return g && g.members.has(openid) ? g : fail(404, "GROUP_NOT_FOUND", "No such group for the caller.");
  }

  private groupList(openid: string) {
    return {
      groups: [...this.groups.values()]
        .filter((g) => g.members.has(openid))
        .map((g) => {
          const { me } = this.board(openid, [...g.members], undefined);
          return { groupId: g.groupId, members: g.members.size, rank: me.rank, steps: me.steps };
        }),
    };
  }

  /** A day's board of openids: steps descending, then memberId; equal steps share a rank. */
  private board(openid: string, openids: string[], day: string | undefined) {
    const d = date(day) ?? this.today();
    if (d > this.today() || d < addDays(this.today(), -30)) fail(400, "INVALID_RANGE", "date: one of the last 31 days.");
    const rows = openids.map((o) => this.user(o)).map((u) => ({ user: u, score: u.days.get(d) ?? 0 }));
    const entries = ranked(rows).map(({ rank, user, score }) => ({
      rank,
      memberId: user.memberId,
      nickname: user.nickname,
      avatarUrl: user.avatarUrl,
      steps: score,
      me: user.openid === openid,
    }));
    const mine = entries.find((e) => e.me);
    return { date: d, members: openids.length, entries, me: { rank: mine ? mine.rank : null, steps: mine ? mine.steps : 0 } };
  }

  private invite(openid: string) {
    const inviteCode = this.id("i");
    this.invites.set(inviteCode, openid);
    return { inviteCode, expiresIn: 7 * 86400 };
  }

  private accept(openid: string, inviteCode: string) {
    const inviter = this.invites.get(inviteCode);
    if (inviter === undefined || inviter === openid) fail(404, "INVALID_INVITE", "Unknown, expired or your own invite.");
    this.friends.add(pair(openid, inviter as string));
    const u = this.user(inviter as string);
    return { friendId: u.memberId, nickname: u.nickname };
  }

  private friendsOf(openid: string): string[] {
    return [...this.users.keys()].filter((o) => o !== openid && this.friends.has(pair(openid, o)));
  }

  private friendView(openid: string) {
    const u = this.user(openid);
    return { friendId: u.memberId, nickname: u.nickname, avatarUrl: u.avatarUrl };
  }

  private unfriend(openid: string, friendId: string): void {
    const friend = this.friendsOf(openid).find((o) => this.user(o).memberId === friendId);
    if (friend === undefined) fail(404, "FRIEND_NOT_FOUND", "Not a friend.");
    this.friends.delete(pair(openid, friend as string));
  }

  // --- the user's data ---------------------------------------------------------

  private exportMe(openid: string): Export {
    const user = this.user(openid);
    const at = new Date(this.now()).toISOString() as Export["exportedAt"];
    return {
      exportedAt: at,
      openid,
      retentionDays: 400,
      profile: user.nickname ? { memberId: user.memberId, nickname: user.nickname, avatarUrl: user.avatarUrl } : null,
      days: this.steps(openid, { from: addDays(this.today(), -399) }).map((d) => ({ ...d, source: "encryptedData", syncedAt: at, expiresAt: at })),
      groups: [...this.groups.values()].filter((g) => g.members.has(openid)).map((g) => ({ groupId: g.groupId, joinedAt: at, expiresAt: at })),
      friends: this.friendsOf(openid).map((f) => this.friendView(f)),
      invites: [...this.invites].filter(([, o]) => o === openid).map(([inviteCode]) => ({ inviteCode, expiresAt: at })),
      sessionKeys: { count: user.keys.length, issuedAt: [] },
      events: { participating: [], organizing: [] },
    };
  }

  private deleteUser(openid: string): void {
    for (const [t, o] of this.tokens) if (o === openid) this.tokens.delete(t);
    for (const g of this.groups.values()) g.members.delete(openid);
    for (const f of [...this.friends]) if (f.split("\n").includes(openid)) this.friends.delete(f);
    for (const [i, o] of this.invites) if (o === openid) this.invites.delete(i);
    for (const e of [...this.events.values()]) {
      if (e.organizer === openid) this.events.delete(e.eventId);
      e.participants.delete(openid);
    }
    this.users.delete(openid);
    if (this.deletionMs > 0) this.deleting.set(openid, this.now() + this.deletionMs);
  }

  // --- step challenges ------------------------------------------------------------

  private createEvent(openid: string, body: Body) {
    const b = fields(body, ["name", "startDate", "endDate"], ["dailyGoal", "dailyCap", "goalDays", "teams"]);
    const name = String(b.name).trim();
    if (name === "" || [...name].length > 32) fail(400, "INVALID_FIELD", "name: 1 to 32 characters.");
    const startDate = date(String(b.startDate)) ?? fail(400, "INVALID_FIELD", "startDate: YYYY-MM-DD.");
    const endDate = date(String(b.endDate)) ?? fail(400, "INVALID_FIELD", "endDate: YYYY-MM-DD.");
    const length = (Date.parse(endDate) - Date.parse(startDate)) / DAY_MS + 1;
    const today = this.today();
    if (startDate < addDays(today, -30) || startDate > addDays(today, 90) || length < 1 || length > 100) {
      fail(400, "INVALID_RANGE", "startDate from today - 30 to today + 90; at most 100 days.");
    }
    const dailyGoal = int(b.dailyGoal, this.dailyGoal, 1, 100000, "dailyGoal");
    const dailyCap = int(b.dailyCap, 0, 0, 100000, "dailyCap");
    if (dailyCap !== 0 && dailyCap < dailyGoal) fail(400, "INVALID_FIELD", "dailyCap: 0 or from dailyGoal.");
    const teams = ((b.teams ?? []) as unknown[]).map(String);
    if (teams.length > 100 || new Set(teams).size !== teams.length || teams.some((t) => t === "" || [...t].length > 16)) {
      fail(400, "INVALID_FIELD", "teams: up to 100 distinct names of 1 to 16 characters.");
    }
    if ([name, ...teams].some(this.isRisky)) fail(422, "CONTENT_REJECTED", "WeChat's content check judged a name risky.");
    const e: Challenge = {
      eventId: this.id("e"),
      name,
      startDate,
      endDate,
      dailyGoal,
      dailyCap,
      goalDays: int(b.goalDays, length, 1, length, "goalDays"),
      teams: teams.map((t) => ({ teamId: this.id("t"), name: t })),
      joinCode: this.id("c"),
      organizer: openid,
      participants: new Map(),
      teamOnceRunning: new Map(),
      removed: new Set(),
    };
    this.events.set(e.eventId, e);
    return this.eventView(openid, e);
  }

  private joinEvent(openid: string, body: Body): Event {
    const e = [...this.events.values()].find((x) => x.joinCode === body.joinCode) ?? fail(404, "EVENT_NOT_FOUND", "No event has this join code.");
    const today = this.today();
    if (today > e.endDate) fail(422, "EVENT_ENDED", "The event has ended.");
    if (e.removed.has(openid)) fail(422, "JOIN_REFUSED", "The organizer removed you from this event.");
    if (body.consent !== true) fail(400, "CONSENT_REQUIRED", "consent must be true: the organizer will see your daily steps.");
    const teamId = body.teamId === undefined ? null : String(body.teamId);
    if (e.teams.length && teamId === null) fail(400, "MISSING_FIELD", "teamId is required.");
    if (teamId !== null && !e.teams.some((t) => t.teamId === teamId)) fail(400, "INVALID_FIELD", "teamId: not one of the event's teams.");
    if (!this.user(openid).nickname) fail(422, "PROFILE_REQUIRED", "Set a nickname first.");
    if (today >= e.startDate) {
      const fixed = e.teamOnceRunning.get(openid);
      if (fixed !== undefined && fixed !== teamId) fail(422, "TEAM_LOCKED", "The team is fixed once the event runs.");
      e.teamOnceRunning.set(openid, teamId);
    }
    e.participants.set(openid, teamId);
    return this.eventView(openid, e);
  }

  private event(openid: string, eventId: string): Challenge {
    const e = this.events.get(eventId);
    return e && (e.organizer === openid || e.participants.has(openid)) ? e : fail(404, "EVENT_NOT_FOUND", "No such event for the caller.");
  }

  private organized(openid: string, eventId: string): Challenge {
    const e = this.event(openid, eventId);
    return e.organizer === openid ? e : fail(403, "NOT_ORGANIZER", "Only the organizer may do this.");
  }

  private eventView(openid: string, e: Challenge): Event {
    const today = this.today();
    return {
      eventId: e.eventId,
      name: e.name,
      startDate: e.startDate,
      endDate: e.endDate,
      dailyGoal: e.dailyGoal,
      dailyCap: e.dailyCap,
      goalDays: e.goalDays,
      teams: e.teams.map((t) => ({ ...t })),
      participants: e.participants.size,
      status: today < e.startDate ? "upcoming" : today <= e.endDate ? "running" : "ended",
      final: today > addDays(e.endDate, 1),
      joinCode: e.joinCode,
      me: { organizer: e.organizer === openid, participant: e.participants.has(openid), memberId: this.user(openid).memberId, teamId: e.participants.get(openid) ?? null },
    };
  }

  private participantList(e: Challenge) {
    const rows = [...e.participants].map(([o, teamId]) => ({ memberId: this.user(o).memberId, nickname: this.user(o).nickname, teamId }));
    return { participants: rows.sort((a, b) => (a.memberId < b.memberId ? -1 : 1)) };
  }

  private removeParticipant(openid: string, eventId: string, memberId: string): void {
    const e = this.event(openid, eventId);
    const target = [...e.participants.keys()].find((o) => this.user(o).memberId === memberId);
    const self = memberId === this.user(openid).memberId;
    if (!self && e.organizer !== openid) fail(403, "NOT_ORGANIZER", "Only the organizer may remove others.");
    if (target === undefined) fail(404, "PARTICIPANT_NOT_FOUND", "Not a participant.");
    if (this.today() > e.endDate) fail(422, "EVENT_ENDED", "The event has ended: its results are a record.");
    e.participants.delete(target as string);
    if (!self) e.removed.add(target as string);
  }

  /** The counted dates: startDate through the earlier of today and endDate. */
  private counted(e: Challenge): DateString[] {
    const last = this.today() < e.endDate ? this.today() : e.endDate;
    const dates: DateString[] = [];
    for (let d = e.startDate; d <= last; d = addDays(d, 1)) dates.push(d);
    return dates;
  }

  private standings(e: Challenge): Standing[] {
    const dates = this.counted(e);
    return [...e.participants].map(([o, teamId]) => {
      const user = this.user(o);
      const credited = dates.map((d) => Math.min(user.days.get(d) ?? 0, e.dailyCap || Infinity));
      const goalDays = credited.filter((s) => s >= e.dailyGoal).length;
      return { user, teamId, total: credited.reduce((a, b) => a + b, 0), goalDays, completed: goalDays >= e.goalDays };
    });
  }

  private eventBoard(openid: string, e: Challenge, teamId: string | undefined): EventBoard {
    if (teamId !== undefined && !e.teams.some((t) => t.teamId === teamId)) fail(400, "INVALID_FIELD", "teamId: not one of the event's teams.");
    const rows = this.standings(e).filter((s) => teamId === undefined || s.teamId === teamId);
    const entries = ranked(rows.map((s) => ({ ...s, score: s.total }))).map(({ rank, user, teamId: t, total, goalDays, completed }) => ({
      rank,
      memberId: user.memberId,
      nickname: user.nickname,
      avatarUrl: user.avatarUrl,
      teamId: t,
      total,
      goalDays,
      completed,
      me: user.openid === openid,
    }));
    const mine = entries.find((x) => x.me);
    const dates = this.counted(e);
    return {
      eventId: e.eventId,
      asOf: dates.length ? dates[dates.length - 1] : null,
      participants: rows.length,
      entries: entries.slice(0, 100),
      me: mine ? { rank: mine.rank, total: mine.total, goalDays: mine.goalDays, completed: mine.completed } : null,
    };
  }

  private eventTeams(e: Challenge): EventTeams {
    const rows = this.standings(e);
    const teams = e.teams.map((t) => {
      const members = rows.filter((r) => r.teamId === t.teamId);
      const total = members.reduce((a, r) => a + r.total, 0);
      return { ...t, members: members.length, total, average: members.length ? Math.floor(total / members.length) : 0 };
    });
    teams.sort((a, b) => b.average - a.average || (a.teamId < b.teamId ? -1 : 1));
    const dates = this.counted(e);
    return {
      eventId: e.eventId,
      asOf: dates.length ? dates[dates.length - 1] : null,
      teams: withRanks(teams, (t) => t.average).map(({ rank, teamId, name, members, total, average }) => ({ rank, teamId, name, members, total, average })),
    };
  }

  /** The organizer's table: CSV as the API writes it (XLSX is answered as the same CSV text: the mock writes no spreadsheet). */
  private exportEvent(openid: string, eventId: string, format: string): MockAnswer {
    const e = this.organized(openid, eventId);
    if (format !== "csv" && format !== "xlsx") fail(400, "INVALID_FIELD", "format: csv or xlsx.");
    const dates = this.counted(e);
    const guard = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
    const cell = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const rows = [["memberId", "nickname", "team", ...dates, "total", "goalDays", "completed"]];
    for (const { user, teamId, total, goalDays, completed } of ranked(this.standings(e).map((s) => ({ ...s, score: s.total })))) {
      const team = e.teams.find((t) => t.teamId === teamId)?.name ?? "";
      const credited = dates.map((d) => String(Math.min(user.days.get(d) ?? 0, e.dailyCap || Infinity)));
      rows.push([user.memberId, guard(user.nickname), guard(team), ...credited, String(total), String(goalDays), String(completed)]);
    }
    return {
      statusCode: 200,
      data: "\ufeff" + rows.map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n",
      header: {
        "Content-Type": format === "csv" ? "text/csv; charset=utf-8" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Content-Disposition": `attachment; filename="event-${eventId}.${format}"`,
      },
    };
  }

  // --- helpers ------------------------------------------------------------------

  private user(openid: string): User {
    let u = this.users.get(openid);
    if (!u) {
      u = { openid, memberId: this.id("m"), nickname: "", avatarUrl: "", days: new Map(), keys: [] };
      this.users.set(openid, u);
    }
    return u;
  }

  private id(prefix: string): string {
    return `${prefix}${(++this.seq).toString(36).padStart(6, "0")}`;
  }
}

/** The date of a time in China Standard Time. */
export function dateOf(ms: number): DateString {
  return new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10) as DateString;
}

/** 00:00 of a date in China Standard Time, in seconds, as WeRun stamps a day. */
export function startOf(d: DateString): number {
  return Date.parse(`${d}T00:00:00+08:00`) / 1000;
}

export function addDays(d: DateString, n: number): DateString {
  return new Date(Date.parse(d) + n * DAY_MS).toISOString().slice(0, 10) as DateString;
}

function date(s: string | undefined): DateString | undefined {
  if (s === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(Date.parse(s))) fail(400, "INVALID_RANGE", `${s}: not a YYYY-MM-DD date.`);
  return s as DateString;
}

function int(v: unknown, dflt: number, min: number, max: number, name: string): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) fail(400, "INVALID_FIELD", `${name}: an integer from ${min} to ${max}.`);
  return v as number;
}

/** The body's fields, after the API's checks: each required one present, no other. */
function fields(body: Body, required: string[], optional: string[]): Body {
  for (const k of Object.keys(body)) {
    if (!required.includes(k) && !optional.includes(k)) fail(400, "INVALID_FIELD", `${k}: not a field of this route.`);
  }
  for (const k of required) {
    if (body[k] === undefined) fail(400, "MISSING_FIELD", `${k} is required.`);
  }
  return body;
}

function parseBody(body: string | undefined): Body {
  if (body === undefined || body === "") return {};
  try {
    const v: unknown = JSON.parse(body);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Body;
  } catch {
    // answered below
  }
  return fail(400, "INVALID_JSON", "The body is not a JSON object.");
}

function json(statusCode: number, body: unknown): MockAnswer {
  return { statusCode, data: JSON.stringify(body), header: { "Content-Type": "application/json" } };
}

function pair(a: string, b: string): string {
  return [a, b].sort().join("\n");
}

function byStart(a: Challenge, b: Challenge): number {
  return a.startDate === b.startDate ? (a.eventId < b.eventId ? -1 : 1) : a.startDate < b.startDate ? 1 : -1;
}

/** Rows by score descending, then memberId, ranked. */
function ranked<R extends { user: User; score: number }>(rows: R[]): (R & { rank: number })[] {
  return withRanks(
    [...rows].sort((a, b) => b.score - a.score || (a.user.memberId < b.user.memberId ? -1 : 1)),
    (r) => r.score,
  );
}

/** Sorted rows with their rank: equal scores share one (1, 2, 2, 4). */
function withRanks<R>(sorted: R[], score: (r: R) => number): (R & { rank: number })[] {
  const out: (R & { rank: number })[] = [];
  sorted.forEach((r, i) => out.push({ ...r, rank: i > 0 && score(sorted[i - 1]) === score(r) ? out[i - 1].rank : i + 1 }));
  return out;
}
