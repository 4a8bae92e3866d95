// werun-sam-client/mock: an in-memory stand-in for wx (or Taro) and the
// werun-sam API, so that a page runs in the developer tools or in unit
// tests without the backend.
export { createMockPlatform, type MockEnterOptions, type MockFailure, type MockPlatform, type MockPlatformOptions } from "./platform.js";
export { MockServer, type MockAnswer, type MockServerOptions } from "./server.js";
