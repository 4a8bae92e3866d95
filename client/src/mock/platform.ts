// The mock platform: a wx (or Taro) stand-in holding one user's device:
// WeRun data, wx.login codes, storage, the group chat it was opened from,
// scripted failures, and requests answered by a MockServer instead of the
// network. Callbacks when given, else a promise, as both platforms do.
import type { DateString } from "../client.js";
import type { DownloadOptions, OpenData, PlatformFail, RequestOptions, RequestResult } from "../platform.js";
import { addDays, MockServer, startOf } from "./server.js";

/**
 * A scripted failure: a platform call's { errMsg, errno } (target: "login",
 * "getWeRunData", "authorize", "request", ...), or an API answer (target:
 * "GET /v1/steps", or a path for any method) of status with the envelope's
 * code, or API Gateway's own { message } with raw.
 */
export type MockFailure = PlatformFail | { status: number; code?: string; message?: string; retryAfter?: number; raw?: boolean };

export interface MockPlatformOptions {
  /** The API the platform's requests reach; share one among several users. Default: a new MockServer. */
  server?: MockServer;
  /** The user's openid. Default: a new one. */
  openid?: string;
  /** WeRun's counts, oldest first, the last being today's. Default: a week of made-up counts. */
  weRun?: number[];
  /** The group chat the mini program was opened from (getGroupEnterInfo). getShareInfo takes the chat's name as its shareTicket. */
  group?: string;
  /** What getEnterOptionsSync and getLaunchOptionsSync answer: a share card's query, shareTicket, scene. */
  enterOptions?: MockEnterOptions;
  /** Milliseconds each platform call takes; default 0 (the next microtask). */
  latency?: number;
}

export interface MockEnterOptions {
  path: string;
  query: Record<string, string>;
  scene: number;
  shareTicket?: string;
}

type Callbacks<T> = { success?(res: T): void; fail?(err: PlatformFail): void; complete?(): void };

/** A mock platform: pass it as ClientOptions.platform (or as Taro's default export in tests). */
export interface MockPlatform {
  readonly server: MockServer;
  readonly openid: string;
  /** WeRun's counts, oldest first, the last being today's; set them to change what getWeRunData gives. */
  weRun: number[];
  /** What getNetworkType answers; with "none" login, request and downloadFile fail as offline. */
  network: string;
  /** The user's decisions: authorize sets scope.werun true unless refuse holds its failure. */
  authSetting: Record<string, boolean>;
  refuse?: PlatformFail;
  group?: string;
  enterOptions: MockEnterOptions;
  /** Every call, in order: "login", "getWeRunData", "GET /v1/steps", "download /v1/events/…/export", "abort /v1/steps", ... */
  readonly calls: string[];
  /** The storage (getStorageSync / setStorageSync). */
  readonly storage: Map<string, unknown>;
  /** Downloaded files by temporary path. */
  readonly files: Map<string, string>;
  /** What openDocument opened and shareFileMessage shared. */
  readonly opened: { api: "openDocument" | "shareFileMessage"; filePath: string; fileName?: string; fileType?: string }[];
  /** Makes target's next `times` calls fail (see MockFailure). */
  failNext(target: string, failure: MockFailure, times?: number): void;

  login(o?: Callbacks<{ code: string; errMsg: string }>): unknown;
  getWeRunData(o?: Callbacks<OpenData>): unknown;
  getShareInfo(o: Callbacks<OpenData> & { shareTicket?: string }): unknown;
  getGroupEnterInfo(o?: Callbacks<OpenData>): unknown;
  request(o: RequestOptions): { abort(): void };
  downloadFile(o: DownloadOptions): { abort(): void; onHeadersReceived(listener: (res: { header: Record<string, string> }) => void): void };
  getFileSystemManager(): { readFile(o: Callbacks<{ data: string }> & { filePath: string; encoding: "utf8" }): void };
  openDocument(o: Callbacks<unknown> & { filePath: string; fileType?: string; showMenu?: boolean }): unknown;
  shareFileMessage(o: Callbacks<unknown> & { filePath: string; fileName?: string }): unknown;
  getSetting(o?: Callbacks<{ authSetting: Record<string, boolean> }>): unknown;
  authorize(o: Callbacks<unknown> & { scope: string }): unknown;
  openSetting(o?: Callbacks<{ authSetting: Record<string, boolean> }>): unknown;
  getNetworkType(o?: Callbacks<{ networkType: string }>): unknown;
  getEnterOptionsSync(): MockEnterOptions;
  getLaunchOptionsSync(): MockEnterOptions;
  showShareMenu(o?: Callbacks<unknown> & { withShareTicket?: boolean }): unknown;
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): void;
  removeStorageSync(key: string): void;
}

