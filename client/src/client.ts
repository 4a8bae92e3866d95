import type { components, paths } from "./schema.js";
import { isBranded, WeRunError, type ErrorCode } from "./errors.js";
import type { DownloadTask, GroupData, OpenData, Platform, RequestResult, RequestTask } from "./platform.js";

type Schemas = components["schemas"];
export type Day = Schemas["Day"];
/** What sync() answers: the days and how many raised a stored count (the client never logs in through a sync, so no token). */
export type Sync = Omit<Schemas["Sync"], "token" | "expiresIn">;
/** A date in China Standard Time, YYYY-MM-DD. */
export type DateString = Day["date"];
export type Summary = Schemas["Summary"];
export type ProfileRequest = Schemas["ProfileRequest"];
export type Profile = Schemas["Profile"];
export type MyProfile = Schemas["MyProfile"];
export type Joined = Schemas["Joined"];
export type GroupList = Schemas["GroupList"];
export type GroupPlace = Schemas["GroupPlace"];
export type Board = Schemas["MemberBoard"];
export type BoardEntry = Schemas["MemberEntry"];
export type Invite = Schemas["Invite"];
export type FriendAdded = Schemas["FriendAdded"];
export type Friend = Schemas["FriendView"];
export type Export = Schemas["Export"];
export type EventRequest = Schemas["EventRequest"];
/** What joinEvent sends: consent must be true (the organizer sees the caller's daily steps for the event's days). */
export type JoinEventRequest = Omit<Schemas["JoinEventRequest"], "consent"> & { consent: true };
export type Event = Schemas["Event"];
export type EventTeam = Schemas["Team"];
export type EventMe = Schemas["EventMe"];
export type EventList = Schemas["EventList"];
export type ParticipantList = Schemas["ParticipantList"];
export type Participant = Schemas["ParticipantRow"];
export type JoinCode = Schemas["JoinCode"];
/** An event's board; asOf is the last counted date, null before startDate. */
export type EventBoard = Omit<Schemas["EventBoard"], "asOf"> & { asOf: DateString | null };
export type EventEntry = Schemas["EventEntry"];
export type EventStanding = Schemas["EventStanding"];
/** An event's team board; asOf as on the event's board. */
export type EventTeams = Omit<Schemas["EventTeams"], "asOf"> & { asOf: DateString | null };
export type TeamRow = Schemas["TeamRow"];
/** The organizer's export: CSV (shared to a chat) or XLSX (opened). */
export type ExportFormat = "csv" | "xlsx";
/** What exportEvent downloaded: a temporary file of the mini program. */
export interface EventExport {
  format: ExportFormat;
  /** The downloaded file (wx.downloadFile's tempFilePath). */
  filePath: string;
  /** event-<eventId>.csv or .xlsx, as the API names it. */
  fileName: string;
}

export interface ClientOptions {
  /** The API's base URL: the stack's ApiUrl output, e.g. https://abc.execute-api.ap-east-1.amazonaws.com */
  baseURL: string;
  /** `wx`, or Taro's default export. */
  platform: Platform;
  /**
   * Send the cloudID of wx.getWeRunData and of the group data (the mini
   * program has Cloud Base) instead of encryptedData + iv.
   */
  cloudID?: boolean;
  /** Where the session is kept in the platform's storage. */
  storageKey?: string;
  /** The longest Retry-After (seconds) the client waits out; a longer one is surfaced. Default 5. */
  maxRetryAfter?: number;
  /** Per-request timeout in milliseconds. Default 15000. */
  timeout?: number;
  /** How to wait; tests pass their own. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A signal that aborts a call: an AbortSignal where the platform has one,
 * or any object with aborted and onabort (the client sets onabort, keeping
 * one set before).
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  onabort?: ((this: any, ev: any) => unknown) | null;
  addEventListener?(type: "abort", listener: () => void): void;
  removeEventListener?(type: "abort", listener: () => void): void;
}

/** Every method's optional last argument. */
export interface CallOptions {
  /** Aborts the call: its request is aborted and it rejects with ABORTED. */
  signal?: AbortSignalLike;
}

/** The reads that may answer from the offline cache (steps, summary, the boards). */
export interface CacheOptions extends CallOptions {
  cache: true;
}

/** A read with { cache: true }: the value, stale when the device was offline and it came from the cache. */
export interface Cached<T> {
  value: T;
  stale: boolean;
  /** When the value was fetched (ms since the epoch). */
  cachedAt: number;
}

interface CacheEntry {
  value: unknown;
  cachedAt: number;
}

// What the storage holds: a session, or the user's own sign-out (logout,
// or deleting the account), after which nothing logs in until login().
type Stored = { token: string; expiresAt: number } | { signedOut: true; deleted?: true };

type Method = "get" | "post" | "put" | "delete";
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
// A route's success: the JSON of its 200 or 201, or nothing for a 204
// (unknown otherwise, which no method's declared answer accepts).
type Answer<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { responses: { 200: { content: { "application/json": infer T } } } } ? T
  : Operation<P, M> extends { responses: { 201: { content: { "application/json": infer T } } } } ? T
  : Operation<P, M> extends { responses: { 204: unknown } } ? undefined
  : unknown;
type Body<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { requestBody: { content: { "application/json": infer B } } } ? B : undefined;
type Query<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { parameters: { query?: infer Q } } ? Q : undefined;
type Params<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { parameters: { path: infer R } } ? R : undefined;

interface Call<P extends keyof paths, M extends Method> {
  body?: Body<P, M>;
  query?: Query<P, M>;
  /** The values of the path's {placeholders}. */
  params?: Params<P, M>;
  token?: string;
  signal?: AbortSignalLike;
}

// The codes a fresh session cures (once): the token is missing, expired or
// not this deployment's; for a sync also a session key the backend does
// not hold (wx.login rotated it elsewhere).
const SESSION_CODES = new Set<ErrorCode>(["MISSING_TOKEN", "INVALID_TOKEN", "TOKEN_EXPIRED"]);
const KEY_CODES = new Set<ErrorCode>(["DECRYPT_FAILED", "NO_SESSION_KEY"]);
// The codes fresh open data (WeRun or group) cures (once), without logging
// in again: the key was proven, the data itself was old, expired or damaged.
const REFETCH_CODES = new Set<ErrorCode>(["CLOUDID_EXPIRED", "STALE_DATA", "INVALID_STEP_DATA"]);
// The codes worth one wait of Retry-After (when it is short). A login
// refused with DELETION_IN_PROGRESS (409: the user's deletion has not
// finished, for up to 20 minutes; the API says 60 s) is surfaced unless its
// Retry-After is that short, and never retried in a loop.
const WAIT_CODES = new Set<ErrorCode>(["UNAVAILABLE", "WECHAT_UNAVAILABLE", "RATE_LIMITED", "DELETION_IN_PROGRESS"]);

// A token is renewed this long before its expiry rather than sent to die.
const EXPIRY_MARGIN_MS = 60_000;

/**
 * The werun-sam API for a mini program. Every method fails with a
 * WeRunError (isWeRunError(e, 'sync') narrows its code to what that method
 * can answer). Each recovery is tried at most once per call: a new session
 * (on 401, or a session key the backend lacks), new open data (on an
 * expired cloudID or stale or damaged data), one short wait (on 429/502/503
 * with a Retry-After up to maxRetryAfter); anything else is surfaced.
 * Every method takes an optional last argument { signal }; the reads of
 * steps, the summary and the boards also { cache: true }.
 */
export class WeRunClient {
  private readonly o: Required<Omit<ClientOptions, "sleep">> & Pick<ClientOptions, "sleep">;
  private loggingIn?: { explicit: boolean; token: Promise<string> };
  // Deletions in flight: a call refused meanwhile (the deletion revokes its
  // token) must not log in and so start a new account.
  private deleting = 0;

