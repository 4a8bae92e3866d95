import type { components, paths } from "./schema.js";
import { isBranded, WeRunError, type ErrorCode } from "./errors.js";
import type { GroupData, OpenData, Platform, RequestResult } from "./platform.js";

type Schemas = components["schemas"];
export type Day = Schemas["Day"];
export type Sync = Schemas["Sync"];
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
}

// The codes a fresh session cures (once): the token is missing, expired or
// not this deployment's; for a sync also a session key the backend does
// not hold (wx.login rotated it elsewhere).
const SESSION_CODES = new Set<ErrorCode>(["MISSING_TOKEN", "INVALID_TOKEN", "TOKEN_EXPIRED"]);
const KEY_CODES = new Set<ErrorCode>(["DECRYPT_FAILED", "NO_SESSION_KEY"]);
// The codes fresh open data (WeRun or group) cures (once), without logging
// in again: the key was proven, the data itself was old, expired or damaged.
const REFETCH_CODES = new Set<ErrorCode>(["CLOUDID_EXPIRED", "STALE_DATA", "INVALID_STEP_DATA"]);
// The codes worth one wait of Retry-After (when it is short).
const WAIT_CODES = new Set<ErrorCode>(["UNAVAILABLE", "WECHAT_UNAVAILABLE", "RATE_LIMITED"]);

// A token is renewed this long before its expiry rather than sent to die.
const EXPIRY_MARGIN_MS = 60_000;

