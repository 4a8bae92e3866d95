// werun-sam's client for WeChat mini programs (native wx or Taro).
export {
  WeRunClient,
  type Board,
  type BoardEntry,
  type ClientOptions,
  type Day,
  type Export,
  type Friend,
  type FriendAdded,
  type GroupList,
  type GroupPlace,
  type Invite,
  type Joined,
  type MyProfile,
  type Profile,
  type ProfileRequest,
  type Summary,
  type Sync,
} from "./client.js";
export { isBranded as isWeRunError, WeRunError, type ApiErrorCode, type ClientErrorCode, type ErrorCode } from "./errors.js";
export type { GroupData, OpenData, Platform, PlatformFail, RequestOptions, RequestResult, WeRunData } from "./platform.js";
export type { components, paths } from "./schema.js";
