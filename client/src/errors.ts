import type { components } from "./schema.js";

/** A code the backend answers, from docs/openapi.yaml. */
export type ApiErrorCode = components["schemas"]["Error"]["error"]["code"];

/**
 * A code of the client's own:
 * - SIGNED_OUT: logout() (or a deleted account) ended the session; call login().
 * - NETWORK: the device is offline, or the request did not reach the API (timeout).
 * - ABORTED: the call's signal aborted it.
 * - WERUN_DENIED: the user refused WeRun (scope.werun, or the privacy agreement); see the README's recipe.
 * - PRIVACY_NOT_DECLARED: the mini program's privacy guide does not declare WeRun (errno 112).
 * - WERUN_UNAVAILABLE: WeRun is not enabled on this device.
 * - WX_FAILED: another failure of wx.login, wx.getWeRunData or joinGroup's group data (e.g. no shareTicket); see message.
 * - BAD_RESPONSE: an answer that is neither the API's nor API Gateway's.
 */
export type ClientErrorCode =
  | "SIGNED_OUT"
  | "NETWORK"
  | "ABORTED"
  | "WERUN_DENIED"
  | "PRIVACY_NOT_DECLARED"
  | "WERUN_UNAVAILABLE"
  | "WX_FAILED"
  | "BAD_RESPONSE";

export type ErrorCode = ApiErrorCode | ClientErrorCode;

// The brand every WeRunError carries. instanceof is not enough: WeChat's
// ES6->ES5 compile (es6 without enhance) turns `extends Error` into code
// whose `new` returns a plain Error, and an error may come from another
// copy of the package (a subpackage, a test's context).
const BRAND = "__werunSamError";

/** Every failure of the client, with the code that says what to do next. */
export class WeRunError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  /** The HTTP status, 0 when no answer came from the API. */
  readonly status: number;
  /** Seconds to wait before trying again, when the answer said so. */
  readonly retryAfter?: number;
  /** The client method whose call failed (isWeRunError(e, method) checks it). */
  method?: string;

  constructor(code: C, message: string, status = 0, retryAfter?: number) {
    super(message);
    // Restores what ES5 compiles of `extends Error` lose: without it
    // `e instanceof WeRunError` is false there.
    Object.setPrototypeOf(this, WeRunError.prototype);
    Object.defineProperty(this, BRAND, { value: true });
    this.name = "WeRunError";
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/** Whether e is a WeRunError, by its brand (so also across copies of the package and ES5 compiles). */
export function isBranded(e: unknown): e is WeRunError {
  return typeof e === "object" && e !== null && (e as Record<string, unknown>)[BRAND] === true;
}
