// The part of the mini program platform the client uses: native `wx`, or
// Taro's default export, passes as it is. Callbacks, not promises, because
// both platforms have them for every API used here.

export interface PlatformFail {
  errMsg: string;
  /** WeChat's error number where it gives one (privacy: 104 refused, 112 not declared). */
  errno?: number;
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

/** What request() returns on both platforms: the task, which abort() cancels. */
export interface RequestTask {
  abort(): void;
}

/** What downloadFile returns: abort(), and the headers (Retry-After) before the success callback. */
export interface DownloadTask extends RequestTask {
  onHeadersReceived?(listener: (res: { header: Record<string, string | undefined> }) => void): void;
}

export interface DownloadOptions {
  url: string;
  header: Record<string, string>;
  timeout: number;
  success(res: { statusCode: number; tempFilePath: string }): void;
  fail(err: PlatformFail): void;
}

export interface Platform {
  login(options: { success(res: { code: string }): void; fail(err: PlatformFail): void }): unknown;
  getWeRunData(options: { success(res: WeRunData): void; fail(err: PlatformFail): void }): unknown;
  request(options: RequestOptions): unknown;
  /**
   * Optional: with getSetting (and authorize), a sync learns that the user
   * refused WeRun before it logs in; with getNetworkType, that the device
   * is offline whichever call failed. wx and Taro have all three.
   */
  getSetting?(options: { success(res: { authSetting: { "scope.werun"?: boolean } }): void; fail(err: PlatformFail): void }): unknown;
  authorize?(options: { scope: string; success(res: unknown): void; fail(err: PlatformFail): void }): unknown;
  getNetworkType?(options: { success(res: { networkType: string }): void; fail(err: PlatformFail): void }): unknown;
  /**
   * Optional, for exportEvent only: the download (with the Authorization
   * header), reading an error answer back from the file, opening XLSX and
   * sharing CSV. wx and Taro have them all.
   */
  downloadFile?(options: DownloadOptions): unknown;
  getFileSystemManager?(): {
    readFile(options: { filePath: string; encoding: "utf8"; success(res: { data: string | ArrayBuffer }): void; fail(err: PlatformFail): void }): void;
  };
  openDocument?(options: { filePath: string; fileType: "xlsx"; showMenu: boolean; success(res: unknown): void; fail(err: PlatformFail): void }): unknown;
  shareFileMessage?(options: { filePath: string; fileName: string; success(res: unknown): void; fail(err: PlatformFail): void }): unknown;
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): unknown;
  removeStorageSync(key: string): unknown;
}
