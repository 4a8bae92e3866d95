// What every test file uses: a client over a stand-in, and a typed rejection.
import assert from "node:assert/strict";

import { WeRunClient, WeRunError } from "../dist/esm/index.js";
import { api } from "./wx.mjs";

/** A client of the stand-in p whose waits are recorded, not slept. */
export function client(p, options = {}) {
  const sleeps = [];
  const c = new WeRunClient({
    baseURL: api,
    platform: p.wx,
    sleep: async (ms) => void sleeps.push(ms),
    ...options,
  });
  return { c, sleeps };
}

/** The WeRunError promise rejects with, asserted to have code. */
export async function rejectsWith(promise, code) {
  const err = await promise.then(
    () => assert.fail(`resolved, want ${code}`),
    (e) => e,
  );
  assert.ok(err instanceof WeRunError, `${err} is not a WeRunError`);
  assert.equal(err.code, code, err.message);
  return err;
}
