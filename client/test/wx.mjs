// A stand-in for the mini program platform, backed by the local stack:
// wx.login, wx.getWeRunData, wx.getShareInfo and wx.getGroupEnterInfo come
// from the WeChat simulator's control API, wx.request is fetch to the local
// API, storage is a Map.
import { randomUUID } from "node:crypto";

export const api = process.env.WERUN_API_URL;
export const sim = process.env.WERUN_SIM_URL;
if (!api || !sim) {
  throw new Error("WERUN_API_URL and WERUN_SIM_URL are unset: run the tests with `go run ./local run -- npm test` (make test does)");
}

export async function post(url, body) {
  const res = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  const answer = await res.json();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Fails the simulator's next `times` calls of a WeChat path with errcode. */
export const simFail = (path, errcode, times) => post(`${sim}/_sim/fail`, { path, errcode, times });

/** Makes the local API's next requests answer a fault (local/stack PathFaults). */
export const apiFail = (fault) => post(`${api}/_local/fail`, fault);

function errorCode(body) {
  try {
    return JSON.parse(body).error?.code ?? "(no envelope)";
  } catch {
    return "(not JSON)";
  }
}

/** A group chat's name for the simulator: members of one name share one openGId. */
export const groupName = () => `g_${randomUUID()}`;

/**
 * A fresh user's platform. weRun(openid) may change what getWeRunData
 * gives: it returns the body of /_sim/werun, or the data itself. group
 * names the chat the mini program was opened from (getGroupEnterInfo);
 * getShareInfo takes the group's name as its shareTicket.
 * Every call is recorded in `calls`, in order, as "login", "getWeRunData",
 * "getShareInfo", "getGroupEnterInfo" or "METHOD /path"; every API answer
 * in `answers` as "STATUS CODE"; getSetting and authorize in `asked`.
 * What the user decided is `authSetting` (authorize sets scope.werun true
 * unless `refuse` holds its { errMsg, errno }); `network` is what
 * getNetworkType answers, and with "none" login and request fail as
 * offline ones do. openid makes another device of that user.
 * downloadFile keeps what it fetched in `files` (readable through
 * getFileSystemManager); openDocument and shareFileMessage are recorded in
 * `opened`.
 */
export function stand_in({ weRun, group, openid = `o_${randomUUID()}` } = {}) {
  const storage = new Map();
  const calls = [];
  const answers = [];
  const asked = [];
  const files = new Map();
  const opened = [];
  const self = { authSetting: {}, refuse: undefined, network: "wifi" };
  const offline = (call, o) => self.network === "none" && (o.fail({ errMsg: `${call}:fail` }), true);
  // Callbacks when given, else a promise: wx's promise form of an async API.
  const callback = (promise, { success, fail }) => {
    const settled = promise.catch((e) => Promise.reject({ errMsg: String(e.message ?? e) }));
    if (!success && !fail) return settled;
    settled.then(success, fail);
  };
  // The simulator's kinds of group data, by the call that returns them.
  const groupData = (call, kind, name) => {
    calls.push(call);
    return name === undefined
      ? Promise.reject(new Error(`${call}:fail not opened from a group chat`))
      : post(`${sim}/_sim/group`, { openid, group: name, kind }).then((d) => ({ ...d, errMsg: `${call}:ok` }));
  };
  const wx = {
    login(o) {
      calls.push("login");
      if (offline("login", o)) return;
      callback(post(`${sim}/_sim/login`, { openid }).then(({ code }) => ({ code, errMsg: "login:ok" })), o);
    },
    getWeRunData(o) {
      calls.push("getWeRunData");
      const req = weRun?.(openid) ?? { openid, days: 7 };
      const data = "openid" in req ? post(`${sim}/_sim/werun`, req) : Promise.resolve(req);
      callback(data.then((d) => ({ ...d, errMsg: "getWeRunData:ok" })), o);
    },
    request(o) {
      const path = new URL(o.url).pathname;
      calls.push(`${o.method} ${path}`);
      if (offline("request", o)) return;
      const aborter = new AbortController();
      const answer = fetch(o.url, { method: o.method, headers: o.header, body: o.data, signal: AbortSignal.any([AbortSignal.timeout(o.timeout), aborter.signal]) })
        .then(async (res) => {
          const data = await res.text();
          answers.push(res.ok ? `${res.status}` : `${res.status} ${errorCode(data)}`);
          return { statusCode: res.status, data, header: Object.fromEntries(res.headers) };
        });
      callback(answer, o);
      return { abort: () => (calls.push(`abort ${path}`), aborter.abort()) };
    },
    downloadFile(o) {
      const path = new URL(o.url).pathname;
      calls.push(`download ${path}`);
      if (offline("downloadFile", o)) return;
      const aborter = new AbortController();
      let onHeaders = () => {};
      fetch(o.url, { headers: o.header, signal: AbortSignal.any([AbortSignal.timeout(o.timeout), aborter.signal]) })
        .then(async (res) => {
          onHeaders({ header: Object.fromEntries(res.headers) });
          const body = Buffer.from(await res.arrayBuffer());
          answers.push(res.ok ? `${res.status}` : `${res.status} ${errorCode(body.toString("utf8"))}`);
          const tempFilePath = `wxfile://tmp_${files.size}`;
          files.set(tempFilePath, body);
          o.success({ statusCode: res.status, tempFilePath, errMsg: "downloadFile:ok" });
        })
        .catch((e) => o.fail({ errMsg: `downloadFile:fail ${e.message}` }));
      return { abort: () => (calls.push(`abort ${path}`), aborter.abort()), onHeadersReceived: (f) => (onHeaders = f) };
    },
    getFileSystemManager: () => ({
      readFile(o) {
        const body = files.get(o.filePath);
        if (!body) return o.fail({ errMsg: `readFile:fail no such file ${o.filePath}` });
        o.success({ data: o.encoding === "utf8" ? body.toString("utf8") : body });
      },
    }),
    openDocument: (o) => (opened.push({ openDocument: o.filePath, fileType: o.fileType }), o.success({ errMsg: "openDocument:ok" })),
    shareFileMessage: (o) => (opened.push({ shareFileMessage: o.filePath, fileName: o.fileName }), o.success({ errMsg: "shareFileMessage:ok" })),
    getSetting(o) {
      asked.push("getSetting");
      o.success({ authSetting: { ...self.authSetting }, errMsg: "getSetting:ok" });
    },
    authorize(o) {
      asked.push(`authorize ${o.scope}`);
      if (self.refuse) return o.fail(self.refuse);
      self.authSetting[o.scope] = true;
      o.success({ errMsg: "authorize:ok" });
    },
    getNetworkType: (o) => o.success({ networkType: self.network, errMsg: "getNetworkType:ok" }),
    getShareInfo: (o) => callback(groupData("getShareInfo", "shareInfo", o.shareTicket), o),
    getGroupEnterInfo: (o = {}) => callback(groupData("getGroupEnterInfo", "enterInfo", group), o),
    getStorageSync: (k) => storage.get(k) ?? "", // wx answers "" for a missing key
    setStorageSync: (k, v) => void storage.set(k, structuredClone(v)),
    removeStorageSync: (k) => void storage.delete(k),
  };
  return Object.assign(self, { wx, openid, storage, calls, answers, asked, files, opened, count: (name) => calls.filter((c) => c === name).length });
}
