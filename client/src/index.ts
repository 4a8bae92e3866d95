// werun-sam's client for WeChat mini programs (native wx or Taro).
export {
  isWeRunError,
  WeRunClient,
  type AbortSignalLike,
  type Board,
  type BoardEntry,
  type Cached,
  type CacheOptions,
  type CallOptions,
  type ClientOptions,
  type DateString,
  type Day,
  type Export,
  type Friend,
  type FriendAdded,
  type GroupList,
  type GroupPlace,
  type Invite,
  type Joined,
  type MethodErrors,
  type MethodName,
  type MyProfile,
  type Profile,
  type ProfileRequest,
  type Summary,
  type Sync,
} from "./client.js";
export { WeRunError, type ApiErrorCode, type ClientErrorCode, type ErrorCode } from "./errors.js";
export type { GroupData, OpenData, Platform, PlatformFail, RequestOptions, RequestResult, RequestTask, WeRunData } from "./platform.js";
export type { components, paths } from "./schema.js";