  constructor(options: ClientOptions) {
    this.o = {
      cloudID: false,
      storageKey: "werun-sam:session",
      maxRetryAfter: 5,
      timeout: 15_000,
      ...options,
      baseURL: options.baseURL.replace(/\/+$/, ""),
    };
  }

  /**
   * Logs in with a new wx.login code and keeps the session in storage.
   * The one call that ends a sign-out. Concurrent calls share one login.
   */
  login(options?: CallOptions): Promise<void> {
    return this.run("login", options, (signal) => abortable(signal, this.newSession(true)).then(() => undefined));
  }

  /** Forgets the session and the cache; no call logs in again until login(). */
  logout(): void {
    this.store({ signedOut: true });
    this.o.platform.removeStorageSync(this.cacheKey());
  }

  /** Whether a call may log in by itself (false after logout()). */
  get signedOut(): boolean {
    const s = this.stored();
    return s !== undefined && "signedOut" in s;
  }

  /**
   * Sends what wx.getWeRunData returns now (the cloudID with the cloudID
   * option), logging in first when needed: wx.login may rotate the session
   * key, so it always runs before wx.getWeRunData, never between it and the
   * send. With getSetting on the platform, a user who refused WeRun is
   * WERUN_DENIED before anything is sent (authorize asks a user who was
   * never asked).
   */
  sync(options?: CallOptions): Promise<Sync> {
    return this.run("sync", options, async (signal) => {
      await this.weRunAllowed(signal);
      const synced = await this.sendOpenData(
        signal,
        () => this.weRunData(signal),
        (token, data) =>
          this.o.cloudID
            ? this.call("post", "/v1/werun/cloudid", { token, signal, body: { cloudID: requireCloudID(data, "wx.getWeRunData") } })
            : this.call("post", "/v1/werun/decrypt", { token, signal, body: { encryptedData: data.encryptedData, iv: data.iv } }),
      );
      return { days: synced.days, changed: synced.changed };
    });
  }

  /** The stored days from..to (China Standard Time, inclusive); by default the last 31. */
  steps(from?: DateString, to?: DateString, options?: CallOptions & { cache?: false }): Promise<Day[]>;
  steps(from: DateString | undefined, to: DateString | undefined, options: CacheOptions): Promise<Cached<Day[]>>;
  steps(from?: DateString, to?: DateString, options?: CallOptions & { cache?: boolean }): Promise<Day[] | Cached<Day[]>> {
    const query: Query<"/v1/steps", "get"> = {};
    if (from !== undefined) query.from = from;
    if (to !== undefined) query.to = to;
    return this.read("steps", `steps:${from ?? ""}:${to ?? ""}`, options, (token, signal) =>
      this.call("get", "/v1/steps", { token, signal, query }).then((a) => a.days),
    );
  }

  /** Totals, averages, goal streak and rank (null until the user is on today's board). */
  summary(options?: CallOptions & { cache?: false }): Promise<Summary>;
  summary(options: CacheOptions): Promise<Cached<Summary>>;
  summary(options?: CallOptions & { cache?: boolean }): Promise<Summary | Cached<Summary>> {
    return this.read("summary", "summary", options, (token, signal) => this.call("get", "/v1/steps/summary", { token, signal }));
  }

  // --- profile, groups, friends ----------------------------------------------

  /** The caller's profile (empty strings before the first setProfile) and memberId. */
  profile(options?: CallOptions): Promise<MyProfile> {
    return this.authed("profile", options, (token, signal) => this.call("get", "/v1/me/profile", { token, signal }));
  }

  /**
   * Sets the nickname (from `<input type="nickname">`) and avatar others
   * see on boards. avatarUrl is an https:// URL on your own storage: upload
   * what `chooseAvatar` gave first. NICKNAME_REJECTED: WeChat's content
   * check judged the nickname risky; ask for another.
   */
  setProfile(profile: ProfileRequest, options?: CallOptions): Promise<Profile> {
    return this.authed("setProfile", options, (token, signal) => this.call("put", "/v1/me/profile", { token, signal, body: profile }));
  }

