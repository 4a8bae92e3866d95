// Type-level test, checked by `npm run build` (tsc -p tsconfig.typecheck.json):
// each @ts-expect-error line must be an error, or tsc fails.
import { isWeRunError, WeRunClient, type Board, type Day, type Summary } from "../../src/index.js";

declare const client: WeRunClient;
declare const day: Day;
declare const summary: Summary;
declare const board: Board;
declare const e: unknown;

// Typos refused: request bodies are closed.
// @ts-expect-error avatarURL is not avatarUrl
export const typo = client.setProfile({ nickname: "n", avatarURL: "https://x" });
export const ok = client.setProfile({ nickname: "n", avatarUrl: "https://x" });

// Dates typed.
export const date: `${number}-${number}-${number}` = day.date;
// @ts-expect-error not a date
export const notDate = client.steps("yesterday");
export const range = client.steps("2026-01-01", "2026-01-31");

// Nullable ranks.
// @ts-expect-error null until the user is on today's board
export const rank: number = summary.rank;
// @ts-expect-error null when the caller's day is kept off the boards
export const myRank: number = board.me.rank;

// No fields the API never sends to this client.
// @ts-expect-error a sync never logs in through the route
export const token = (s: Awaited<ReturnType<WeRunClient["sync"]>>) => s.token;

// The cache changes the answer's shape.
export const stale = client.summary({ cache: true }).then((c): boolean => c.stale);
// @ts-expect-error never on sync
export const noCache = client.sync({ cache: true });

// Error codes narrowed through the guard.
if (isWeRunError(e, "sync")) {
  const denied: boolean = e.code === "WERUN_DENIED";
  // @ts-expect-error sync never answers GROUP_NOT_FOUND
  const notFound: boolean = e.code === "GROUP_NOT_FOUND";
  void [denied, notFound];
}
if (isWeRunError(e, "groupBoard")) {
  // @ts-expect-error a board read never refuses WeRun
  const denied: boolean = e.code === "WERUN_DENIED";
  void denied;
}

// Step challenges: consent is true or nothing, dates typed, codes per method.
// @ts-expect-error consent must be true
export const noConsent = client.joinEvent({ joinCode: "c", consent: false });
export const joined = client.joinEvent({ joinCode: "c", teamId: "t", consent: true });
// @ts-expect-error not a date
export const badStart = client.createEvent({ name: "walk", startDate: "today", endDate: "2026-01-31" });
export const asOf = client.eventBoard("e").then((b): `${number}-${number}-${number}` | null => b.asOf);
// @ts-expect-error null when the caller is not a participant of the board
export const standing = client.eventBoard("e").then((b): number => b.me.total);
// @ts-expect-error xlsx or csv
export const pdf = client.exportEvent("e", "pdf");
if (isWeRunError(e, "login")) {
  const deleting: boolean = e.code === "DELETION_IN_PROGRESS";
  void deleting;
}
if (isWeRunError(e, "exportEvent")) {
  const organizerOnly: boolean = e.code === "NOT_ORGANIZER";
  // @ts-expect-error an export never refuses WeRun
  const denied: boolean = e.code === "WERUN_DENIED";
  void [organizerOnly, denied];
}
if (isWeRunError(e, "joinEvent")) {
  const consent: boolean = e.code === "CONSENT_REQUIRED";
  // @ts-expect-error a join never answers NOT_ORGANIZER
  const organizer: boolean = e.code === "NOT_ORGANIZER";
  void [consent, organizer];
}
