// Type-level test: the mock platform is a Platform, as wx and Taro are.
import { WeRunClient, type Platform } from "../../src/index.js";
import { createMockPlatform, MockServer } from "../../src/mock/index.js";

const server = new MockServer({ now: () => Date.parse("2026-03-10T12:00:00+08:00") });
const platform: Platform = createMockPlatform({ server, weRun: [8000, 12000] });
export const client = new WeRunClient({ baseURL: "https://mock.invalid", platform });
// @ts-expect-error counts, not days
export const wrong = createMockPlatform({ weRun: [{ date: "2026-03-10", steps: 1 }] });