  /**
   * Joins the group chat that groupData names. groupData fetches it and
   * resolves to what wx.getShareInfo({ shareTicket }), wx.getGroupEnterInfo()
   * or wx.getChatToolInfo() gave the success callback (a rejection is
   * WX_FAILED): the client cannot fetch it itself, only the page has the
   * shareTicket or knows it was opened from a group. It is called after
   * the client has a session, so that wx.login cannot change the session
   * key between the fetch and the send, and at most twice: once more after
   * a new login when the backend could not decrypt the data
   * (DECRYPT_FAILED, NO_SESSION_KEY), or when it was stale or an expired
   * cloudID (STALE_DATA, CLOUDID_EXPIRED). Joining again renews the
   * membership and answers the same groupId.
   */
  joinGroup(groupData: () => PromiseLike<GroupData>, options?: CallOptions): Promise<Joined> {
    return this.run("joinGroup", options, (signal) =>
      this.sendOpenData(
        signal,
        () => this.fromPlatform("the group data", signal, false, groupData),
        (token, data) =>
          this.call("post", "/v1/groups", {
            token,
            signal,
            body: this.o.cloudID ? { cloudID: requireCloudID(data, "the group data") } : { encryptedData: data.encryptedData, iv: data.iv },
          }),
      ),
    );
  }

  /** The caller's groups with their rank and steps today, 50 a page; pass the page's cursor for the next. */
  groups(cursor?: string, options?: CallOptions): Promise<GroupList> {
    return this.authed("groups", options, (token, signal) => this.call("get", "/v1/groups", { token, signal, query: { cursor } }));
  }

  /** A group's board of date (one of the last 31 days; default today). GROUP_NOT_FOUND for a non-member. */
  groupBoard(groupId: string, date?: DateString, options?: CallOptions & { cache?: false }): Promise<Board>;
  groupBoard(groupId: string, date: DateString | undefined, options: CacheOptions): Promise<Cached<Board>>;
  groupBoard(groupId: string, date?: DateString, options?: CallOptions & { cache?: boolean }): Promise<Board | Cached<Board>> {
    return this.read("groupBoard", `group:${groupId}:${date ?? ""}`, options, (token, signal) =>
      this.call("get", "/v1/groups/{groupId}/board", { token, signal, params: { groupId }, query: { date } }),
    );
  }

  /** Leaves a group; GROUP_NOT_FOUND when the caller is not a member. */
  leaveGroup(groupId: string, options?: CallOptions): Promise<void> {
    return this.authed("leaveGroup", options, (token, signal) => this.call("delete", "/v1/groups/{groupId}", { token, signal, params: { groupId } }));
  }

  /** A code for a share card's path, valid 7 days for anyone who opens it. */
  createInvite(options?: CallOptions): Promise<Invite> {
    return this.authed("createInvite", options, (token, signal) => this.call("post", "/v1/friends/invites", { token, signal }));
  }

  /** Accepts an invite: the caller and the inviter become friends both ways. INVALID_INVITE: unknown, expired or the caller's own. */
  acceptInvite(inviteCode: string, options?: CallOptions): Promise<FriendAdded> {
    return this.authed("acceptInvite", options, (token, signal) => this.call("post", "/v1/friends", { token, signal, body: { inviteCode } }));
  }

  /** The caller's friends. */
  friends(options?: CallOptions): Promise<Friend[]> {
    return this.authed("friends", options, (token, signal) => this.call("get", "/v1/friends", { token, signal }).then((a) => a.friends));
  }

  /** The board of the caller and their friends for date (default today). */
  friendsBoard(date?: DateString, options?: CallOptions & { cache?: false }): Promise<Board>;
  friendsBoard(date: DateString | undefined, options: CacheOptions): Promise<Cached<Board>>;
  friendsBoard(date?: DateString, options?: CallOptions & { cache?: boolean }): Promise<Board | Cached<Board>> {
    return this.read("friendsBoard", `friends:${date ?? ""}`, options, (token, signal) =>
      this.call("get", "/v1/friends/board", { token, signal, query: { date } }),
    );
  }

  /** Ends a friendship both ways; FRIEND_NOT_FOUND when friendId is not a friend. */
  removeFriend(friendId: string, options?: CallOptions): Promise<void> {
    return this.authed("removeFriend", options, (token, signal) => this.call("delete", "/v1/friends/{friendId}", { token, signal, params: { friendId } }));
  }

  // --- step challenges ---------------------------------------------------------

  /**
   * Creates a step challenge; the caller organizes it (and takes part only
   * after joining it too). CONTENT_REJECTED: WeChat's content check judged
   * the name or a team name risky. INVALID_RANGE: the dates.
   */
  createEvent(event: EventRequest, options?: CallOptions): Promise<Event> {
    return this.authed("createEvent", options, (token, signal) => this.call("post", "/v1/events", { token, signal, body: event }));
  }

  /** The events the caller organizes or takes part in, latest start first, 50 a page; pass the page's cursor for the next. */
  events(cursor?: string, options?: CallOptions): Promise<EventList> {
    return this.authed("events", options, (token, signal) => this.call("get", "/v1/events", { token, signal, query: { cursor } }));
  }

  /** An event, to its organizer and participants; EVENT_NOT_FOUND to anyone else, as for an unknown or cancelled one. */
  event(eventId: string, options?: CallOptions): Promise<Event> {
    return this.authed("event", options, (token, signal) => this.call("get", "/v1/events/{eventId}", { token, signal, params: { eventId } }));
  }

  /**
   * Joins the event of a join code (from a share card's path), in teamId
   * when it has teams; joining again before the start moves team. consent
   * is true only after the page showed what the organizer will see (the
   * README's consent text). PROFILE_REQUIRED: set a nickname first.
   */
  joinEvent(join: JoinEventRequest, options?: CallOptions): Promise<Event> {
    return this.authed("joinEvent", options, (token, signal) => this.call("post", "/v1/events/join", { token, signal, body: join }));
  }

  /** The participants in memberId order, 100 a page (organizer only: NOT_ORGANIZER). */
  participants(eventId: string, cursor?: string, options?: CallOptions): Promise<ParticipantList> {
    return this.authed("participants", options, (token, signal) =>
      this.call("get", "/v1/events/{eventId}/participants", { token, signal, params: { eventId }, query: { cursor } }),
    );
  }

  /** A new join code (organizer only); the old one stops working. */
  rotateJoinCode(eventId: string, options?: CallOptions): Promise<JoinCode> {
    return this.authed("rotateJoinCode", options, (token, signal) =>
      this.call("post", "/v1/events/{eventId}/joinCode", { token, signal, params: { eventId } }),
    );
  }

