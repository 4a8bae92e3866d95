// Type-level test: native wx, as its own typings declare it, is a Platform,
// and what its group calls resolve to is what joinGroup takes.
/// <reference types="miniprogram-api-typings" />
import { WeRunClient, type Platform } from "../../src/index.js";

const platform: Platform = wx;
export const client = new WeRunClient({ baseURL: "https://example.com", platform });

// What joinGroup takes: wx's promise form, or its callbacks wrapped.
export const byShareInfo = client.joinGroup(() => wx.getShareInfo({ shareTicket: "ticket" }));
export const byEnterInfo = client.joinGroup(() => new Promise((success, fail) => wx.getGroupEnterInfo({ success, fail })));