declare function setTimeout(callback: () => void, ms: number): unknown;

let devices = 0;

/**
 * A new mock platform: a user's device, whose requests the server answers.
 * Any baseURL works: only the path and query are read.
 */
export function createMockPlatform(options: MockPlatformOptions = {}): MockPlatform {
  const server = options.server ?? new MockServer();
  const openid = options.openid ?? `mock-openid-${++devices}`;
  const failures: { target: string; failure: MockFailure; times: number }[] = [];
  let key: string | undefined; // the session key of the latest wx.login
  let files = 0;

  const later = (f: () => void) => {
    const ms = options.latency ?? 0;
    if (ms > 0) setTimeout(f, ms);
    else Promise.resolve().then(f);
  };
  /** The scripted failure of target (or of path, for a request), taken once. */
  const take = (...targets: string[]): MockFailure | undefined => {
    const i = failures.findIndex((f) => targets.includes(f.target));
    if (i < 0) return undefined;
    const f = failures[i];
    if (--f.times <= 0) failures.splice(i, 1);
    return f.failure;
  };
  /** Runs an async platform call: its scripted failure, offline, or what answer gives. */
  const call = <T>(api: string, o: Callbacks<T> | undefined, answer: () => T, online = false): unknown => {
    p.calls.push(api);
    const scripted = take(api);
    const outcome = new Promise<T>((resolve, reject) =>
      later(() => {
        if (scripted && "errMsg" in scripted) return reject(scripted);
        if (online && p.network === "none") return reject({ errMsg: `${api}:fail network error` });
        try {
          resolve(answer());
        } catch (e) {
          reject(e);
        }
      }),
    );
    if (!o?.success && !o?.fail) return outcome;
    outcome.then(
      (r) => o.success?.(r),
      (e: PlatformFail) => o.fail?.(e),
    ).then(() => o.complete?.());
    return undefined;
  };
  const ok = <T extends object>(api: string, res: T) => ({ ...res, errMsg: `${api}:ok` });
  const groupData = (api: string, chat: string | undefined) => {
    if (chat === undefined) throw { errMsg: `${api}:fail not opened from a group chat` };
    return ok(api, server.seal(key, { openGId: `chat:${chat}` }));
  };
  /** One API answer: a scripted one, or the server's. */
  const answer = (method: string, url: string, header: Record<string, string>, data?: string): RequestResult & { header: Record<string, string> } => {
    const path = pathOf(url);
    const scripted = take(`${method} ${path}`, path);
    if (scripted && "status" in scripted) {
      const body = scripted.raw ? { message: scripted.message ?? "Service Unavailable" } : { error: { code: scripted.code ?? "UNAVAILABLE", message: scripted.message ?? "Scripted by the mock platform." } };
      return { statusCode: scripted.status, data: JSON.stringify(body), header: scripted.retryAfter === undefined ? {} : { "Retry-After": String(scripted.retryAfter) } };
    }
    return server.handle(method, url.replace(/^[a-z]+:\/\/[^/]+/i, ""), header, data);
  };

  const p: MockPlatform = {
    server,
    openid,
    weRun: options.weRun ?? madeUp(7, server.today()),
    network: "wifi",
    authSetting: {},
    group: options.group,
    enterOptions: options.enterOptions ?? { path: "pages/index/index", query: {}, scene: 1001 },
    calls: [],
    storage: new Map(),
    files: new Map(),
    opened: [],
    failNext(target, failure, times = 1) {
      failures.push({ target, failure, times });
    },

    login: (o) =>
      call("login", o, () => {
        const issued = server.issueCode(openid);
        key = issued.key;
        return ok("login", { code: issued.code });
      }, true),
    getWeRunData: (o) =>
      call("getWeRunData", o, () => {
        const today = server.today();
        const stepInfoList = p.weRun.map((step, i) => ({ timestamp: startOf(addDays(today, i - p.weRun.length + 1)), step }));
        return ok("getWeRunData", server.seal(key, { stepInfoList }));
      }),
    getShareInfo: (o) => call("getShareInfo", o, () => groupData("getShareInfo", o.shareTicket)),
    getGroupEnterInfo: (o) => call("getGroupEnterInfo", o, () => groupData("getGroupEnterInfo", p.group)),

    request(o) {
      const path = pathOf(o.url);
      p.calls.push(`${o.method} ${path}`);
      const scripted = take("request");
      let done = false;
      const settle = (f: () => void) => {
        if (!done) (done = true), f();
      };
      later(() =>
        settle(() => {
          if (scripted && "errMsg" in scripted) return o.fail(scripted);
          if (p.network === "none") return o.fail({ errMsg: "request:fail network error" });
          o.success(answer(o.method, o.url, o.header, o.data));
        }),
      );
      return { abort: () => (p.calls.push(`abort ${path}`), settle(() => o.fail({ errMsg: "request:fail abort" }))) };
    },
    downloadFile(o) {
      const path = pathOf(o.url);
      p.calls.push(`download ${path}`);
      let onHeaders = (_: { header: Record<string, string> }) => {};
      let done = false;
      later(() => {
        if (done) return;
        done = true;
        if (p.network === "none") return o.fail({ errMsg: "downloadFile:fail network error" });
        const res = answer("GET", o.url, o.header);
        onHeaders({ header: res.header });
        const tempFilePath = `wxfile://tmp/mock-${++files}`;
        p.files.set(tempFilePath, String(res.data));
        o.success({ statusCode: res.statusCode, tempFilePath });
      });
      return {
        abort: () => {
          p.calls.push(`abort ${path}`);
          if (!done) (done = true), o.fail({ errMsg: "downloadFile:fail abort" });
        },
        onHeadersReceived: (listener) => void (onHeaders = listener),
      };
    },
    getFileSystemManager: () => ({
      readFile: (o) =>
        void call("readFile", o, () => {
          const data = p.files.get(o.filePath);
          if (data === undefined) throw { errMsg: `readFile:fail no such file or directory ${o.filePath}` };
          return { data };
        }),
    }),
    openDocument: (o) => call("openDocument", o, () => (p.opened.push({ api: "openDocument", filePath: o.filePath, fileType: o.fileType }), ok("openDocument", {}))),
    shareFileMessage: (o) =>
      call("shareFileMessage", o, () => (p.opened.push({ api: "shareFileMessage", filePath: o.filePath, fileName: o.fileName }), ok("shareFileMessage", {}))),

    getSetting: (o) => call("getSetting", o, () => ok("getSetting", { authSetting: { ...p.authSetting } })),
    authorize: (o) =>
      call("authorize", o, () => {
        if (p.refuse) throw p.refuse;
        p.authSetting[o.scope] = true;
        return ok("authorize", {});
      }),
    // The user allows everything asked on the settings page.
    openSetting: (o) =>
      call("openSetting", o, () => {
        for (const k of Object.keys(p.authSetting)) p.authSetting[k] = true;
        return ok("openSetting", { authSetting: { ...p.authSetting } });
      }),
    getNetworkType: (o) => call("getNetworkType", o, () => ok("getNetworkType", { networkType: p.network })),
    getEnterOptionsSync: () => p.enterOptions,
    getLaunchOptionsSync: () => p.enterOptions,
    showShareMenu: (o) => call("showShareMenu", o, () => ok("showShareMenu", {})),
    getStorageSync: (k) => (p.storage.has(k) ? clone(p.storage.get(k)) : ""), // wx answers "" for a missing key
    setStorageSync: (k, v) => void p.storage.set(k, clone(v)),
    removeStorageSync: (k) => void p.storage.delete(k),
  };
  return p;
}

function pathOf(url: string): string {
  return url.replace(/^[a-z]+:\/\/[^/]+/i, "").split("?")[0];
}

function clone(v: unknown): unknown {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

/** n days of counts made from the dates alone, the last being today's. */
function madeUp(n: number, today: DateString): number[] {
  return Array.from({ length: n }, (_, i) => 2000 + ((Date.parse(addDays(today, i - n + 1)) / 86_400_000) * 7919) % 14000);
}