  /**
   * Leaves the event (memberId: the caller's own, event.me.memberId) or,
   * for the organizer, removes a participant, who cannot join again.
   * EVENT_ENDED after endDate: the results are a record.
   */
  removeParticipant(eventId: string, memberId: string, options?: CallOptions): Promise<void> {
    return this.authed("removeParticipant", options, (token, signal) =>
      this.call("delete", "/v1/events/{eventId}/participants/{memberId}", { token, signal, params: { eventId, memberId } }),
    );
  }

  /** Cancels the event (organizer only); every later call on it is EVENT_NOT_FOUND. */
  cancelEvent(eventId: string, options?: CallOptions): Promise<void> {
    return this.authed("cancelEvent", options, (token, signal) => this.call("delete", "/v1/events/{eventId}", { token, signal, params: { eventId } }));
  }

  /** The participants ranked by credited total (the first 100), or one team's with teamId; me is the caller's standing. */
  eventBoard(eventId: string, teamId?: string, options?: CallOptions & { cache?: false }): Promise<EventBoard>;
  eventBoard(eventId: string, teamId: string | undefined, options: CacheOptions): Promise<Cached<EventBoard>>;
  eventBoard(eventId: string, teamId?: string, options?: CallOptions & { cache?: boolean }): Promise<EventBoard | Cached<EventBoard>> {
    return this.read("eventBoard", `event:${eventId}:${teamId ?? ""}`, options, (token, signal) =>
      this.call("get", "/v1/events/{eventId}/board", { token, signal, params: { eventId }, query: { teamId } }) as Promise<EventBoard>,
    );
  }

  /** The teams ranked by average credited total ([] for an event without teams). */
  eventTeams(eventId: string, options?: CallOptions & { cache?: false }): Promise<EventTeams>;
  eventTeams(eventId: string, options: CacheOptions): Promise<Cached<EventTeams>>;
  eventTeams(eventId: string, options?: CallOptions & { cache?: boolean }): Promise<EventTeams | Cached<EventTeams>> {
    return this.read("eventTeams", `teams:${eventId}`, options, (token, signal) =>
      this.call("get", "/v1/events/{eventId}/teams", { token, signal, params: { eventId } }) as Promise<EventTeams>,
    );
  }

  /**
   * The organizer's export (GET /v1/events/{eventId}/export?format=), with
   * wx.downloadFile, the token in the Authorization header (never in the
   * URL): the API's domain must be on the mini program's downloadFile list.
   * Then XLSX is opened with wx.openDocument (whose menu saves or forwards
   * it) and CSV shared to a chat with wx.shareFileMessage (openDocument does
   * not open CSV); { open: false } only downloads. Call it from a tap:
   * shareFileMessage may only follow one. NOT_ORGANIZER for a participant.
   */
  exportEvent(eventId: string, format: ExportFormat = "csv", options?: CallOptions & { open?: boolean }): Promise<EventExport> {
    return this.run("exportEvent", options, async (signal) => {
      const path = `/v1/events/${encodeURIComponent(eventId)}/export`;
      const filePath = await this.retrying(signal, (token) => this.download(path + queryString({ format }), token, signal));
      const file: EventExport = { format, filePath, fileName: `event-${eventId}.${format}` };
      if (options?.open === false) return file;
      const { openDocument, shareFileMessage } = this.o.platform;
      if (format === "xlsx") {
        if (!openDocument) throw new WeRunError("WX_FAILED", "The platform has no openDocument: pass { open: false } and open the file yourself.");
        await this.fromPlatform("wx.openDocument", signal, false, () =>
          new Promise((success, fail) => openDocument.call(this.o.platform, { filePath, fileType: "xlsx", showMenu: true, success, fail })),
        );
      } else {
        if (!shareFileMessage) throw new WeRunError("WX_FAILED", "The platform has no shareFileMessage: pass { open: false } and share the file yourself.");
        await this.fromPlatform("wx.shareFileMessage", signal, false, () =>
          new Promise((success, fail) => shareFileMessage.call(this.o.platform, { filePath, fileName: file.fileName, success, fail })),
        );
      }
      return file;
    });
  }

  // --- the user's data --------------------------------------------------------

  /** Everything stored about the user: profile, retained days, groups, friends, invites, session key dates. */
  exportData(options?: CallOptions): Promise<Export> {
    return this.authed("exportData", options, (token, signal) => this.call("get", "/v1/me/export", { token, signal }));
  }

  /**
   * Deletes everything stored about the user, then signs out and clears
   * the cache: no call logs in again until login(), which fails with
   * DELETION_IN_PROGRESS (e.retryAfter) until the deletion is complete (at
   * most 20 minutes), then starts a new, empty account. It never logs in
   * again after a 401: the API refuses
   * every earlier token once the deletion is done, so a 401 means done (a
   * resend, or an earlier attempt whose answer was lost). A 503 with a
   * short Retry-After is resent once with the same token, which finishes a
   * deletion stopped part way; any other failure is surfaced, and calling
   * deleteAccount again resends it. The signal aborts it only until the
   * request is sent: from then on it runs to its end, so that the sign-out
   * is recorded whatever the page does. After a deletion, deleteAccount
   * resolves at once; after logout() it is SIGNED_OUT (login() first).
   */
  deleteAccount(options?: CallOptions): Promise<void> {
    return this.run("deleteAccount", options, async (signal) => {
      const s = this.stored();
      if (s && "deleted" in s) return;
      const token = await abortable(signal, this.session());
      throwIfAborted(signal);
      this.deleting++;
      try {
        await this.retryAfterOnce(undefined, () => this.call("delete", "/v1/me", { token }));
      } catch (e) {
        if (!SESSION_CODES.has(asWeRunError(e).code)) throw e;
      } finally {
        this.deleting--;
      }
      this.store({ signedOut: true, deleted: true });
      this.o.platform.removeStorageSync(this.cacheKey());
    });
  }

  // --- calls -----------------------------------------------------------------

