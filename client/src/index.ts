// werun-sam's client for WeChat mini programs (native wx or Taro).
export { WeRunClient, type ClientOptions, type Day, type Summary, type Sync } from "./client.js";
export { WeRunError, type ApiErrorCode, type ClientErrorCode, type ErrorCode } from "./errors.js";
export type { Platform, PlatformFail, RequestOptions, RequestResult, WeRunData } from "./platform.js";
export type { components, paths } from "./schema.js";