/**
 * The werun-sam API for a mini program. Every method fails with a
 * WeRunError. Each recovery is tried at most once per call: a new session
 * (on 401, or a session key the backend lacks), new open data (on an
 * expired cloudID or stale or damaged data), one short wait (on 429/502/503
 * with a Retry-After up to maxRetryAfter); anything else is surfaced.
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
  login(): Promise<void> {
    return this.newSession(true).then(() => undefined);
  }

  /** Forgets the session; no call logs in again until login(). */
  logout(): void {
    this.store({ signedOut: true });
  }

  /** Whether a call may log in by itself (false after logout()). */
  get signedOut(): boolean {
    const s = this.stored();
    return s !== undefined && "signedOut" in s;
  }

  /**
   * Sends what wx.getWeRunData returns now (the cloudID with the cloudID
   * option), logging in first when needed: wx.login may rotate the session
   * key, so it always runs before wx.getWeRunData, never between it and the send.
   */
  sync(): Promise<Sync> {
    return this.sendOpenData(
      () => this.weRunData(),
      (token, data) =>
        this.o.cloudID
          ? this.call("post", "/v1/werun/cloudid", { token, body: { cloudID: requireCloudID(data, "wx.getWeRunData") } })
          : this.call("post", "/v1/werun/decrypt", { token, body: { encryptedData: data.encryptedData, iv: data.iv } }),
    );
  }

  /** The stored days from..to (YYYY-MM-DD, China Standard Time, inclusive); by default the last 31. */
  async steps(from?: string, to?: string): Promise<Day[]> {
    const query: Query<"/v1/steps", "get"> = {};
    if (from !== undefined) query.from = from;
    if (to !== undefined) query.to = to;
    const answer = await this.authed((token) => this.call("get", "/v1/steps", { token, query }));
    return answer.days;
  }

  /** Totals, averages, goal streak and rank. */
  summary(): Promise<Summary> {
    return this.authed((token) => this.call("get", "/v1/steps/summary", { token }));
  }

  // --- profile, groups, friends ----------------------------------------------

  /** The caller's profile (empty strings before the first setProfile) and memberId. */
  profile(): Promise<MyProfile> {
    return this.authed((token) => this.call("get", "/v1/me/profile", { token }));
  }

  /**
   * Sets the nickname (from `<input type="nickname">`) and avatar others
   * see on boards. avatarUrl is an https:// URL on your own storage: upload
   * what `chooseAvatar` gave first. NICKNAME_REJECTED: WeChat's content
   * check judged the nickname risky; ask for another.
   */
  setProfile(profile: ProfileRequest): Promise<Profile> {
    return this.authed((token) => this.call("put", "/v1/me/profile", { token, body: profile }));
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
  joinGroup(groupData: () => PromiseLike<GroupData>): Promise<Joined> {
    return this.sendOpenData(
      () => fromPlatform("the group data", groupData),
      (token, data) =>
        this.call("post", "/v1/groups", {
          token,
          body: this.o.cloudID ? { cloudID: requireCloudID(data, "the group data") } : { encryptedData: data.encryptedData, iv: data.iv },
        }),
    );
  }

  /** The caller's groups with their rank and steps today, 50 a page; pass the page's cursor for the next. */
  groups(cursor?: string): Promise<GroupList> {
    return this.authed((token) => this.call("get", "/v1/groups", { token, query: { cursor } }));
  }

  /** A group's board of date (YYYY-MM-DD, one of the last 31 days; default today). GROUP_NOT_FOUND for a non-member. */
  groupBoard(groupId: string, date?: string): Promise<Board> {
    return this.authed((token) => this.call("get", "/v1/groups/{groupId}/board", { token, params: { groupId }, query: { date } }));
  }

  /** Leaves a group; GROUP_NOT_FOUND when the caller is not a member. */
  async leaveGroup(groupId: string): Promise<void> {
    await this.authed((token) => this.call("delete", "/v1/groups/{groupId}", { token, params: { groupId } }));
  }

  /** A code for a share card's path, valid 7 days for anyone who opens it. */
  createInvite(): Promise<Invite> {
    return this.authed((token) => this.call("post", "/v1/friends/invites", { token }));
  }

  /** Accepts an invite: the caller and the inviter become friends both ways. INVALID_INVITE: unknown, expired or the caller's own. */
  acceptInvite(inviteCode: string): Promise<FriendAdded> {
    return this.authed((token) => this.call("post", "/v1/friends", { token, body: { inviteCode } }));
  }

  /** The caller's friends. */
  async friends(): Promise<Friend[]> {
    const answer = await this.authed((token) => this.call("get", "/v1/friends", { token }));
    return answer.friends;
  }

  /** The board of the caller and their friends for date (default today). */
  friendsBoard(date?: string): Promise<Board> {
    return this.authed((token) => this.call("get", "/v1/friends/board", { token, query: { date } }));
  }

  /** Ends a friendship both ways; FRIEND_NOT_FOUND when friendId is not a friend. */
  async removeFriend(friendId: string): Promise<void> {
    await this.authed((token) => this.call("delete", "/v1/friends/{friendId}", { token, params: { friendId } }));
  }

  // --- the user's data --------------------------------------------------------

  /** Everything stored about the user: profile, retained days, groups, friends, invites, session key dates. */
  exportData(): Promise<Export> {
    return this.authed((token) => this.call("get", "/v1/me/export", { token }));
  }

  /**
   * Deletes everything stored about the user, then signs out: no call logs
   * in again until login(), which starts a new, empty account. It never
   * logs in again after a 401: the API refuses every earlier token once the
   * deletion is done, so a 401 means done (a resend, or an earlier attempt
   * whose answer was lost). A 503 with a short Retry-After is resent once
   * with the same token, which finishes a deletion stopped part way; any
   * other failure is surfaced, and calling deleteAccount again resends it.
   * After a deletion, deleteAccount resolves at once; after logout() it is
   * SIGNED_OUT (login() first).
   */
  async deleteAccount(): Promise<void> {
    const s = this.stored();
    if (s && "deleted" in s) return;
    const token = await this.session();
    this.deleting++;
    try {
      await this.retryAfterOnce(() => this.call("delete", "/v1/me", { token }));
    } catch (e) {
      if (!SESSION_CODES.has(asWeRunError(e).code)) throw e;
    } finally {
      this.deleting--;
    }
    this.store({ signedOut: true, deleted: true });
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
    const code = await new Promise<string>((resolve, reject) =>
      this.o.platform.login({
        success: (res) => resolve(res.code),
        fail: (err) => reject(new WeRunError("WX_FAILED", `wx.login: ${err.errMsg}`)),
      }),
    );
    // A retry of a code the backend already redeemed gets the same user's
    // session, so the one wait may resend the same code.
    const answer = await this.retryAfterOnce(() => this.call("post", "/v1/session", { body: { code } }));
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
  private async sendOpenData<T>(fetch: () => Promise<OpenData>, send: (token: string, data: OpenData) => Promise<T>): Promise<T> {
    let data: OpenData | undefined;
    const tried = new Set<string>();
    for (;;) {
      const token = await this.session();
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
          await this.wait(err);
          continue;
        }
        throw err;
      }
    }
  }

  /** A call with a session: renewed once on 401, one short wait on 429/502/503. */
  private async authed<T>(attempt: (token: string) => Promise<T>): Promise<T> {
    const tried = new Set<string>();
    for (;;) {
      const token = await this.session();
      try {
        return await attempt(token);
      } catch (e) {
        const err = asWeRunError(e);
        if (SESSION_CODES.has(err.code) && once(tried, "session")) {
          this.dropSession();
          continue;
        }
        if (this.waitable(err) && once(tried, "wait")) {
          await this.wait(err);
          continue;
        }
        throw err;
      }
    }
  }

  private async retryAfterOnce<T>(attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (e) {
      const err = asWeRunError(e);
      if (!this.waitable(err)) throw err;
      await this.wait(err);
      return attempt();
    }
  }

  private waitable(err: WeRunError): boolean {
    return WAIT_CODES.has(err.code) && err.retryAfter !== undefined && err.retryAfter <= this.o.maxRetryAfter;
  }

  private wait(err: WeRunError): Promise<void> {
    const ms = (err.retryAfter ?? 0) * 1000;
    return this.o.sleep ? this.o.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
  }

  // --- the platform ----------------------------------------------------------

  private weRunData(): Promise<OpenData> {
    return fromPlatform("wx.getWeRunData", () => new Promise((success, fail) => this.o.platform.getWeRunData({ success, fail })));
  }

  /** One request of a route in docs/openapi.yaml: its 2xx answer, or a WeRunError. */
  private call<P extends keyof paths, M extends Method>(method: M, path: P, c: Call<P, M>): Promise<Answer<P, M>> {
    const header: Record<string, string> = { Accept: "application/json" };
    if (c.token !== undefined) header.Authorization = `Bearer ${c.token}`;
    if (c.body !== undefined) header["Content-Type"] = "application/json";
    const params = c.params as Record<string, string> | undefined;
    // An id is one path segment, whatever it holds.
    const target = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params?.[name] ?? ""));
    return new Promise((resolve, reject) =>
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
        fail: (err) => reject(new WeRunError("NETWORK", `${method.toUpperCase()} ${path}: ${err.errMsg}`)),
      }),
    );
  }
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

/** What a platform call resolved to; its rejection ({ errMsg }), or no data, as WX_FAILED. */
async function fromPlatform(what: string, fetch: () => PromiseLike<OpenData>): Promise<OpenData> {
  let data: OpenData;
  try {
    data = await fetch();
  } catch (e) {
    if (isBranded(e)) throw e;
    const errMsg = (e as { errMsg?: unknown } | undefined)?.errMsg ?? (e as { message?: unknown } | undefined)?.message ?? e;
    throw new WeRunError("WX_FAILED", `${what}: ${String(errMsg)}`);
  }
  if (typeof data !== "object" || data === null) {
    throw new WeRunError("WX_FAILED", `${what}: resolved to ${String(data)}, not the data.`);
  }
  return data;
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

function queryString(q: Record<string, string | undefined> | undefined): string {
  const parts: string[] = [];
  for (const k in q) {
    const v = q[k];
    if (v !== undefined) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}