  /** Runs a method's work, marking its failure with the method's name (isWeRunError(e, method)). */
  private run<T>(method: MethodName, options: CallOptions | undefined, work: (signal: AbortSignalLike | undefined) => Promise<T>): Promise<T> {
    const signal = options?.signal;
    // The work starts now, not a tick later: a logout() right after the
    // call must find its login under way.
    let started: Promise<T>;
    try {
      throwIfAborted(signal);
      started = work(signal);
    } catch (e) {
      started = Promise.reject(e);
    }
    return started.catch((e: unknown) => {
      if (!isBranded(e)) throw e;
      // A failure shared by concurrent calls (one login) is marked per call.
      const err = e.method === undefined || e.method === method ? e : new WeRunError(e.code, e.message, e.status, e.retryAfter);
      err.method = method;
      throw err;
    });
  }

  /** A method over one authenticated request: renewed once on 401, one short wait on 429/502/503. */
  private authed<T>(method: MethodName, options: CallOptions | undefined, attempt: (token: string, signal?: AbortSignalLike) => Promise<T>): Promise<T> {
    return this.run(method, options, (signal) => this.retrying(signal, (token) => attempt(token, signal)));
  }

  /** attempt with the session's token: renewed once on 401, one short wait on 429/502/503. */
  private async retrying<T>(signal: AbortSignalLike | undefined, attempt: (token: string) => Promise<T>): Promise<T> {
    const tried = new Set<string>();
    for (;;) {
      const token = await abortable(signal, this.session());
      try {
        return await attempt(token);
      } catch (e) {
        const err = asWeRunError(e);
        if (SESSION_CODES.has(err.code) && once(tried, "session")) {
          this.dropSession();
          continue;
        }
        if (this.waitable(err) && once(tried, "wait")) {
          await this.wait(err, signal);
          continue;
        }
        throw err;
      }
    }
  }

  /** An authed read that, with { cache: true }, answers from the cache when offline. */
  private read<T>(
    method: MethodName,
    key: string,
    options: (CallOptions & { cache?: boolean }) | undefined,
    attempt: (token: string, signal?: AbortSignalLike) => Promise<T>,
  ): Promise<T | Cached<T>> {
    const fresh = this.authed(method, options, attempt);
    if (!options?.cache) return fresh;
    return fresh.then(
      (value) => {
        const cachedAt = Date.now();
        this.putCached(key, { value, cachedAt });
        return { value, stale: false, cachedAt };
      },
      (e: unknown) => {
        const hit = isBranded(e) && e.code === "NETWORK" ? this.cache()[key] : undefined;
        if (!hit) throw e;
        return { value: hit.value as T, stale: true, cachedAt: hit.cachedAt };
      },
    );
  }

  // --- the offline cache -------------------------------------------------------

  private cacheKey(): string {
    return `${this.o.storageKey}:cache`;
  }

  private cache(): Record<string, CacheEntry> {
    const v = this.o.platform.getStorageSync(this.cacheKey());
    return typeof v === "object" && v !== null ? (v as Record<string, CacheEntry>) : {};
  }

  private putCached(key: string, entry: CacheEntry): void {
    if (this.signedOut) return; // a read that raced a logout must not refill it
    const all = this.cache();
    all[key] = entry;
    // The newest entries only: every range of steps is a key of its own.
    const keys = Object.keys(all).sort((a, b) => all[b].cachedAt - all[a].cachedAt);
    for (const k of keys.slice(CACHE_ENTRIES)) delete all[k];
    this.o.platform.setStorageSync(this.cacheKey(), all);
  }

  // --- sessions --------------------------------------------------------------

  /** The stored token, or a new session when there is none usable. */
  private async session(): Promise<string> {
    const s = this.stored();
    if (s && "signedOut" in s) {
      throw new WeRunError("SIGNED_OUT", "Signed out: call login() first.");
    }
    if (s && s.expiresAt - EXPIRY_MARGIN_MS > Date.now()) {
      return s.token;
    }
    if (this.deleting > 0) {
      throw new WeRunError("SIGNED_OUT", "The account is being deleted: call login() after it to start a new one.");
    }
    return this.newSession(false);
  }

  /**
   * One login at a time; an explicit login() does not join one a call
   * started by itself, which a logout() meanwhile would refuse.
   */
  private newSession(explicit: boolean): Promise<string> {
    if (!this.loggingIn || (explicit && !this.loggingIn.explicit)) {
      const token: Promise<string> = this.createSession(explicit).finally(() => {
        if (this.loggingIn?.token === token) this.loggingIn = undefined;
      });
      this.loggingIn = { explicit, token };
    }
    return this.loggingIn.token;
  }

  private async createSession(explicit: boolean): Promise<string> {
    const code = await this.fromPlatform("wx.login", undefined, false, () =>
      new Promise<{ code: string }>((success, fail) => this.o.platform.login({ success, fail })),
    ).then((res) => res.code);
    // A retry of a code the backend already redeemed gets the same user's
    // session, so the one wait may resend the same code.
    const answer = await this.retryAfterOnce(undefined, () => this.call("post", "/v1/session", { body: { code } }));
    if (!explicit && this.signedOut) {
      // The user signed out while this login ran: it must not undo that.
      throw new WeRunError("SIGNED_OUT", "Signed out: call login() first.");
    }
    this.store({ token: answer.token, expiresAt: Date.now() + answer.expiresIn * 1000 });
    return answer.token;
  }

  /** Forgets the token after the API refused it, unless the user signed out meanwhile. */
  private dropSession(): void {
    if (!this.signedOut) {
      this.o.platform.removeStorageSync(this.o.storageKey);
    }
  }

  private stored(): Stored | undefined {
    const v = this.o.platform.getStorageSync(this.o.storageKey);
    if (typeof v !== "object" || v === null) return undefined;
    const { signedOut, deleted } = v as { signedOut?: unknown; deleted?: unknown };
    if (signedOut === true) return deleted === true ? { signedOut, deleted } : { signedOut };
    const { token, expiresAt } = v as { token?: unknown; expiresAt?: unknown };
    return typeof token === "string" && typeof expiresAt === "number" ? { token, expiresAt } : undefined;
  }

  private store(s: Stored): void {
    this.o.platform.setStorageSync(this.o.storageKey, s);
  }

