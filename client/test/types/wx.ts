// Type-level test: native wx, as its own typings declare it, is a Platform.
/// <reference types="miniprogram-api-typings" />
import { WeRunClient, type Platform } from "../../src/index.js";

const platform: Platform = wx;
export const client = new WeRunClient({ baseURL: "https://example.com", platform });
