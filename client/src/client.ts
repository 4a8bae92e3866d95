import type { components, paths } from "./schema.js";
import { WeRunError, type ErrorCode } from "./errors.js";
import type { Platform, RequestResult, WeRunData } from "./platform.js";

export type Day = components["schemas"]["Day"];
export type Sync = components["schemas"]["Sync"];
export type Summary = components["schemas"]["Summary"];

export interface ClientOptions {
  /** The API's base URL: the stack's ApiUrl output, e.g. https://abc.execute-api.ap-east-1.amazonaws.com */
  baseURL: string;
  /** `wx`, or Taro's default export. */
  platform: Platform;
  /** Sync the cloudID of wx.getWeRunData (the mini program has Cloud Base) instead of encryptedData + iv. */
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
type Stored = { token: string; expiresAt: number } | { signedOut: true };

type Method = "get" | "post" | "delete";
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type Answer<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { responses: { 200: { content: { "application/json": infer T } } } } ? T : never;
type Body<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { requestBody: { content: { "application/json": infer B } } } ? B : undefined;
type Query<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { parameters: { query?: infer Q } } ? Q : undefined;

interface Call<P extends keyof paths, M extends Method> {
  body?: Body<P, M>;
  query?: Query<P, M>;
  token?: string;
}

// The codes a fresh session cures (once): the token is missing, expired or
// not this deployment's; for a sync also a session key the backend does
// not hold (wx.login rotated it elsewhere).
const SESSION_CODES = new Set<ErrorCode>(["MISSING_TOKEN", "INVALID_TOKEN", "TOKEN_EXPIRED"]);
const KEY_CODES = new Set<ErrorCode>(["DECRYPT_FAILED", "NO_SESSION_KEY"]);
// The codes fresh WeRun data cures (once), without logging in again: the key
// was proven, the data itself was old, expired or damaged.
const REFETCH_CODES = new Set<ErrorCode>(["CLOUDID_EXPIRED", "STALE_DATA", "INVALID_STEP_DATA"]);
// The codes worth one wait of Retry-After (when it is short).
const WAIT_CODES = new Set<ErrorCode>(["UNAVAILABLE", "WECHAT_UNAVAILABLE", "RATE_LIMITED"]);

// A token is renewed this long before its expiry rather than sent to die.
const EXPIRY_MARGIN_MS = 60_000;

/**
 * The werun-sam API for a mini program. Every method fails with a
 * WeRunError. Each recovery is tried at most once per call: a new session
 * (on 401, or a session key the backend lacks), new WeRun data (on an
 * expired cloudID or stale or damaged data), one short wait (on 429/502/503
 * with a Retry-After up to maxRetryAfter); anything else is surfaced.
 */
export class WeRunClient {
  private readonly o: Required<Omit<ClientOptions, "sleep">> & Pick<ClientOptions, "sleep">;
  private loggingIn?: { explicit: boolean; token: Promise<string> };

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
  async sync(): Promise<Sync> {
    let data: WeRunData | undefined;
    const tried = new Set<string>();
    for (;;) {
      const token = await this.session();
      data ??= await this.weRunData();
      try {
        return this.o.cloudID
          ? await this.call("post", "/v1/werun/cloudid", { token, body: { cloudID: requireCloudID(data) } })
          : await this.call("post", "/v1/werun/decrypt", { token, body: { encryptedData: data.encryptedData, iv: data.iv } });
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
    if ((v as { signedOut?: unknown }).signedOut === true) return { signedOut: true };
    const { token, expiresAt } = v as { token?: unknown; expiresAt?: unknown };
    return typeof token === "string" && typeof expiresAt === "number" ? { token, expiresAt } : undefined;
  }

  private store(s: Stored): void {
    this.o.platform.setStorageSync(this.o.storageKey, s);
  }

  // --- retries ---------------------------------------------------------------

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

  private weRunData(): Promise<WeRunData> {
    return new Promise((resolve, reject) =>
      this.o.platform.getWeRunData({
        success: resolve,
        fail: (err) => reject(new WeRunError("WX_FAILED", `wx.getWeRunData: ${err.errMsg}`)),
      }),
    );
  }

  /** One request of a route in docs/openapi.yaml: its 200 answer, or a WeRunError. */
  private call<P extends keyof paths, M extends Method>(method: M, path: P, c: Call<P, M>): Promise<Answer<P, M>> {
    const header: Record<string, string> = { Accept: "application/json" };
    if (c.token !== undefined) header.Authorization = `Bearer ${c.token}`;
    if (c.body !== undefined) header["Content-Type"] = "application/json";
    return new Promise((resolve, reject) =>
      this.o.platform.request({
        url: this.o.baseURL + path + queryString(c.query as Record<string, string | undefined> | undefined),
        method: method.toUpperCase() as "GET" | "POST" | "DELETE",
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

/** The body of a 2xx answer, or the WeRunError an error answer means. */
function answer(res: RequestResult): unknown {
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
  if (e instanceof WeRunError) return e;
  throw e;
}

/** Adds key to tried and says whether it was new. */
function once(tried: Set<string>, key: string): boolean {
  if (tried.has(key)) return false;
  tried.add(key);
  return true;
}

function requireCloudID(data: WeRunData): string {
  if (!data.cloudID) {
    throw new WeRunError("WX_FAILED", "wx.getWeRunData returned no cloudID: enable Cloud Base (wx.cloud.init) or leave the cloudID option off.");
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