  // --- retries ---------------------------------------------------------------

  /**
   * Sends open data, fetched after the session is in hand: wx.login may
   * rotate the session key, so it always runs before the fetch, never
   * between it and the send.
   */
  private async sendOpenData<T>(
    signal: AbortSignalLike | undefined,
    fetch: () => Promise<OpenData>,
    send: (token: string, data: OpenData) => Promise<T>,
  ): Promise<T> {
    let data: OpenData | undefined;
    const tried = new Set<string>();
    for (;;) {
      const token = await abortable(signal, this.session());
      data ??= await fetch();
      try {
        return await send(token, data);
      } catch (e) {
        const err = asWeRunError(e);
        if ((SESSION_CODES.has(err.code) || KEY_CODES.has(err.code)) && once(tried, "session")) {
          this.dropSession();
          data = undefined; // fetched under the old session key
          continue;
        }
        if (REFETCH_CODES.has(err.code) && once(tried, "data")) {
          data = undefined;
          continue;
        }
        if (this.waitable(err) && once(tried, "wait")) {
          await this.wait(err, signal);
          continue;
        }
        throw err;
      }
    }
  }

  private async retryAfterOnce<T>(signal: AbortSignalLike | undefined, attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (e) {
      const err = asWeRunError(e);
      if (!this.waitable(err)) throw err;
      await this.wait(err, signal);
      return attempt();
    }
  }

  private waitable(err: WeRunError): boolean {
    return WAIT_CODES.has(err.code) && err.retryAfter !== undefined && err.retryAfter <= this.o.maxRetryAfter;
  }

  private wait(err: WeRunError, signal: AbortSignalLike | undefined): Promise<void> {
    const ms = (err.retryAfter ?? 0) * 1000;
    return abortable(signal, this.o.sleep ? this.o.sleep(ms) : new Promise<void>((resolve) => setTimeout(resolve, ms)));
  }

  // --- the platform ----------------------------------------------------------

  /** Refuses a sync the user cannot allow, before anything is sent (when the platform has getSetting). */
  private async weRunAllowed(signal: AbortSignalLike | undefined): Promise<void> {
    const { getSetting, authorize } = this.o.platform;
    if (!getSetting) return;
    const { authSetting } = await this.fromPlatform("wx.getSetting", signal, true, () =>
      new Promise<{ authSetting: { "scope.werun"?: boolean } }>((success, fail) => getSetting.call(this.o.platform, { success, fail })),
    );
    const allowed = authSetting?.["scope.werun"];
    if (allowed === false) {
      throw new WeRunError("WERUN_DENIED", "The user refused WeRun: ask them to allow it (wx.openSetting), see the README's scope.werun recipe.");
    }
    if (allowed === undefined && authorize) {
      await this.fromPlatform("wx.authorize", signal, true, () =>
        new Promise((success, fail) => authorize.call(this.o.platform, { scope: "scope.werun", success, fail })),
      );
    }
  }

  private weRunData(signal: AbortSignalLike | undefined): Promise<OpenData> {
    return this.fromPlatform("wx.getWeRunData", signal, true, () => new Promise((success, fail) => this.o.platform.getWeRunData({ success, fail })));
  }

  /**
   * What a platform call resolved to; its rejection ({ errMsg, errno }) as
   * the code it means (weRun: the call is about WeRun, so a refusal is
   * WERUN_DENIED), or no data as WX_FAILED.
   */
  private async fromPlatform<T>(what: string, signal: AbortSignalLike | undefined, weRun: boolean, fetch: () => PromiseLike<T>): Promise<T> {
    let data: T;
    try {
      data = await abortable(signal, Promise.resolve().then(fetch));
    } catch (e) {
      if (isBranded(e)) throw e;
      throw await this.platformError(what, weRun, e);
    }
    if (typeof data !== "object" || data === null) {
      throw new WeRunError("WX_FAILED", `${what}: resolved to ${String(data)}, not the data.`);
    }
    return data;
  }

  private async platformError(what: string, weRun: boolean, e: unknown): Promise<WeRunError> {
    const fail = (e ?? {}) as { errMsg?: unknown; message?: unknown; errno?: unknown };
    const errMsg = String(fail.errMsg ?? fail.message ?? e);
    const message = `${what}: ${errMsg}`;
    if (weRun) {
      if (fail.errno === 104 || DENIED.test(errMsg)) return new WeRunError("WERUN_DENIED", message);
      if (fail.errno === 112 || UNDECLARED.test(errMsg)) {
        return new WeRunError("PRIVACY_NOT_DECLARED", `${message} (declare WeRun in the mini program's privacy guide)`);
      }
      if (UNSUPPORTED.test(errMsg)) return new WeRunError("WERUN_UNAVAILABLE", message);
    }
    return new WeRunError((await this.offline(errMsg)) ? "NETWORK" : "WX_FAILED", message);
  }

  /**
   * Whether a failure means the device is offline: getNetworkType says
   * "none", or (without it, or when it fails) the errMsg names the network.
   */
  private async offline(errMsg: string): Promise<boolean> {
    const { getNetworkType } = this.o.platform;
    if (getNetworkType) {
      const type = await new Promise<string | undefined>((resolve) =>
        getNetworkType.call(this.o.platform, { success: (r) => resolve(r.networkType), fail: () => resolve(undefined) }),
      );
      if (type !== undefined) return type === "none";
    }
    return OFFLINE.test(errMsg);
  }

