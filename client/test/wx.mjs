// A stand-in for the mini program platform, backed by the local stack:
// wx.login and wx.getWeRunData come from the WeChat simulator's control
// API, wx.request is fetch to the local API, storage is a Map.
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

/**
 * A fresh user's platform. weRun(openid) may change what getWeRunData
 * gives: it returns the body of /_sim/werun, or the data itself.
 * Every call is recorded in `calls`, in order, as "login", "getWeRunData"
 * or "METHOD /path"; every API answer in `answers` as "STATUS CODE".
 */
export function stand_in({ weRun } = {}) {
  const openid = `o_${randomUUID()}`;
  const storage = new Map();
  const calls = [];
  const answers = [];
  const callback = (promise, { success, fail }) =>
    promise.then(success, (e) => fail({ errMsg: String(e.message ?? e) }));
  const wx = {
    login(o) {
      calls.push("login");
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
      const answer = fetch(o.url, { method: o.method, headers: o.header, body: o.data, signal: AbortSignal.timeout(o.timeout) })
        .then(async (res) => {
          const data = await res.text();
          answers.push(res.ok ? `${res.status}` : `${res.status} ${errorCode(data)}`);
          return { statusCode: res.status, data, header: Object.fromEntries(res.headers) };
        });
      callback(answer, o);
    },
    getStorageSync: (k) => storage.get(k) ?? "", // wx answers "" for a missing key
    setStorageSync: (k, v) => void storage.set(k, structuredClone(v)),
    removeStorageSync: (k) => void storage.delete(k),
  };
  return { wx, openid, storage, calls, answers, count: (name) => calls.filter((c) => c === name).length };
}
