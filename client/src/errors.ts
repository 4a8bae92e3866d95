import type { components } from "./schema.js";

/** A code the backend answers, from docs/openapi.yaml. */
export type ApiErrorCode = components["schemas"]["Error"]["error"]["code"];

/**
 * A code of the client's own:
 * - SIGNED_OUT: logout() (or a deleted account) ended the session; call login().
 * - NETWORK: the request did not reach the API (offline, timeout).
 * - WX_FAILED: wx.login, wx.getWeRunData or joinGroup's group data failed (e.g. the user refused
 *   WeRun, or no shareTicket); see message.
 * - BAD_RESPONSE: an answer that is neither the API's nor API Gateway's.
 */
export type ClientErrorCode = "SIGNED_OUT" | "NETWORK" | "WX_FAILED" | "BAD_RESPONSE";

export type ErrorCode = ApiErrorCode | ClientErrorCode;

/** Every failure of the client, with the code that says what to do next. */
export class WeRunError extends Error {
  readonly code: ErrorCode;
  /** The HTTP status, 0 when no answer came from the API. */
  readonly status: number;
  /** Seconds to wait before trying again, when the answer said so. */
  readonly retryAfter?: number;

  constructor(code: ErrorCode, message: string, status = 0, retryAfter?: number) {
    super(message);
    this.name = "WeRunError";
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}