  /** One request of a route in docs/openapi.yaml: its 2xx answer, or a WeRunError. */
  private call<P extends keyof paths, M extends Method>(method: M, path: P, c: Call<P, M>): Promise<Answer<P, M>> {
    const header = requestHeader(c.token);
    if (c.body !== undefined) header["Content-Type"] = "application/json";
    const params = c.params as Record<string, string> | undefined;
    // An id is one path segment, whatever it holds.
    const target = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params?.[name] ?? ""));
    const what = `${method.toUpperCase()} ${path}`;
    return this.task<Answer<P, M>>(what, c.signal, (resolve, reject) =>
      this.o.platform.request({
        url: this.o.baseURL + target + queryString(c.query as Record<string, string | undefined> | undefined),
        method: method.toUpperCase() as "GET" | "POST" | "PUT" | "DELETE",
        // A JSON string, never form encoding: base64's "+" must arrive as "+".
        data: c.body === undefined ? undefined : JSON.stringify(c.body),
        header,
        dataType: "text",
        responseType: "text",
        timeout: this.o.timeout,
        success: (res) => {
          try {
            resolve(answer(res) as Answer<P, M>);
          } catch (e) {
            reject(e);
          }
        },
        fail: reject,
      }),
    );
  }

  /**
   * Downloads target (a path and query) with wx.downloadFile: the
   * temporary file of a 2xx answer, or the WeRunError of an error answer,
   * whose envelope is read back from the downloaded file.
   */
  private download(target: string, token: string, signal: AbortSignalLike | undefined): Promise<string> {
    const { downloadFile } = this.o.platform;
    if (!downloadFile) {
      return Promise.reject(new WeRunError("WX_FAILED", "The platform has no downloadFile."));
    }
    const what = `GET ${target.replace(/\?.*/, "")}`;
    let header: Record<string, string | undefined> | undefined;
    return this.task<string>(what, signal, (resolve, reject) => {
      const task = downloadFile.call(this.o.platform, {
        url: this.o.baseURL + target,
        header: requestHeader(token),
        timeout: this.o.timeout,
        success: (res) => {
          if (res.statusCode >= 200 && res.statusCode < 300) return resolve(res.tempFilePath);
          this.readText(res.tempFilePath).then((data) => {
            try {
              answer({ statusCode: res.statusCode, data, header });
              reject(new WeRunError("BAD_RESPONSE", `A ${res.statusCode} download.`, res.statusCode));
            } catch (e) {
              reject(e);
            }
          });
        },
        fail: reject,
      });
      // Retry-After, which the success callback does not carry.
      (task as Partial<DownloadTask> | undefined)?.onHeadersReceived?.((r) => (header = r.header));
      return task;
    });
  }

  /** The text of a downloaded file ("" when it cannot be read). */
  private readText(filePath: string): Promise<string> {
    const fs = this.o.platform.getFileSystemManager?.();
    if (!fs) return Promise.resolve("");
    return new Promise((resolve) =>
      fs.readFile({ filePath, encoding: "utf8", success: (r) => resolve(typeof r.data === "string" ? r.data : ""), fail: () => resolve("") }),
    );
  }

  /**
   * A platform task (request, downloadFile) as a promise: start gets
   * resolve, and reject, which also takes the platform's { errMsg } (as
   * NETWORK or WX_FAILED); an abort aborts the task.
   */
  private task<T>(
    what: string,
    signal: AbortSignalLike | undefined,
    start: (resolve: (v: T) => void, reject: (e: unknown) => void) => unknown,
  ): Promise<T> {
    throwIfAborted(signal);
    let task: unknown;
    const sent = new Promise<T>((resolve, reject) => {
      task = start(resolve, (e) => {
        if (isBranded(e)) reject(e);
        else if (signal?.aborted) reject(aborted());
        else this.platformError(what, false, e).then((err) => reject(err.code === "WX_FAILED" ? new WeRunError("NETWORK", err.message) : err));
      });
    });
    return abortable(signal, sent, () => {
      const abort = (task as Partial<RequestTask> | undefined)?.abort;
      if (typeof abort === "function") abort.call(task);
    });
  }
}

// --- method errors ------------------------------------------------------------

/** The error codes a route's docs/openapi.yaml answers list. */
type RouteErrors<P extends keyof paths, M extends Method> = {
  [S in keyof Operation<P, M>["responses"]]: Operation<P, M>["responses"][S] extends {
    content: { "application/json": { error: { code: infer C } } };
  }
    ? C
    : never;
}[keyof Operation<P, M>["responses"]];

// What any call may fail with: its own login (wx.login, POST /v1/session),
// the device, an abort, API Gateway's own answers.
type LoginErrors = RouteErrors<"/v1/session", "post"> | "NETWORK" | "ABORTED" | "WX_FAILED" | "BAD_RESPONSE" | "UNAVAILABLE" | "RATE_LIMITED";
type Authed<P extends keyof paths, M extends Method> = LoginErrors | "SIGNED_OUT" | RouteErrors<P, M>;
type Cacheable = "NETWORK";
// The organizer's export, typed from its contract: GET
// /v1/events/{eventId}/export is not in docs/openapi.yaml yet. WX_FAILED
// also covers openDocument and shareFileMessage.
type ExportErrors =
  | LoginErrors
  | "SIGNED_OUT"
  | RouteErrors<"/v1/events/{eventId}", "get">
  | "NOT_ORGANIZER"
  | "INVALID_FIELD"
  | "INTERNAL";

/**
 * Each method's possible error codes, for isWeRunError(e, method). A new
 * route's method adds its line here: Authed<path, method> for a call
 * wrapped in authed().
 */
export interface MethodErrors {
  login: LoginErrors;
  sync:
    | Authed<"/v1/werun/decrypt", "post">
    | Authed<"/v1/werun/cloudid", "post">
    | "WERUN_DENIED"
    | "PRIVACY_NOT_DECLARED"
    | "WERUN_UNAVAILABLE";
  steps: Authed<"/v1/steps", "get"> | Cacheable;
  summary: Authed<"/v1/steps/summary", "get"> | Cacheable;
  profile: Authed<"/v1/me/profile", "get">;
  setProfile: Authed<"/v1/me/profile", "put">;
  joinGroup: Authed<"/v1/groups", "post">;
  groups: Authed<"/v1/groups", "get">;
  groupBoard: Authed<"/v1/groups/{groupId}/board", "get"> | Cacheable;
  leaveGroup: Authed<"/v1/groups/{groupId}", "delete">;
  createInvite: Authed<"/v1/friends/invites", "post">;
  acceptInvite: Authed<"/v1/friends", "post">;
  friends: Authed<"/v1/friends", "get">;
  friendsBoard: Authed<"/v1/friends/board", "get"> | Cacheable;
  removeFriend: Authed<"/v1/friends/{friendId}", "delete">;
  createEvent: Authed<"/v1/events", "post">;
  events: Authed<"/v1/events", "get">;
  event: Authed<"/v1/events/{eventId}", "get">;
  joinEvent: Authed<"/v1/events/join", "post">;
  participants: Authed<"/v1/events/{eventId}/participants", "get">;
  rotateJoinCode: Authed<"/v1/events/{eventId}/joinCode", "post">;
  removeParticipant: Authed<"/v1/events/{eventId}/participants/{memberId}", "delete">;
  cancelEvent: Authed<"/v1/events/{eventId}", "delete">;
  eventBoard: Authed<"/v1/events/{eventId}/board", "get"> | Cacheable;
  eventTeams: Authed<"/v1/events/{eventId}/teams", "get"> | Cacheable;
  exportEvent: ExportErrors;
  exportData: Authed<"/v1/me/export", "get">;
  deleteAccount: Authed<"/v1/me", "delete">;
}
export type MethodName = keyof MethodErrors;

