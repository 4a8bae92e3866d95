// The part of the mini program platform the client uses: native `wx`, or
// Taro's default export, passes as it is. Callbacks, not promises, because
// both platforms have them for every API used here.

export interface PlatformFail {
  errMsg: string;
}

/** Open data as WeChat hands it to the mini program, encrypted under the session key. */
export interface OpenData {
  encryptedData: string;
  iv: string;
  /** Present when the mini program has Cloud Base. */
  cloudID?: string;
  errMsg?: string;
}

/** What wx.getWeRunData / Taro.getWeRunData give the success callback. */
export type WeRunData = OpenData;

/**
 * What wx.getShareInfo, wx.getGroupEnterInfo or wx.getChatToolInfo (or
 * Taro's) give the success callback: the group chat's identity.
 */
export type GroupData = OpenData;

export interface RequestResult {
  statusCode: number;
  data: unknown;
  header?: Record<string, string | undefined>;
}

export interface RequestOptions {
  url: string;
  method: "GET" | "POST" | "PUT" | "DELETE";
  data?: string;
  header: Record<string, string>;
  /** Not "json": the client parses the body itself, the same way on every platform. */
  dataType: string;
  responseType: "text";
  timeout: number;
  success(res: RequestResult): void;
  fail(err: PlatformFail): void;
}

export interface Platform {
  login(options: { success(res: { code: string }): void; fail(err: PlatformFail): void }): unknown;
  getWeRunData(options: { success(res: WeRunData): void; fail(err: PlatformFail): void }): unknown;
  request(options: RequestOptions): unknown;
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): unknown;
  removeStorageSync(key: string): unknown;
}