/**
 * Whether e is a WeRunError (by its brand, so also where ES5 compiles
 * break instanceof); with method, one that method's call failed with,
 * its code narrowed to what that method can answer.
 */
export function isWeRunError(e: unknown): e is WeRunError;
export function isWeRunError<M extends MethodName>(e: unknown, method: M): e is WeRunError<MethodErrors[M]> & { method: M };
export function isWeRunError(e: unknown, method?: MethodName): boolean {
  return isBranded(e) && (method === undefined || e.method === method);
}

// --- helpers ------------------------------------------------------------------

const DENIED = /auth den(y|ied)|privacy permission is not authorized/i;
const UNDECLARED = /not declared in the privacy/i;
const UNSUPPORTED = /device not support/i;
// The errMsg of a platform call that failed for the network, when
// getNetworkType cannot say: "request:fail timeout", "login:fail network error", ...
const OFFLINE = /network|timeout|timed out|offline|ERR_INTERNET_DISCONNECTED/i;

// The most entries the offline cache holds.
const CACHE_ENTRIES = 20;

function aborted(): WeRunError {
  return new WeRunError("ABORTED", "The call was aborted.");
}

function throwIfAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) throw aborted();
}

/**
 * p, or ABORTED as soon as signal aborts (then onAbort runs). The work
 * behind p is not stopped unless onAbort stops it.
 */
function abortable<T>(signal: AbortSignalLike | undefined, p: Promise<T>, onAbort?: () => void): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => undefined); // its outcome no longer matters
    onAbort?.();
    return Promise.reject(aborted());
  }
  return new Promise<T>((resolve, reject) => {
    const listener = () => {
      onAbort?.();
      reject(aborted());
    };
    const stop = listen(signal, listener);
    p.then(resolve, reject).then(stop, stop);
  });
}

/** Listens for signal's abort (addEventListener, or a minimal object's onabort); returns how to stop. */
function listen(signal: AbortSignalLike, listener: () => void): () => void {
  if (typeof signal.addEventListener === "function") {
    signal.addEventListener("abort", listener);
    return () => signal.removeEventListener?.("abort", listener);
  }
  const before = signal.onabort;
  const mine = function (this: unknown, ev: unknown) {
    before?.call(this, ev);
    listener();
  };
  signal.onabort = mine;
  return () => {
    if (signal.onabort === mine) signal.onabort = before;
  };
}

/** The body of a 2xx answer (none for a 204), or the WeRunError an error answer means. */
function answer(res: RequestResult): unknown {
  if (res.statusCode === 204) return undefined;
  let body: unknown = res.data;
  if (typeof body === "string") {
    try {
      body = body === "" ? undefined : JSON.parse(body);
    } catch {
      // not JSON: handled below as an answer without the envelope
    }
  }
  if (res.statusCode >= 200 && res.statusCode < 300) {
    if (typeof body !== "object" || body === null) {
      throw new WeRunError("BAD_RESPONSE", `A ${res.statusCode} answer without a JSON body.`, res.statusCode);
    }
    return body;
  }
  const retryAfter = parseRetryAfter(headerValue(res.header, "retry-after"));
  const envelope = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (envelope && typeof envelope.code === "string") {
    return thrown(new WeRunError(envelope.code as ErrorCode, String(envelope.message ?? ""), res.statusCode, retryAfter));
  }
  // API Gateway's own answers carry {"message"} only.
  const message = String((body as { message?: unknown } | undefined)?.message ?? `HTTP ${res.statusCode}`);
  if (res.statusCode >= 500) {
    return thrown(new WeRunError("UNAVAILABLE", message, res.statusCode, retryAfter ?? 1));
  }
  if (res.statusCode === 429) {
    return thrown(new WeRunError("RATE_LIMITED", message, res.statusCode, retryAfter));
  }
  return thrown(new WeRunError("BAD_RESPONSE", message, res.statusCode, retryAfter));
}

function thrown(err: WeRunError): never {
  throw err;
}

function asWeRunError(e: unknown): WeRunError {
  if (isBranded(e)) return e;
  throw e;
}

/** Adds key to tried and says whether it was new. */
function once(tried: Set<string>, key: string): boolean {
  if (tried.has(key)) return false;
  tried.add(key);
  return true;
}

function requireCloudID(data: OpenData, what: string): string {
  if (!data.cloudID) {
    throw new WeRunError("WX_FAILED", `${what} has no cloudID: enable Cloud Base (wx.cloud.init) or leave the cloudID option off.`);
  }
  return data.cloudID;
}

function headerValue(header: RequestResult["header"], name: string): string | undefined {
  for (const k in header) {
    if (k.toLowerCase() === name) return header[k];
  }
  return undefined;
}

/** Seconds from a Retry-After of seconds or an HTTP date. */
function parseRetryAfter(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === "") return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function requestHeader(token: string | undefined): Record<string, string> {
  const header: Record<string, string> = { Accept: "application/json" };
  if (token !== undefined) header.Authorization = `Bearer ${token}`;
  return header;
}

function queryString(q: Record<string, string | undefined> | undefined): string {
  const parts: string[] = [];
  for (const k in q) {
    const v = q[k];
    if (v !== undefined) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}
